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
        initialMargin(notional, tier, p.leverage()));
  }

  static long initialMargin(long notional, RiskTier tier, int leverage) {
    return MarginMath.initialMargin(notional, Math.min(leverage, tier.maxLeverage()));
  }
}
