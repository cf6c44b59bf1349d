package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review 6 of 88a4da2, the audit's relaxed rule for an account's first fee sweep ("may leave fees
 * behind: those collected before fee sweeps existed"). The rule as written accepts any negative
 * first sweep and any positive first sweep up to the fees: a first sweep that claims a rebate the
 * account never earned, or that sweeps an amount matching no point in its fee history, audits clean.
 */
class Review6FirstSweepAuditTest {
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

  private static List<Object> events(String accountId) {
    return PersistenceQuery.get(testKit.system())
        .getReadJournalFor(PersistenceTestKitReadJournal.class, PersistenceTestKitReadJournal.Identifier())
        .currentEventsByPersistenceId(AccountEntity.persistenceId(accountId).id(), 0L, Long.MAX_VALUE)
        .map(EventEnvelope::event).runWith(Sink.seq(), testKit.system()).toCompletableFuture().join();
  }

  /** An account that paid one taker fee (25 USDT) and never swept: its journal, as written. */
  private static List<Object> paidOneFee(String id) {
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 500_000, 1, System.currentTimeMillis()));
    AccountEntity.Environment base = AccountEntityTest.environment(marks);
    AccountEntity.Environment environment = new AccountEntity.Environment(base.settings(), base.instruments(),
        base.marks(), base.monitor(), base.clock(), base.liquidations(), FeeCollector.NONE);
    EventSourcedBehaviorTestKit<AccountEntity.Command, AccountEntity.Event, AccountEntity.State> kit =
        EventSourcedBehaviorTestKit.create(testKit.system(), AccountEntity.create(id, environment),
            EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(false));
    kit.runCommand(AccountEntity.Open::unattributed);
    kit.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Deposit("d1", 100_000 * USDT, r));
    kit.<AccountEntity.Reply>runCommand(r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, 1_000, 500_000, true, null,
        "other", r));
    List<Object> events = new ArrayList<>(events(id));
    assertEquals(TAKER_FEE, ((Account) kit.getState()).fees().unswept());
    return events;
  }

  /**
   * The account paid 25 of fees and never earned a rebate; its first sweep claims a rebate of
   * 1,000,000 USDT from the platform-revenue reserve (and the reserve takes it: FeesReceived of
   * -1,000,000 under that key). The audit's first-sweep rule is {@code amount < 0 || amount <= fees}:
   * any negative first sweep passes, and the account-side checks find nothing.
   */
  @Test
  void aFirstSweepClaimingARebateNeverEarnedIsAViolation() {
    String id = "r6-first-neg-" + ids.incrementAndGet();
    List<Object> events = paidOneFee(id);
    events.add(new AccountEntity.FeesSwept(FeeSweep.key(id, 1), -1_000_000 * USDT));
    events.add(new AccountEntity.FeesCollected(FeeSweep.key(id, 1)));
    List<String> violations = io.clearinghouse.audit.Review6AuditAccess.violations(id, events);
    assertFalse(violations.isEmpty(), "a first sweep claiming 1,000,000 USDT of rebates on 25 USDT of fees paid"
        + " audits clean");
  }

  /**
   * The account paid one fee of 25 after it was created (no snapshot from before fee sweeps); its
   * first sweep carries 1 unit. No suffix of its fee history adds up to 1 (the fees since any
   * point are 25 or 0), yet the audit accepts it and books the other 24,999,999 as "fees from before
   * fee sweeps existed", never to be swept: the reserve is short of them for good.
   */
  @Test
  void aFirstSweepMatchingNoPointOfTheFeeHistoryIsAViolation() {
    String id = "r6-first-part-" + ids.incrementAndGet();
    List<Object> events = paidOneFee(id);
    events.add(new AccountEntity.FeesSwept(FeeSweep.key(id, 1), 1));
    events.add(new AccountEntity.FeesCollected(FeeSweep.key(id, 1)));
    List<String> violations = io.clearinghouse.audit.Review6AuditAccess.violations(id, events);
    assertFalse(violations.isEmpty(), "a first sweep of 1 unit on 25 USDT of fees (all paid under fee sweeps)"
        + " audits clean");
  }

  /**
   * A sweep number voided by the reserve is used for good ("it never takes that number later"):
   * the audit keeps the voided keys, but a later FeesSwept under the same key is not checked against
   * them (the key left {@code feesSwept} when it was voided), so an account that sweeps a voided
   * number again, and a reserve that takes it, audit clean.
   */
  @Test
  void aVoidedSweepNumberSweptAgainIsAViolation() {
    String id = "r6-reuse-" + ids.incrementAndGet();
    List<Object> events = paidOneFee(id);
    String key = FeeSweep.key(id, 1);
    events.add(new AccountEntity.FeesSwept(key, TAKER_FEE));
    events.add(new AccountEntity.FeesSweepVoided(key, TAKER_FEE));
    events.add(new AccountEntity.FeesSwept(key, TAKER_FEE));
    events.add(new AccountEntity.FeesCollected(key));
    List<String> violations = io.clearinghouse.audit.Review6AuditAccess.violations(id, events);
    assertFalse(violations.isEmpty(), "sweep " + key + " voided, then swept again under the same number, audits clean");
  }
}
