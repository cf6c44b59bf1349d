package io.clearinghouse.liquidation;

/**
 * How much of a planned liquidation close goes in one step (issue 16 item 3): the node cuts it
 * to its instrument's share of the published market depth, and the saga's next plan takes the
 * rest, one slice after another.
 */
@FunctionalInterface
public interface CloseSizing {
  /** Every close whole. */
  CloseSizing WHOLE = (instrument, signedLots, markTicks) -> signedLots;

  /** The lots (same sign, at least one, at most the plan's) to close now of {@code signedLots}. */
  long slice(String instrument, long signedLots, long markTicks);

  /**
   * At most the instrument's {@code liquidation-depth-share} of the depth the close hits, as this
   * node last heard it, and at least its {@code liquidation-min-slice-share} of the close; whole
   * when the share is 0 or no source reported depth in time.
   */
  static CloseSizing byDepth(io.clearinghouse.instrument.Instruments instruments,
      io.clearinghouse.price.MarketDepth depth) {
    return (instrument, signedLots, markTicks) -> {
      var spec = instruments.spec(instrument);
      long share = spec.depth().closeSharePpm();
      java.util.OptionalLong hit = share == 0 ? java.util.OptionalLong.empty() : depth.against(instrument, signedLots);
      return hit.isEmpty() ? signedLots : io.clearinghouse.margin.DepthRules.slice(signedLots, hit.getAsLong(), share,
          markTicks, spec.contract().notionalMultiplier(), spec.depth().minSliceSharePpm());
    };
  }
}
