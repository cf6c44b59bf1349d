package io.clearinghouse.margin;

/**
 * A position's numbers at its mark, in minor units: notional, unrealized PnL, maintenance
 * margin and initial margin. The initial margin uses the position's leverage capped by the max
 * leverage of the tier its notional falls in.
 */
public record PositionMetrics(long notional, long unrealizedPnl, long maintenanceMargin, long initialMargin) {

  public static PositionMetrics of(PositionRisk p) {
    long notional = MarginMath.notional(p.lots(), p.markTicks(), p.multiplier());
    RiskTier tier = p.tiers().tierFor(notional);
    return new PositionMetrics(
        notional,
        MarginMath.unrealizedPnl(p.lots(), p.cost(), p.markTicks(), p.multiplier()),
        MarginMath.maintenanceMargin(notional, tier),
        initialMargin(notional, p.tiers(), tier, p.leverage()));
  }

  /**
   * At the leverage capped by the tier's maximum; scaled by the table's volatility and
   * open-interest scaling when it carries any ({@link MarginScaling#initialMargin}).
   */
  static long initialMargin(long notional, RiskTiers tiers, RiskTier tier, int leverage) {
    int capped = Math.min(leverage, tier.maxLeverage());
    return tiers.unscaled() ? MarginMath.initialMargin(notional, capped)
        : MarginScaling.initialMargin(notional, capped, tiers.initialScalePpm(), tiers.initialBlendPpm());
  }
}
