package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.Calls.refused;
import static io.clearinghouse.it.LiquidationHarness.PERP;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.ENGINE_TOKEN;
import static io.clearinghouse.it.TestNodes.MONITOR_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.SetLiquidationHaltRequest;
import io.grpc.Status;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 18, finding 1: the management port's reads that disclose money and accounts
 * ({@code /cascade}, {@code /shards}, {@code /insurance-funds}, {@code /liquidations/halted}, and
 * {@code /metrics} unless {@code clearinghouse.management.metrics-token-required} is off) need an
 * operator or a monitor token: 401 without a token or with an unknown one, 403 with a client's or
 * the engine's, 200 with the operator's or a monitor's. A monitor token (Prometheus's) changes
 * nothing: the halts, the cluster routes, the console and the gRPC writes refuse it WRONG_ROLE.
 * The probes ({@code /alive}, {@code /ready}, {@code /health/markets}) need no token. Real nodes
 * over HTTP and gRPC; each test ends with the ledger audit.
 */
class ManagementAccessIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final List<String> OPERATORS_READS = List.of("/cascade", "/shards", "/insurance-funds", "/metrics",
      "/liquidations/halted");

  @Test
  void theOperatorsReadsNeedTheOperatorTokenAndTheProbesNone() throws Exception {
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("mgmtauth"), ""));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(node, clients), clients);
      call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("alice-1").build());
      call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("alice-1").setAmount("100")
          .setIdempotencyKey("mgmt-1").build());
      HttpClient http = HttpClient.newHttpClient();
      String base = node.managementUri().replaceAll("/$", "");
      for (String path : OPERATORS_READS) {
        HttpResponse<String> none = ManagementHttp.get(http, base + path);
        assertEquals(401, none.statusCode(), path + " without a token: " + none.body());
        assertTrue(none.body().startsWith("MISSING_TOKEN"), path + ": " + none.body());
        assertEquals(401, ManagementHttp.get(http, base + path, "not-a-token").statusCode(), path + " unknown token");
        HttpResponse<String> client = ManagementHttp.get(http, base + path, ALICE_TOKEN);
        assertEquals(403, client.statusCode(), path + " with a client's token: " + client.body());
        assertTrue(!client.body().contains("balance"), client.body());
        HttpResponse<String> operator = ManagementHttp.get(http, base + path, OPERATOR_TOKEN);
        assertEquals(200, operator.statusCode(), path + " with the operator's token: " + operator.body());
      }
      assertTrue(ManagementHttp.operatorGet(http, base + "/insurance-funds").body().contains("\"balance\""));
      assertTrue(ManagementHttp.operatorGet(http, base + "/metrics").body().contains("clearinghouse_"));
      // The probes stay open for the kubelet.
      assertEquals(200, ManagementHttp.get(http, base + "/alive").statusCode());
      TestProbe<Void> probe = TestProbe.create(clients);
      probe.awaitAssert(WAIT, () -> {
        assertEquals(200, ManagementHttp.get(http, base + "/ready").statusCode());
        return null;
      });
      int markets = ManagementHttp.get(http, base + "/health/markets").statusCode();
      assertTrue(markets == 200 || markets == 503, "/health/markets answers without a token: " + markets);
      auditClean(node);
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  @Test
  void withTheSettingOffTheMetricsAreOpenAndTheOtherReadsStillNeedTheOperator() throws Exception {
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("mgmtopen"),
        "clearinghouse.management.metrics-token-required = off"));
    try {
      HttpClient http = HttpClient.newHttpClient();
      String base = node.managementUri().replaceAll("/$", "");
      HttpResponse<String> metrics = ManagementHttp.get(http, base + "/metrics");
      assertEquals(200, metrics.statusCode(), metrics.body());
      for (String path : List.of("/cascade", "/shards", "/insurance-funds", "/liquidations/halted")) {
        assertEquals(401, ManagementHttp.get(http, base + path).statusCode(), path);
        assertEquals(403, ManagementHttp.get(http, base + path, ALICE_TOKEN).statusCode(), path);
      }
      auditClean(node);
    } finally {
      TestNodes.stop(node);
    }
  }

  @Test
  void aMonitorTokenReadsAndChangesNothing() throws Exception {
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("mgmtmonitor"), ""));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(node, clients), clients);
      call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("alice-1").build());
      call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("alice-1").setAmount("100")
          .setIdempotencyKey("monitor-1").build());
      String cash = call(admin.getAccount(), OPERATOR_TOKEN, GetAccountRequest.newBuilder().setAccountId("alice-1")
          .build()).getCash();
      HttpClient http = HttpClient.newHttpClient();
      String base = node.managementUri().replaceAll("/$", "");
      // Every read: 200 for the monitor, 403 WRONG_ROLE for the engine's token (a token, but not a reader's).
      for (String path : OPERATORS_READS) {
        HttpResponse<String> monitor = ManagementHttp.get(http, base + path, MONITOR_TOKEN);
        assertEquals(200, monitor.statusCode(), path + " with the monitor's token: " + monitor.body());
        HttpResponse<String> engine = ManagementHttp.get(http, base + path, ENGINE_TOKEN);
        assertEquals(403, engine.statusCode(), path + " with the engine's token: " + engine.body());
        assertTrue(engine.body().startsWith("WRONG_ROLE"), path + ": " + engine.body());
      }
      assertTrue(ManagementHttp.get(http, base + "/insurance-funds", MONITOR_TOKEN).body().contains("\"balance\""));
      assertTrue(ManagementHttp.get(http, base + "/metrics", MONITOR_TOKEN).body().contains("clearinghouse_"));
      assertEquals("{\"halted\":[]}", ManagementHttp.get(http, base + "/liquidations/halted", MONITOR_TOKEN).body());

      // Every write refuses it: the halts and the cluster routes 403 WRONG_ROLE.
      String self = Cluster.get(node.system()).selfMember().address().toString();
      for (String write : List.of("/liquidations/halt?instrument=" + PERP, "/liquidations/resume?instrument=" + PERP,
          "/cluster/leave?address=" + self, "/cluster/down?address=" + self)) {
        HttpResponse<String> refused = ManagementHttp.post(http, base + write, MONITOR_TOKEN);
        assertEquals(403, refused.statusCode(), write + " with the monitor's token: " + refused.body());
        assertTrue(refused.body().startsWith("WRONG_ROLE: this call needs an operator token"), write + ": "
            + refused.body());
      }
      // The console is the operator's: its reads and its halt switch refuse the monitor alike.
      HttpResponse<String> session = ManagementHttp.get(http, base + "/console/api/session", MONITOR_TOKEN);
      assertEquals(403, session.statusCode(), session.body());
      assertTrue(session.body().contains("\"reason\":\"WRONG_ROLE\""), session.body());
      HttpResponse<String> consoleHalt = http.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create(base + "/console/api/admin/SetLiquidationHalt")).timeout(Duration.ofSeconds(10))
          .header("Authorization", "Bearer " + MONITOR_TOKEN).header("Content-Type", "application/json")
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"instrument\":\"" + PERP
              + "\",\"halted\":true,\"confirm\":\"" + PERP + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(403, consoleHalt.statusCode(), consoleHalt.body());
      assertTrue(consoleHalt.body().contains("\"reason\":\"WRONG_ROLE\""), consoleHalt.body());

      // Over gRPC, a deposit and a halt with it are refused PERMISSION_DENIED WRONG_ROLE.
      refused(admin.deposit(), MONITOR_TOKEN, DepositRequest.newBuilder().setAccountId("alice-1").setAmount("100")
          .setIdempotencyKey("monitor-2").build(), Status.Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);
      refused(admin.setLiquidationHalt(), MONITOR_TOKEN, SetLiquidationHaltRequest.newBuilder().setInstrument(PERP)
          .setHalted(true).build(), Status.Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);

      // Nothing changed: no halt, the same cash, the node still up in its cluster.
      assertEquals("{\"halted\":[]}", ManagementHttp.operatorGet(http, base + "/liquidations/halted").body());
      assertEquals(cash, call(admin.getAccount(), OPERATOR_TOKEN, GetAccountRequest.newBuilder()
          .setAccountId("alice-1").build()).getCash());
      assertEquals(MemberStatus.up(), Cluster.get(node.system()).selfMember().status());
      auditClean(node);
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  private static void auditClean(Main.Node node) {
    LedgerAudit.Report report = await(new LedgerAudit(node.system(), new Accounts(node.system(),
        Duration.ofSeconds(10)), TestNodes.INSTRUMENTS).run());
    assertTrue(report.clean(), "ledger audit: " + report.violations());
  }
}
