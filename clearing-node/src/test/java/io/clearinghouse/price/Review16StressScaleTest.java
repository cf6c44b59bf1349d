package io.clearinghouse.price;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.margin.MarginScaling;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 16 (finding 4): publishing the shocked mark itself moves the volatility index,
 * and with a tightening warning already past its period that very mark sets maintenance to the new
 * target. The stress test therefore asks the feed which maintenance the shocked mark would put in
 * force ({@link PriceFeed.ScalesAt}, answered by {@link FeedScales#at}), not the one in force now.
 * Marks every second at 50,000: 0.01% moves for 10 min (index about 56%, under the 80% reference),
 * then 0.02% (about 112%: initial 1.4x, a tightening warning raised half a minute later); the stress
 * test runs one mark before the warning period ends, and its -20% tick is the next mark.
 */
class Review16StressScaleTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final MarginScaling.VolatilityTerms TERMS = new MarginScaling.VolatilityTerms(800_000, 1_000_000,
      3_000_000, 100_000, 300_000);

  @Test
  void theStressTestValuesAtTheMaintenanceTheShockedTickPutsInForce() {
    FeedScales feed = new FeedScales(PERP, TERMS, VolatilityBoard.Settings.DEFAULT);
    long t = 1_000_000;
    feed.onMark(500_000, t);
    for (int i = 1; i <= 929; i++) {
      long price = i % 2 == 0 ? 500_000 : i <= 600 ? 500_050 : 500_100;
      feed.onMark(price, t + i * 1_000L);
    }
    long now = t + 929_000;
    MarkScales before = feed.current();
    assertTrue(before.pendingPpm() > before.maintenancePpm(), "a tightening is announced: " + before);
    // What the stress test asks the feed: the scales a mark at 40,000 one second later would put in force.
    MarkScales asked = feed.at(400_000, now + 1_000);
    assertEquals(before, feed.current(), "asking changes nothing");
    // The shocked tick, published one second later.
    MarkScales after = feed.onMark(400_000, now + 1_000);
    assertEquals(after, asked);
    assertTrue(after.maintenancePpm() > before.maintenancePpm(), "the shocked tick tightens maintenance: " + before
        + " -> " + after);
  }
}
