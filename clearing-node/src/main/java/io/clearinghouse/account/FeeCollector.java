package io.clearinghouse.account;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/** Where an account's swept trading fees go (the platform-revenue reserve), and how often it sweeps. */
public interface FeeCollector {

  /**
   * Moves {@code amount} of {@code accountId}'s fees, in transit as its sweep number {@code sweep}
   * (key {@link FeeSweep#key}), into the reserve; completes once the reserve holds it. The same
   * sweep again moves nothing more; an account sends sweep n + 1 only once sweep n has arrived.
   * A negative amount claims a net rebate from the reserve (failing while it cannot pay it).
   */
  CompletionStage<Void> collect(String accountId, long sweep, long amount);

  /** How long after a fee the account sweeps (and waits before retrying a sweep that failed). */
  Duration interval();

  /** No collector: fees stay in the accounts' fee revenue (unit tests of single entities). */
  FeeCollector NONE = new FeeCollector() {
    @Override
    public CompletionStage<Void> collect(String accountId, long sweep, long amount) {
      throw new IllegalStateException("no fee collector");
    }

    @Override
    public Duration interval() {
      return Duration.ZERO;
    }
  };
}
