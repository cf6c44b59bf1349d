package io.clearinghouse.margin;

/**
 * The per-position margin formulas of DESIGN section 4, on exact integers. Money is minor units,
 * prices ticks, quantities signed lots; everything an account owes rounds up.
 */
public final class MarginMath {
  /** Parts per million: the denominator of every rate. */
  public static final long PPM = 1_000_000L;

  private MarginMath() {}

  /** {@code N = |q| * M * m}: the position's size in money at mark M. */
  public static long notional(long lots, long markTicks, long multiplier) {
    return Math.multiplyExact(Math.multiplyExact(Math.absExact(lots), markTicks), multiplier);
  }

  /** {@code U = q * M * m - c}: what closing at mark M would realize. */
  public static long unrealizedPnl(long lots, long cost, long markTicks, long multiplier) {
    return Math.subtractExact(Math.multiplyExact(Math.multiplyExact(lots, markTicks), multiplier), cost);
  }

  /**
   * {@code MM = ceil(N * mmr_k / 1e6) - cum_k} for the tier k holding N. Never negative: the
   * derived cum keeps MM continuous and non-decreasing from MM(0) = 0.
   */
  public static long maintenanceMargin(long notional, RiskTiers tiers) {
    return maintenanceMargin(notional, tiers.tierFor(notional));
  }

  /** The same for a caller that already looked up the tier holding the notional. */
  static long maintenanceMargin(long notional, RiskTier tier) {
    return Math.subtractExact(
        MulDiv.mulDivCeil(notional, tier.maintenanceMarginRatePpm(), PPM), tier.maintenanceAmount());
  }

  /** {@code IM = ceil(N / leverage)}. */
  public static long initialMargin(long notional, int leverage) {
    if (leverage < 1) {
      throw new IllegalArgumentException("leverage must be at least 1, was " + leverage);
    }
    return MulDiv.ceilDiv(notional, leverage);
  }

  /** {@code ceil(N * ppm / 1e6)}: a fee rounds up; a rebate (negative ppm) rounds toward zero. */
  public static long fee(long notional, long ppm) {
    return MulDiv.mulDivCeil(notional, ppm, PPM);
  }
}
