package io.clearinghouse.margin;

import java.math.BigDecimal;

/**
 * Converts between decimal strings and whole counts of a step (ticks of a price, lots of a
 * quantity). The only place prices and quantities touch {@code BigDecimal}; nothing is rounded.
 */
final class DecimalSteps {
  /** Longest accepted text: generous for any long count at any sensible step. */
  private static final int MAX_TEXT_LENGTH = 40;

  private DecimalSteps() {}

  /**
   * Parses a strictly positive plain decimal ("50000.1", "0.001", "7") into a count of
   * {@code step}. {@code what} names the value in messages ("price", "quantity").
   */
  static long parsePositive(String text, BigDecimal step, ParseProblem offStep, String what, String symbol) {
    if (text == null || text.isEmpty() || text.length() > MAX_TEXT_LENGTH) {
      throw malformed(text, what, symbol);
    }
    boolean negative = text.charAt(0) == '-';
    String digits = negative ? text.substring(1) : text;
    if (!isUnsignedDecimal(digits)) {
      throw malformed(text, what, symbol);
    }
    BigDecimal value = new BigDecimal(digits);
    if (negative || value.signum() == 0) {
      throw new InstrumentInputException(ParseProblem.NOT_POSITIVE,
          what + " must be greater than zero for " + symbol + ", got " + text);
    }
    BigDecimal[] quotientAndRemainder = value.divideAndRemainder(step);
    if (quotientAndRemainder[1].signum() != 0) {
      String stepName = offStep == ParseProblem.OFF_TICK ? "tick size" : "lot size";
      throw new InstrumentInputException(offStep,
          what + " " + text + " is not a multiple of the " + stepName + " " + step.toPlainString() + " of " + symbol);
    }
    try {
      return quotientAndRemainder[0].longValueExact();
    } catch (ArithmeticException e) {
      throw new InstrumentInputException(ParseProblem.OVERFLOW, what + " " + text + " is too large for " + symbol);
    }
  }

  /** Formats {@code count * step} with exactly as many decimals as the step has. */
  static String format(long count, BigDecimal step) {
    return BigDecimal.valueOf(count).multiply(step).setScale(decimals(step)).toPlainString();
  }

  /** Decimals of a step normalized by {@link #normalize}: 1 for "0.1", 0 for "5" or "10". */
  static int decimals(BigDecimal step) {
    return Math.max(0, step.scale());
  }

  /** Parses a step size from config, which must be a positive plain decimal. */
  static BigDecimal parseStep(String text, String what, String symbol) {
    if (text == null || !isUnsignedDecimal(text)) {
      throw new IllegalArgumentException(symbol + ": " + what + " must be a plain positive decimal, got " + text);
    }
    return normalize(new BigDecimal(text), what, symbol);
  }

  /** Strips trailing zeros so that "0.10" and "0.1" are the same step and format alike. */
  static BigDecimal normalize(BigDecimal step, String what, String symbol) {
    if (step == null || step.signum() <= 0) {
      throw new IllegalArgumentException(symbol + ": " + what + " must be positive, got " + step);
    }
    return step.stripTrailingZeros();
  }

  private static boolean isUnsignedDecimal(String s) {
    int dot = s.indexOf('.');
    if (dot != s.lastIndexOf('.')) {
      return false;
    }
    return dot < 0 ? allDigits(s) : allDigits(s.substring(0, dot)) && allDigits(s.substring(dot + 1));
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

  private static InstrumentInputException malformed(String text, String what, String symbol) {
    String shown = text == null ? "nothing"
        : text.length() > MAX_TEXT_LENGTH ? text.substring(0, MAX_TEXT_LENGTH) + "..." : text;
    return new InstrumentInputException(ParseProblem.MALFORMED,
        what + " for " + symbol + " must be a plain decimal number such as 50000.1, got " + shown);
  }
}
