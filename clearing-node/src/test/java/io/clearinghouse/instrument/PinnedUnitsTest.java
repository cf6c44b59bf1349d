package io.clearinghouse.instrument;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.instrument.PinnedUnits.Units;
import io.clearinghouse.instrument.PinnedUnits.Verdict;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The units pinned in the journal: the first start pins them, later starts must agree. */
class PinnedUnitsTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final Units PERP = new Units("0.1", "0.001", 6);
  private static final Units FUTURE = new Units("0.5", "0.001", 6);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static EventSourcedBehaviorTestKit<PinnedUnits.Command, PinnedUnits.Event, PinnedUnits.State> pins() {
    return EventSourcedBehaviorTestKit.create(testKit.system(), PinnedUnits.create(Clock.systemUTC()),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
  }

  private static Verdict check(EventSourcedBehaviorTestKit<PinnedUnits.Command, PinnedUnits.Event, PinnedUnits.State> pins,
      Map<String, Units> configured) {
    return pins.<Verdict>runCommand(r -> new PinnedUnits.Check(configured, r)).reply();
  }

  @Test
  void theFirstStartPinsAndTheSameUnitsAgreeAfterARestart() {
    var pins = pins();
    pins.clear();
    assertEquals(List.of(), check(pins, Map.of("BTCUSDT-PERP", PERP)).problems());
    assertEquals(Map.of("BTCUSDT-PERP", PERP), pins.getState().pinned());
    pins.restart();
    // The same units written another way (0.10) are the same units; a new instrument is pinned too.
    assertEquals(List.of(), check(pins, Map.of("BTCUSDT-PERP", new Units("0.10", "0.0010", 6),
        "BTCUSDT-261225", FUTURE)).problems());
    assertEquals(Map.of("BTCUSDT-PERP", PERP, "BTCUSDT-261225", FUTURE), pins.getState().pinned());
  }

  @Test
  void aChangedTickLotOrScaleIsRefusedAndChangesNothing() {
    var pins = pins();
    pins.clear();
    check(pins, Map.of("BTCUSDT-PERP", PERP));
    for (Units changed : List.of(new Units("0.5", "0.001", 6), new Units("0.1", "0.01", 6), new Units("0.1", "0.001", 8))) {
      var result = pins.<Verdict>runCommand(r -> new PinnedUnits.Check(Map.of("BTCUSDT-PERP", changed, "NEW-PERP", PERP), r));
      assertTrue(result.hasNoEvents(), "nothing pinned while the configuration disagrees");
      assertEquals(1, result.reply().problems().size(), result.reply().toString());
      String problem = result.reply().problems().get(0);
      assertTrue(problem.contains("clearinghouse.instruments BTCUSDT-PERP") && problem.contains(changed.toString()),
          problem);
    }
  }

  @Test
  void aPinnedInstrumentCannotBeDropped() {
    var pins = pins();
    pins.clear();
    check(pins, Map.of("BTCUSDT-PERP", PERP, "BTCUSDT-261225", FUTURE));
    List<String> problems = check(pins, Map.of("BTCUSDT-PERP", PERP)).problems();
    assertEquals(1, problems.size());
    assertTrue(problems.get(0).contains("BTCUSDT-261225") && problems.get(0).contains("cannot be dropped"),
        problems.get(0));
  }
}
