package io.clearinghouse.common;

import java.util.regex.Pattern;

/** Syntax of the identifiers callers choose: account ids and idempotency keys. */
public final class Identifiers {
  public static final int MAX_LENGTH = 64;
  private static final Pattern ALLOWED_CHARACTERS = Pattern.compile("[A-Za-z0-9._:-]+");

  private Identifiers() {}

  public static String accountId(String value) {
    return check(value, Rejection.INVALID_ACCOUNT_ID, "account id");
  }

  public static String idempotencyKey(String value) {
    return check(value, Rejection.INVALID_IDEMPOTENCY_KEY, "idempotency key");
  }

  public static String tradeId(String value) {
    return check(value, Rejection.INVALID_TRADE_ID, "trade id");
  }

  public static String orderId(String value) {
    return check(value, Rejection.INVALID_ORDER_ID, "order id");
  }

  /** An account id, a dash and a journal sequence number. */
  public static String liquidationId(String value) {
    return check(value, Rejection.UNKNOWN_LIQUIDATION_ID, "liquidation id", MAX_LENGTH + 20);
  }

  public static String fundId(String value) {
    return check(value, Rejection.UNKNOWN_FUND, "insurance fund");
  }

  private static String check(String value, Rejection reason, String what) {
    return check(value, reason, what, MAX_LENGTH);
  }

  private static String check(String value, Rejection reason, String what, int maxLength) {
    if (value == null || value.isEmpty()) {
      throw new RejectedException(reason, what + " is empty");
    }
    if (value.length() > maxLength) {
      throw new RejectedException(reason, what + " is longer than " + maxLength + " characters");
    }
    if (!ALLOWED_CHARACTERS.matcher(value).matches()) {
      throw new RejectedException(reason, what + " may only contain A-Z a-z 0-9 . _ : -");
    }
    return value;
  }
}
