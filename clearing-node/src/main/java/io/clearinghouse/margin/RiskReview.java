package io.clearinghouse.margin;

import java.math.BigInteger;

/**
 * The risk review's figures (issue 16 item 6), on exact integers: how far a position is from its
 * liquidation price, in ppm of the mark and in multiples of the instrument's daily volatility, and
 * a suggested protective stop. For display only: the trigger never uses them.
 */
public final class RiskReview {
  private RiskReview() {}

  /** No liquidation price (the position is safe at every price) or no volatility: nothing to say. */
  public static final long NONE = -1;

  /**
   * The distance from the mark to the liquidation price, in ppm of the mark, rounded down: positive
   * while the mark is on the safe side (above it for a long, below for a short), 0 or negative
   * once it is at or past it; {@link #NONE} without a liquidation price.
   */
  public static long distancePpm(long lots, long markTicks, long liquidationTicks) {
    if (liquidationTicks <= 0 || markTicks <= 0 || lots == 0) {
      return NONE;
    }
    long safeSide = lots > 0 ? markTicks - liquidationTicks : liquidationTicks - markTicks;
    return Math.floorDiv(Math.multiplyExact(safeSide, MarginMath.PPM), markTicks);
  }

  /** A year's volatility (ppm) as a day's: {@code floor(sqrt(annual^2 / 365))}. */
  public static long dailyVolatilityPpm(long annualPpm) {
    if (annualPpm <= 0) {
      return 0;
    }
    return BigInteger.valueOf(annualPpm).pow(2).divide(BigInteger.valueOf(365)).sqrt().longValueExact();
  }

  /**
   * The distance in multiples of the daily volatility, in hundredths (250 is 2.5 daily moves),
   * rounded down; {@link #NONE} without a distance or a volatility.
   */
  public static long dailyMovesHundredths(long distancePpm, long dailyVolatilityPpm) {
    if (distancePpm == NONE || dailyVolatilityPpm <= 0) {
      return NONE;
    }
    return Math.floorDiv(Math.multiplyExact(distancePpm, 100), dailyVolatilityPpm);
  }

  /**
   * A protective stop halfway between the mark and the liquidation price (rounded towards the
   * mark: up for a long, down for a short), so that the position is closed without penalty well
   * before it would be liquidated; 0 without a liquidation price or once the mark has reached it.
   */
  public static long suggestedStopTicks(long lots, long markTicks, long liquidationTicks) {
    long distance = distancePpm(lots, markTicks, liquidationTicks);
    if (distance == NONE || distance <= 0) {
      return 0;
    }
    long gap = Math.abs(markTicks - liquidationTicks);
    long half = gap / 2 + gap % 2;
    return lots > 0 ? liquidationTicks + half : liquidationTicks - half;
  }
}
