package io.clearinghouse.common;

/** A refused request: carries the stable reason and a message meant for the caller. */
public final class RejectedException extends RuntimeException {
  private final Rejection reason;

  public RejectedException(Rejection reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  public Rejection reason() {
    return reason;
  }
}
