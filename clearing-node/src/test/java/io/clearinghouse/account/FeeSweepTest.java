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
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * An account sweeps the trading fees it collected into the platform-revenue reserve: its own event
 * first (fee revenue into transit), then the reserve's receipt, resent under the same sweep number
 * until it arrives, after a failure and after a restart alike; a rebate is never swept.
 */
class FeeSweepTest {
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

  /** The reserve as the account sees it: records every sweep sent; answers as the test says. */
  private static final class Revenue implements FeeCollector {
    record Sent(String accountId, long sweep, long amount) {}

    final List<Sent> sent = new CopyOnWriteArrayList<>();
    final AtomicInteger failuresLeft = new AtomicInteger();
    volatile boolean silent;

    @Override
    public CompletionStage<Void> collect(String accountId, long sweep, long amount) {
      sent.add(new Sent(accountId, sweep, amount));
      if (silent) {
        return new CompletableFuture<>();
      }
      return failuresLeft.getAndDecrement() > 0
          ? CompletableFuture.failedFuture(new IllegalStateException("reserve away"))
          : CompletableFuture.completedFuture(null);
    }

    @Override
    public Duration interval() {
      return Duration.ofMillis(50);
    }
  }

  private static ActorRef<AccountEntity.Command> spawn(String id, MarkPrices marks, Revenue revenue) {
    AccountEntity.Environment base = AccountEntityTest.environment(marks);
    return testKit.spawn(AccountEntity.create(id, new AccountEntity.Environment(base.settings(), base.instruments(),
        base.marks(), base.monitor(), base.clock(), base.liquidations(), revenue)));
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

  private static List<Object> sweepEvents(String accountId) {
    return events(accountId).stream().filter(e -> e instanceof AccountEntity.FeesSwept
        || e instanceof AccountEntity.FeesCollected).toList();
  }

  private static ActorRef<AccountEntity.Command> opened(String id, MarkPrices marks, Revenue revenue) {
    ActorRef<AccountEntity.Command> account = spawn(id, marks, revenue);
    ask(account, AccountEntity.Open::unattributed);
    assertInstanceOf(AccountEntity.Transferred.class, ask(account, r -> new AccountEntity.Deposit("d1", 100_000 * USDT, r)));
    return account;
  }

  private static void trade(ActorRef<AccountEntity.Command> account, long sequence, long lots, boolean taker) {
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account, r -> new AccountEntity.ApplyTrade(
        "t-" + sequence, sequence, PERP, lots, 500_000, taker, null, "other", r)));
  }

  @Test
  void feesAreSweptOnceEachResentUnderTheSameNumberUntilTheyArriveAndNumberedOnward() {
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 500_000, 1, System.currentTimeMillis()));
    Revenue revenue = new Revenue();
    revenue.failuresLeft.set(2);
    String id = "sweep-" + ids.incrementAndGet();
    ActorRef<AccountEntity.Command> account = opened(id, marks, revenue);
    trade(account, 1, 1_000, true);
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(List.of(new AccountEntity.FeesSwept("fees/" + id + "/1", TAKER_FEE),
          new AccountEntity.FeesCollected("fees/" + id + "/1")), sweepEvents(id));
      return null;
    });
    // Two failures, then it arrived: the same sweep three times, never a second one.
    assertEquals(List.of(new Revenue.Sent(id, 1, TAKER_FEE), new Revenue.Sent(id, 1, TAKER_FEE),
        new Revenue.Sent(id, 1, TAKER_FEE)), revenue.sent);
    trade(account, 2, -1_000, true);
    probe.awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(4, sweepEvents(id).size());
      assertEquals(new AccountEntity.FeesSwept("fees/" + id + "/2", TAKER_FEE), sweepEvents(id).get(2));
      return null;
    });
  }

  @Test
  void aSweepInTransitWhenTheAccountStopsIsResentUnderItsNumberAfterRecovery() {
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 500_000, 1, System.currentTimeMillis()));
    Revenue revenue = new Revenue();
    revenue.silent = true;
    String id = "sweep-" + ids.incrementAndGet();
    ActorRef<AccountEntity.Command> account = opened(id, marks, revenue);
    trade(account, 1, 1_000, true);
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(List.of(new AccountEntity.FeesSwept("fees/" + id + "/1", TAKER_FEE)), sweepEvents(id));
      assertTrue(!revenue.sent.isEmpty());
      return null;
    });
    testKit.stop(account);
    revenue.sent.clear();
    revenue.silent = false;
    spawn(id, marks, revenue);
    probe.awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(List.of(new AccountEntity.FeesSwept("fees/" + id + "/1", TAKER_FEE),
          new AccountEntity.FeesCollected("fees/" + id + "/1")), sweepEvents(id));
      return null;
    });
    assertEquals(new Revenue.Sent(id, 1, TAKER_FEE), revenue.sent.get(0));
    assertTrue(revenue.sent.stream().allMatch(s -> s.sweep() == 1), revenue.sent.toString());
  }

  @Test
  void aNetRebateIsClaimedFromTheReserveAndFeesAreSetAgainstRebatesFirst() {
    FeeSweep fees = FeeSweep.NONE.charged(-3 * USDT);
    assertTrue(fees.due(), "a net rebate is claimed");
    assertEquals(0, fees.charged(3 * USDT).unswept());
    assertTrue(!fees.charged(3 * USDT).due(), "nothing to sweep once fees cover the rebates");
    fees = fees.charged(7 * USDT);
    assertEquals(4 * USDT, fees.unswept());
    FeeSweep swept = fees.swept(fees.nextKey("a"), fees.unswept());
    assertEquals(List.of(0L, "fees/a/1", 4 * USDT, 1L), List.of(swept.unswept(), swept.pendingKey(),
        swept.pendingAmount(), swept.sweeps()));
    assertTrue(swept.due(), "in transit until it arrives");
    assertEquals(swept, swept.collected("fees/a/0"), "another sweep's arrival changes nothing");
    assertTrue(!swept.collected("fees/a/1").due());
    FeeSweep claim = swept.collected("fees/a/1").charged(-2 * USDT);
    claim = claim.swept(claim.nextKey("a"), claim.unswept());
    assertEquals(List.of(0L, "fees/a/2", -2 * USDT), List.of(claim.unswept(), claim.pendingKey(), claim.pendingAmount()));
  }
}
