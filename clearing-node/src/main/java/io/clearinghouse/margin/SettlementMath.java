package io.clearinghouse.margin;

/**
 * A dated future's final settlement (issue 17, expiry), on exact integers: the settlement price is
 * the average of the index samples of the settlement window, and every position is closed at it.
 *
 * <p>Rounding: the average is rounded to the nearest tick, a half tick up. The price is the same
 * for both sides of every position, so this rounding favours nobody; no money is rounded there.
 * The only rounded money is the delivery fee, {@code ceil(notional * fee / 1e6)}, which an account
 * owes and so rounds up (DESIGN section 3). The position's value at the settlement price,
 * {@code q * P * m}, is exact: longs receive it from the instrument's settlement pool and shorts
 * pay it in, so the pool is back at zero once every holder is settled (every long has its short).
 */
public final class SettlementMath {
  private SettlementMath() {}

  /** The running sum and count of the index samples of a settlement window. */
  public record Average(long sumTicks, long samples) {
    public static final Average EMPTY = new Average(0, 0);

    public Average {
      if (sumTicks < 0 || samples < 0) {
        throw new IllegalArgumentException("an average of index prices is never negative");
      }
    }

    public Average plus(long indexTicks) {
      if (indexTicks <= 0) {
        throw new IllegalArgumentException("an index sample must be positive, was " + indexTicks);
      }
      return new Average(Math.addExact(sumTicks, indexTicks), Math.addExact(samples, 1));
    }

    /** The average rounded to the nearest tick (half up); 0 with no sample. */
    public long priceTicks() {
      return averageTicks(sumTicks, samples);
    }
  }

  /** {@code round(sum / n)}, a half up, for a non-negative sum; 0 when {@code n} is 0. */
  public static long averageTicks(long sumTicks, long samples) {
    if (samples == 0) {
      return 0;
    }
    if (sumTicks < 0 || samples < 0) {
      throw new IllegalArgumentException("sum and count must not be negative");
    }
    long quotient = sumTicks / samples;
    long remainder = sumTicks % samples;
    // remainder * 2 >= samples, without overflow: remainder >= samples - remainder.
    return remainder >= samples - remainder ? Math.addExact(quotient, 1) : quotient;
  }

  /**
   * The sample slots a settlement window of {@code windowMillis} holds at one sample every
   * {@code everyMillis} (the first at the window's start, none at the expiry itself).
   */
  public static long slots(long windowMillis, long everyMillis) {
    if (windowMillis <= 0 || everyMillis <= 0) {
      throw new IllegalArgumentException("window and cadence must be positive");
    }
    return MulDiv.ceilDiv(windowMillis, everyMillis);
  }

  /** The fewest samples of {@code slots} that make a settlement price: {@code ceil(slots * share / 1e6)}, at least 1. */
  public static long requiredSamples(long slots, long minSharePpm) {
    return Math.max(1, MulDiv.mulDivCeil(slots, minSharePpm, MarginMath.PPM));
  }

  /**
   * One account's position closed at the settlement price: {@code value = q * P * m} from the
   * settlement pool (negative: paid into it), the position's cost {@code c} released,
   * {@code pnl = value - c} realized, the delivery fee on the notional to fee revenue, and an
   * isolated position's margin back to cash. An isolated position (margin above 0) loses at most
   * its margin: what its loss and fee come to beyond it is its {@code shortfall}, owed by the
   * account (never taken from its cross cash) and settled as a liquidation's isolated shortfall is.
   * The account's cash changes by {@code pnl - fee + isolatedReleased + shortfall}.
   */
  public record Closed(long lots, long value, long cost, long pnl, long fee, long isolatedReleased, long shortfall) {
    public long cashDelta() {
      return Math.addExact(Math.addExact(Math.subtractExact(pnl, fee), isolatedReleased), shortfall);
    }
  }

  public static Closed close(long lots, long cost, long isolatedMargin, long priceTicks, long multiplier,
      long deliveryFeePpm) {
    if (priceTicks <= 0) {
      throw new IllegalArgumentException("a settlement price must be positive, was " + priceTicks);
    }
    if (deliveryFeePpm < 0) {
      throw new IllegalArgumentException("a delivery fee is never a rebate");
    }
    if (isolatedMargin < 0) {
      throw new IllegalArgumentException("an isolated margin is never negative");
    }
    long value = Math.multiplyExact(Math.multiplyExact(lots, priceTicks), multiplier);
    long pnl = Math.subtractExact(value, cost);
    long fee = lots == 0 ? 0 : MarginMath.fee(MarginMath.notional(lots, priceTicks, multiplier), deliveryFeePpm);
    long result = Math.addExact(Math.subtractExact(pnl, fee), isolatedMargin);
    long shortfall = isolatedMargin > 0 && result < 0 ? Math.negateExact(result) : 0;
    return new Closed(lots, value, cost, pnl, fee, isolatedMargin, shortfall);
  }

  /**
   * The mark of a dated future inside its settlement window: moved from the mark its formula gives
   * toward the expected settlement price (the average so far) in proportion to the time elapsed in
   * the window, so that it equals the expected price at the expiry. Rounded to the nearest tick, a
   * half up. Outside the window, or without an expected price, the mark is unchanged.
   */
  public static long convergedMark(long markTicks, long expectedTicks, long nowMillis, long windowStartMillis,
      long expiryMillis) {
    if (expectedTicks <= 0 || nowMillis < windowStartMillis || expiryMillis <= windowStartMillis) {
      return markTicks;
    }
    if (nowMillis >= expiryMillis) {
      return expectedTicks;
    }
    long window = Math.subtractExact(expiryMillis, windowStartMillis);
    long elapsed = Math.subtractExact(nowMillis, windowStartMillis);
    long gap = Math.subtractExact(expectedTicks, markTicks);
    // mark + gap * elapsed / window, rounded to nearest (half up) through 2x to stay in integers.
    long twice = MulDiv.mulDivFloor(Math.multiplyExact(gap, 2), elapsed, window);
    return Math.addExact(markTicks, Math.floorDiv(Math.addExact(twice, 1), 2));
  }
}
