package io.clearinghouse.margin;

import java.math.BigInteger;

/**
 * The volatility index of issue 16 item 1, on exact integers: realized volatility from consecutive
 * marks, annualized, in parts per million. Each step's simple return is
 * {@code r = (next - previous) * 1e6 / previous} ppm (rounded toward zero); the window's realized
 * variance is the sum of {@code r^2} over the steps inside it; annualized over the time the window
 * covers, {@code vol = floor(sqrt(sum(r^2) * year / covered))} ppm. The sum of squared returns does
 * not depend on how often marks came (it measures the path's quadratic variation), so nodes that
 * saw marks at different rates agree closely.
 */
public final class Volatility {
  private Volatility() {}

  /** Milliseconds in a year of 365 days: crypto trades every day. */
  public static final long YEAR_MILLIS = 365L * 24 * 60 * 60 * 1000;

  /** One step's simple return in ppm, rounded toward zero; 0 when either mark is not positive. */
  public static long returnPpm(long previousTicks, long nextTicks) {
    if (previousTicks <= 0 || nextTicks <= 0) {
      return 0;
    }
    return MulDiv.mulDivFloor(Math.abs(nextTicks - previousTicks), MarginMath.PPM, previousTicks)
        * Long.signum(nextTicks - previousTicks);
  }

  /** A return's square (ppm squared); a return is at most 1e6 down, and a rise is capped there too. */
  public static long squared(long returnPpm) {
    long capped = Math.min(Math.abs(returnPpm), 100 * MarginMath.PPM);
    return capped * capped;
  }

  /**
   * The annualized volatility in ppm of {@code sumOfSquares} (ppm squared) realized over
   * {@code coveredMillis}: {@code floor(sqrt(sumOfSquares * YEAR_MILLIS / coveredMillis))}; 0 when
   * nothing is covered.
   */
  public static long annualizedPpm(long sumOfSquares, long coveredMillis) {
    if (sumOfSquares <= 0 || coveredMillis <= 0) {
      return 0;
    }
    BigInteger annual = BigInteger.valueOf(sumOfSquares).multiply(BigInteger.valueOf(YEAR_MILLIS))
        .divide(BigInteger.valueOf(coveredMillis));
    BigInteger root = annual.sqrt();
    return root.bitLength() < 63 ? root.longValue() : Long.MAX_VALUE;
  }

  /** Whether {@code shortPpm} exceeds {@code multiplePpm} (ppm: 3x is 3,000,000) of {@code longPpm}. */
  public static boolean unusual(long shortPpm, long longPpm, long multiplePpm) {
    if (longPpm <= 0) {
      return false;
    }
    return BigInteger.valueOf(shortPpm).multiply(BigInteger.valueOf(MarginMath.PPM))
        .compareTo(BigInteger.valueOf(longPpm).multiply(BigInteger.valueOf(multiplePpm))) > 0;
  }
}
