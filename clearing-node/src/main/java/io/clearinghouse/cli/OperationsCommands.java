package io.clearinghouse.cli;

import static io.clearinghouse.cli.Session.ADMIN;

import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** The ledger audit and the management HTTP port's routes. */
final class OperationsCommands {
  private OperationsCommands() {}

  @Command(name = "audit", description = "Run the ledger audit over the journal (operator).")
  static int audit(@Mixin Call call) {
    Session s = call.session();
    AuditReport report = s.call(ADMIN, "Audit", AuditRequest.getDefaultInstance(), AuditReport.getDefaultInstance());
    s.show(report, Views::audit);
    return report.getClean() ? 0 : Chctl.FAILED;
  }

  @Command(name = "funds", description = "Every insurance fund's balance (management HTTP).")
  static int funds(@Mixin Call call) {
    return call.session().http("/insurance-funds", false);
  }

  @Command(name = "halted", description = "Instruments with liquidations halted (management HTTP).")
  static int halted(@Mixin Call call) {
    return call.session().http("/liquidations/halted", false);
  }

  @Command(name = "members", description = "The cluster's members (management HTTP).")
  static int members(@Mixin Call call) {
    return call.session().http("/cluster/members", false);
  }

  @Command(name = "shards", description = "Entities per shard per node (management HTTP).")
  static int shards(@Mixin Call call) {
    return call.session().http("/shards", false);
  }

  @Command(name = "markets", description = {"Each instrument's state on this node (management HTTP /health/markets):",
      "a stale mark, liquidations halted. Exit status 0 when every market is fine."})
  static int markets(@Mixin Call call) {
    return call.session().http("/health/markets", false);
  }

  @Command(name = "ready", description = {"The node's readiness (management HTTP): exit status 0 when ready.",
      "Ready: an Up cluster member whose journal answers; else the check that failed is named."})
  static int ready(@Mixin Call call) {
    Session s = call.session();
    java.net.http.HttpResponse<String> response = s.get("/ready");
    boolean ready = response.statusCode() == 200;
    s.out().println(s.output() == Session.Output.json
        ? "{\"ready\": " + ready + ", \"status\": " + response.statusCode() + "}"
        : ready ? "ready" : "not ready (HTTP " + response.statusCode() + "): " + response.body().strip());
    return ready ? 0 : 1;
  }

  @Command(name = "leave", description = "Make a member leave the cluster (operator, management HTTP).")
  static int leave(@Mixin Call call, @Parameters(paramLabel = "ADDRESS", description = "e.g. pekko://ClearingHouse@127.0.0.1:25521") String address) {
    return call.session().http("/cluster/leave" + Session.query("address", address), true);
  }

  @Command(name = "down", description = "Down an unreachable member (operator, management HTTP).")
  static int down(@Mixin Call call, @Parameters(paramLabel = "ADDRESS", description = "e.g. pekko://ClearingHouse@127.0.0.1:25521") String address) {
    return call.session().http("/cluster/down" + Session.query("address", address), true);
  }
}
