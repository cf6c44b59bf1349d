package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 18, finding 1: the management port's reads that disclose money and accounts
 * ({@code /cascade}, {@code /shards}, {@code /insurance-funds}, and {@code /metrics} unless
 * {@code clearinghouse.management.metrics-token-required} is off) need the operator token, as the
 * routes that change the cluster do: 401 without a token or with an unknown one, 403 with a
 * client's, 200 with the operator's; the probes ({@code /alive}, {@code /ready},
 * {@code /health/markets}) need none. A real node over HTTP; ends with the ledger audit.
 */
class ManagementAccessIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final List<String> OPERATORS_READS = List.of("/cascade", "/shards", "/insurance-funds", "/metrics");

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
      for (String path : List.of("/cascade", "/shards", "/insurance-funds")) {
        assertEquals(401, ManagementHttp.get(http, base + path).statusCode(), path);
        assertEquals(403, ManagementHttp.get(http, base + path, ALICE_TOKEN).statusCode(), path);
      }
      auditClean(node);
    } finally {
      TestNodes.stop(node);
    }
  }

  private static void auditClean(Main.Node node) {
    LedgerAudit.Report report = await(new LedgerAudit(node.system(), new Accounts(node.system(),
        Duration.ofSeconds(10)), TestNodes.INSTRUMENTS).run());
    assertTrue(report.clean(), "ledger audit: " + report.violations());
  }
}
