package io.clearinghouse.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Review of issue 16 (adversarial): stress configuration and scenarios with nothing to shock. */
class Review16StressTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);

  /**
   * A ladder configured with the same step twice ("-5%" and "-5.0%") starts the node, and then
   * every ladder request is refused INVALID_SHOCK ("named twice"): malformed stress configuration
   * should stop the node naming the key, as the other stress keys do.
   */
  @Test
  void aLadderWithARepeatedStepIsRefusedAtStart() {
    var config = ConfigFactory.parseString("clearinghouse.stress.ladder = [\"-5%\", \"-5.0%\", \"-10%\"]")
        .withFallback(ConfigFactory.load());
    ConfigException refused = assertThrows(ConfigException.class, () -> StressSettings.fromConfig(config, INSTRUMENTS),
        "a ladder with a repeated step must stop the node naming clearinghouse.stress.ladder");
    assertEquals(true, refused.getMessage().contains("clearinghouse.stress.ladder"), refused.getMessage());
  }

  /**
   * A configured scenario (what the scheduled stress runs) whose instruments all lack a fresh mark
   * is not refused: the shock is dropped and the scenario is evaluated at the unshocked marks, so a
   * feed outage turns "BTC -46%" into "nothing moves" and the schedule reports OK (level 0). It goes
   * past every check to the cluster (here: the null liquidations, a NullPointerException) instead of
   * being refused with MARK_STALE.
   */
  @Test
  void aNamedScenarioWithNothingToShockIsRefused() {
    MarkPrices marks = MarkPrices.local(Clock.systemUTC(), Duration.ofMinutes(1));
    // The only mark is an hour old: stale.
    marks.accept(new Mark(PERP, 500_000, 1, System.currentTimeMillis() - 3_600_000));
    StressTest stress = new StressTest(null, INSTRUMENTS, marks, null, StressSettings.fromConfig(ConfigFactory.load(),
        INSTRUMENTS));
    StressTest.Shocks crash = stress.scenario("2020-03-12");
    RuntimeException thrown = assertThrows(RuntimeException.class, () -> stress.run(List.of(crash), 0));
    assertEquals(RejectedException.class, thrown.getClass(), "was " + thrown);
    assertEquals(Rejection.MARK_STALE, ((RejectedException) thrown).reason());
  }

  /**
   * (Added with the fix.) A scheduled run refused (here: its only scenario has nothing fresh to
   * shock) is counted in the metrics, not only logged: the last good run's levels stay otherwise.
   */
  @Test
  void aFailedScheduledRunIsCounted() {
    org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit testKit =
        org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit.create();
    try {
      MarkPrices marks = MarkPrices.local(Clock.systemUTC(), Duration.ofMinutes(1));
      marks.accept(new Mark(PERP, 500_000, 1, System.currentTimeMillis() - 3_600_000));
      StressSettings settings = StressSettings.fromConfig(ConfigFactory.load(), INSTRUMENTS);
      StressTest stress = new StressTest(null, INSTRUMENTS, marks, null, settings);
      io.clearinghouse.metrics.Metrics metrics = new io.clearinghouse.metrics.Metrics();
      StressSettings.Schedule schedule = new StressSettings.Schedule(Duration.ofHours(1), List.of("2020-03-12"),
          400_000, 900_000, 10);
      testKit.spawn(StressSchedule.behavior(stress, schedule, metrics, Clock.systemUTC()));
      testKit.createTestProbe().awaitAssert(() -> {
        String scraped = metrics.scrape();
        assertEquals(true, scraped.contains("clearinghouse_stress_runs_failed_total 1.0"), scraped);
        return null;
      });
    } finally {
      testKit.shutdownTestKit();
    }
  }
}
