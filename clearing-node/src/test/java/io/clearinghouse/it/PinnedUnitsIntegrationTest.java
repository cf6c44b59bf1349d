package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * The units the journal is written in are pinned: a node started, or joining, with another tick
 * size is refused naming the instrument, and so is one that leaves a pinned instrument out; the
 * same configuration starts again.
 */
class PinnedUnitsIntegrationTest {
  private static final String COARSER_TICK = "clearinghouse.instrument-overrides { \"BTCUSDT-PERP\" { tick-size = \"0.5\" } }";

  @Test
  void aNodeWithAChangedTickSizeIsRefusedAtStartAndWhenJoining() {
    String keyspace = TestNodes.newKeyspace("pinned");
    Main.Node first = TestNodes.start(TestNodes.nodeConfig(keyspace, ""));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(first, clients), clients);
      call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("alice-1").build());
      call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("alice-1").setAmount("100")
          .setIdempotencyKey("pin-1").build());
      // A node joining the running cluster with a coarser tick is refused; the cluster runs on.
      String seed = first.system().address().toString();
      refused(TestNodes.nodeConfig(keyspace, COARSER_TICK + "\npekko.cluster.seed-nodes = [\"" + seed + "\"]"),
          "clearinghouse.instruments BTCUSDT-PERP");
    } finally {
      clients.terminate();
      TestNodes.stop(first);
    }
    // A restart with the coarser tick, or without the quarterly, is refused.
    refused(TestNodes.nodeConfig(keyspace, COARSER_TICK), "clearinghouse.instruments BTCUSDT-PERP");
    refused(TestNodes.nodeConfig(keyspace, "clearinghouse.instruments = [{ symbol = \"BTCUSDT-PERP\", kind = perpetual, "
        + "tick-size = \"0.1\", lot-size = \"0.001\", maker-fee = \"0.02%\", taker-fee = \"0.05%\", "
        + "liquidation-fee = \"1%\", risk-tiers = binance-btcusdt-2021-03 }]\n"
        // The stress scenarios name the quarterly too: without it they would stop the node first.
        + "clearinghouse.stress.scenarios = [{ name = \"2020-03-12\", shocks { \"BTCUSDT-PERP\" = \"-46%\" } }, "
        + "{ name = \"2021-05-19\", shocks { \"BTCUSDT-PERP\" = \"-30%\" } }]"), "BTCUSDT-261225");
    // The units it was written in start again, and the books are as they were.
    Main.Node again = TestNodes.start(TestNodes.nodeConfig(keyspace, ""));
    try {
      LedgerAudit.Report report = await(new LedgerAudit(again.system(), new Accounts(again.system(),
          Duration.ofSeconds(10)), TestNodes.INSTRUMENTS).run());
      assertTrue(report.clean(), "ledger audit: " + report.violations());
      assertEquals(100_000_000L, report.totalCash());
    } finally {
      TestNodes.stop(again);
    }
  }

  private static void refused(com.typesafe.config.Config config, String named) {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> TestNodes.start(config));
    Throwable cause = e;
    StringBuilder messages = new StringBuilder();
    while (cause != null) {
      messages.append(cause.getMessage()).append(" / ");
      cause = cause.getCause();
    }
    assertTrue(messages.toString().contains(named), messages.toString());
    assertTrue(messages.toString().contains("units cannot change") || messages.toString().contains("cannot be dropped"),
        messages.toString());
  }
}
