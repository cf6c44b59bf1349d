package io.clearinghouse.monitor;

import io.clearinghouse.account.RiskRegistry;
import io.clearinghouse.account.Exposure;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.price.FeedStatus;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node's margin monitor tells exactly the accounts at or below maintenance, and no others.
 * BTCUSDT-PERP, money in minor units (1 USDT = 1,000,000), 1 BTC = 1,000 lots, 50,000.0 = 500,000 ticks.
 */
class MarginMonitorTest {
  private static final ActorTestKit testKit = ActorTestKit.create(
      ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final Duration QUIET = Duration.ofMillis(300);

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final java.time.Clock clock = new java.time.Clock() {
    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public java.time.Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public java.time.Instant instant() {
      return java.time.Instant.ofEpochMilli(now.get());
    }
  };
  private final Metrics metrics = new Metrics();
  private MarkPrices marks;
  private RiskRegistry registry;
  private ActorRef<MarginMonitor.Command> monitor;
  private final AtomicLong sequence = new AtomicLong();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newMonitor() {
    marks = MarkPrices.local(clock, Duration.ofSeconds(10));
    // Unsupervised: an exception escaping the monitor would stop it, and the test would see it.
    monitor = testKit.spawn(MarginMonitor.create(INSTRUMENTS, marks, metrics));
    MarginMonitor.evaluateOnEveryMark(marks, monitor);
    registry = MarginMonitor.registry(monitor);
  }

  /** An account holding 1 BTC long (or short) entered at 50,000 USDT, with this much cash. */
  private TestProbe<AccountEntity.Command> account(String id, long cashUsdt, long lots, MarginMode mode, long isoUsdt) {
    TestProbe<AccountEntity.Command> probe = testKit.createTestProbe();
    long cost = lots * 500_000L * 100;
    registry.track(id, new Exposure(cashUsdt * USDT, false,
        List.of(new Exposure.Position(PERP, lots, cost, mode, isoUsdt * USDT))), probe.getRef());
    return probe;
  }

  /**
   * None of {@code probes} is told anything within QUIET: the first is watched for QUIET, and by
   * then the others have been as long (each is checked once, at the end, for what came meanwhile).
   */
  @SafeVarargs
  private static void quiet(TestProbe<AccountEntity.Command>... probes) {
    probes[0].expectNoMessage(QUIET);
    for (int i = 1; i < probes.length; i++) {
      probes[i].expectNoMessage(Duration.ZERO);
    }
  }

  /** Waits until the monitor has handled every report sent so far. */
  private void settle() {
    TestProbe<Integer> count = testKit.createTestProbe();
    monitor.tell(new MarginMonitor.CountTracked(count.getRef()));
    count.receiveMessage();
  }

  private long mark(long priceTicks) {
    settle();
    long seq = sequence.incrementAndGet();
    marks.accept(new Mark(PERP, priceTicks, seq, now.get()));
    return seq;
  }

  @Test
  void anAccountThatCannotBeEvaluatedIsSkippedAndTheWalkGoesOn() {
    // Absurd figures: its notional overflows, its evaluation throws.
    TestProbe<AccountEntity.Command> absurd = testKit.createTestProbe();
    registry.track("absurd", new Exposure(0, false,
        List.of(new Exposure.Position(PERP, Long.MAX_VALUE / 2, 1, MarginMode.CROSS, 0))), absurd.getRef());
    var thin = account("thin", 1_000, 1_000, MarginMode.CROSS, 0);
    long first = mark(490_000);
    thin.expectMessage(new AccountEntity.StartLiquidation(first));
    var later = account("later", 1_250, 1_000, MarginMode.CROSS, 0); // 250 > MM 196 at 49,000; 150 <= 195.6 at 48,900
    long second = mark(489_000);
    later.expectMessage(new AccountEntity.StartLiquidation(second));
    // Fail safe: never told to liquidate on a figure nobody could compute; counted.
    absurd.expectNoMessage(QUIET);
    assertTrue(metrics.total("clearinghouse_monitor_account_errors_total") >= 2);
  }

  @Test
  void aMarkOlderThanStaleAfterOnThisNodesClockIsNotLiquidatedOn() {
    var thin = account("thin", 1_000, 1_000, MarginMode.CROSS, 0);
    mark(500_000);
    settle();
    now.addAndGet(10_001); // its feed stopped vouching for it: failing over, or dead
    marks.sweep();
    assertTrue(marks.stale(PERP));
    // The same mark announced again with its old time changes nothing.
    marks.accept(new Mark(PERP, 500_000, sequence.get(), now.get() - 10_001));
    marks.accept(new Mark(PERP, 400_000, sequence.incrementAndGet(), now.get() - 10_500));
    thin.expectNoMessage(QUIET);
    // Vouched for again: fresh, and the monitor acts on it at once.
    marks.accept(new Mark(PERP, 400_000, sequence.get(), now.get()));
    thin.expectMessage(new AccountEntity.StartLiquidation(sequence.get()));
  }

  @Test
  void marksArrivingFasterThanTheWalkReplaceTheQueuedOne() {
    var thin = account("thin", 1_000, 1_000, MarginMode.CROSS, 0);
    settle();
    long before = metrics.total("clearinghouse_monitor_evaluations_total");
    // 2,000 marks far above maintenance, then one that breaches: all offered before the monitor runs.
    for (int i = 0; i < 2_000; i++) {
      marks.accept(new Mark(PERP, 600_000 + i, sequence.incrementAndGet(), now.get()));
    }
    long last = mark(400_000);
    thin.expectMessage(new AccountEntity.StartLiquidation(last));
    settle();
    long walks = metrics.total("clearinghouse_monitor_evaluations_total") - before;
    assertTrue(walks >= 1 && walks < 2_001, "walks " + walks);
  }

  @Test
  void exactlyTheBreachedCrossAccountsAreTold() {
    var thin = account("thin", 1_000, 1_000, MarginMode.CROSS, 0);
    var medium = account("medium", 5_000, 1_000, MarginMode.CROSS, 0);
    var thick = account("thick", 20_000, 1_000, MarginMode.CROSS, 0);
    var shortThin = account("short-thin", 1_000, -1_000, MarginMode.CROSS, 0);
    // 49,000: thin has equity 1,000 - 1,000 = 0 <= MM 0.4% * 49,000 = 196.
    long first = mark(490_000);
    thin.expectMessage(new AccountEntity.StartLiquidation(first));
    quiet(medium, thick, shortThin);
    // 45,100: medium has 5,000 - 4,900 = 100 <= MM 180.4; thin is not told twice.
    long second = mark(451_000);
    medium.expectMessage(new AccountEntity.StartLiquidation(second));
    quiet(thin, thick);
    // 50,800: the short has 1,000 - 800 = 200 equity, MM tier 2: 0.5% * 50,800 - 50 = 204.
    long third = mark(508_000);
    shortThin.expectMessage(new AccountEntity.StartLiquidation(third));
    thick.expectNoMessage(QUIET);
  }

  @Test
  void theEdgeIsExact() {
    // Equity exactly equal to maintenance is liquidated; one unit above is not.
    // Long 1 BTC at 50,000, mark 40,000: U = -10,000; MM = 0.4% * 40,000 = 160.
    var atMaintenance = account("at", 10_160, 1_000, MarginMode.CROSS, 0);
    TestProbe<AccountEntity.Command> oneAbove = testKit.createTestProbe();
    registry.track("above", new Exposure(10_160 * USDT + 1, false,
        List.of(new Exposure.Position(PERP, 1_000, 50_000 * USDT, MarginMode.CROSS, 0))), oneAbove.getRef());
    long seq = mark(400_000);
    atMaintenance.expectMessage(new AccountEntity.StartLiquidation(seq));
    oneAbove.expectNoMessage(QUIET);
  }

  @Test
  void isolatedPositionsAreJudgedOnTheirOwnMargin() {
    // Lots of cash, but the isolated position only has 2,500: at 47,600, 2,500 - 2,400 = 100 <= MM 190.4.
    var isolated = account("iso", 1_000_000, 1_000, MarginMode.ISOLATED, 2_500);
    var cross = account("cross", 3_000, 1_000, MarginMode.CROSS, 0); // 3,000 - 2,400 = 600 > 190.4
    long seq = mark(476_000);
    isolated.expectMessage(new AccountEntity.StartLiquidation(seq));
    cross.expectNoMessage(QUIET);
  }

  @Test
  void nothingIsLiquidatedWhileTheInstrumentIsStale() {
    var thin = account("thin", 1_000, 1_000, MarginMode.CROSS, 0);
    marks.accept(new FeedStatus(PERP, true, sequence.get() + 1, 0));
    mark(400_000);
    thin.expectNoMessage(QUIET);
    marks.accept(new FeedStatus(PERP, false, sequence.get() + 1, 0));
    long seq = mark(400_000 - 1);
    thin.expectMessage(new AccountEntity.StartLiquidation(seq));
  }

  @Test
  void accountsAlreadyLiquidatingOrGoneAreNotTold() {
    TestProbe<AccountEntity.Command> liquidating = testKit.createTestProbe();
    registry.track("liq", new Exposure(0, true,
        List.of(new Exposure.Position(PERP, 1_000, 50_000 * USDT, MarginMode.CROSS, 0))), liquidating.getRef());
    var gone = account("gone", 1_000, 1_000, MarginMode.CROSS, 0);
    registry.untrack("gone", gone.getRef());
    mark(400_000);
    quiet(liquidating, gone);
  }

  @Test
  void aReportThatAlreadyBreachesIsActedOnAtOnce() {
    long seq = mark(400_000);
    var thin = account("thin", 1_000, 1_000, MarginMode.CROSS, 0);
    thin.expectMessage(new AccountEntity.StartLiquidation(seq));
  }
}
