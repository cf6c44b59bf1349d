package io.clearinghouse.margin;

/**
 * Exact {@code a * b / d} on longs with explicit rounding, the one helper every rate
 * multiplication goes through. The product is kept in 128 bits, so a notional in minor units
 * times a rate in ppm never overflows before the division; only a quotient that does not fit a
 * long throws {@link ArithmeticException}. Floor rounds toward negative infinity and ceil toward
 * positive infinity, for negative values too.
 */
public final class MulDiv {
  private MulDiv() {}

  /** {@code floor(a * b / d)} for {@code d > 0}. */
  public static long mulDivFloor(long a, long b, long d) {
    return mulDiv(a, b, d, false);
  }

  /** {@code ceil(a * b / d)} for {@code d > 0}. */
  public static long mulDivCeil(long a, long b, long d) {
    return mulDiv(a, b, d, true);
  }

  /** {@code floor(a / d)} for {@code d > 0}. */
  public static long floorDiv(long a, long d) {
    requirePositiveDivisor(d);
    return Math.floorDiv(a, d);
  }

  /** {@code ceil(a / d)} for {@code d > 0}; {@code Math.ceilDiv} only arrives in Java 18. */
  public static long ceilDiv(long a, long d) {
    requirePositiveDivisor(d);
    long quotient = a / d;
    // Truncation already rounded a negative quotient up; only a positive remainder needs a step.
    return a % d > 0 ? quotient + 1 : quotient;
  }

  private static long mulDiv(long a, long b, long d, boolean ceil) {
    requirePositiveDivisor(d);
    long high = Math.multiplyHigh(a, b);
    long low = a * b;
    if (high == (low >> 63)) {
      return ceil ? ceilDiv(low, d) : Math.floorDiv(low, d);
    }
    return wideDivide(high, low, d, ceil);
  }

  /** Divides the signed 128-bit value {@code high:low}, which does not fit a long, by d. */
  private static long wideDivide(long high, long low, long d, boolean ceil) {
    boolean negative = high < 0;
    if (negative) {
      high = ~high + (low == 0 ? 1 : 0);
      low = -low;
    }
    if (Long.compareUnsigned(high, d) >= 0) {
      throw overflow();
    }
    // Schoolbook binary division of the magnitude: remainder < d < 2^63, so shifting it left
    // by one bit never loses the top bit.
    long quotient = 0;
    long remainder = high;
    for (int bit = 63; bit >= 0; bit--) {
      remainder = (remainder << 1) | ((low >>> bit) & 1);
      quotient <<= 1;
      if (Long.compareUnsigned(remainder, d) >= 0) {
        remainder -= d;
        quotient |= 1;
      }
    }
    // quotient is an unsigned magnitude; a step away from zero applies when rounding outward.
    boolean stepAway = remainder != 0 && (negative != ceil);
    if (negative) {
      if (stepAway) {
        quotient++;
        if (quotient == 0) {
          throw overflow();
        }
      }
      // Magnitudes up to 2^63 fit once negated; 2^63 itself is Long.MIN_VALUE.
      if (Long.compareUnsigned(quotient, Long.MIN_VALUE) > 0) {
        throw overflow();
      }
      return -quotient;
    }
    if (stepAway) {
      quotient++;
    }
    if (quotient < 0) {
      throw overflow();
    }
    return quotient;
  }

  private static void requirePositiveDivisor(long d) {
    if (d <= 0) {
      throw new IllegalArgumentException("divisor must be positive, was " + d);
    }
  }

  private static ArithmeticException overflow() {
    return new ArithmeticException("mul-div result does not fit a long");
  }
}
