package io.clearinghouse.expiry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.MutableClock;
import io.clearinghouse.account.AccountEntity.SettlementApplied;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.SettlementMath;
import io.clearinghouse.metrics.Metrics;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A dated future's settlement on the in-memory journal, with a clock of its own, an index it is
 * told and a fan-out that plays the accounts (each settles once, like the account entity): the
 * index sampled once per slot in the window, the price fixed at the expiry as their average, every
 * holder settled once with values summing to zero; a stale window waiting for an operator's price;
 * a settlement restarted mid-way that settles nobody twice.
 */
class ExpirySettlementTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final String FUTURE = "BTCUSDT-271231";
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.parseString(
      "clearinghouse.instrument-overrides { \"" + FUTURE + "\" { settlement-window = 60s, delivery-fee = \"0.02%\" } }")
      .withFallback(ConfigFactory.load()).resolve(), 6);
  private static final ExpirySettings SETTINGS = new ExpirySettings(true, Duration.ofSeconds(10), 500_000,
      Duration.ZERO, 4, 1, Duration.ofSeconds(3), 5);
  private static final Instant EXPIRY = Instant.parse("2027-12-31T08:00:00Z");
  private static final AtomicInteger ids = new AtomicInteger();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /**
   * Accounts as the fan-out sees them: lots and cost; each settles once and answers a repeat with
   * its first result. Like the margin monitors, {@code due} names only accounts that still hold
   * the future: one that applied its settlement is never named again.
   */
  static final class Holders implements SettlementFanOut {
    final Map<String, long[]> positions = new ConcurrentHashMap<>();
    final Map<String, SettlementApplied> settled = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> applied = new ConcurrentHashMap<>();
    final AtomicInteger failNextRounds = new AtomicInteger();
    /**
     * Rounds answered before the answers are lost: after these, the accounts apply their
     * settlements and their answers never come back (the node stops meanwhile).
     */
    final AtomicInteger answeredBeforeLoss = new AtomicInteger(Integer.MAX_VALUE);
    /** A node unreachable: its monitor does not answer, no round is complete. */
    final java.util.concurrent.atomic.AtomicBoolean unreachable = new java.util.concurrent.atomic.AtomicBoolean();
    /** When the set of monitors last changed (a node removed), as the fan-out reports it. */
    final AtomicLong monitorsChangedAt = new AtomicLong();
    final AtomicInteger rounds = new AtomicInteger();

    @Override
    public CompletionStage<Due> due(String instrument, Set<String> done, ExpirySettings settings) {
      List<String> holding = new TreeMap<>(positions).keySet().stream()
          .filter(id -> !settled.containsKey(id) && !done.contains(id)).toList();
      // One account per round (batch 1), like a monitor answering a batch at a time.
      rounds.incrementAndGet();
      return CompletableFuture.completedFuture(new Due(holding.stream().limit(1).toList(),
          holding.size() <= 1 && !unreachable.get(), monitorsChangedAt.get()));
    }

    @Override
    public CompletionStage<Map<String, SettlementApplied>> settle(String instrument, long expiryMillis,
        long priceTicks, Collection<String> accountIds, ExpirySettings settings) {
      Map<String, SettlementApplied> results = new HashMap<>();
      for (String id : accountIds) {
        long[] p = positions.get(id);
        results.put(id, settled.computeIfAbsent(id, k -> {
          applied.computeIfAbsent(k, a -> new AtomicInteger()).incrementAndGet();
          SettlementMath.Closed c = SettlementMath.close(p[0], p[1], p[2], priceTicks, 100, 200);
          return new SettlementApplied(instrument, expiryMillis, priceTicks, c.lots(), c.value(), c.cost(), c.fee(),
              c.isolatedReleased(), 0);
        }));
      }
      if (answeredBeforeLoss.getAndDecrement() <= 0) {
        return new CompletableFuture<>();
      }
      if (failNextRounds.getAndDecrement() > 0) {
        return CompletableFuture.failedFuture(new RuntimeException("lost the answers"));
      }
      return CompletableFuture.completedFuture(results);
    }
  }

  private static SettlementEnvironment environment(MutableClock clock, AtomicLong index, Holders holders) {
    return new SettlementEnvironment(SETTINGS, INSTRUMENTS, clock, i -> CompletableFuture.completedFuture(index.get()),
        holders, new Metrics());
  }

  private static ExpirySettlement.SettlementRecord record(ActorRef<ExpirySettlement.Command> settlement) {
    TestProbe<ExpirySettlement.SettlementRecord> probe = testKit.createTestProbe();
    settlement.tell(new ExpirySettlement.GetRecord(probe.getRef()));
    return probe.receiveMessage();
  }

  private static void tickUntil(ActorRef<ExpirySettlement.Command> settlement,
      java.util.function.Predicate<ExpirySettlement.SettlementRecord> done) {
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(10), Duration.ofMillis(50), () -> {
      settlement.tell(ExpirySettlement.Tick.INSTANCE);
      assertTrue(done.test(record(settlement)));
      return null;
    });
  }

  /** Samples the window: one tick per 10 s slot at each index price, the clock ending just before the expiry. */
  private static void sampleWindow(ActorRef<ExpirySettlement.Command> settlement, MutableClock clock, AtomicLong index,
      long... prices) {
    for (long price : prices) {
      index.set(price);
      long samplesBefore = record(settlement).samples();
      tickUntil(settlement, r -> r.samples() == samplesBefore + (price > 0 ? 1 : 0));
      clock.advance(Duration.ofSeconds(10));
    }
  }

  private static ActorRef<ExpirySettlement.Command> spawn(String name, SettlementEnvironment env) {
    return testKit.spawn(ExpirySettlement.create(FUTURE, FUTURE + "-" + name, env), name);
  }

  @Test
  void samplesTheWindowFixesTheAverageAndSettlesEveryHolderOnce() {
    MutableClock clock = new MutableClock(EXPIRY.minusSeconds(70));
    AtomicLong index = new AtomicLong(500_000);
    Holders holders = new Holders();
    holders.positions.put("long-cross", new long[] {1_000, 50_000_000_000L, 0});
    holders.positions.put("short-isolated", new long[] {-600, -30_000_000_000L, 3_000_000_000L});
    holders.positions.put("short-small", new long[] {-400, -20_100_000_000L, 0});
    ActorRef<ExpirySettlement.Command> settlement = spawn("fixes-" + ids.incrementAndGet(),
        environment(clock, index, holders));
    // Before the window: nothing sampled.
    settlement.tell(ExpirySettlement.Tick.INSTANCE);
    assertEquals(0, record(settlement).samples());
    clock.advance(Duration.ofSeconds(10));
    // Six slots of 10 s; the average of 500,000 .. 500,005 is 500,002.5: 500,003 (half up).
    sampleWindow(settlement, clock, index, 500_000, 500_001, 500_002, 500_003, 500_004, 500_005);
    ExpirySettlement.SettlementRecord before = record(settlement);
    assertEquals(ExpirySettlement.Status.PENDING, before.status());
    assertEquals(6, before.slots());
    assertEquals(3, before.requiredSamples());
    assertEquals(500_003, before.expectedPriceTicks());
    // At the expiry: fixed and settled, every holder once.
    tickUntil(settlement, r -> r.status() == ExpirySettlement.Status.SETTLED);
    ExpirySettlement.SettlementRecord done = record(settlement);
    assertEquals(500_003, done.priceTicks());
    assertNull(done.operator());
    assertEquals(3, done.results().size());
    holders.applied.values().forEach(n -> assertEquals(1, n.get()));
    assertEquals(0, done.totalValue());
    SettlementApplied isolated = done.results().get("short-isolated");
    // -600 lots at 50,000.3: value -30,000,180,000; pnl -180,000; fee ceil(30,000.18 * 0.02%) = 6,000,036.
    assertEquals(-30_000_180_000L, isolated.value());
    assertEquals(-180_000L, isolated.pnl());
    assertEquals(6_000_036L, isolated.fee());
    assertEquals(3_000_000_000L, isolated.isolatedReleased());
    assertEquals(done.totalFees(), done.results().values().stream().mapToLong(SettlementApplied::fee).sum());
  }

  @Test
  void aStaleWindowWaitsForTheOperatorsPrice() {
    MutableClock clock = new MutableClock(EXPIRY.minusSeconds(60));
    AtomicLong index = new AtomicLong();
    Holders holders = new Holders();
    holders.positions.put("long", new long[] {1_000, 50_000_000_000L, 0});
    holders.positions.put("short", new long[] {-1_000, -50_000_000_000L, 0});
    ActorRef<ExpirySettlement.Command> settlement = spawn("stale-" + ids.incrementAndGet(),
        environment(clock, index, holders));
    // Two fresh samples of six: fewer than the three the 50% share needs.
    sampleWindow(settlement, clock, index, 500_000, 0, 0, 500_010, 0, 0);
    TestProbe<ExpirySettlement.Reply> replies = testKit.createTestProbe();
    // Before the expiry, a price by hand is refused.
    clock.advance(Duration.ofMillis(-1));
    settlement.tell(new ExpirySettlement.SetPrice(501_000, "ops-alice", replies.getRef()));
    assertEquals(Rejection.INSTRUMENT_NOT_EXPIRED, assertInstanceOf(ExpirySettlement.Refused.class,
        replies.receiveMessage()).reason());
    clock.advance(Duration.ofMillis(1));
    tickUntil(settlement, r -> r.status() == ExpirySettlement.Status.WAITING_FOR_PRICE);
    // It waits: ticks change nothing, nobody is settled.
    settlement.tell(ExpirySettlement.Tick.INSTANCE);
    assertEquals(ExpirySettlement.Status.WAITING_FOR_PRICE, record(settlement).status());
    assertTrue(holders.settled.isEmpty());
    // The last index the node knows bounds the operator's price (review of issue 17): 501,000 is within the band.
    index.set(500_010);
    settlement.tell(new ExpirySettlement.SetPrice(501_000, "ops-alice", replies.getRef()));
    ExpirySettlement.SettlementRecord set = assertInstanceOf(ExpirySettlement.PriceSet.class, replies.receiveMessage())
        .record();
    assertEquals("ops-alice", set.operator());
    assertEquals(501_000, set.priceTicks());
    tickUntil(settlement, r -> r.status() == ExpirySettlement.Status.SETTLED);
    assertEquals(2, record(settlement).results().size());
    assertEquals(0, record(settlement).totalValue());
    // Once priced, a second price is refused.
    settlement.tell(new ExpirySettlement.SetPrice(502_000, "ops-bob", replies.getRef()));
    assertEquals(Rejection.INSTRUMENT_SETTLED, assertInstanceOf(ExpirySettlement.Refused.class,
        replies.receiveMessage()).reason());
  }

  /** A settlement waiting for the operator's price (a stale window), with the last index in {@code index}. */
  private static ActorRef<ExpirySettlement.Command> waiting(String name, MutableClock clock, AtomicLong index) {
    Holders holders = new Holders();
    holders.positions.put("long", new long[] {1_000, 50_000_000_000L, 0});
    holders.positions.put("short", new long[] {-1_000, -50_000_000_000L, 0});
    ActorRef<ExpirySettlement.Command> settlement = spawn(name + "-" + ids.incrementAndGet(),
        environment(clock, index, holders));
    sampleWindow(settlement, clock, index, 0, 0, 0, 0, 0, 0);
    tickUntil(settlement, r -> r.status() == ExpirySettlement.Status.WAITING_FOR_PRICE);
    return settlement;
  }

  private static ExpirySettlement.Reply setPrice(ActorRef<ExpirySettlement.Command> settlement, long priceTicks,
      String forceReason) {
    TestProbe<ExpirySettlement.Reply> replies = testKit.createTestProbe();
    settlement.tell(new ExpirySettlement.SetPrice(priceTicks, "ops-alice", forceReason, replies.getRef()));
    return replies.receiveMessage();
  }

  private static void assertRefusedOffIndex(ExpirySettlement.Reply reply) {
    assertEquals(Rejection.SETTLEMENT_PRICE_OFF_INDEX, assertInstanceOf(ExpirySettlement.Refused.class, reply).reason(),
        reply.toString());
  }

  /**
   * Review of issue 17 (medium): an operator's price was taken wherever it lay. Unforced, it must
   * now lie within the instrument's price band around the last index (one tick beyond either edge
   * is refused, and so is any price with no index known); forced with a reason, it is taken and
   * the reason is recorded with the operator's name. On today's code every one of these was taken.
   */
  @Test
  void anOperatorsPriceOffTheLastIndexIsRefusedUnlessForcedWithAReason() {
    MutableClock clock = new MutableClock(EXPIRY.minusSeconds(60));
    AtomicLong index = new AtomicLong();
    ActorRef<ExpirySettlement.Command> settlement = waiting("bound", clock, index);
    // No index known at all: nothing bounds it.
    assertRefusedOffIndex(setPrice(settlement, 501_000, null));
    index.set(500_000);
    long band = INSTRUMENTS.priceBandPpm(FUTURE);
    long edge = 500_000L * band / 1_000_000;
    assertTrue(edge > 0, "the future has a price band");
    assertRefusedOffIndex(setPrice(settlement, 500_000 + edge + 1, null));
    assertRefusedOffIndex(setPrice(settlement, 500_000 - edge - 1, null));
    assertEquals(ExpirySettlement.Status.WAITING_FOR_PRICE, record(settlement).status());
    // Forced: taken, the reason recorded beside the operator's name (and in the journal: after a restart too).
    ExpirySettlement.SettlementRecord set = assertInstanceOf(ExpirySettlement.PriceSet.class,
        setPrice(settlement, 700_000, "index feed down since 07:31; venue closing prices")).record();
    assertEquals(700_000, set.priceTicks());
    assertEquals("ops-alice", set.operator());
    assertEquals("index feed down since 07:31; venue closing prices", set.forceReason());
    tickUntil(settlement, r -> r.status() == ExpirySettlement.Status.SETTLED);
    assertEquals("index feed down since 07:31; venue closing prices", record(settlement).forceReason());
  }

  @Test
  void anUnforcedPriceOnTheBandsEdgeIsTakenWithNoReason() {
    MutableClock clock = new MutableClock(EXPIRY.minusSeconds(60));
    AtomicLong index = new AtomicLong();
    ActorRef<ExpirySettlement.Command> settlement = waiting("edge", clock, index);
    index.set(500_000);
    long edge = 500_000L * INSTRUMENTS.priceBandPpm(FUTURE) / 1_000_000;
    ExpirySettlement.SettlementRecord set = assertInstanceOf(ExpirySettlement.PriceSet.class,
        setPrice(settlement, 500_000 - edge, null)).record();
    assertEquals(500_000 - edge, set.priceTicks());
    assertEquals(null, set.forceReason());
  }

  /**
   * Review of issue 17 (medium): the price feed holds the expected settlement price in memory, so a
   * restarted feed lost it until the next sample (for good once the price was fixed: no sample
   * follows). The settlement now tells it again on every tick, from the samples or the price its
   * journal keeps. On today's code a tick with no new sample told nothing.
   */
  @Test
  void theExpectedPriceIsToldAgainOnEveryTickSoARestartedFeedHasItBack() {
    MutableClock clock = new MutableClock(EXPIRY.minusSeconds(60));
    AtomicLong index = new AtomicLong();
    Holders holders = new Holders();
    holders.positions.put("long", new long[] {1_000, 50_000_000_000L, 0});
    holders.positions.put("short", new long[] {-1_000, -50_000_000_000L, 0});
    java.util.concurrent.BlockingQueue<Long> told = new java.util.concurrent.LinkedBlockingQueue<>();
    SettlementEnvironment env = new SettlementEnvironment(SETTINGS, INSTRUMENTS, clock,
        i -> CompletableFuture.completedFuture(index.get()), holders, new Metrics(),
        (instrument, ticks, start, expiry) -> told.add(ticks));
    ActorRef<ExpirySettlement.Command> settlement = spawn("retold-" + ids.incrementAndGet(), env);
    sampleWindow(settlement, clock, index, 500_000, 500_002, 500_000, 500_002, 500_000, 500_002);
    told.clear();
    // The feed restarted: the next tick, still in the same slot (no new sample), tells it again.
    clock.advance(Duration.ofMillis(-1));
    settlement.tell(ExpirySettlement.Tick.INSTANCE);
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(5), Duration.ofMillis(20), () -> {
      assertEquals(Long.valueOf(500_001), told.peek());
      return null;
    });
    // Once fixed (and settled), the fixed price.
    clock.advance(Duration.ofSeconds(60));
    tickUntil(settlement, r -> r.status() == ExpirySettlement.Status.SETTLED);
    told.clear();
    settlement.tell(ExpirySettlement.Tick.INSTANCE);
    probe.awaitAssert(Duration.ofSeconds(5), Duration.ofMillis(20), () -> {
      assertEquals(Long.valueOf(record(settlement).priceTicks()), told.peek());
      return null;
    });
  }

  /**
   * Review of issue 17 (medium): a node unreachable for longer than {@code settle-window} and then
   * removed: its accounts restart on other nodes and report to their monitors only over the next
   * seconds, but the first complete round after the removal found nobody and closed the settlement
   * at once (its last holder was found long before). It now waits {@code settle-window} after the
   * monitors changed too. On today's code it closed on the first round after the removal.
   */
  @Test
  void aSettlementWaitsTheSettleWindowAfterANodeIsRemoved() {
    ExpirySettings settings = new ExpirySettings(true, Duration.ofSeconds(10), 500_000, Duration.ofSeconds(30), 4, 1,
        Duration.ofSeconds(3), 5);
    MutableClock clock = new MutableClock(EXPIRY.minusSeconds(60));
    AtomicLong index = new AtomicLong();
    Holders holders = new Holders();
    holders.positions.put("long", new long[] {1_000, 50_000_000_000L, 0});
    holders.positions.put("short", new long[] {-1_000, -50_000_000_000L, 0});
    ActorRef<ExpirySettlement.Command> settlement = spawn("removed-" + ids.incrementAndGet(),
        new SettlementEnvironment(settings, INSTRUMENTS, clock, i -> CompletableFuture.completedFuture(index.get()),
            holders, new Metrics()));
    sampleWindow(settlement, clock, index, 500_000, 500_000, 500_000, 500_000, 500_000, 500_000);
    holders.unreachable.set(true);
    tickUntil(settlement, r -> r.results().size() == 2);
    // Unreachable for longer than the settle window: no round is complete, nothing closes.
    clock.advance(Duration.ofSeconds(60));
    roundsPass(settlement, holders, 3);
    assertEquals(ExpirySettlement.Status.SETTLING, record(settlement).status());
    // Removed: the monitors changed now; rounds find nobody but it waits the settle window from here.
    holders.unreachable.set(false);
    holders.monitorsChangedAt.set(clock.millis());
    roundsPass(settlement, holders, 3);
    assertEquals(ExpirySettlement.Status.SETTLING, record(settlement).status());
    clock.advance(Duration.ofSeconds(30));
    tickUntil(settlement, r -> r.status() == ExpirySettlement.Status.SETTLED);
  }

  /** Ticks until {@code n} more rounds have listed the holders (each after the one before was handled). */
  private static void roundsPass(ActorRef<ExpirySettlement.Command> settlement, Holders holders, int n) {
    int target = holders.rounds.get() + n;
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(10), Duration.ofMillis(20), () -> {
      settlement.tell(ExpirySettlement.Tick.INSTANCE);
      assertTrue(holders.rounds.get() >= target);
      return null;
    });
  }

  @Test
  void aSettlementRestartedWhileSettlingSettlesNobodyTwice() {
    MutableClock clock = new MutableClock(EXPIRY.minusSeconds(60));
    AtomicLong index = new AtomicLong();
    Holders holders = new Holders();
    for (int i = 0; i < 6; i++) {
      holders.positions.put("acct-" + i, new long[] {i % 2 == 0 ? 100 : -100, i % 2 == 0 ? 5_000_000_000L
          : -5_000_000_000L, 0});
    }
    String name = "restart-" + ids.incrementAndGet();
    SettlementEnvironment env = environment(clock, index, holders);
    ActorRef<ExpirySettlement.Command> first = testKit.spawn(ExpirySettlement.create(FUTURE, FUTURE + "-" + name, env),
        name + "-a");
    // Two rounds are answered; the answer of the third is lost: its account settles, the record
    // does not know it, and no monitor will name it again (it no longer holds the future).
    holders.answeredBeforeLoss.set(2);
    sampleWindow(first, clock, index, 500_000, 500_000, 500_000, 500_000, 500_000, 500_000);
    tickUntil(first, r -> r.results().size() == 2 && holders.settled.size() == 3);
    testKit.stop(first);
    holders.answeredBeforeLoss.set(Integer.MAX_VALUE);
    // And the first round after the restart fails as well.
    holders.failNextRounds.set(1);
    ActorRef<ExpirySettlement.Command> second = testKit.spawn(ExpirySettlement.create(FUTURE, FUTURE + "-" + name,
        env), name + "-b");
    tickUntil(second, r -> r.status() == ExpirySettlement.Status.SETTLED);
    ExpirySettlement.SettlementRecord done = record(second);
    assertEquals(holders.settled, done.results());
    assertEquals(6, done.results().size());
    assertEquals(0, done.totalValue());
    holders.applied.values().forEach(n -> assertEquals(1, n.get()));
    assertEquals(6, holders.applied.size());
  }

  /**
   * Issue 17 (expiry, known limit 3): after the settlement closed, a trade side forced on "long"
   * (settled) and "flat" (held nothing at the expiry, settles itself with nothing when forced) is
   * closed at once on each at the settlement price. Each account reports its late close; the
   * record keeps each once by (account, number) and the flat account's own zero settlement, and its
   * total value is zero again once both are in (before: the late closes were never in it).
   */
  @Test
  void lateClosesReportedByTheAccountsAreRecordedOnceAndTheTotalsSumToZero() {
    MutableClock clock = new MutableClock(EXPIRY.minusSeconds(70));
    AtomicLong index = new AtomicLong(500_000);
    Holders holders = new Holders();
    holders.positions.put("long", new long[] {1_000, 50_000_000_000L, 0});
    holders.positions.put("short", new long[] {-1_000, -50_000_000_000L, 0});
    ActorRef<ExpirySettlement.Command> settlement = spawn("late-" + ids.incrementAndGet(),
        environment(clock, index, holders));
    clock.advance(Duration.ofSeconds(10));
    sampleWindow(settlement, clock, index, 500_000, 500_000, 500_000, 500_000, 500_000, 500_000);
    tickUntil(settlement, r -> r.status() == ExpirySettlement.Status.SETTLED);
    ExpirySettlement.SettlementRecord closed = record(settlement);
    assertEquals(0, closed.totalValue());
    long price = closed.priceTicks();
    long expiry = EXPIRY.toEpochMilli();
    // "long" sold 1 BTC at 49,000 after its settlement, "flat" bought it: each closed at once.
    SettlementMath.Closed sold = SettlementMath.close(-1_000, -49_000_000_000L, 0, price, 100, 0);
    SettlementMath.Closed bought = SettlementMath.close(1_000, 49_000_000_000L, 0, price, 100, 0);
    io.clearinghouse.account.AccountEntity.SettledAfterExpiry longLate =
        new io.clearinghouse.account.AccountEntity.SettledAfterExpiry(FUTURE, expiry, price, sold.lots(), sold.value(),
            sold.cost(), 0, 0, clock.millis());
    io.clearinghouse.account.AccountEntity.SettledAfterExpiry flatLate =
        new io.clearinghouse.account.AccountEntity.SettledAfterExpiry(FUTURE, expiry, price, bought.lots(),
            bought.value(), bought.cost(), 0, 0, clock.millis());
    SettlementApplied flatOwn = new SettlementApplied(FUTURE, expiry, price, 0, 0, 0, 0, 0, clock.millis(), 0);
    TestProbe<ExpirySettlement.Reply> replies = testKit.createTestProbe();
    settlement.tell(new ExpirySettlement.RecordLate("long", closed.results().get("long"), 0, List.of(longLate),
        replies.getRef()));
    assertEquals(new ExpirySettlement.LateRecorded(1), replies.receiveMessage());
    ExpirySettlement.SettlementRecord half = record(settlement);
    assertEquals(sold.value(), half.totalValue(), "one side of the late trade only");
    // Sent again (its answer lost): recorded once.
    settlement.tell(new ExpirySettlement.RecordLate("long", closed.results().get("long"), 0, List.of(longLate),
        replies.getRef()));
    assertEquals(new ExpirySettlement.LateRecorded(1), replies.receiveMessage());
    settlement.tell(new ExpirySettlement.RecordLate("flat", flatOwn, 0, List.of(flatLate), replies.getRef()));
    assertEquals(new ExpirySettlement.LateRecorded(1), replies.receiveMessage());
    ExpirySettlement.SettlementRecord done = record(settlement);
    assertEquals(2, done.lateCloses().size());
    assertEquals(Set.of(ExpirySettlement.lateKey("long", 0), ExpirySettlement.lateKey("flat", 0)),
        done.lateCloses().keySet());
    assertEquals(0, done.lateValue());
    assertEquals(0, done.totalValue(), "the settlements and the late closes sum to zero");
    // The flat account's own settlement (nothing held) is in the results; the long's is unchanged.
    assertEquals(flatOwn, done.results().get("flat"));
    assertEquals(closed.results().get("long"), done.results().get("long"));
    assertEquals(3, done.results().size());
    // Another instrument's close is refused and changes nothing.
    settlement.tell(new ExpirySettlement.RecordLate("flat", flatOwn, 1, List.of(
        new io.clearinghouse.account.AccountEntity.SettledAfterExpiry("BTCUSDT-PERP", expiry, price, 1, 1, 1, 0, 0, 0)),
        replies.getRef()));
    assertInstanceOf(ExpirySettlement.Refused.class, replies.receiveMessage());
    assertEquals(done, record(settlement));
  }
}
