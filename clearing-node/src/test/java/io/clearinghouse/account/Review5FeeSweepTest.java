package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.testkit.SnapshotMeta;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.SnapshotTestKit;
import org.apache.pekko.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review 5 of the fee sweeps (498352a), on the account's side: what an account sweeps against what
 * its journal says it collected, and whether every fee reaches the platform-revenue reserve.
 */
class Review5FeeSweepTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final AtomicInteger ids = new AtomicInteger();
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  /** Taker 0.05% of 1 BTC at 50,000. */
  private static final long TAKER_FEE = 25 * USDT;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** A platform-revenue reserve that takes every positive sweep and, holding nothing free, refuses every rebate claim. */
  private static final class Revenue implements FeeCollector {
    record Sent(String accountId, long sweep, long amount) {}

    final List<Sent> sent = new CopyOnWriteArrayList<>();
    final List<Sent> taken = new CopyOnWriteArrayList<>();

    @Override
    public CompletionStage<Void> collect(String accountId, long sweep, long amount) {
      Sent s = new Sent(accountId, sweep, amount);
      sent.add(s);
      if (amount < 0) {
        // As Liquidations.collectFees answers the reserve's refusal (which voids that number).
        return CompletableFuture.failedFuture(new io.clearinghouse.common.RejectedException(
            io.clearinghouse.common.Rejection.INSUFFICIENT_RESERVE, "nothing free"));
      }
      if (taken.stream().noneMatch(t -> t.accountId().equals(accountId) && t.sweep() == sweep)) {
        taken.add(s);
      }
      return CompletableFuture.completedFuture(null);
    }

    long takenFrom(String accountId) {
      return taken.stream().filter(t -> t.accountId().equals(accountId)).mapToLong(Sent::amount).sum();
    }

    @Override
    public java.time.Duration interval() {
      return Duration.ofMillis(50);
    }
  }

  private static AccountEntity.Environment environment(MarkPrices marks, FeeCollector fees) {
    AccountEntity.Environment base = AccountEntityTest.environment(marks);
    return new AccountEntity.Environment(base.settings(), base.instruments(), base.marks(), base.monitor(),
        base.clock(), base.liquidations(), fees);
  }

  private static AccountEntity.Reply ask(ActorRef<AccountEntity.Command> account,
      java.util.function.Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command) {
    return AskPattern.<AccountEntity.Command, AccountEntity.Reply>ask(account, command::apply, Duration.ofSeconds(5),
        testKit.scheduler()).toCompletableFuture().join();
  }

  private static List<Object> events(String accountId) {
    return PersistenceQuery.get(testKit.system())
        .getReadJournalFor(PersistenceTestKitReadJournal.class, PersistenceTestKitReadJournal.Identifier())
        .currentEventsByPersistenceId(AccountEntity.persistenceId(accountId).id(), 0L, Long.MAX_VALUE)
        .map(EventEnvelope::event).runWith(Sink.seq(), testKit.system()).toCompletableFuture().join();
  }

  private static MarkPrices marks() {
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 500_000, 1, System.currentTimeMillis()));
    return marks;
  }

  private static AccountEntity.Command trade(long sequence, long lots, ActorRef<AccountEntity.Reply> r) {
    return new AccountEntity.ApplyTrade("t-" + sequence, sequence, PERP, lots, 500_000, true, null, "other", r);
  }

  /**
   * A trade's fee is refunded after it was swept (its side reversed): the account claims the
   * refund back from the reserve as a sweep of -25, which a reserve with nothing free refuses
   * (INSUFFICIENT_RESERVE) until it can pay. The account then pays 50 of fees in two trades: its
   * fee revenue holds 25 net, which would settle the claim and more, but one sweep is in transit at
   * a time and the claim's amount is fixed under its key: the account resends the refused claim
   * for ever and its later fees never reach the reserve.
   */
  @Test
  void anAccountsLaterFeesReachTheReserveWhileARebateClaimOfItIsRefused() {
    MarkPrices marks = marks();
    Revenue revenue = new Revenue();
    String id = "r5-claim-" + ids.incrementAndGet();
    ActorRef<AccountEntity.Command> account = testKit.spawn(AccountEntity.create(id, environment(marks, revenue)));
    ask(account, AccountEntity.Open::unattributed);
    ask(account, r -> new AccountEntity.Deposit("d1", 100_000 * USDT, r));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account, r -> trade(1, 1_000, r)));
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(TAKER_FEE, revenue.takenFrom(id));
      assertEquals(1L, events(id).stream().filter(e -> e instanceof AccountEntity.FeesCollected).count());
      return null;
    });
    // The engine's trade is unwound (its other side refused): the fee is refunded.
    assertInstanceOf(AccountEntity.TradeSideReverted.class,
        ask(account, r -> new AccountEntity.ReverseTradeSide("t-1", 1, r)));
    probe.awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(-TAKER_FEE, revenue.sent.get(revenue.sent.size() - 1).amount(), "the refund is claimed");
      return null;
    });
    // Two more trades, 50 of fees: the account's fee revenue holds 25 net.
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account, r -> trade(2, 1_000, r)));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account, r -> trade(3, -1_000, r)));
    // Fees paid 75, refunded 25: 50 belongs to the platform's revenue.
    probe.awaitAssert(Duration.ofSeconds(3), () -> {
      assertEquals(2 * TAKER_FEE, revenue.takenFrom(id), "taken " + revenue.takenFrom(id)
          + "; the account keeps resending only its refused claim: " + revenue.sent.subList(
          Math.max(0, revenue.sent.size() - 3), revenue.sent.size()));
      return null;
    });
  }

  /**
   * An account whose last snapshot was written before fees were swept (its fee sweep state reads
   * as NONE: nothing unswept) has collected fees before the upgrade. The first sweep after the
   * upgrade carries only the fees since the snapshot: those from before never reach the reserve,
   * and the audit, which replays the whole journal, finds a sweep that is "not what there was".
   * No released snapshot predates fee sweeps; the audit says so if one ever did (review 7: allowing
   * fees left behind at any event boundary let a sweep that left fees behind audit clean).
   */
  @Test
  void anAccountSnapshottedBeforeFeeSweepsSweepsTheFeesSinceAndTheAuditReportsTheFeesLeftBehind() {
    MarkPrices marks = marks();
    String id = "r5-upgrade-" + ids.incrementAndGet();
    // Before the upgrade: a node without fee sweeps (the fee stays in the account's fee revenue).
    EventSourcedBehaviorTestKit<AccountEntity.Command, AccountEntity.Event, AccountEntity.State> before =
        EventSourcedBehaviorTestKit.create(testKit.system(), AccountEntity.create(id, environment(marks,
            FeeCollector.NONE)), EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(false));
    before.runCommand(AccountEntity.Open::unattributed);
    before.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Deposit("d1", 100_000 * USDT, r));
    before.<AccountEntity.Reply>runCommand(r -> trade(1, 1_000, r));
    Account state = (Account) before.getState();
    assertEquals(TAKER_FEE, state.fees().unswept());
    // Its snapshot as the previous version wrote it: no fee sweep state (read back as NONE).
    Account oldForm = state.edit().fees(null).build();
    assertEquals(FeeSweep.NONE, oldForm.fees());
    long lastSequenceNr = events(id).size();
    SnapshotTestKit.create(testKit.system()).persistForRecovery(AccountEntity.persistenceId(id).id(),
        List.of(Pair.create(SnapshotMeta.create(lastSequenceNr, System.currentTimeMillis()), (Object) oldForm)));
    // After the upgrade: the account sweeps.
    Revenue revenue = new Revenue();
    ActorRef<AccountEntity.Command> account = testKit.spawn(AccountEntity.create(id, environment(marks, revenue)));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account, r -> trade(2, -1_000, r)));
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(1L, events(id).stream().filter(e -> e instanceof AccountEntity.FeesCollected).count());
      return null;
    });
    // Every fee since the snapshot reaches the reserve; the one before it stays behind, and the
    // audit names the first sweep as not what there was.
    assertEquals(TAKER_FEE, revenue.takenFrom(id));
    List<String> violations = io.clearinghouse.audit.AccountLedgerAccess.violations(id, events(id));
    assertEquals(1, violations.size(), violations.toString());
    assertTrue(violations.get(0).contains("fee sweep " + FeeSweep.key(id, 1) + " of " + TAKER_FEE
        + " (fees collected since the last sweep " + 2 * TAKER_FEE + ")"), violations.get(0));
  }
}
