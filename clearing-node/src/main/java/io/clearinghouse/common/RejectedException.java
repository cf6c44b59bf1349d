package io.clearinghouse.common;

/** A refused request: carries the stable reason and a message meant for the caller. */
public final class RejectedException extends RuntimeException {
  private final Rejection reason;

  /** No message is longer than this: the last guard against echoing a huge input back. */
  public static final int MAX_MESSAGE_LENGTH = 400;

  public RejectedException(Rejection reason, String message) {
    super(message != null && message.length() > MAX_MESSAGE_LENGTH
        ? message.substring(0, MAX_MESSAGE_LENGTH) + "..." : message, null, false, false);
    this.reason = reason;
  }

  public Rejection reason() {
    return reason;
  }
}
