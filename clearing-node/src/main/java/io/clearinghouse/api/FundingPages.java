package io.clearinghouse.api;

import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import java.math.BigDecimal;

/**
 * Page sizes and cursors of the funding histories, checked: a size outside 1-500 (0 means 50)
 * or a cursor this API never handed out is refused (INVALID_PAGE), never clamped or guessed.
 * A cursor is the last row of the page before: {@code <fundingTime>} for an instrument's
 * intervals, {@code <fundingTime>:<instrument>} for an account's payments.
 */
final class FundingPages {
  static final int DEFAULT_SIZE = 50;
  static final int MAX_SIZE = 500;

  private FundingPages() {}

  static int size(int requested) {
    if (requested == 0) {
      return DEFAULT_SIZE;
    }
    if (requested < 0 || requested > MAX_SIZE) {
      throw new RejectedException(Rejection.INVALID_PAGE, "page size must be from 1 to " + MAX_SIZE
          + " (0: " + DEFAULT_SIZE + "), was " + requested);
    }
    return requested;
  }

  /** An interval cursor: the funding time of the last interval of the page before (0: first page). */
  static long intervalCursor(String token) {
    if (token.isEmpty()) {
      return 0;
    }
    return time(token);
  }

  record PaymentCursor(long fundingTime, String instrument) {
    static final PaymentCursor FIRST = new PaymentCursor(0, null);

    String token() {
      return fundingTime + ":" + instrument;
    }
  }

  static PaymentCursor paymentCursor(String token, Instruments instruments) {
    if (token.isEmpty()) {
      return PaymentCursor.FIRST;
    }
    int colon = token.indexOf(':');
    if (colon < 0) {
      throw invalid(token);
    }
    long time = time(token.substring(0, colon));
    String instrument = token.substring(colon + 1);
    try {
      instruments.require(instrument);
    } catch (RejectedException e) {
      throw invalid(token);
    }
    return new PaymentCursor(time, instrument);
  }

  private static long time(String text) {
    if (text.isEmpty() || text.length() > 19 || !text.chars().allMatch(Character::isDigit)) {
      throw invalid(text);
    }
    long time;
    try {
      time = Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw invalid(text);
    }
    if (time <= 0) {
      throw invalid(text);
    }
    return time;
  }

  private static RejectedException invalid(String token) {
    return new RejectedException(Rejection.INVALID_PAGE, "page token " + io.clearinghouse.common.Inputs.quote(token)
        + " is not one this call handed out");
  }

  /** A funding rate (10^-8) as a fraction with 8 decimals: 10,000 -> "0.00010000". */
  static String rate(long rate) {
    return BigDecimal.valueOf(rate, 8).toPlainString();
  }
}
