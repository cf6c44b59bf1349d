package io.clearinghouse.bench;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What one timed run measured: how many operations, the wall time from the first send to the last
 * answer, and each operation's latency. Doubles appear only here, to print rates.
 */
record Timing(int operations, long elapsedNanos, long[] latencyNanos) {

  double perSecond() {
    return operations * 1e9 / elapsedNanos;
  }

  double seconds() {
    return elapsedNanos / 1e9;
  }

  /** The latency at {@code percentile} (0-100) in milliseconds, nearest rank. */
  double latencyMillis(double percentile) {
    long[] sorted = latencyNanos.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(percentile / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1e6;
  }

  /** Waits for {@code stage} at most {@code timeout}; failures and timeouts are thrown unchecked. */
  static <T> T await(CompletionStage<T> stage, Duration timeout, String what) {
    try {
      return stage.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException(what + ": no answer within " + timeout, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(what + " failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(what + ": interrupted", e);
    }
  }
}
