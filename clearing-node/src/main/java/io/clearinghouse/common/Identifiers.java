package io.clearinghouse.common;

import java.util.regex.Pattern;

/** Syntax of the identifiers callers choose: account ids and idempotency keys. */
public final class Identifiers {
  public static final int MAX_LENGTH = 64;
  private static final Pattern ALLOWED = Pattern.compile("[A-Za-z0-9._:-]{1," + MAX_LENGTH + "}");

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

  private static String check(String value, Rejection reason, String what) {
    if (value == null || value.isEmpty()) {
      throw new RejectedException(reason, what + " is empty");
    }
    if (value.length() > MAX_LENGTH) {
      throw new RejectedException(reason, what + " is longer than " + MAX_LENGTH + " characters");
    }
    if (!ALLOWED.matcher(value).matches()) {
      throw new RejectedException(reason, what + " may only contain A-Z a-z 0-9 . _ : -");
    }
    return value;
  }
}
