package io.clearinghouse.margin;

import java.util.OptionalLong;

/**
 * Liquidation and bankruptcy prices of one position, for display and alerts only: the trigger
 * compares exact integers at the current mark and never uses these prices.
 *
 * <p>{@code funds} is what backs the position besides its own PnL, with every other mark held
 * fixed: for a cross position {@code cash + sum(other U) - sum(other MM)} (for the bankruptcy
 * price without the MM term), for an isolated one its allocated margin. The liquidation price
 * solves {@code funds + q*M*m - c = MM(|q|*M*m)}, the bankruptcy price {@code funds + q*M*m - c = 0}.
 *
 * <p>The answer is the boundary tick on the liquidated side: the exact trigger fires at it and
 * not one tick safer (one tick higher for a long, lower for a short). The position is liquidated
 * whenever the mark is at or beyond the displayed price and never before it, so the display is
 * never optimistic. Rounding the real-valued root itself up for a long (down for a short) would
 * usually show the tick one step safer, at which the trigger does not fire yet.
 *
 * <p>Per tier k the root is solved in closed form (DESIGN section 4) and the first tier whose
 * root lies in its own bracket is taken. With integer inputs the derived maintenance amounts make
 * neighbouring tiers' linear forms agree in sign at every edge, so exactly one tier claims the
 * root, except when the root is exactly an edge {@code L} that only the lower tier's form reaches
 * (its root {@code L} is outside its half-open bracket and the upper tier's root is below
 * {@code L}); then {@code L} itself is used. The closed form only positions the search: the exact
 * integer trigger decides, which works because {@code funds + U - MM} is monotone in the mark.
 *
 * <p>Empty when no representable tick is a boundary: the position is safe at every price (a
 * well-collateralized long), or the account is liquidatable whatever this mark does (other
 * positions have sunk it), or the boundary lies beyond the largest tick whose notional fits a
 * long.
 */
public final class LiquidationPrice {
  private LiquidationPrice() {}

  /** The boundary of {@code funds + q*M*m - c <= MM(|q|*M*m)} in ticks; see the class comment. */
  public static OptionalLong liquidationPriceTicks(long funds, long lots, long cost, long multiplier, RiskTiers tiers) {
    if (tiers == null) {
      throw new IllegalArgumentException("risk tiers are missing");
    }
    return boundary(funds, lots, cost, multiplier, tiers);
  }

  /** The boundary of {@code funds + q*M*m - c <= 0} in ticks; see the class comment. */
  public static OptionalLong bankruptcyPriceTicks(long funds, long lots, long cost, long multiplier) {
    return boundary(funds, lots, cost, multiplier, null);
  }

  /** Whether the position is at or past the boundary at {@code markTicks}; null tiers mean no MM. */
  static boolean triggers(long funds, long lots, long cost, long multiplier, RiskTiers tiers, long markTicks) {
    long maintenance = tiers == null ? 0
        : MarginMath.maintenanceMargin(MarginMath.notional(lots, markTicks, multiplier), tiers);
    try {
      long equity = Math.addExact(funds, MarginMath.unrealizedPnl(lots, cost, markTicks, multiplier));
      return equity <= maintenance;
    } catch (ArithmeticException beyondALong) {
      // Large funds and a far mark: the equity does not fit a long, but its comparison is exact.
      java.math.BigInteger equity = java.math.BigInteger.valueOf(funds)
          .add(java.math.BigInteger.valueOf(lots).multiply(java.math.BigInteger.valueOf(markTicks))
              .multiply(java.math.BigInteger.valueOf(multiplier)))
          .subtract(java.math.BigInteger.valueOf(cost));
      return equity.compareTo(java.math.BigInteger.valueOf(maintenance)) <= 0;
    }
  }

