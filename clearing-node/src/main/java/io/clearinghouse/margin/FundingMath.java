package io.clearinghouse.margin;

/**
 * The perpetual funding rules (DESIGN section 5), exact integers only. Rates are in units of
 * 10^-8 ({@link #ONE} is 100%, so 0.01% is 10,000): finer than ppm, because an average premium
 * and the published rates of venues carry eight decimals.
 *
 * <ul>
 *   <li>a premium sample is the mark's basis to the index, {@code (mark - index) / index},
 *       rounded toward zero;
 *   <li>the interval's premium is the time-weighted average of its samples, the k-th of n
 *       weighing k (later samples count more), rounded toward zero;
 *   <li>the rate is {@code P + clamp(I - P, -clamp, +clamp)}, then capped to {@code ±cap};
 *   <li>a position pays or receives {@code |lots| * mark * multiplier * |rate|}: longs pay a
 *       positive rate and shorts a negative one. A payer's amount is rounded up and a receiver's
 *       down, so the payments of an interval never hand out more than they take in: the
 *       difference (the rounding residue) stays in the funding pool.
 * </ul>
 */
public final class FundingMath {
  /** 100% in funding-rate units. */
  public static final long ONE = 100_000_000L;

  private FundingMath() {}

  /** One premium sample: {@code (mark - index) / index} in 10^-8, toward zero; index > 0. */
  public static long premium(long markTicks, long indexTicks) {
    if (indexTicks <= 0 || markTicks <= 0) {
      throw new IllegalArgumentException("prices must be positive, were mark " + markTicks + ", index " + indexTicks);
    }
    long basis = Math.subtractExact(markTicks, indexTicks);
    long magnitude = MulDiv.mulDivFloor(Math.abs(basis), ONE, indexTicks);
    return basis < 0 ? -magnitude : magnitude;
  }

  /**
   * A running time-weighted average: {@code weighted} is the sum of k * P_k, {@code count} the
   * number n of samples (their weights sum to n(n+1)/2).
   */
  public record PremiumAverage(long weighted, long count) {
    public static final PremiumAverage EMPTY = new PremiumAverage(0, 0);

    public PremiumAverage add(long premium) {
      long k = Math.addExact(count, 1);
      return new PremiumAverage(Math.addExact(weighted, Math.multiplyExact(k, premium)), k);
    }

    /** The average, toward zero; 0 without samples. */
    public long average() {
      if (count == 0) {
        return 0;
      }
      long weights = Math.multiplyExact(count, Math.addExact(count, 1)) / 2;
      long magnitude = Math.abs(weighted) / weights;
      return weighted < 0 ? -magnitude : magnitude;
    }
  }

  /** {@code P + clamp(I - P, -clamp, clamp)}, capped to {@code ±cap}; clamp and cap at least 0. */
  public static long rate(long averagePremium, long interest, long clamp, long cap) {
    if (clamp < 0 || cap < 0) {
      throw new IllegalArgumentException("clamp and cap must not be negative");
    }
    long spread = Math.subtractExact(interest, averagePremium);
    long clamped = Math.max(-clamp, Math.min(clamp, spread));
    long uncapped = Math.addExact(averagePremium, clamped);
    return Math.max(-cap, Math.min(cap, uncapped));
  }

  /**
   * What a position of {@code lots} receives (positive) or pays (negative) at {@code rate} and
   * {@code markTicks}: notional times rate, a payment rounded up, a receipt rounded down.
   */
  public static long payment(long lots, long markTicks, long notionalMultiplier, long rate) {
    if (lots == 0 || rate == 0) {
      return 0;
    }
    long notional = MarginMath.notional(lots, markTicks, notionalMultiplier);
    long magnitude;
    boolean pays = (lots > 0) == (rate > 0);
    if (pays) {
      magnitude = MulDiv.mulDivCeil(notional, Math.abs(rate), ONE);
      return -magnitude;
    }
    return MulDiv.mulDivFloor(notional, Math.abs(rate), ONE);
  }

  /**
   * The default cap: 75% of (initial margin rate - maintenance margin rate) of the first risk
   * tier, initial margin rate = 1 / max leverage; rounded toward zero, at least 0.
   */
  public static long defaultCap(RiskTiers tiers) {
    RiskTier first = tiers.tiers().get(0);
    long initial = ONE / first.maxLeverage();
    long maintenance = Math.multiplyExact(first.maintenanceMarginRatePpm(), 100L);
    return Math.max(0, Math.multiplyExact(Math.subtractExact(initial, maintenance), 3L) / 4);
  }
}
