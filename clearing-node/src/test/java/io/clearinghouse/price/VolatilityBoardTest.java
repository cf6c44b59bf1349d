package io.clearinghouse.price;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.margin.Volatility;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The volatility index (issue 16 item 1): exact integer returns, squares, annualization and the unusual rule. */
class VolatilityBoardTest {
  private static final String PERP = "BTCUSDT-PERP";

  @Test
  void returnsSquaresAndAnnualizationAreExactIntegers() {
    assertEquals(10_000, Volatility.returnPpm(500_000, 505_000));
    assertEquals(-10_000, Volatility.returnPpm(500_000, 495_000));
    // Rounded toward zero either way: 1/3 of a ppm is 0.
    assertEquals(0, Volatility.returnPpm(3_000_000, 3_000_001));
    assertEquals(0, Volatility.returnPpm(3_000_000, 2_999_999));
    assertEquals(0, Volatility.returnPpm(0, 5));
    assertEquals(100_000_000, Volatility.squared(-10_000));
    // A 1% move every minute for a year: sqrt(1e8 * 525,600) = 7,249,827 ppm (725%).
    assertEquals(7_249_827, Volatility.annualizedPpm(100_000_000, 60_000));
    assertEquals(0, Volatility.annualizedPpm(0, 60_000));
    assertEquals(0, Volatility.annualizedPpm(5, 0));
    // The largest sums do not overflow.
    assertTrue(Volatility.annualizedPpm(Long.MAX_VALUE, 1) > 0);
    // Unusual: strictly above the multiple.
    assertTrue(Volatility.unusual(3_000_001, 1_000_000, 3_000_000));
    assertFalse(Volatility.unusual(3_000_000, 1_000_000, 3_000_000));
    assertFalse(Volatility.unusual(5, 0, 3_000_000));
  }

  @Test
  void aCalmHourThenAViolentMinuteIsUnusual() {
    VolatilityBoard board = new VolatilityBoard(VolatilityBoard.Settings.DEFAULT);
    long t = 1_000_000_000L;
    long seq = 0;
    // An hour of marks every 10 s alternating 50,000.0 and 50,005.0 (0.01% steps).
    for (int i = 0; i <= 360; i++) {
      board.accept(new Mark(PERP, i % 2 == 0 ? 500_000 : 500_050, ++seq, t + i * 10_000L));
    }
    VolatilityBoard.Index calm = board.index(PERP);
    assertFalse(calm.unusual(), calm.toString());
    assertTrue(calm.longPpm() > 0 && calm.shortPpm() > 0, calm.toString());
    // Then a minute of 1% swings every 10 s.
    long now = t + 3_600_000L;
    for (int i = 1; i <= 6; i++) {
      board.accept(new Mark(PERP, i % 2 == 0 ? 500_000 : 505_000, ++seq, now + i * 10_000L));
    }
    VolatilityBoard.Index wild = board.index(PERP);
    assertTrue(wild.unusual(), wild.toString());
    assertTrue(wild.shortPpm() > 3 * wild.longPpm());
    // An older mark changes nothing; an unknown instrument has no index.
    board.accept(new Mark(PERP, 1, ++seq, t));
    assertEquals(wild, board.index(PERP));
    assertEquals(VolatilityBoard.Index.NONE, board.index("ETHUSDT-PERP"));
  }

  @Test
  void tooFewStepsAreNeverUnusual() {
    VolatilityBoard board = new VolatilityBoard(VolatilityBoard.Settings.DEFAULT);
    board.accept(new Mark(PERP, 500_000, 1, 0));
    board.accept(new Mark(PERP, 600_000, 2, 1_000));
    assertFalse(board.index(PERP).unusual());
    assertTrue(board.index(PERP).shortPpm() > 0);
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"short-window = 0s|short-window",
      "long-window = 30s|long-window", "unusual-multiple = \"100%\"|unusual-multiple",
      "unusual-multiple = 3|unusual-multiple", "min-steps = 0|min-steps"})
  void badConfigurationStopsTheNodeNamingTheKey(String line) {
    String[] parts = line.split("\\|");
    var e = assertThrows(com.typesafe.config.ConfigException.class, () -> VolatilityBoard.Settings.fromConfig(
        com.typesafe.config.ConfigFactory.parseString("clearinghouse.volatility." + parts[0])
            .withFallback(com.typesafe.config.ConfigFactory.load())));
    assertTrue(e.getMessage().contains("clearinghouse.volatility." + parts[1]), e.getMessage());
    assertEquals(VolatilityBoard.Settings.DEFAULT, VolatilityBoard.Settings.fromConfig(
        com.typesafe.config.ConfigFactory.load()));
  }

  @Test
  void badSettingsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new VolatilityBoard.Settings(Duration.ofHours(1),
        Duration.ofMinutes(1), 3_000_000, 10));
    assertThrows(IllegalArgumentException.class, () -> new VolatilityBoard.Settings(Duration.ZERO,
        Duration.ofMinutes(1), 3_000_000, 10));
    assertThrows(IllegalArgumentException.class, () -> new VolatilityBoard.Settings(Duration.ofMinutes(1),
        Duration.ofHours(1), 1_000_000, 10));
    assertThrows(IllegalArgumentException.class, () -> new VolatilityBoard.Settings(Duration.ofMinutes(1),
        Duration.ofHours(1), 3_000_000, 0));
  }
}
