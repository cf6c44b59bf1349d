package io.clearinghouse.instrument;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.instrument.PinnedUnits.Units;
import io.clearinghouse.instrument.PinnedUnits.Verdict;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
        "BTCUSDT-271231", FUTURE)).problems());
    assertEquals(Map.of("BTCUSDT-PERP", PERP, "BTCUSDT-271231", FUTURE), pins.getState().pinned());
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
  void aPinnedInstrumentLeftOutIsRetiredOnlyWhenAskedAndCanBeListedAgainInItsUnits() {
    var pins = pins();
    pins.clear();
    check(pins, Map.of("BTCUSDT-PERP", PERP, "BTCUSDT-271231", FUTURE));
    // Left out: no problem with the units, but named for the caller to decide (positions or not).
    Verdict leftOut = check(pins, Map.of("BTCUSDT-PERP", PERP));
    assertEquals(List.of(), leftOut.problems());
    assertEquals(List.of("BTCUSDT-271231"), leftOut.leftOut());
    // Retired: no longer asked for, and its units stay pinned across a restart.
    var retired = pins.<Verdict>runCommand(r -> new PinnedUnits.Retire(List.of("BTCUSDT-271231"), r));
    assertEquals(1, retired.events().size());
    assertTrue(retired.events().get(0) instanceof PinnedUnits.InstrumentRetired);
    assertEquals(Set.of("BTCUSDT-271231"), retired.state().retired());
    pins.restart();
    assertEquals(List.of(), check(pins, Map.of("BTCUSDT-PERP", PERP)).leftOut());
    // Retiring it again writes nothing.
    assertEquals(0, pins.<Verdict>runCommand(r -> new PinnedUnits.Retire(List.of("BTCUSDT-271231"), r)).events().size());
    // Listed again in other units: refused; in its own: pinned again.
    List<String> problems = check(pins, Map.of("BTCUSDT-PERP", PERP, "BTCUSDT-271231", new Units("1", "0.001", 6)))
        .problems();
    assertEquals(1, problems.size());
    assertTrue(problems.get(0).contains("clearinghouse.instruments BTCUSDT-271231"), problems.get(0));
    var relisted = pins.<Verdict>runCommand(r -> new PinnedUnits.Check(Map.of("BTCUSDT-PERP", PERP,
        "BTCUSDT-271231", FUTURE), r));
    assertEquals(List.of(), relisted.reply().problems());
    assertEquals(Set.of(), relisted.state().retired());
    assertEquals(FUTURE, relisted.state().pinned().get("BTCUSDT-271231"));
  }
}
