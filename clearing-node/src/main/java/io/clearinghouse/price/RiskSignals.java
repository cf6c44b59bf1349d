package io.clearinghouse.price;

import io.clearinghouse.instrument.Instruments;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * The per-instrument risk signals an account stream raises for the positions it holds (issue 16
 * items 2 and 3): maintenance margin about to tighten (MARGIN_TIGHTENING) and a thin market on
 * the side the position's close would hit (THIN_MARKET).
 */
public final class RiskSignals {
  private final Instruments instruments;
  private final MarginScales scales;
  private final MarketDepth depth;

  public RiskSignals(Instruments instruments, MarginScales scales, MarketDepth depth) {
    this.instruments = instruments;
    this.scales = scales;
    this.depth = depth;
  }

  public MarginScales scales() {
    return scales;
  }

  public MarketDepth depth() {
    return depth;
  }

  /** Of the positions held (instrument to signed lots), those whose maintenance margin is announced to tighten. */
  public Set<String> tightening(Map<String, Long> held) {
    Set<String> warned = new TreeSet<>();
    held.forEach((instrument, lots) -> {
      if (lots != 0 && scales.scale(instrument).warning()) {
        warned.add(instrument);
      }
    });
    return warned;
  }

  /** Of the positions held, those whose close would hit a side thinner than the instrument's threshold. */
  public Set<String> thin(Map<String, Long> held) {
    Set<String> thin = new TreeSet<>();
    held.forEach((instrument, lots) -> {
      if (lots != 0 && thin(instrument, -lots)) {
        thin.add(instrument);
      }
    });
    return thin;
  }

  /** Whether a close of {@code closeSignedLots} would hit a thin side (known depth under the threshold). */
  public boolean thin(String instrument, long closeSignedLots) {
    long threshold = instruments.spec(instrument).depth().thinBelow();
    OptionalLong hit = depth.against(instrument, closeSignedLots);
    return hit.isPresent() && io.clearinghouse.margin.DepthRules.thin(hit.getAsLong(), threshold);
  }
}
