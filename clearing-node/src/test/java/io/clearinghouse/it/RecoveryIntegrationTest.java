package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.BOB_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.money.Asset;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.protocol.v1.AccountServiceClient;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.TransferReceipt;
import io.clearinghouse.protocol.v1.WithdrawRequest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * Money survives a node: a node takes deposits and withdrawals over gRPC, is stopped, and a new
 * node on the same keyspace recovers every balance exactly (from snapshots plus the journal
 * after them), still recognises old idempotency keys, and passes the ledger audit.
 */
class RecoveryIntegrationTest {
  private static final Asset USDT = new Asset("USDT", 6);
  private static final List<String> CLIENT_ACCOUNTS = List.of("alice-1", "alice-2", "bob-1");
  private static final List<String> OPERATOR_ONLY = List.of("ops-1", "ops-2", "ops-3");

  @Test
  void everyBalanceIsRecoveredExactlyByANewNode() {
    String keyspace = TestNodes.newKeyspace("recovery");
    // Snapshot every 3 events so that recovery uses snapshots and the journal after them.
    String extra = "clearinghouse.account.snapshot-every = 3";
    Map<String, Long> expected = new LinkedHashMap<>();
    Map<String, Long> withdrawalsByKey = new LinkedHashMap<>();
    long deposited = 0;
    long withdrawn = 0;

    Main.Node first = TestNodes.start(TestNodes.nodeConfig(keyspace, extra));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(first, clients), clients);
      AccountServiceClient accounts = AccountServiceClient.create(TestNodes.clientSettings(first, clients), clients);
      Random random = new Random(42);
      for (String id : concat()) {
        call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId(id).build());
        expected.put(id, 0L);
      }
      for (int round = 0; round < 8; round++) {
        for (String id : concat()) {
          long amount = 1 + random.nextInt(1_000_000_000);
          call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId(id)
              .setAmount(USDT.format(amount)).setIdempotencyKey("d-" + round + "-" + id).build());
          expected.merge(id, amount, Math::addExact);
          deposited += amount;
          if (CLIENT_ACCOUNTS.contains(id) && round % 2 == 1) {
            long out = 1 + random.nextInt((int) Math.min(Integer.MAX_VALUE, expected.get(id)));
            call(accounts.withdraw(), tokenFor(id), WithdrawRequest.newBuilder().setAccountId(id)
                .setAmount(USDT.format(out)).setIdempotencyKey("w-" + round + "-" + id).build());
            expected.merge(id, -out, Math::addExact);
            withdrawalsByKey.put("w-" + round + "-" + id, out);
            withdrawn += out;
          }
        }
      }
    } finally {
      clients.terminate();
      TestNodes.stop(first);
    }

    Main.Node second = TestNodes.start(TestNodes.nodeConfig(keyspace, extra));
    ActorSystem<Void> clients2 = TestNodes.clientSystem();
    try {
      AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(second, clients2), clients2);
      AccountServiceClient accounts = AccountServiceClient.create(TestNodes.clientSettings(second, clients2), clients2);
      for (Map.Entry<String, Long> account : expected.entrySet()) {
        String cash = call(admin.getAccount(), OPERATOR_TOKEN,
            GetAccountRequest.newBuilder().setAccountId(account.getKey()).build()).getCash();
        assertEquals(USDT.format(account.getValue()), cash, account.getKey());
      }
      // A retry of a request the first node answered is still recognised after recovery.
      TransferReceipt retried = call(accounts.withdraw(), ALICE_TOKEN, WithdrawRequest.newBuilder()
          .setAccountId("alice-1").setAmount(USDT.format(withdrawalsByKey.get("w-7-alice-1")))
          .setIdempotencyKey("w-7-alice-1").build());
      assertTrue(retried.getReplayed());
      assertEquals(USDT.format(expected.get("alice-1")),
          call(admin.getAccount(), OPERATOR_TOKEN, GetAccountRequest.newBuilder().setAccountId("alice-1").build())
              .getCash());

      LedgerAudit.Report report = await(new LedgerAudit(second.system(),
          new Accounts(second.system(), Duration.ofSeconds(10)), TestNodes.INSTRUMENTS).run());
      assertTrue(report.clean(), "ledger audit: " + report.violations());
      assertEquals(expected.size(), report.accounts());
      assertEquals(deposited, report.deposits());
      assertEquals(withdrawn, report.withdrawals());
      assertEquals(expected.values().stream().mapToLong(Long::longValue).sum(), report.totalCash());
    } finally {
      clients2.terminate();
      TestNodes.stop(second);
    }
  }

  private static List<String> concat() {
    return java.util.stream.Stream.concat(CLIENT_ACCOUNTS.stream(), OPERATOR_ONLY.stream()).toList();
  }

  private static String tokenFor(String account) {
    return account.startsWith("alice") ? ALICE_TOKEN : BOB_TOKEN;
  }
}
