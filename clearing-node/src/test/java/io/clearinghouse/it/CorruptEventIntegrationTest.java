package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.audit.LedgerAudit;
import java.time.Duration;
import java.util.List;
import io.clearinghouse.persistence.LocalCassandra;
import io.clearinghouse.protocol.v1.AdminListLiquidationsRequest;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.GetLiquidationRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletionException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * A liquidation saga whose journal holds an event that does not read (bytes no serializer
 * understands): the operator's listing leaves it out instead of failing, asking for it fails on
 * its own, the rest of the node goes on serving, and the ledger audit checks everything else and
 * names the journal that does not read.
 */
class CorruptEventIntegrationTest {
  @Test
  void anUnreadableSagaIsLeftOutOfListingsAndTheNodeGoesOn() {
    String keyspace = TestNodes.newKeyspace("corrupt");
    String contactPoint = LocalCassandra.shared().contactPoint();
    int colon = contactPoint.lastIndexOf(':');
    try (CqlSession session = CqlSession.builder()
        .addContactPoint(new InetSocketAddress(contactPoint.substring(0, colon), Integer.parseInt(contactPoint.substring(colon + 1))))
        .withLocalDatacenter("datacenter1").build()) {
      String pid = "LiquidationSaga|ghost-7";
      session.execute("INSERT INTO " + keyspace + ".messages (persistence_id, partition_nr, sequence_nr, timestamp, "
          + "timebucket, writer_uuid, ser_id, ser_manifest, event_manifest, event) VALUES ('" + pid + "', 0, 1, now(), "
          + "'19700101T00:00', 'corrupt-test', 33, 'io.clearinghouse.liquidation.LiquidationSaga$Began', '', "
          + "0xdeadbeefdeadbeef)");
      session.execute("INSERT INTO " + keyspace + ".all_persistence_ids (persistence_id) VALUES ('" + pid + "')");
    }
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(keyspace, ""));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(node, clients), clients);
      // The listing of every liquidation answers, without the unreadable one.
      assertEquals(0, call(admin.listLiquidations(), OPERATOR_TOKEN, AdminListLiquidationsRequest.getDefaultInstance())
          .getLiquidationsCount());
      // Asking for it fails for it alone...
      assertThrows(CompletionException.class, () -> Calls.await(Calls.withToken(admin.getLiquidation(), OPERATOR_TOKEN)
          .invoke(GetLiquidationRequest.newBuilder().setLiquidationId("ghost-7").build())));
      // ...and money still moves.
      call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("alice-1").build());
      assertEquals("10.000000", call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder()
          .setAccountId("alice-1").setAmount("10").setIdempotencyKey("c-1").build()).getCashAfter());
      // The ledger audit goes over everything else and names the journal that does not read.
      LedgerAudit.Report report = Calls.await(new LedgerAudit(node.system(), new Accounts(node.system(),
          Duration.ofSeconds(10)), TestNodes.INSTRUMENTS).run());
      assertEquals(1, report.violations().size(), report.violations().toString());
      assertTrue(report.violations().get(0).startsWith("journal of LiquidationSaga|ghost-7 does not read"),
          report.violations().get(0));
      assertEquals(List.of(1, 10_000_000L, 10_000_000L), List.of(report.accounts(), report.totalCash(),
          report.deposits()));
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }
}
