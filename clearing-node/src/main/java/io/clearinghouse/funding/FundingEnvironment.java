package io.clearinghouse.funding;

import io.clearinghouse.instrument.Instruments;
import java.time.Clock;
import java.util.concurrent.CompletionStage;

/** What a funding clock needs from its node: settings, instruments, a clock, prices and the fan-out. */
public record FundingEnvironment(FundingSettings settings, Instruments instruments, Clock clock, PriceSource prices,
    FundingFanOut fanOut) {

  /** The mark and the index it was published with, if fresh. */
  public record Prices(long markTicks, long indexTicks, boolean fresh) {
    public static final Prices NONE = new Prices(0, 0, false);

    boolean usable() {
      return fresh && markTicks > 0 && indexTicks > 0;
    }
  }

  @FunctionalInterface
  public interface PriceSource {
    CompletionStage<Prices> prices(String instrument);
  }

  CompletionStage<Prices> prices(String instrument) {
    return prices.prices(instrument);
  }
}
