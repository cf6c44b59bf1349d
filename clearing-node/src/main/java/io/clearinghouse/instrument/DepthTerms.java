package io.clearinghouse.instrument;

/**
 * How one instrument uses its published market depth (issue 16 item 3): below
 * {@code thinBelow} (minor units of notional on the side a close would hit; 0: never) the market
 * is thin (THIN_MARKET on the holders' streams, a metric); a liquidation close is at most
 * {@code closeSharePpm} of that depth (0: not sliced), at least one lot and at least
 * {@code minSliceSharePpm} of what the plan closes (0: no such floor), so that an empty or tiny
 * published depth cannot make a liquidation crawl one lot at a time.
 */
public record DepthTerms(long thinBelow, long closeSharePpm, long minSliceSharePpm) {
  public static final DepthTerms NONE = new DepthTerms(0, 0, 0);

  /**
   * The least {@code liquidation-min-slice-share} the configuration accepts (0.1%): without a floor
   * an empty published depth closes one lot at a time, and a large position's plan (in the saga and
   * in the stress test's simulation, which stops at LiquidationSimulation.MAX_CLOSES) never ends.
   */
  public static final long MIN_SLICE_FLOOR_PPM = 1_000;

  public DepthTerms(long thinBelow, long closeSharePpm) {
    this(thinBelow, closeSharePpm, 0);
  }

  public DepthTerms {
    if (minSliceSharePpm < 0 || minSliceSharePpm > 1_000_000) {
      throw new IllegalArgumentException("the liquidation minimum slice share must be from 0% to 100%");
    }
    if (thinBelow < 0) {
      throw new IllegalArgumentException("the thin-market depth must not be negative");
    }
    if (closeSharePpm < 0 || closeSharePpm > 1_000_000) {
      throw new IllegalArgumentException("the liquidation depth share must be from 0% to 100%");
    }
  }
}