  private static OptionalLong boundary(long funds, long lots, long cost, long multiplier, RiskTiers tiers) {
    if (lots == 0) {
      return OptionalLong.empty();
    }
    if (multiplier <= 0) {
      throw new IllegalArgumentException("multiplier must be positive, was " + multiplier);
    }
    long lotValue = Math.multiplyExact(Math.absExact(lots), multiplier);
    long maxTick = Long.MAX_VALUE / lotValue;
    long start = Math.min(Math.max(startingTick(funds, lots, cost, lotValue, tiers), 1), maxTick);
    // A long is safer at higher marks, a short at lower ones.
    long safer = lots > 0 ? 1 : -1;
    if (triggers(funds, lots, cost, multiplier, tiers, start)) {
      return walk(funds, lots, cost, multiplier, tiers, start, safer, maxTick, true);
    }
    return walk(funds, lots, cost, multiplier, tiers, start, -safer, maxTick, false);
  }

  /**
   * Gallops from {@code from} in {@code direction} (+1 or -1) while the trigger keeps the value
   * {@code triggering}, doubling the step, then bisects the last gap; returns the tick on the
   * triggering side of the boundary, or empty when the range of ticks ends first.
   */
  private static OptionalLong walk(long funds, long lots, long cost, long multiplier, RiskTiers tiers,
      long from, long direction, long maxTick, boolean triggering) {
    long inside = from;
    long distance = 1;
    long outside;
    while (true) {
      long limit = direction > 0 ? maxTick - inside : inside - 1;
      if (limit == 0) {
        return OptionalLong.empty();
      }
      long next = inside + direction * Math.min(distance, limit);
      if (triggers(funds, lots, cost, multiplier, tiers, next) != triggering) {
        outside = next;
        break;
      }
      inside = next;
      distance = distance > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : distance * 2;
    }
    while (Math.abs(outside - inside) > 1) {
      long middle = inside + (outside - inside) / 2;
      if (triggers(funds, lots, cost, multiplier, tiers, middle) == triggering) {
        inside = middle;
      } else {
        outside = middle;
      }
    }
    return OptionalLong.of(triggering ? inside : outside);
  }

  /** A tick near the root from the closed form; only a starting point for the exact search. */
  private static long startingTick(long funds, long lots, long cost, long lotValue, RiskTiers tiers) {
    try {
      long notional = tiers == null ? bankruptcyNotional(funds, lots, cost) : liquidationNotional(funds, lots, cost, tiers);
      return Math.floorDiv(notional, lotValue);
    } catch (ArithmeticException e) {
      // A root too large for a long: the search still finds any representable boundary.
      return 1;
    }
  }

  /** Long: {@code N = c - funds}; short: {@code N = funds - c}. */
  private static long bankruptcyNotional(long funds, long lots, long cost) {
    return lots > 0 ? Math.subtractExact(cost, funds) : Math.subtractExact(funds, cost);
  }

  /**
   * Long: {@code N = (c - funds - cum_k) / (1 - mmr_k)}; short:
   * {@code N = (funds - c + cum_k) / (1 + mmr_k)}, from {@code funds + q*M*m - c = N*mmr_k - cum_k}.
   */
  static long liquidationNotional(long funds, long lots, long cost, RiskTiers tiers) {
    long fallback = 0;
    boolean fallbackFound = false;
    int last = tiers.tiers().size() - 1;
    for (int k = 0; k <= last; k++) {
      RiskTier tier = tiers.tiers().get(k);
      long rate = tier.maintenanceMarginRatePpm();
      long root = lots > 0
          ? MulDiv.mulDivFloor(Math.subtractExact(Math.subtractExact(cost, funds), tier.maintenanceAmount()),
              MarginMath.PPM, MarginMath.PPM - rate)
          : MulDiv.mulDivFloor(Math.addExact(Math.subtractExact(funds, cost), tier.maintenanceAmount()),
              MarginMath.PPM, MarginMath.PPM + rate);
      if (root >= tier.lowerBound() && (root < tier.upperBound() || k == last)) {
        return root;
      }
      if (root < tier.lowerBound() && !fallbackFound) {
        fallback = tier.lowerBound();
        fallbackFound = true;
      }
    }
    return fallback;
  }
}
