package io.clearinghouse.bench;

import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** Retries an idempotent setup call that timed out (a busy node), a few times, counting each retry. */
final class Retrying {
  private Retrying() {}

  static <T> CompletionStage<T> call(Supplier<CompletionStage<T>> call, int attemptsLeft, Runnable onRetry) {
    return call.get().exceptionallyCompose(failure -> {
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      if (attemptsLeft > 1 && cause instanceof RejectedException rejected && rejected.reason() == Rejection.TIMEOUT) {
        onRetry.run();
        return call(call, attemptsLeft - 1, onRetry);
      }
      return CompletableFuture.failedFuture(cause);
    });
  }
}
