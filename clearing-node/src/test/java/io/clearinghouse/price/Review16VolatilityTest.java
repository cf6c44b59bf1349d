package io.clearinghouse.price;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.margin.MarginScaling;
import org.junit.jupiter.api.Test;

/** Review of issue 16 (adversarial): the volatility index right after a node starts. */
class Review16VolatilityTest {
  private static final String PERP = "BTCUSDT-PERP";

  /**
   * The first step after a node starts (or a new instrument's first marks) is annualized over 1 ms
   * ("covered" is measured from the first step's end, not its start): one 0.1% move a second apart
   * reads as about 17,700% a year, where a steady 0.1% a second is about 561%. Volatility-scaled
   * margin takes the short index at once, so the first move a restarted node sees puts every
   * instrument with the option at its cap (initial margin x3 here) on that node.
   */
  @Test
  void theFirstStepAfterAStartIsNotAnnualizedOverOneMillisecond() {
    VolatilityBoard board = new VolatilityBoard(VolatilityBoard.Settings.DEFAULT);
    board.accept(new Mark(PERP, 500_000, 1, 1_000_000));
    board.accept(new Mark(PERP, 500_500, 2, 1_001_000));
    long shortPpm = board.index(PERP).shortPpm();
    // Honest bound: 0.1% in one second, annualized over that second: sqrt(1e6 * 31,536,000) ppm = 5,615,692.
    assertTrue(shortPpm <= 5_615_692, "short index after one 0.1% step a second apart: " + shortPpm + " ppm");
    MarginScaling.VolatilityTerms terms = new MarginScaling.VolatilityTerms(800_000, 1_000_000, 3_000_000, 100_000,
        300_000);
    long scale = MarginScaling.volatilityScale(terms, shortPpm);
    assertTrue(scale < 3_000_000, "initial margin scale " + scale);
  }
}
