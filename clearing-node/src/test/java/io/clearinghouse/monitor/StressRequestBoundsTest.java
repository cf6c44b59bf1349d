package io.clearinghouse.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A stress request is bounded by the configuration, whatever the caller sends (issue 16 item 7):
 * a scenario named twice (the same configured scenario repeated a hundred thousand times in one
 * message, or a ladder step and a configured scenario of the same name) is refused before any node
 * evaluates anything, so one request costs at most one shock, one ladder and each configured
 * scenario once.
 */
class StressRequestBoundsTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);

  private static StressTest stress() {
    MarkPrices marks = MarkPrices.local(Clock.systemUTC(), Duration.ofMinutes(1));
    marks.accept(new Mark(PERP, 500_000, 1, System.currentTimeMillis()));
    // No actor system and no liquidations: a refused request must not reach them.
    return new StressTest(null, INSTRUMENTS, marks, null, StressSettings.fromConfig(ConfigFactory.load(),
        INSTRUMENTS));
  }

  @Test
  void aScenarioNamedTwiceIsRefusedBeforeAnythingIsEvaluated() {
    StressTest stress = stress();
    StressTest.Shocks crash = stress.scenario("2020-03-12");
    RejectedException repeated = assertThrows(RejectedException.class,
        () -> stress.run(Collections.nCopies(100_000, crash), 10));
    assertEquals(Rejection.INVALID_SHOCK, repeated.reason());
    // A shock of its own that bears a ladder step's name, with other marks: refused too.
    List<StressTest.Shocks> ladder = stress.ladder(PERP);
    RejectedException clash = assertThrows(RejectedException.class, () -> stress.run(List.of(
        new StressTest.Shocks(ladder.get(0).name(), Map.of(PERP, -10_000L)), ladder.get(0)), 10));
    assertEquals(Rejection.INVALID_SHOCK, clash.reason());
  }
}
