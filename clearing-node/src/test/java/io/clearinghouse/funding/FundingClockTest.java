package io.clearinghouse.funding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.MutableClock;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.FundingMath;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The funding clock on the in-memory journal, with a clock of its own, prices it is told and a
 * fan-out that plays the accounts (each applies an interval once, like the account entity):
 * premium samples, the rate fixed at the funding time, every holder paid once, the interval
 * closed with its totals, and a clock restarted mid-way that finishes without paying anyone twice.
 */
class FundingClockTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final String PERP = "BTCUSDT-PERP";
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);
  private static final FundingSettings SETTINGS = new FundingSettings(true, Duration.ofSeconds(5), Duration.ZERO, 4,
      1, Duration.ofSeconds(3), 100, 10);
  private static final long EIGHT = Instant.parse("2026-01-01T08:00:00Z").toEpochMilli();
  private static final AtomicInteger ids = new AtomicInteger();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** Accounts as the fan-out sees them: their lots, and the intervals each has applied (and how often asked). */
  static final class Holders implements FundingFanOut {
    final Map<String, Long> lots = new ConcurrentHashMap<>();
    final Map<String, Long> applied = new ConcurrentHashMap<>();
    final Map<String, Long> amounts = new ConcurrentHashMap<>();
    final AtomicInteger failNextRounds = new AtomicInteger();
    /** Accounts that missed the interval ending at the key: paid late when offered it. */
    final Map<String, Long> missed = new ConcurrentHashMap<>();
    final AtomicInteger rounds = new AtomicInteger();
    final Map<String, Map<Long, Long>> late = new ConcurrentHashMap<>();

    @Override
    public java.util.concurrent.CompletionStage<Due> due(String instrument, FundingClock.Open open,
        FundingSettings settings) {
      rounds.incrementAndGet();
      // One account per round (batch 1), like a monitor answering a batch at a time: the first that
      // holds the instrument and has not applied the interval (one that applied is not named again).
      for (var e : new java.util.TreeMap<>(lots).entrySet()) {
        if (applied.getOrDefault(e.getKey(), 0L) < open.fundingTime() && !open.paid().containsKey(e.getKey())) {
          return CompletableFuture.completedFuture(new Due(List.of(e.getKey()), false));
        }
      }
      return CompletableFuture.completedFuture(new Due(List.of(), true));
    }

    @Override
    public java.util.concurrent.CompletionStage<Paid> pay(String instrument, FundingClock.Open open,
        List<io.clearinghouse.account.FundingLedger.Interval> earlier, java.util.Collection<String> accountIds,
        FundingSettings settings) {
      Map<String, Long> paid = new java.util.HashMap<>();
      for (String id : accountIds) {
        if (applied.getOrDefault(id, 0L) >= open.fundingTime()) {
          // A repeat answers with the first amount.
          paid.put(id, amounts.get(id));
          continue;
        }
        long amount = FundingMath.payment(lots.get(id), open.markTicks(), 100, open.rate());
        Long missedTime = missed.remove(id);
        if (missedTime != null) {
          for (var e : earlier) {
            if (e.fundingTime() == missedTime) {
              late.put(id, Map.of(missedTime, FundingMath.payment(lots.get(id), e.markTicks(), 100, e.rate())));
            }
          }
        }
        applied.put(id, open.fundingTime());
        amounts.put(id, amount);
        paid.put(id, amount);
      }
      if (failNextRounds.getAndDecrement() > 0) {
        return CompletableFuture.failedFuture(new RuntimeException("lost the answers"));
      }
      return CompletableFuture.completedFuture(new Paid(paid, java.util.Set.of(), Map.copyOf(late)));
    }
  }

  private record Clock(ActorRef<FundingClock.Command> ref, String id) {}

  private static FundingEnvironment environment(MutableClock clock, AtomicReference<FundingEnvironment.Prices> prices,
      Holders holders) {
    return new FundingEnvironment(SETTINGS, INSTRUMENTS, clock, i -> CompletableFuture.completedFuture(prices.get()),
        holders);
  }

  private static FundingClock.History history(ActorRef<FundingClock.Command> clock) {
    TestProbe<FundingClock.History> probe = testKit.createTestProbe();
    clock.tell(new FundingClock.GetHistory(0, 10, probe.getRef()));
    return probe.receiveMessage();
  }

  private static FundingClock.Quote quote(ActorRef<FundingClock.Command> clock) {
    TestProbe<FundingClock.Quote> probe = testKit.createTestProbe();
    clock.tell(new FundingClock.GetQuote(probe.getRef()));
    return probe.receiveMessage();
  }

  private static void tickUntil(ActorRef<FundingClock.Command> clock, java.util.function.BooleanSupplier done) {
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(10), Duration.ofMillis(50), () -> {
      clock.tell(FundingClock.Tick.INSTANCE);
      assertTrue(done.getAsBoolean());
      return null;
    });
  }

  @Test
  void samplesFixesPaysEveryHolderOnceAndClosesWithTheTotals() {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T07:59:50Z"));
    // Mark 50,050 over index 50,000: a premium of 0.1%.
    AtomicReference<FundingEnvironment.Prices> prices = new AtomicReference<>(
        new FundingEnvironment.Prices(500_500, 500_000, true));
    Holders holders = new Holders();
    holders.lots.put("long-1", 1_000L);
    holders.lots.put("short-1", -600L);
    holders.lots.put("short-2", -400L);
    String id = PERP;
    ActorRef<FundingClock.Command> fundingClock = testKit.spawn(FundingClock.create(id,
        environment(clock, prices, holders)), "clock-" + ids.incrementAndGet());
    tickUntil(fundingClock, () -> quote(fundingClock).samples() == 1);
    clock.advance(Duration.ofSeconds(5));
    tickUntil(fundingClock, () -> quote(fundingClock).samples() == 2);
    // P = 0.1%: 0.1% + clamp(0.01% - 0.1%, ±0.05%) = 0.05%.
    assertEquals(50_000, quote(fundingClock).predictedRate());
    assertEquals(EIGHT, quote(fundingClock).nextFundingTime());
    clock.advance(Duration.ofSeconds(6));
    tickUntil(fundingClock, () -> !history(fundingClock).newestFirst().isEmpty()
        && history(fundingClock).newestFirst().get(0).closedAt() > 0);
    FundingClock.IntervalRecord interval = history(fundingClock).newestFirst().get(0);
    // 1 BTC at 50,050 = 50,050 USDT, 0.05% = 25.025 USDT from the long; the shorts 15.015 and 10.01.
    assertEquals(new FundingClock.IntervalRecord(EIGHT, 50_000, 500_500, 100_000, 2, 3, 25_025_000, 25_025_000,
        interval.fixedAt(), interval.closedAt()), interval);
    assertEquals(0, interval.residue());
    assertEquals(Map.of("long-1", -25_025_000L, "short-1", 15_015_000L, "short-2", 10_010_000L), holders.amounts);
    // The next interval is the one after, and its samples start afresh.
    assertEquals(EIGHT + 8 * 3_600_000L, quote(fundingClock).nextFundingTime());
  }

  @Test
  void anIntervalFixedLateIsFollowedByTheNextOneAndALongOutageSkipsToNow() {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T07:59:58Z"));
    AtomicReference<FundingEnvironment.Prices> prices = new AtomicReference<>(
        new FundingEnvironment.Prices(500_000, 500_000, true));
    Holders holders = new Holders();
    holders.lots.put("a", 1L);
    ActorRef<FundingClock.Command> fundingClock = testKit.spawn(FundingClock.create(PERP, PERP + "-late-"
        + ids.incrementAndGet(), environment(clock, prices, holders)), "late-" + ids.incrementAndGet());
    tickUntil(fundingClock, () -> quote(fundingClock).samples() == 1);
    // The first tick after 08:00 comes at 16:00:10 (say every node was busy): 08:00 is paid, then 16:00.
    clock.advance(Duration.ofHours(8).plusSeconds(12));
    tickUntil(fundingClock, () -> history(fundingClock).newestFirst().stream().filter(i -> i.closedAt() > 0).count() == 2);
    assertEquals(List.of(EIGHT + 8 * 3_600_000L, EIGHT), history(fundingClock).newestFirst().stream()
        .map(FundingClock.IntervalRecord::fundingTime).toList());
    // Then nothing for a day and a half: the intervals missed are skipped, the next is the current one.
    clock.advance(Duration.ofHours(36));
    tickUntil(fundingClock, () -> history(fundingClock).newestFirst().stream().filter(i -> i.closedAt() > 0).count() == 3);
    assertEquals(EIGHT + 16 * 3_600_000L, history(fundingClock).newestFirst().get(0).fundingTime());
    long now = clock.millis();
    assertEquals((now / (8 * 3_600_000L) + 1) * 8 * 3_600_000L, quote(fundingClock).nextFundingTime());
  }

  @Test
  void aSettleWindowAsLongAsAFundingIntervalIsRefusedNamingTheKey() {
    com.typesafe.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
        com.typesafe.config.ConfigException.class, () -> FundingSettings.fromConfig(ConfigFactory.parseString(
            "clearinghouse.funding.settle-window = 8h").withFallback(ConfigFactory.load()), INSTRUMENTS));
    assertTrue(e.getMessage().contains("clearinghouse.funding.settle-window"), e.getMessage());
    com.typesafe.config.ConfigException unknown = org.junit.jupiter.api.Assertions.assertThrows(
        com.typesafe.config.ConfigException.class, () -> FundingSettings.fromConfig(ConfigFactory.parseString(
            "clearinghouse.funding.sample-evry = 5s").withFallback(ConfigFactory.load()), INSTRUMENTS));
    assertTrue(unknown.getMessage().contains("clearinghouse.funding.sample-evry"), unknown.getMessage());
    com.typesafe.config.ConfigException zero = org.junit.jupiter.api.Assertions.assertThrows(
        com.typesafe.config.ConfigException.class, () -> FundingSettings.fromConfig(ConfigFactory.parseString(
            "clearinghouse.funding.parallelism = 0").withFallback(ConfigFactory.load()), INSTRUMENTS));
    assertTrue(zero.getMessage().contains("clearinghouse.funding.parallelism"), zero.getMessage());
  }

  @Test
  void aPaymentMadeLateForAMissedIntervalIsRecordedWithItsIntervalAndInTheClocksNet() {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T07:59:58Z"));
    AtomicReference<FundingEnvironment.Prices> prices = new AtomicReference<>(
        new FundingEnvironment.Prices(500_000, 500_000, true));
    Holders holders = new Holders();
    holders.lots.put("a", 1L);
    holders.lots.put("b", -1L);
    String id = PERP + "-late-paid-" + ids.incrementAndGet();
    org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit journal =
        org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit.create(testKit.system());
    ActorRef<FundingClock.Command> fundingClock = testKit.spawn(FundingClock.create(PERP, id,
        environment(clock, prices, holders)), "late-paid-" + ids.incrementAndGet());
    tickUntil(fundingClock, () -> quote(fundingClock).samples() == 1);
    clock.advance(Duration.ofSeconds(3));
    tickUntil(fundingClock, () -> history(fundingClock).newestFirst().stream().anyMatch(i -> i.closedAt() > 0));
    // "c" held 2 lots at 08:00 but was down: the interval closed without it. At 16:00 it pays both.
    holders.lots.put("c", 2L);
    holders.missed.put("c", EIGHT);
    clock.advance(Duration.ofHours(8));
    tickUntil(fundingClock, () -> history(fundingClock).newestFirst().stream().filter(i -> i.closedAt() > 0).count() == 2);
    List<FundingClock.IntervalRecord> h = history(fundingClock).newestFirst();
    // 0.01% of 50 USDT per lot: 5,000 per lot.
    assertEquals(List.of(3L, 15_000L, 5_000L), List.of(h.get(1).accounts(), h.get(1).paid(), h.get(1).received()),
        "08:00 counts the late payment of c");
    assertEquals(List.of(3L, 15_000L, 5_000L), List.of(h.get(0).accounts(), h.get(0).paid(), h.get(0).received()));
    long net = 0;
    for (Object e : journal.persistedInStorage(FundingClock.persistenceId(id).id())) {
      if (e instanceof FundingClock.PaymentsRecorded p) {
        net += p.amounts().values().stream().mapToLong(Long::longValue).sum();
      } else if (e instanceof FundingClock.LatePaymentsRecorded p) {
        net += p.amounts().values().stream().mapToLong(Long::longValue).sum();
      }
    }
    assertEquals(-20_000, net, "every payment the accounts made, the late one once");
  }

  @Test
  void aClockRestartedWhilePayingFinishesWithoutPayingAnyoneTwice() {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T07:59:58Z"));
    AtomicReference<FundingEnvironment.Prices> prices = new AtomicReference<>(
        new FundingEnvironment.Prices(500_003, 500_000, true));
    Holders holders = new Holders();
    holders.lots.put("a", 1L);
    holders.lots.put("b", -1L);
    holders.lots.put("c", 2L);
    holders.lots.put("d", -2L);
    // Two rounds lose their answers after the accounts applied: the clock must not count them twice.
    holders.failNextRounds.set(0);
    String name = "restart-" + ids.incrementAndGet();
    FundingEnvironment env = environment(clock, prices, holders);
    ActorRef<FundingClock.Command> first = testKit.spawn(FundingClock.create(PERP, PERP + "-" + name, env), name + "-a");
    tickUntil(first, () -> quote(first).samples() == 1);
    clock.advance(Duration.ofSeconds(3));
    holders.failNextRounds.set(2);
    first.tell(FundingClock.Tick.INSTANCE);
    tickUntil(first, () -> holders.applied.size() >= 2);
    testKit.stop(first);
    ActorRef<FundingClock.Command> second = testKit.spawn(FundingClock.create(PERP, PERP + "-" + name, env), name + "-b");
    tickUntil(second, () -> !history(second).newestFirst().isEmpty()
        && history(second).newestFirst().get(0).closedAt() > 0);
    FundingClock.IntervalRecord interval = history(second).newestFirst().get(0);
    assertEquals(4, interval.accounts());
    // 0.001 BTC at 50,000.3 is 50.0003 USDT; the rate is the interest, 0.01% (premium 6e-8 within the clamp).
    assertEquals(10_000, interval.rate());
    assertEquals(List.of(-5_001L, 5_000L, -10_001L, 10_000L),
        List.of(holders.amounts.get("a"), holders.amounts.get("b"), holders.amounts.get("c"), holders.amounts.get("d")));
    assertEquals(15_002, interval.paid());
    assertEquals(15_000, interval.received());
    assertEquals(2, interval.residue(), "the rounding residue stays in the pool");
  }
}
