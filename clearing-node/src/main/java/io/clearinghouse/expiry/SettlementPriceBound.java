package io.clearinghouse.expiry;

import io.clearinghouse.margin.OrderRules;
import java.util.Optional;

/**
 * An operator's settlement price against the index (issue 17 review): unforced, it must lie
 * within the instrument's price band around the last index the node knows (the band trades are
 * held to around the mark); with no index known there is nothing to bound it by, so it must be
 * forced. A forced price is taken wherever it lies, its reason recorded with the operator's name.
 */
final class SettlementPriceBound {
  private SettlementPriceBound() {}

  /** Why {@code priceTicks} cannot be taken unforced, if it cannot. */
  static Optional<String> refusal(String instrument, long priceTicks, long lastIndexTicks, long bandPpm) {
    if (lastIndexTicks <= 0) {
      return Optional.of("no index of " + instrument + " is known to bound a settlement price of " + priceTicks
          + " ticks: force it with a reason");
    }
    if (!OrderRules.withinBand(priceTicks, lastIndexTicks, bandPpm)) {
      return Optional.of("a settlement price of " + priceTicks + " ticks is outside the price band (" + bandPpm
          + " ppm) around the last index " + lastIndexTicks + " ticks of " + instrument + ": force it with a reason");
    }
    return Optional.empty();
  }
}
