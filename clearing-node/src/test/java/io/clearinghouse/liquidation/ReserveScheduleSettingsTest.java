package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The reserves' schedule from configuration: replenishments between known reserves; anything else stops the node naming the key. */
class ReserveScheduleSettingsTest {
  private static final Set<String> FUNDS = Set.of("BTCUSDT-PERP");

  private static ReserveSchedule.Settings read(String replenishment) {
    return ReserveSchedule.Settings.fromConfig(ConfigFactory.parseString("clearinghouse.reserves { schedule-interval = 1h, "
        + "replenishment = [" + replenishment + "] }"), FUNDS, 6);
  }

  @Test
  void aShareOfOneReserveIntoAnotherCappedPerRun() {
    ReserveSchedule.Settings settings = read("{ from = platform-revenue, to = \"insurance-fund:BTCUSDT-PERP\", "
        + "share = \"10%\", max-per-run = \"10000.5\" }");
    assertEquals(Duration.ofHours(1), settings.interval());
    assertEquals(List.of(new ReserveSchedule.Replenishment(ReserveRef.of(PlatformReserve.PLATFORM_REVENUE),
        ReserveRef.fund("BTCUSDT-PERP"), 100_000, 10_000_500_000L)), settings.replenishments());
    // The shipped configuration replenishes nothing.
    assertEquals(List.of(), ReserveSchedule.Settings.fromConfig(ConfigFactory.load(), FUNDS, 6).replenishments());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{ from = fees, to = market-making, share = \"10%\", max-per-run = \"1\" }|from",
      "{ from = platform-revenue, to = \"insurance-fund:NOPE\", share = \"10%\", max-per-run = \"1\" }|to",
      "{ from = platform-revenue, to = platform-revenue, share = \"10%\", max-per-run = \"1\" }|to",
      "{ from = platform-revenue, to = market-making, share = \"101%\", max-per-run = \"1\" }|share",
      "{ from = platform-revenue, to = market-making, share = \"10%\", max-per-run = \"-1\" }|max-per-run",
      "{ from = platform-revenue, to = market-making, share = \"10%\", max-per-run = \"1e30\" }|max-per-run",
      "{ from = platform-revenue, to = market-making, share = \"10%\", max-per-run = \"1\", every = 1h }|every"})
  void badReplenishmentsStopTheNodeNamingTheKey(String line) {
    String[] parts = line.split("\\|");
    ConfigException e = assertThrows(ConfigException.class, () -> read(parts[0]));
    assertTrue(e.getMessage().contains("clearinghouse.reserves.replenishment[0]." + parts[1]), e.getMessage());
  }
}
