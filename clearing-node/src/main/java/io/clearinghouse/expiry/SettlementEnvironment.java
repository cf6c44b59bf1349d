package io.clearinghouse.expiry;

import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.metrics.Metrics;
import java.time.Clock;
import java.util.concurrent.CompletionStage;

/** What a settlement needs from its node: settings, instruments, a clock, the index, the fan-out and metrics. */
public record SettlementEnvironment(ExpirySettings settings, Instruments instruments, Clock clock, IndexSource index,
    SettlementFanOut fanOut, Metrics metrics, ExpectedPrice expected) {

  /** Without anyone told the expected price (tests). */
  public SettlementEnvironment(ExpirySettings settings, Instruments instruments, Clock clock, IndexSource index,
      SettlementFanOut fanOut, Metrics metrics) {
    this(settings, instruments, clock, index, fanOut, metrics, (instrument, ticks, start, expiry) -> { });
  }

  /** Told the expected settlement price after every sample and when the price is fixed (the price feed). */
  @FunctionalInterface
  public interface ExpectedPrice {
    void expected(String instrument, long expectedTicks, long windowStartMillis, long expiryMillis);
  }

  /** The instrument's index in ticks if fresh, else 0. */
  @FunctionalInterface
  public interface IndexSource {
    CompletionStage<Long> freshIndexTicks(String instrument);

    /**
     * The last index the node knows, fresh or stale (0: none yet): what an operator's settlement
     * price is bounded by. Without a source of its own (tests), the fresh one.
     */
    default CompletionStage<Long> lastIndexTicks(String instrument) {
      return freshIndexTicks(instrument);
    }
  }
}
