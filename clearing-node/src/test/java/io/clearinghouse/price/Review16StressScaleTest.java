package io.clearinghouse.price;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clearinghouse.margin.MarginScaling;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 16: the stress test values positions at the maintenance scale in force now
 * (StressEvaluation reads Instruments.require once), but publishing the shocked mark itself moves
 * the volatility index, and with a tightening warning already past its period that very mark sets
 * maintenance to the new target: the real liquidations then run at a maintenance rate the stress
 * test never used. Marks every second at 50,000: 0.01% moves for 10 min (index about 56%, under the
 * 80% reference), then 0.02% (about 112%: initial 1.4x, a tightening warning raised half a minute later); the
 * stress test runs one mark before the warning period ends, and its -20% tick is the next mark.
 */
class Review16StressScaleTest {
  private static final String PERP = "BTCUSDT-PERP";

  @Test
  @Disabled("open (issue 16 review finding 4): the stress test values positions at the maintenance in force, not the"
      + " one the shocked tick itself would put in force once a pending tightening's warning period has passed")
  void theShockedTickTightensMaintenanceTheStressTestDidNotUse() {
    MarginScaling.VolatilityTerms terms = new MarginScaling.VolatilityTerms(800_000, 1_000_000, 3_000_000, 100_000,
        300_000);
    VolatilityBoard board = new VolatilityBoard(VolatilityBoard.Settings.DEFAULT);
    long t = 1_000_000;
    long price = 500_000;
    board.accept(new Mark(PERP, price, 0, t));
    MarginScaling.Maintenance maintenance = MarginScaling.Maintenance.START;
    for (int i = 1; i <= 929; i++) {
      price = i % 2 == 0 ? 500_000 : i <= 600 ? 500_050 : 500_100;
      board.accept(new Mark(PERP, price, i, t + i * 1_000L));
      // As MarginScales.accept: the initial scale from the short index, maintenance following it.
      maintenance = MarginScaling.follow(terms, maintenance,
          MarginScaling.volatilityScale(terms, board.index(PERP).shortPpm()), t + i * 1_000L);
    }
    long now = t + 929_000;
    System.out.println("REVIEW16 before the shock: short index " + board.index(PERP).shortPpm() + " ppm, " + maintenance);
    // What the stress test reads: maintenance as it is now.
    long stressMaintenance = maintenance.scalePpm();
    // The shocked tick, published one second later.
    board.accept(new Mark(PERP, 400_000, 930, now + 1_000));
    long target = MarginScaling.volatilityScale(terms, board.index(PERP).shortPpm());
    MarginScaling.Maintenance after = MarginScaling.follow(terms, maintenance, target, now + 1_000);
    assertEquals(stressMaintenance, after.scalePpm(), "maintenance the stress test used (" + stressMaintenance
        + ") vs the one the shocked tick puts in force (" + after.scalePpm() + ", target " + target + ")");
  }
}
