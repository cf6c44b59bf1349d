package io.clearinghouse.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.Exposure;
import io.clearinghouse.account.RiskRegistry;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.AdlRanking;
import io.clearinghouse.margin.MarginMath;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The ADL ranking is rebuilt from the monitor's holders after each mark, and read without the
 * monitor: quintiles still answer once the monitor is gone.
 */
class AdlRankingsTest {
  private static final ActorTestKit testKit = ActorTestKit.create(
      ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final Duration WAIT = Duration.ofSeconds(10);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** 1 BTC long (lots > 0) or short entered at {@code entry} USDT, with {@code cash} USDT. */
  private static Exposure position(long cash, long lots, long entry, boolean liquidating) {
    return new Exposure(cash * USDT, liquidating,
        List.of(new Exposure.Position(PERP, lots, lots * entry * 10 * 100, MarginMode.CROSS, 0)));
  }

  private static long score(long cash, long lots, long entry, long markTicks) {
    long cost = lots * entry * 10 * 100;
    long pnl = MarginMath.unrealizedPnl(lots, cost, markTicks, 100);
    return AdlRanking.score(lots, cost, markTicks, 100, cash * USDT + pnl);
  }

  @Test
  void quintilesComeFromTheRankingOfTheLastMarkAndNeedNoMonitor() {
    MarkPrices marks = MarkPrices.local(Clock.systemUTC(), Duration.ofSeconds(60));
    AdlRankings rankings = AdlRankings.start(testKit.system(), Duration.ofSeconds(1));
    ActorRef<MarginMonitor.Command> monitor = testKit.spawn(
        MarginMonitor.create(INSTRUMENTS, marks, new Metrics(), rankings.ranker()));
    MarginMonitor.evaluateOnEveryMark(marks, monitor);
    RiskRegistry registry = MarginMonitor.registry(monitor);
    TestProbe<AccountEntity.Command> account = testKit.createTestProbe();
    // Longs entered at 40,000 (most profit), 45,000, 48,000, 49,000 and one being liquidated
    // (left out); shorts at 52,000 and 55,000. All well above maintenance at 50,000.
    registry.track("long-40", position(100_000, 1_000, 40_000, false), account.getRef());
    registry.track("long-45", position(100_000, 1_000, 45_000, false), account.getRef());
    registry.track("long-48", position(100_000, 1_000, 48_000, false), account.getRef());
    registry.track("long-49", position(100_000, 1_000, 49_000, false), account.getRef());
    registry.track("long-liq", position(100_000, 1_000, 30_000, true), account.getRef());
    registry.track("short-52", position(100_000, -1_000, 52_000, false), account.getRef());
    registry.track("short-55", position(100_000, -1_000, 55_000, false), account.getRef());
    marks.accept(new Mark(PERP, 500_000, 1, System.currentTimeMillis()));

    List<AdlRanker.Probe> probes = List.of(
        new AdlRanker.Probe(PERP, 1, score(100_000, 1_000, 40_000, 500_000)),
        new AdlRanker.Probe(PERP, 1, score(100_000, 1_000, 45_000, 500_000)),
        new AdlRanker.Probe(PERP, 1, score(100_000, 1_000, 49_000, 500_000)),
        // Not ranked (it changed since, or is new): placed among the four as they were.
        new AdlRanker.Probe(PERP, 1, score(100_000, 1_000, 30_000, 500_000)),
        new AdlRanker.Probe(PERP, -1, score(100_000, -1_000, 55_000, 500_000)),
        new AdlRanker.Probe(PERP, -1, score(100_000, -1_000, 52_000, 500_000)),
        new AdlRanker.Probe("BTCUSDT-271231", 1, 0));
    // Ranks among 4 longs: 0, 1, 3 -> 5 - r*5/4 = 5, 4, 2; the new one above all of 5: 5.
    // Shorts: 0 and 1 of 2 -> 5 and 3. No holders of the future: alone, 5.
    List<Integer> expected = List.of(5, 4, 2, 5, 5, 3, 5);
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(WAIT, () -> {
      assertEquals(expected, rankings.quintiles(probes).toCompletableFuture().join());
      return null;
    });

    // The monitor is gone: the ranking still answers, from its tables.
    testKit.stop(monitor);
    assertEquals(expected, rankings.quintiles(probes).toCompletableFuture().join());
  }
}
