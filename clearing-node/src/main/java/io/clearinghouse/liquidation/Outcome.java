package io.clearinghouse.liquidation;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * How a liquidation (or a protective stop's close) ended. Journals and the API carry the
 * lower-case {@link #wire()} value ({@code LiquidationSaga.Finished} keeps it as a string, so that
 * every journal written before this type reads as it did); code decides on the constants.
 */
public enum Outcome {
  /** No deficit, or the insurance fund (or the operator's capital) covered it. */
  COVERED("covered"),
  /** Some of the close went to auto-deleveraging. */
  ADL("adl"),
  /** What nobody covered was recorded as the account's debt. */
  DEBT("debt"),
  /** A protective stop closed its position. */
  STOP("stop"),
  /** A protective stop found nothing to close. */
  STOP_UNFILLED("stop-unfilled");

  private final String wire;

  Outcome(String wire) {
    this.wire = wire;
  }

  /** The value in journals, gRPC answers and metric labels. */
  @JsonValue
  public String wire() {
    return wire;
  }

  /** The outcome of a wire value; null for null (a liquidation still running). */
  @JsonCreator
  public static Outcome of(String wire) {
    if (wire == null) {
      return null;
    }
    for (Outcome o : values()) {
      if (o.wire.equals(wire)) {
        return o;
      }
    }
    throw new IllegalArgumentException("no liquidation outcome \"" + wire + "\"");
  }
}
