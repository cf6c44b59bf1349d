package io.clearinghouse.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The stress test's configuration and shocks: the shipped ladder and scenarios; anything malformed refused naming the key. */
class StressSettingsTest {
  private static final Config SHIPPED = ConfigFactory.load();
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(SHIPPED, 6);

  private static StressSettings read(String stress) {
    return StressSettings.fromConfig(ConfigFactory.parseString("clearinghouse.stress { " + stress + " }")
        .withFallback(SHIPPED), INSTRUMENTS);
  }

  @Test
  void theShippedLadderAndScenarios() {
    StressSettings settings = StressSettings.fromConfig(SHIPPED, INSTRUMENTS);
    assertEquals(List.of(-50_000L, -100_000L, -150_000L, -200_000L, -250_000L, -300_000L, -350_000L, -400_000L,
        -450_000L, -500_000L), settings.ladderPpm());
    assertEquals(Map.of("BTCUSDT-PERP", -460_000L, "BTCUSDT-271231", -460_000L), settings.scenarios().get("2020-03-12"));
    assertEquals(Map.of("BTCUSDT-PERP", -300_000L, "BTCUSDT-271231", -300_000L), settings.scenarios().get("2021-05-19"));
    assertEquals(Duration.ofSeconds(10), settings.timeout());
    assertEquals(400, settings.maxDeficitAccountsPerNode());
    assertEquals(Duration.ofSeconds(2), settings.scalesTimeout());
    // No schedule unless an operator sets an interval; Eurex's 40% and 90% levels.
    assertEquals(false, settings.schedule().enabled());
    assertEquals(List.of(400_000L, 900_000L, 100L), List.of(settings.schedule().warningSharePpm(),
        settings.schedule().actionSharePpm(), (long) settings.schedule().history()));
    assertEquals(true, read("schedule.interval = 5m").schedule().enabled());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "ladder = []|ladder",
      "ladder = [\"-100%\"]|ladder",
      "ladder = [\"0%\"]|ladder",
      "ladder = [\"-5\"]|ladder",
      "scenarios = [ { name = x, shocks {} } ]|scenarios.0.shocks",
      "scenarios = [ { name = x } ]|scenarios.0.shocks",
      "scenarios = [ { shocks { \"BTCUSDT-PERP\" = \"-5%\" } } ]|scenarios.0.name",
      "scenarios = [ { name = x, shocks { \"ETHUSDT-PERP\" = \"-5%\" } } ]|scenarios.0.shocks.ETHUSDT-PERP",
      "scenarios = [ { name = x, shocks { \"BTCUSDT-PERP\" = \"-99.01%\" } } ]|scenarios.0.shocks.BTCUSDT-PERP",
      "scenarios = [ { name = x, shocks { \"BTCUSDT-PERP\" = \"-5%\" }, when = 2020 } ]|scenarios.0.when",
      "scenarios = [ { name = x, shocks { \"BTCUSDT-PERP\" = \"-5%\" } }, { name = x, shocks { \"BTCUSDT-PERP\" = \"-6%\" } } ]|scenarios.1.name",
      "timeout = 0s|timeout",
      "scales-timeout = 0s|scales-timeout",
      "scales-timeout = -1s|scales-timeout",
      "max-deficit-accounts-per-node = -1|max-deficit-accounts-per-node",
      "schedule.interval = 500ms|schedule.interval",
      "schedule { interval = 1m, scenarios = [] }|schedule.scenarios",
      "schedule { interval = 1m, scenarios = [\"1987-10-19\"] }|schedule.scenarios",
      "schedule.warning-share = \"0%\"|schedule.warning-share",
      "schedule { warning-share = \"50%\", action-share = \"40%\" }|schedule.action-share",
      "schedule.history = 0|schedule.history"})
  void badSettingsStopTheNodeNamingTheKey(String line) {
    String[] parts = line.split("\\|");
    ConfigException e = assertThrows(ConfigException.class, () -> read(parts[0]));
    assertTrue(e.getMessage().contains("clearinghouse.stress." + parts[1]), e.getMessage());
  }

  @Test
  void theWildcardShocksEveryConfiguredInstrumentAndANamedOneTakesItsOwn() {
    StressSettings settings = read("scenarios = [ { name = x, shocks { \"*\" = \"-10%\", \"BTCUSDT-271231\" = \"-20%\" } } ]");
    assertEquals(Map.of("BTCUSDT-PERP", -100_000L, "BTCUSDT-271231", -200_000L), settings.scenarios().get("x"));
    // The shipped scenarios suit a node configured with the perpetual alone.
    var config = ConfigFactory.parseMap(Map.of("clearinghouse.instruments",
        List.of(SHIPPED.getList("clearinghouse.instruments").get(0).unwrapped()))).withFallback(SHIPPED);
    Instruments one = Instruments.fromConfig(config, 6);
    assertEquals(Map.of("BTCUSDT-PERP", -460_000L), StressSettings.fromConfig(config, one).scenarios()
        .get("2020-03-12"));
  }

  @Test
  void scheduledRunsLevelsAgainstEachFundsFreeBalance() {
    assertEquals(0, io.clearinghouse.margin.ReserveRules.coverSharePpm(0, 100));
    assertEquals(400_000, io.clearinghouse.margin.ReserveRules.coverSharePpm(40, 100));
    // Rounded up; against an empty fund, infinite.
    assertEquals(333_334, io.clearinghouse.margin.ReserveRules.coverSharePpm(1, 3));
    assertEquals(Long.MAX_VALUE, io.clearinghouse.margin.ReserveRules.coverSharePpm(1, 0));
    assertEquals(Long.MAX_VALUE, io.clearinghouse.margin.ReserveRules.coverSharePpm(Long.MAX_VALUE, 1));
    StressSettings.Schedule schedule = new StressSettings.Schedule(Duration.ofMinutes(1), List.of("x"), 400_000,
        900_000, 10);
    List<StressSchedule.Level> levels = List.of(39L, 40L, 89L, 90L).stream().map(loss -> StressSchedule.runs(
        new StressTest.Report(List.of(report(loss)), 1, 1), schedule, 0).get(0).level()).toList();
    assertEquals(List.of(StressSchedule.Level.OK, StressSchedule.Level.WARNING, StressSchedule.Level.WARNING,
        StressSchedule.Level.ACTION), levels);
    // Review 16: the monitors asked and answered, and whether approximate, are kept with the run.
    StressSchedule.Run run = StressSchedule.runs(new StressTest.Report(List.of(report(0)), 3, 2), schedule, 0).get(0);
    assertEquals(List.of(3, 2), List.of(run.nodes(), run.nodesAnswered()));
    assertEquals(false, run.approximate());
  }

  private static StressTest.ScenarioReport report(long loss) {
    return new StressTest.ScenarioReport("x", List.of(), 1, 1, 0, 1, Map.of(), 0, loss, List.of(
        new StressTest.FundFigures("F", 100, 0, loss, 0, loss, 0, 0, 0, 0, 0, 0, loss)), 0, 0, 0,
        new StressTest.Cover2(List.of(), 0, 0, true), List.of(), false);
  }

  @Test
  void shocksAsOperatorsTypeThem() {
    assertEquals(-200_000, StressTest.parseShock("-20%"));
    assertEquals(-200_000, StressTest.parseShock(" -20 "));
    assertEquals(990_000, StressTest.parseShock("99%"));
    assertEquals(-990_000, StressTest.parseShock("-99%"));
    for (String bad : new String[] {"-99.0001%", "100%", "0", "", "x%", "-20.00001%", null}) {
      RejectedException e = assertThrows(RejectedException.class, () -> StressTest.parseShock(bad), bad);
      assertEquals(Rejection.INVALID_SHOCK, e.reason());
    }
  }
}
