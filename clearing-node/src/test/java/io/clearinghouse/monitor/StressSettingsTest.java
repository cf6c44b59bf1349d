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
    assertEquals(Map.of("BTCUSDT-PERP", -460_000L, "BTCUSDT-261225", -460_000L), settings.scenarios().get("2020-03-12"));
    assertEquals(Map.of("BTCUSDT-PERP", -300_000L, "BTCUSDT-261225", -300_000L), settings.scenarios().get("2021-05-19"));
    assertEquals(Duration.ofSeconds(10), settings.timeout());
    assertEquals(1000, settings.maxDeficitAccountsPerNode());
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
      "max-deficit-accounts-per-node = -1|max-deficit-accounts-per-node"})
  void badSettingsStopTheNodeNamingTheKey(String line) {
    String[] parts = line.split("\\|");
    ConfigException e = assertThrows(ConfigException.class, () -> read(parts[0]));
    assertTrue(e.getMessage().contains("clearinghouse.stress." + parts[1]), e.getMessage());
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
