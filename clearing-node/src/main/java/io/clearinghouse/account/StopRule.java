package io.clearinghouse.account;

/** When a protective stop fires: the mark at or through it, against the position. */
public final class StopRule {
  private StopRule() {}

  /** A long's stop fires when the mark falls to or below it, a short's when it rises to or above it. */
  public static boolean crossed(long lots, long stopTicks, long markTicks) {
    return stopTicks > 0 && lots != 0 && (lots > 0 ? markTicks <= stopTicks : markTicks >= stopTicks);
  }
}
