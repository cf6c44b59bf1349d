package io.clearinghouse.margin;

import java.util.Optional;

/**
 * The pure money rules of the reserves (DESIGN sections 6 and 7), beside {@link LiquidationRules}
 * and {@link PenaltySplit}: what the layers of a deficit's waterfall draw, what the operator's
 * capital may pay within its daily amount, what a replenishment moves, when an insurance fund
 * may take a position over, and what a close gave its counterparty against the mark.
 */
public final class ReserveRules {
  private ReserveRules() {}

  /**
   * The penalty layer of a deficit: what the liquidation's own penalties, still held in escrow,
   * cover of {@code need} (they absorb a deficit before any reserve pays).
   */
  public static long penaltyDraw(long need, long penaltyHeld) {
    return Math.max(0, Math.min(need, penaltyHeld));
  }

  /**
   * What is left of each close's penalty once {@code applied} of them covered the liquidation's own
   * deficit: taken from the first closes' penalties first.
   */
  public static long[] penaltiesLeft(long[] penalties, long applied) {
    long toApply = applied;
    long[] left = new long[penalties.length];
    for (int i = 0; i < penalties.length; i++) {
      long used = Math.min(toApply, penalties[i]);
      toApply -= used;
      left[i] = penalties[i] - used;
    }
    return left;
  }

  /**
   * What a stress scenario's deficit (after the liquidations' own penalties) is of a fund's free
   * balance, in ppm, rounded up: the share the scheduled stress tests warn at (issue 16 item 8).
   * A deficit against an empty fund is {@code Long.MAX_VALUE}; no deficit is 0.
   */
  public static long coverSharePpm(long deficit, long freeBalance) {
    if (deficit <= 0) {
      return 0;
    }
    if (freeBalance <= 0) {
      return Long.MAX_VALUE;
    }
    java.math.BigInteger share = java.math.BigInteger.valueOf(deficit).multiply(java.math.BigInteger.valueOf(
        MarginMath.PPM)).add(java.math.BigInteger.valueOf(freeBalance - 1)).divide(java.math.BigInteger.valueOf(
        freeBalance));
    return share.bitLength() < 63 ? share.longValue() : Long.MAX_VALUE;
  }

  /** A payment under a daily amount: at most what is left of it today ({@code drawnToday} already paid). */
  public static long withinDailyLimit(long payable, long dailyLimit, long drawnToday) {
    return Math.max(0, Math.min(payable, Math.subtractExact(dailyLimit, drawnToday)));
  }

  /** What a replenishment moves: {@code floor(available * sharePpm)}, at most {@code maxAmount}. */
  public static long replenishment(long available, long sharePpm, long maxAmount) {
    if (available <= 0 || sharePpm <= 0) {
      return 0;
    }
    return Math.max(0, Math.min(MulDiv.mulDivFloor(available, sharePpm, MarginMath.PPM), maxAmount));
  }

  /**
   * Why an insurance fund may not take a close over, if it may not: its position after the
   * takeover would be worth more than {@code maxNetNotional} at the takeover price, or the
   * takeover realizes a loss (against a position it already held) beyond what it can pay.
   */
  public static Optional<String> takeoverRefusal(long lotsAfter, long priceTicks, long multiplier, long maxNetNotional,
      long realizedPnl, long available) {
    long notional;
    try {
      notional = MarginMath.notional(lotsAfter, priceTicks, multiplier);
    } catch (ArithmeticException e) {
      return Optional.of("its position's notional would overflow");
    }
    if (notional > maxNetNotional) {
      return Optional.of("its position would reach a net notional of " + notional + ", above its takeover limit of "
          + maxNetNotional);
    }
    if (realizedPnl < 0 && -realizedPnl > available) {
      return Optional.of("it cannot pay the loss of " + (-realizedPnl) + " with " + available);
    }
    return Optional.empty();
  }

  /**
   * What a close at {@code priceTicks} gave the counterparty against the mark {@code markTicks}:
   * the trader closes {@code closedLots} (signed: a long is closed by a negative quantity), the
   * counterparty takes the opposite at that price. Positive: the trader gave up value (a provider's
   * spread, a fund's takeover below the mark); negative: the counterparty took a loss against the
   * mark (a deleveraging at a bankruptcy price beyond it: a socialized loss).
   */
  public static long counterpartyGain(long closedLots, long priceTicks, long markTicks, long multiplier) {
    return Math.multiplyExact(Math.multiplyExact(closedLots, Math.subtractExact(priceTicks, markTicks)), multiplier);
  }

  /** The penalty before the cut: {@code ceil(closed notional * rate)}. */
  public static long fullPenalty(long closedNotional, long liquidationFeePpm) {
    return MarginMath.fee(closedNotional, liquidationFeePpm);
  }
}
