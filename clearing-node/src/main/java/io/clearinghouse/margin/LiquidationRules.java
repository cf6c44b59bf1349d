package io.clearinghouse.margin;

/**
 * The pure rules of a liquidation's closes (DESIGN section 6), beside {@link LiquidationRule}
 * (when to liquidate), {@link LiquidationPrice} (liquidation and bankruptcy prices) and
 * {@link AdlRanking} (who is deleveraged first): how much to close, at what price a backstop
 * provider takes it, what a close loses beyond bankruptcy, and the penalty.
 */
public final class LiquidationRules {
  private LiquidationRules() {}

  /**
   * Partial first: above the first tier, just enough lots that the rest falls into the tier
   * below (and so gets the lower tier's maintenance rate); in the first tier, all of it.
   */
  public static long lotsToClose(PositionRisk p, long notional) {
    long held = Math.abs(p.lots());
    RiskTier tier = p.tiers().tierFor(notional);
    if (tier.lowerBound() == 0) {
      return held;
    }
    long perLot = Math.multiplyExact(p.markTicks(), p.multiplier());
    long keep = (tier.lowerBound() - 1) / perLot;
    return Math.max(1, held - Math.min(keep, held));
  }

  /**
   * The price a backstop provider takes a close at: the mark moved against the trader by the
   * spread; a long is sold lower (rounded down), a short bought back higher (rounded up).
   */
  public static long backstopPrice(long markTicks, long closeLots, long spreadPpm) {
    long price = closeLots < 0
        ? MulDiv.mulDivFloor(markTicks, MarginMath.PPM - spreadPpm, MarginMath.PPM)
        : MulDiv.mulDivCeil(markTicks, MarginMath.PPM + spreadPpm, MarginMath.PPM);
    return Math.max(1, price);
  }

  /** What closing {@code closeLots} at {@code priceTicks} loses beyond the bankruptcy price; never negative. */
  public static long deficit(long closeLots, long bankruptcyTicks, long priceTicks, Instrument instrument) {
    long worse = closeLots < 0 ? bankruptcyTicks - priceTicks : priceTicks - bankruptcyTicks;
    return worse <= 0 ? 0 : instrument.notional(worse, closeLots);
  }

  /**
   * The liquidation penalty of a close: {@code ceil(closed notional * rate)}, but never more than
   * the equity that remains (the penalty never creates a deficit the insurance fund must cover).
   */
  public static long penalty(long closedNotional, long liquidationFeePpm, long remainingEquity) {
    return Math.min(MarginMath.fee(closedNotional, liquidationFeePpm), Math.max(0, remainingEquity));
  }
}
