package io.clearinghouse.margin;

import java.util.Objects;

/**
 * One position as the risk evaluation sees it: quantity and cost, the mark it is valued at, its
 * instrument's multiplier and tiers, the leverage chosen for it (already capped by the
 * operator's account cap) and its margin mode. {@code isolatedMargin} is the margin allocated to
 * an isolated position and must be 0 for a cross one.
 */
public record PositionRisk(
    String instrumentId,
    long lots,
    long cost,
    long markTicks,
    long multiplier,
    RiskTiers tiers,
    int leverage,
    MarginMode mode,
    long isolatedMargin) {

  public PositionRisk {
    Objects.requireNonNull(instrumentId, "instrument id is missing");
    Objects.requireNonNull(tiers, instrumentId + ": risk tiers are missing");
    Objects.requireNonNull(mode, instrumentId + ": margin mode is missing");
    if (lots == 0 && cost != 0) {
      throw new IllegalArgumentException(instrumentId + ": a flat position must have zero cost, had " + cost);
    }
    if (markTicks <= 0 || multiplier <= 0) {
      throw new IllegalArgumentException(instrumentId + ": mark and multiplier must be positive, were "
          + markTicks + " and " + multiplier);
    }
    if (leverage < 1) {
      throw new IllegalArgumentException(instrumentId + ": leverage must be at least 1, was " + leverage);
    }
    if (isolatedMargin < 0 || (mode == MarginMode.CROSS && isolatedMargin != 0)) {
      throw new IllegalArgumentException(instrumentId
          + ": isolated margin must be 0 for cross and non-negative for isolated, was " + isolatedMargin);
    }
  }

  /** The numbers shown for this position at its mark. */
  public PositionMetrics metrics() {
    return PositionMetrics.of(this);
  }
}
