package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.Calls.refused;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.BOB_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.persistence.LocalCassandra;
import io.clearinghouse.protocol.v1.AccountServiceClient;
import io.clearinghouse.protocol.v1.AdminListLiquidationsRequest;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.GetLiquidationRequest;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.ListLiquidationsRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.grpc.Status.Code;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * An account whose journal holds an event that does not read (bytes no serializer understands,
 * written straight into Cassandra with the driver while the node was down) affects that account
 * alone (issue 18, item 7): after a restart, every call about it is refused at once with
 * {@code DATA_LOSS JOURNAL_UNREADABLE} and changes nothing, the other account and the rest of the
 * node answer as before, the ledger audit checks everything else and names the journal, and the
 * liquidation listings of that account answer (from the sagas' journals) instead of timing out.
 */
class CorruptAccountEventIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  /**
   * Appends to the account's journal, with the driver, an event whose bytes no serializer reads
   * (as a corrupted disk or a bad manual repair would leave it); answers its sequence number.
   */
  static long appendUnreadableEvent(String keyspace, String accountId) {
    String contactPoint = LocalCassandra.shared().contactPoint();
    try (CqlSession session = session(contactPoint)) {
      String pid = "Account|" + accountId;
      long next = session.execute("SELECT max(sequence_nr) FROM " + keyspace + ".messages WHERE persistence_id = '"
          + pid + "' AND partition_nr = 0").one().getLong(0) + 1;
      session.execute("INSERT INTO " + keyspace + ".messages (persistence_id, partition_nr, sequence_nr, timestamp, "
          + "timebucket, writer_uuid, ser_id, ser_manifest, event_manifest, event) VALUES ('" + pid + "', 0, " + next
          + ", now(), '19700101T00:00', 'corrupt-test', 33, 'io.clearinghouse.account.AccountEntity$Deposited', '', "
          + "0xdeadbeefdeadbeef)");
      return next;
    }
  }

  /**
   * A driver session to the test's Cassandra only: the driver's configuration from the classpath
   * names the default contact point (127.0.0.1:9042), where another Cassandra may be listening.
   */
  private static CqlSession session(String contactPoint) {
    return CqlSession.builder().withConfigLoader(com.datastax.oss.driver.api.core.config.DriverConfigLoader
        .programmaticBuilder().withStringList(com.datastax.oss.driver.api.core.config.DefaultDriverOption
            .CONTACT_POINTS, List.of(contactPoint)).build())
        .withLocalDatacenter("datacenter1").build();
  }

  /** Appends {@code bytes} (serializer 33, {@code manifest}) to the account's journal with the driver. */
  private static long append(String keyspace, String accountId, String manifest, byte[] bytes) {
    String contactPoint = LocalCassandra.shared().contactPoint();
    try (CqlSession session = session(contactPoint)) {
      String pid = "Account|" + accountId;
      long next = session.execute("SELECT max(sequence_nr) FROM " + keyspace + ".messages WHERE persistence_id = '"
          + pid + "' AND partition_nr = 0").one().getLong(0) + 1;
      session.execute(session.prepare("INSERT INTO " + keyspace + ".messages (persistence_id, partition_nr, "
          + "sequence_nr, timestamp, timebucket, writer_uuid, ser_id, ser_manifest, event_manifest, event) VALUES (?, 0, "
          + "?, now(), '19700101T00:00', 'corrupt-test', 33, ?, '', ?)").bind(pid, next, manifest,
          java.nio.ByteBuffer.wrap(bytes)));
      return next;
    }
  }

  /**
   * Review of issue 18, finding 3: a deposit whose {@code amount} field name was damaged on disk
   * (still valid CBOR) used to read as a deposit of 0, changing the account silently while the
   * audit, replaying the same event, balanced. It does not read now: the account is refused with
   * JOURNAL_UNREADABLE and the audit names its journal.
   */
  @Test
  void aDepositWithADamagedFieldNameDoesNotReadInsteadOfReadingAsZero() {
    String keyspace = TestNodes.newKeyspace("damagedname");
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      Main.Node first = TestNodes.start(TestNodes.nodeConfig(keyspace, ""));
      byte[] damaged;
      String manifest;
      try {
        AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(first, clients), clients);
        for (String account : List.of("alice-1", "bob-1")) {
          call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId(account).build());
          call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId(account).setAmount("100")
              .setIdempotencyKey("seed").build());
        }
        var serialization = org.apache.pekko.serialization.SerializationExtension.get(first.system().classicSystem());
        var deposit = new io.clearinghouse.account.AccountEntity.Deposited("later", 50_000_000L, 1L, 0L, "operator");
        var serializer = serialization.findSerializerFor(deposit);
        manifest = org.apache.pekko.serialization.Serializers.manifestFor(serializer, deposit);
        String text = new String(serialization.serialize(deposit).get(), java.nio.charset.StandardCharsets.ISO_8859_1);
        damaged = text.replaceFirst("amount", "amounX").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
      } finally {
        TestNodes.stop(first);
      }
      append(keyspace, "bob-1", manifest, damaged);

      Main.Node node = TestNodes.start(TestNodes.nodeConfig(keyspace, ""));
      try {
        AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(node, clients), clients);
        TestProbe<Object> probe = TestProbe.create(clients);
        probe.awaitAssert(WAIT, Duration.ofMillis(500), () -> {
          refused(admin.getAccount(), OPERATOR_TOKEN, GetAccountRequest.newBuilder().setAccountId("bob-1").build(),
              Code.DATA_LOSS, Rejection.JOURNAL_UNREADABLE);
          return null;
        });
        LedgerAudit.Report report = Calls.await(new LedgerAudit(node.system(), new Accounts(node.system(),
            Duration.ofSeconds(10)), TestNodes.INSTRUMENTS).run());
        assertEquals(1, report.violations().size(), report.violations().toString());
        assertTrue(report.violations().get(0).startsWith("journal of Account|bob-1 does not read")
            && report.violations().get(0).contains("amounX"), report.violations().get(0));
        assertEquals(List.of(1, 100_000_000L), List.of(report.accounts(), report.totalCash()));
      } finally {
        TestNodes.stop(node);
      }
    } finally {
      clients.terminate();
    }
  }

  /**
   * A liquidated account whose journal no longer reads: its liquidations are still listed (read
   * from the sagas' journals, which name the account), to the operator and to the account's owner,
   * and each can still be read.
   */
  @Test
  void theLiquidationsOfAnUnreadableAccountAreListedFromTheSagas() {
    String keyspace = TestNodes.newKeyspace("corruptliq");
    String liquidationId;
    try (LiquidationHarness h = new LiquidationHarness(List.of(TestNodes.start(TestNodes.nodeConfig(keyspace,
        LiquidationHarness.config("")))))) {
      h.open("bob-1", "1000");
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", LiquidationHarness.PERP);
      h.buy("bob-1", "maker", LiquidationHarness.PERP, "1", "50000");
      h.mark(LiquidationHarness.PERP, "49221.8");
      liquidationId = h.onlyLiquidation("bob-1").getLiquidationId();
    }
    appendUnreadableEvent(keyspace, "bob-1");
    try (LiquidationHarness h = new LiquidationHarness(List.of(TestNodes.start(TestNodes.nodeConfig(keyspace,
        LiquidationHarness.config("")))))) {
      h.probe.awaitAssert(WAIT, Duration.ofMillis(500), () -> {
        refused(h.admin.getAccount(), OPERATOR_TOKEN, GetAccountRequest.newBuilder().setAccountId("bob-1").build(),
            Code.DATA_LOSS, Rejection.JOURNAL_UNREADABLE);
        return null;
      });
      assertEquals(List.of(liquidationId), call(h.admin.listLiquidations(), OPERATOR_TOKEN,
          AdminListLiquidationsRequest.newBuilder().setAccountId("bob-1").build()).getLiquidationsList().stream()
          .map(l -> l.getLiquidationId()).toList());
      assertEquals(List.of(liquidationId), call(h.accounts.listLiquidations(), BOB_TOKEN,
          ListLiquidationsRequest.newBuilder().setAccountId("bob-1").build()).getLiquidationsList().stream()
          .map(l -> l.getLiquidationId()).toList());
      assertEquals("bob-1", call(h.accounts.getLiquidation(), BOB_TOKEN, GetLiquidationRequest.newBuilder()
          .setLiquidationId(liquidationId).build()).getAccountId());
      // The accounts it traded with answer; the audit names bob-1's journal first (the trades and
      // closes it can no longer match on bob-1's side follow).
      assertEquals(1, h.view("prov").getPositionsCount());
      List<String> violations = call(h.admin.audit(), OPERATOR_TOKEN, AuditRequest.getDefaultInstance())
          .getViolationsList();
      assertTrue(violations.get(0).startsWith("journal of Account|bob-1 does not read"), violations.toString());
    }
  }

  @Test
  void anUnreadableAccountEventAffectsOnlyItsAccount() {
    String keyspace = TestNodes.newKeyspace("corruptacct");
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      Main.Node first = TestNodes.start(TestNodes.nodeConfig(keyspace, ""));
      try {
        AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(first, clients), clients);
        for (String account : List.of("alice-1", "bob-1")) {
          call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId(account).build());
          call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId(account).setAmount("100")
              .setIdempotencyKey("seed").build());
        }
      } finally {
        TestNodes.stop(first);
      }
      // bob-1's journal: opened (1), deposited (2), then an event that does not read (3).
      assertEquals(3, appendUnreadableEvent(keyspace, "bob-1"));

      Main.Node node = TestNodes.start(TestNodes.nodeConfig(keyspace, ""));
      try {
        AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(node, clients), clients);
        AccountServiceClient accounts = AccountServiceClient.create(TestNodes.clientSettings(node, clients), clients);
        // bob-1 does not recover; once it has been tried, it is refused at once, with its reason.
        TestProbe<Object> probe = TestProbe.create(clients);
        probe.awaitAssert(WAIT, Duration.ofMillis(500), () -> {
          refused(admin.getAccount(), OPERATOR_TOKEN, GetAccountRequest.newBuilder().setAccountId("bob-1").build(),
              Code.DATA_LOSS, Rejection.JOURNAL_UNREADABLE);
          return null;
        });
        long started = System.nanoTime();
        refused(accounts.getAccount(), BOB_TOKEN, GetAccountRequest.newBuilder().setAccountId("bob-1").build(),
            Code.DATA_LOSS, Rejection.JOURNAL_UNREADABLE);
        refused(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("bob-1").setAmount("5")
            .setIdempotencyKey("after").build(), Code.DATA_LOSS, Rejection.JOURNAL_UNREADABLE);
        assertTrue(Duration.ofNanos(System.nanoTime() - started).compareTo(Duration.ofSeconds(5)) < 0,
            "the refusals waited for an ask timeout");

        // The other account and the rest of the node answer as before.
        assertEquals("100.000000", call(accounts.getAccount(), ALICE_TOKEN, GetAccountRequest.newBuilder()
            .setAccountId("alice-1").build()).getCash());
        assertEquals("110.000000", call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder()
            .setAccountId("alice-1").setAmount("10").setIdempotencyKey("after").build()).getCashAfter());
        call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("alice-2").build());

        // The liquidation read side lists bob-1's liquidations from the sagas (none) instead of failing.
        assertEquals(0, call(admin.listLiquidations(), OPERATOR_TOKEN, AdminListLiquidationsRequest.newBuilder()
            .setAccountId("bob-1").build()).getLiquidationsCount());
        assertEquals(0, call(accounts.listLiquidations(), BOB_TOKEN, ListLiquidationsRequest.newBuilder()
            .setAccountId("bob-1").build()).getLiquidationsCount());
        assertEquals(0, call(admin.listLiquidations(), OPERATOR_TOKEN, AdminListLiquidationsRequest.getDefaultInstance())
            .getLiquidationsCount());

        // The audit checks everything else, exactly, and names the journal that does not read.
        LedgerAudit.Report report = Calls.await(new LedgerAudit(node.system(), new Accounts(node.system(),
            Duration.ofSeconds(10)), TestNodes.INSTRUMENTS).run());
        assertEquals(1, report.violations().size(), report.violations().toString());
        assertTrue(report.violations().get(0).startsWith("journal of Account|bob-1 does not read"),
            report.violations().get(0));
        assertEquals(List.of(2, 110_000_000L, 110_000_000L), List.of(report.accounts(), report.totalCash(),
            report.deposits()));
      } finally {
        TestNodes.stop(node);
      }
    } finally {
      clients.terminate();
    }
  }
}
