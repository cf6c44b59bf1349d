package io.clearinghouse.margin;

/**
 * Market depth's rules (issue 16 item 3), pure: whether a market is thin, and how large one
 * liquidation close may be against the depth it hits.
 */
public final class DepthRules {
  private DepthRules() {}

  /** Thin: a threshold is set (above 0) and the depth is under it. */
  public static boolean thin(long depth, long thinBelow) {
    return thinBelow > 0 && depth < thinBelow;
  }

  /**
   * {@code closeSignedLots} cut to at most {@code sharePpm} of {@code depth} (minor units) at
   * {@code markTicks}: {@code floor(depth * share / (mark * multiplier))} lots, at least one lot so
   * that a liquidation always progresses, never more than the close; the close itself when the
   * share is 0 (off).
   */
  public static long slice(long closeSignedLots, long depth, long sharePpm, long markTicks, long multiplier) {
    return slice(closeSignedLots, depth, sharePpm, markTicks, multiplier, 0);
  }

  /**
   * The same, the cut at least {@code ceil(|close| * minSharePpm / 1e6)} lots (0: no such floor):
   * however thin the reported depth, each slice takes that share of what is left, so a liquidation
   * ends in about {@code (1e6 / minShare) * (1 + ln(lots * minShare / 1e6))} slices at most.
   */
  public static long slice(long closeSignedLots, long depth, long sharePpm, long markTicks, long multiplier,
      long minSharePpm) {
    if (minSharePpm < 0 || minSharePpm > MarginMath.PPM) {
      throw new IllegalArgumentException("minimum slice share " + minSharePpm);
    }
    if (sharePpm <= 0 || closeSignedLots == 0) {
      return closeSignedLots;
    }
    if (depth < 0 || markTicks <= 0 || multiplier <= 0 || sharePpm > MarginMath.PPM) {
      throw new IllegalArgumentException("depth " + depth + ", share " + sharePpm + ", mark " + markTicks
          + ", multiplier " + multiplier);
    }
    long allowed = MulDiv.mulDivFloor(depth, sharePpm, MarginMath.PPM);
    java.math.BigInteger perLot = java.math.BigInteger.valueOf(markTicks).multiply(java.math.BigInteger.valueOf(multiplier));
    long lots = java.math.BigInteger.valueOf(allowed).divide(perLot).longValue();
    long whole = Math.absExact(closeSignedLots);
    long floor = Math.max(1, MulDiv.mulDivCeil(whole, minSharePpm, MarginMath.PPM));
    long cut = Math.min(whole, Math.max(floor, lots));
    return Long.signum(closeSignedLots) * cut;
  }
}
