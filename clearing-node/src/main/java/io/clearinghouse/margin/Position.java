package io.clearinghouse.margin;

import java.util.OptionalLong;

/**
 * A position in one instrument: signed quantity {@code lots} (long > 0, short < 0) and signed
 * cost basis {@code cost} in minor units (a buy adds its value, a sell subtracts it). A flat
 * position has cost exactly 0: any rounding residue of partial closes stays in the cost until the
 * final close realizes it.
 */
public record Position(long lots, long cost) {
  public static final Position FLAT = new Position(0, 0);

  public Position {
    if (lots == 0 && cost != 0) {
      throw new IllegalArgumentException("a flat position must have zero cost, had " + cost);
    }
  }

  /**
   * Applies a trade of {@code signedLots} (buy > 0, sell < 0) at {@code priceTicks}. For the
   * traded value {@code v = signedLots * price * multiplier}, every step keeps
   * {@code realizedPnl - (newCost - cost) == -v}: the trade's value moves between cash and cost
   * and nothing else, so rounding cannot create or destroy money.
   *
   * <ul>
   *   <li>opening or increasing: cost grows by v, nothing is realized;
   *   <li>reducing by r of |q| lots: {@code ceil(cost * r / |q|)} leaves the cost; ceiling toward
   *       +inf removes slightly more cost from a long and slightly less from a short, so the
   *       realized payout rounds down for both sides;
   *   <li>closing: the whole cost leaves;
   *   <li>crossing zero: a full close, then the remainder opens at the trade price.
   * </ul>
   */
  public PositionChange apply(long signedLots, long priceTicks, long multiplier) {
    if (signedLots == 0) {
      throw new IllegalArgumentException("a trade must have a non-zero quantity");
    }
    if (priceTicks <= 0 || multiplier <= 0) {
      throw new IllegalArgumentException("price and multiplier must be positive, were " + priceTicks + " and " + multiplier);
    }
    long tradeValue = value(signedLots, priceTicks, multiplier);
    if (lots == 0 || Long.signum(lots) == Long.signum(signedLots)) {
      return new PositionChange(new Position(Math.addExact(lots, signedLots), Math.addExact(cost, tradeValue)), 0);
    }
    long held = Math.absExact(lots);
    long traded = Math.absExact(signedLots);
    if (traded < held) {
      long costRemoved = MulDiv.mulDivCeil(cost, traded, held);
      long realized = Math.subtractExact(Math.negateExact(tradeValue), costRemoved);
      return new PositionChange(new Position(lots + signedLots, Math.subtractExact(cost, costRemoved)), realized);
    }
    // The closing part trades -lots; what is left of the trade opens a new position.
    long closingValue = value(Math.negateExact(lots), priceTicks, multiplier);
    long realized = Math.subtractExact(Math.negateExact(closingValue), cost);
    long remainder = lots + signedLots;
    Position opened = remainder == 0 ? FLAT : new Position(remainder, value(remainder, priceTicks, multiplier));
    return new PositionChange(opened, realized);
  }

  /**
   * Entry price {@code cost / (lots * multiplier)} in ticks, rounded half up, for display; empty
   * when flat. Never used to compute money.
   */
  public OptionalLong entryPriceTicks(long multiplier) {
    if (lots == 0) {
      return OptionalLong.empty();
    }
    long numerator = cost;
    long denominator = Math.multiplyExact(lots, multiplier);
    if (denominator < 0) {
      numerator = Math.negateExact(numerator);
      denominator = Math.negateExact(denominator);
    }
    long quotient = Math.floorDiv(numerator, denominator);
    long remainder = Math.floorMod(numerator, denominator);
    // remainder >= denominator - remainder is 2 * remainder >= denominator without overflow.
    return OptionalLong.of(remainder >= denominator - remainder ? quotient + 1 : quotient);
  }

  private static long value(long signedLots, long priceTicks, long multiplier) {
    return Math.multiplyExact(Math.multiplyExact(signedLots, priceTicks), multiplier);
  }
}
