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
   * Which position a liquidation closes next (DESIGN section 6, step 2): among the positions due
   * (every cross position when the account is cross-liquidatable, each isolated one at or below
   * its own maintenance), the one with the largest maintenance margin; -1 when none is due.
   */
  public static int nextClose(AccountRisk evaluation) {
    int chosen = -1;
    long largest = -1;
    for (int i = 0; i < evaluation.positionCount(); i++) {
      PositionRisk p = evaluation.position(i);
      if (p.lots() == 0) {
        continue;
      }
      boolean due = p.mode() == MarginMode.CROSS ? evaluation.crossLiquidatable() : evaluation.isolatedLiquidatable(i);
      long maintenance = evaluation.metrics(i).maintenanceMargin();
      if (due && maintenance > largest) {
        chosen = i;
        largest = maintenance;
      }
    }
    return chosen;
  }

  /**
   * The bankruptcy tick a close of the position at {@code index} is priced at when nobody takes it
   * at a better price: the displayed bankruptcy tick when equity there is exactly zero, else the
   * next tick towards safety (up for a long, down for a short), so that a deleveraging close never
   * leaves a deficit of its own; the mark when no tick is a boundary.
   */
  public static long closeBankruptcyTicks(AccountRisk evaluation, int index) {
    PositionRisk p = evaluation.position(index);
    var boundary = evaluation.bankruptcyPriceTicks(index);
    if (boundary.isEmpty()) {
      return p.markTicks();
    }
    long tick = boundary.getAsLong();
    long funds = p.mode() == MarginMode.ISOLATED ? p.isolatedMargin()
        : Math.subtractExact(evaluation.equity(), evaluation.metrics(index).unrealizedPnl());
    long equity = Math.addExact(funds, MarginMath.unrealizedPnl(p.lots(), p.cost(), tick, p.multiplier()));
    return equity >= 0 ? tick : tick + Long.signum(p.lots());
  }

  /**
   * What an isolated position's margin releases when it goes from {@code lotsBefore} to
   * {@code lotsAfter}: all of it when closed or flipped, the reduced share (rounded down) when
   * reduced, nothing when it grows.
   */
  public static long isolatedRelease(long lotsBefore, long lotsAfter, long isolatedMargin) {
    long oldAbs = Math.abs(lotsBefore);
    long newAbs = Math.abs(lotsAfter);
    boolean closedOrFlipped = lotsBefore != 0 && (lotsAfter == 0 || Long.signum(lotsAfter) != Long.signum(lotsBefore));
    if (closedOrFlipped) {
      return isolatedMargin;
    }
    return newAbs < oldAbs ? MulDiv.mulDivFloor(isolatedMargin, oldAbs - newAbs, oldAbs) : 0;
  }

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
