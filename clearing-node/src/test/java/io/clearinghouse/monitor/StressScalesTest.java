package io.clearinghouse.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.Exposure;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.price.MarkPrices;
import io.clearinghouse.price.MarkScales;
import io.clearinghouse.price.PriceFeed;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 16 review (finding 4): the stress test values a shocked instrument's positions at the
 * volatility-scaled maintenance its price feed says the shocked mark would put in force; a feed
 * that does not answer in time leaves the maintenance in force now and makes the scenario
 * approximate; an instrument without volatility margin is not asked.
 */
class StressScalesTest {
  private static final ActorTestKit testKit = ActorTestKit.create(
      ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final Instruments SCALED = Instruments.fromConfig(ConfigFactory.parseString("""
      clearinghouse.instrument-defaults {
        volatility-margin-reference = "80%"
        volatility-margin-sensitivity = "100%"
        volatility-margin-cap = "300%"
        volatility-margin-hysteresis = "10%"
        volatility-margin-warning = 5s
      }
      """).withFallback(ConfigFactory.load()).resolve(), 6);
  private static final Instruments PLAIN = Instruments.fromConfig(ConfigFactory.load(), 6);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static Map<String, List<StressTest.ShockedMark>> shocked(long after) {
    return Map.of("down", List.of(new StressTest.ShockedMark(PERP, 500_000, after)));
  }

  private static List<StressEvaluation.Scenario> scenarios(long after) {
    return List.of(new StressEvaluation.Scenario("down", Map.of(PERP, after)));
  }

  @Test
  void theFeedsAnswerIsCarriedToTheMonitors() {
    List<String> asked = new CopyOnWriteArrayList<>();
    StressScales.Query feed = (instrument, priceTicks, timeout) -> {
      asked.add(instrument + "@" + priceTicks);
      return CompletableFuture.completedFuture(new PriceFeed.ScalesAnswer(instrument, priceTicks,
          new MarkScales(3_000_000, 3_000_000, 0, 0)));
    };
    StressScales.Scaled scaled = new StressScales(SCALED, feed, Duration.ofSeconds(1)).scaled(scenarios(494_000),
        shocked(494_000)).toCompletableFuture().join();
    assertEquals(List.of(PERP + "@494000"), asked);
    assertEquals(List.of(new StressEvaluation.Scenario("down", Map.of(PERP, 494_000L), Map.of(PERP, 3_000_000L))),
        scaled.scenarios());
    assertEquals(Set.of(), scaled.approximate());
  }

  @Test
  void aFeedThatDoesNotAnswerInTimeMakesTheScenarioApproximate() {
    StressScales.Query silent = (instrument, priceTicks, timeout) -> new CompletableFuture<>();
    StressScales.Scaled scaled = new StressScales(SCALED, silent, Duration.ofMillis(100)).scaled(scenarios(494_000),
        shocked(494_000)).toCompletableFuture().join();
    assertEquals(Map.of(), scaled.scenarios().get(0).maintenanceScales(), "the maintenance in force now");
    assertEquals(Set.of("down"), scaled.approximate());
    StressScales.Query failing = (instrument, priceTicks, timeout) -> CompletableFuture.failedFuture(
        new java.util.concurrent.TimeoutException("no feed"));
    assertEquals(Set.of("down"), new StressScales(SCALED, failing, Duration.ofSeconds(1)).scaled(scenarios(494_000),
        shocked(494_000)).toCompletableFuture().join().approximate());
  }

  @Test
  void anInstrumentWithoutVolatilityMarginIsNotAsked() {
    StressScales.Query never = (instrument, priceTicks, timeout) -> {
      throw new AssertionError("asked " + instrument);
    };
    StressScales.Scaled scaled = new StressScales(PLAIN, never, Duration.ofSeconds(1)).scaled(scenarios(494_000),
        shocked(494_000)).toCompletableFuture().join();
    assertEquals(scenarios(494_000), scaled.scenarios());
    assertEquals(Set.of(), scaled.approximate());
  }

  @Test
  void theMonitorValuesPositionsAtTheScenariosMaintenance() {
    ActorRef<MarginMonitor.Command> monitor = testKit.spawn(MarginMonitor.create(SCALED,
        MarkPrices.local(Clock.systemUTC(), Duration.ofMinutes(1)), new Metrics()));
    TestProbe<AccountEntity.Command> account = testKit.createTestProbe();
    // 1 BTC long entered at 50,000 on 1,000 of cash: at 49,400 its equity is 400, above maintenance
    // as configured (about 198 at 0.4%), under it at three times that (about 593).
    MarginMonitor.registry(monitor).track("thin", new Exposure(1_000 * USDT, false, List.of(new Exposure.Position(PERP,
        1_000, 1_000L * 500_000 * 100, MarginMode.CROSS, 0))), account.getRef());
    TestProbe<StressEvaluation.Answer> answers = testKit.createTestProbe();
    monitor.tell(new MarginMonitor.StressQuery(List.of(
        new StressEvaluation.Scenario("in force", Map.of(PERP, 494_000L)),
        new StressEvaluation.Scenario("tightened", Map.of(PERP, 494_000L), Map.of(PERP, 3_000_000L))),
        List.of(PERP), 10, 10, answers.getRef()));
    StressEvaluation.Answer answer = answers.expectMessageClass(StressEvaluation.Answer.class, Duration.ofSeconds(10));
    assertEquals(1, answer.results().get(0).accountsEvaluated());
    assertEquals(0, answer.results().get(0).accountsLiquidated(), answer.toString());
    assertEquals(1, answer.results().get(1).accountsLiquidated(), answer.toString());
  }

  @Test
  void anApproximateReportSaysSo() {
    StressTest.ScenarioReport report = new StressTest.ScenarioReport("down", List.of(), 1, 0, 0, 0, Map.of(), 0, 0,
        List.of(), 0, 0, 0, new StressTest.Cover2(List.of(), 0, 0, true), List.of(), false);
    StressTest.ScenarioReport flagged = StressScales.approximate(report);
    assertTrue(flagged.approximate());
    assertEquals(report, new StressTest.ScenarioReport(flagged.name(), flagged.marks(), flagged.accountsEvaluated(),
        flagged.accountsLiquidated(), flagged.waiting(), flagged.closes(), flagged.notional(), flagged.penalties(),
        flagged.deficits(), flagged.funds(), flagged.takeoverNotional(), flagged.adlNotional(), flagged.debt(),
        flagged.cover2(), flagged.accounts(), false));
  }
}
