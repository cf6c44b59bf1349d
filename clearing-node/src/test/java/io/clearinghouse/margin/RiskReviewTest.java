package io.clearinghouse.margin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The risk review's figures (issue 16 item 6): boundary values and both sides. */
class RiskReviewTest {
  @Test
  void distanceToLiquidation() {
    // A long at 50,000.0 liquidated at 47,213.8: 5.5724% away; a short the other way.
    assertEquals(55_724, RiskReview.distancePpm(1_000, 500_000, 472_138));
    assertEquals(55_724, RiskReview.distancePpm(-1_000, 500_000, 527_862));
    // At and past it: 0 and negative.
    assertEquals(0, RiskReview.distancePpm(1_000, 500_000, 500_000));
    assertEquals(-2, RiskReview.distancePpm(1_000, 500_000, 500_001));
    assertEquals(RiskReview.NONE, RiskReview.distancePpm(1_000, 500_000, 0));
    assertEquals(RiskReview.NONE, RiskReview.distancePpm(0, 500_000, 472_138));
  }

  @Test
  void dailyVolatilityAndDailyMoves() {
    // 80% a year is 4.1873% a day (rounded down) (sqrt(365) = 19.105).
    assertEquals(41_873, RiskReview.dailyVolatilityPpm(800_000));
    assertEquals(0, RiskReview.dailyVolatilityPpm(0));
    assertEquals(133, RiskReview.dailyMovesHundredths(55_724, 41_874));
    assertEquals(RiskReview.NONE, RiskReview.dailyMovesHundredths(55_724, 0));
    assertEquals(RiskReview.NONE, RiskReview.dailyMovesHundredths(RiskReview.NONE, 41_874));
  }

  @Test
  void suggestedStopHalfwayRoundedTowardsTheMark() {
    assertEquals(486_069, RiskReview.suggestedStopTicks(1_000, 500_000, 472_138));
    assertEquals(513_931, RiskReview.suggestedStopTicks(-1_000, 500_000, 527_862));
    assertEquals(0, RiskReview.suggestedStopTicks(1_000, 500_000, 500_000));
    assertEquals(0, RiskReview.suggestedStopTicks(1_000, 500_000, 0));
  }
}
