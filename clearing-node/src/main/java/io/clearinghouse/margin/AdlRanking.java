package io.clearinghouse.margin;

/**
 * The auto-deleveraging score of DESIGN section 6 (BitMEX form), on exact integers in ppm:
 * {@code PnL% = (markValue - entryValue) / |entryValue|}, {@code effLev = |markValue| / funds}
 * where funds are what stands between the position and bankruptcy (the account's cross equity,
 * or an isolated position's margin plus its PnL). The score is {@code PnL% * effLev} when the
 * position is in profit, else {@code PnL% / effLev}: profitable, highly leveraged positions are
 * deleveraged first.
 */
public final class AdlRanking {
  /** Effective leverage is capped here (1,000,000x): funds at or below zero rank as the highest leverage. */
  static final long MAX_LEVERAGE_PPM = 1_000_000L * MarginMath.PPM;

  private AdlRanking() {}

  /** The score in ppm; higher is deleveraged first. */
  public static long score(long lots, long cost, long markTicks, long multiplier, long funds) {
    if (lots == 0) {
      throw new IllegalArgumentException("a flat position has no ADL score");
    }
    return score(MarginMath.notional(lots, markTicks, multiplier),
        MarginMath.unrealizedPnl(lots, cost, markTicks, multiplier), cost, funds);
  }

  /**
   * The same from a position's figures at the mark: its notional, unrealized PnL, signed cost
   * basis (its entry value) and the funds behind it.
   */
  public static long score(long notional, long pnl, long cost, long funds) {
    long pnlPpm = MulDiv.mulDivFloor(pnl, MarginMath.PPM, Math.max(1, Math.abs(cost)));
    long leveragePpm = funds <= 0 ? MAX_LEVERAGE_PPM
        : Math.min(MAX_LEVERAGE_PPM, MulDiv.mulDivFloor(notional, MarginMath.PPM, funds));
    if (pnlPpm > 0) {
      return MulDiv.mulDivFloor(pnlPpm, leveragePpm, MarginMath.PPM);
    }
    return MulDiv.mulDivFloor(pnlPpm, MarginMath.PPM, Math.max(1, leveragePpm));
  }

  /** Quintile 1 (lowest priority) to 5 (first in line) of the score at {@code rank} (0: highest) among {@code count}. */
  public static int quintile(int rank, int count) {
    if (count <= 0 || rank < 0 || rank >= count) {
      throw new IllegalArgumentException("rank " + rank + " out of " + count);
    }
    return 5 - (int) ((long) rank * 5 / count);
  }
}
