package io.clearinghouse.money;

import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;

/**
 * A settlement asset and its scale: amounts are {@code long} counts of 10^-scale units
 * (USDT with scale 6: 1 = 0.000001 USDT). Converts between those counts and the decimal
 * strings of the API exactly; nothing is ever rounded here.
 */
public record Asset(String code, int scale, long maxAmount) {
  /** Longest decimal string accepted, generous for any long at any scale. */
  private static final int MAX_TEXT_LENGTH = 40;

  /** An asset whose requests may carry any amount that fits a long (for ratios and tests). */
  public Asset(String code, int scale) {
    this(code, scale, Long.MAX_VALUE);
  }

  public Asset {
    if (maxAmount < 1) {
      throw new IllegalArgumentException("the maximum amount of one request must be positive, was " + maxAmount);
    }
    if (code == null || code.isBlank()) {
      throw new IllegalArgumentException("asset code is empty");
    }
    if (scale < 0 || scale > 18) {
      throw new IllegalArgumentException("asset scale must be between 0 and 18, was " + scale);
    }
  }

  /**
   * Parses a strictly positive amount such as "1250.5" or "1250.000000" into minor units.
   * Refuses signs, exponents, separators, blanks, more decimals than the scale, zero and
   * anything that does not fit a long.
   */
  public long parsePositive(String text) {
    long value = parse(text);
    if (value == 0) {
      throw new RejectedException(Rejection.AMOUNT_NOT_POSITIVE, "amount must be greater than zero");
    }
    if (value > maxAmount) {
      throw new RejectedException(Rejection.AMOUNT_ABOVE_MAXIMUM,
          "amount is above the maximum of " + format(maxAmount) + " " + code + " for one request");
    }
    return value;
  }

  /** A signed, non-zero amount such as "-100" or "250.5" (moves in either direction). */
  public long parseNonZero(String text) {
    if (text != null && text.startsWith("-")) {
      return -parsePositive(text.substring(1));
    }
    return parsePositive(text);
  }

  /**
   * An amount as the API writes it, signed and possibly zero ("-53.250001", "0.000000"), into
   * minor units; the same refusals as {@link #parsePositive} otherwise.
   */
  public long parseSigned(String text) {
    if (text != null && text.startsWith("-") && text.length() > 1 && text.charAt(1) != '-') {
      return Math.negateExact(parse(text.substring(1)));
    }
    return parse(text);
  }

  private long parse(String text) {
    if (text == null || text.isEmpty() || text.length() > MAX_TEXT_LENGTH) {
      throw malformed(text);
    }
    if (text.charAt(0) == '-') {
      if (isUnsignedDecimal(text.substring(1))) {
        throw new RejectedException(Rejection.AMOUNT_NOT_POSITIVE, "amount must not be negative: " + io.clearinghouse.common.Inputs.quote(text));
      }
      throw malformed(text);
    }
    if (!isUnsignedDecimal(text)) {
      throw malformed(text);
    }
    int dot = text.indexOf('.');
    String whole = dot < 0 ? text : text.substring(0, dot);
    String fraction = dot < 0 ? "" : text.substring(dot + 1);
    if (fraction.length() > scale) {
      throw new RejectedException(Rejection.AMOUNT_TOO_PRECISE,
          "amount " + io.clearinghouse.common.Inputs.quote(text) + " has more than " + scale + " decimal places for " + code);
    }
    try {
      long units = 0;
      for (int i = 0; i < whole.length(); i++) {
        units = Math.addExact(Math.multiplyExact(units, 10), whole.charAt(i) - '0');
      }
      for (int i = 0; i < scale; i++) {
        int digit = i < fraction.length() ? fraction.charAt(i) - '0' : 0;
        units = Math.addExact(Math.multiplyExact(units, 10), digit);
      }
      return units;
    } catch (ArithmeticException e) {
      throw new RejectedException(Rejection.AMOUNT_OVERFLOW, "amount " + io.clearinghouse.common.Inputs.quote(text) + " is too large");
    }
  }

  private static boolean isUnsignedDecimal(String s) {
    int dot = s.indexOf('.');
    if (dot != s.lastIndexOf('.')) {
      return false;
    }
    String whole = dot < 0 ? s : s.substring(0, dot);
    String fraction = dot < 0 ? null : s.substring(dot + 1);
    return allDigits(whole) && (fraction == null || allDigits(fraction));
  }

  private static boolean allDigits(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  private static RejectedException malformed(String text) {
    String shown = text == null ? "nothing" : text.length() > MAX_TEXT_LENGTH ? text.substring(0, MAX_TEXT_LENGTH) + "..." : text;
    return new RejectedException(Rejection.MALFORMED_AMOUNT,
        "amount must be a plain decimal number such as 1250.5, got " + shown);
  }

  /** Formats minor units as a decimal string with exactly {@code scale} places. */
  public String format(long units) {
    String digits = Long.toString(units);
    boolean negative = units < 0;
    if (negative) {
      digits = digits.substring(1);
    }
    if (scale == 0) {
      return (negative ? "-" : "") + digits;
    }
    if (digits.length() <= scale) {
      digits = "0".repeat(scale - digits.length() + 1) + digits;
    }
    int point = digits.length() - scale;
    return (negative ? "-" : "") + digits.substring(0, point) + "." + digits.substring(point);
  }
}
