package io.clearinghouse.instrument;

/**
 * How one instrument uses its published market depth (issue 16 item 3): below
 * {@code thinBelow} (minor units of notional on the side a close would hit; 0: never) the market
 * is thin (THIN_MARKET on the holders' streams, a metric); a liquidation close is at most
 * {@code closeSharePpm} of that depth (0: not sliced), at least one lot.
 */
public record DepthTerms(long thinBelow, long closeSharePpm) {
  public static final DepthTerms NONE = new DepthTerms(0, 0);

  public DepthTerms {
    if (thinBelow < 0) {
      throw new IllegalArgumentException("the thin-market depth must not be negative");
    }
    if (closeSharePpm < 0 || closeSharePpm > 1_000_000) {
      throw new IllegalArgumentException("the liquidation depth share must be from 0% to 100%");
    }
  }
}
