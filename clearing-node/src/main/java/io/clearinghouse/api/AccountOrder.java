package io.clearinghouse.api;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Sequence order per account within one trade stream: a trade is started only once every earlier
 * trade of the stream that shares an account with it (as buyer or seller) has completed, so each
 * account applies its trades in the stream's order whatever the parallelism; trades with no
 * account in common run alongside. Trades must be handed in in stream order (mapAsync does).
 *
 * <p>If an earlier trade fails (its outcome unknown), the trades waiting on it fail too without
 * being started: the engine resends from the first trade without a result, in order. The map holds
 * only accounts with a trade in flight: an entry goes when its trade completes.
 */
final class AccountOrder {
  private final ConcurrentHashMap<String, CompletableFuture<Void>> lastOf = new ConcurrentHashMap<>();

  <T> CompletionStage<T> after(String buyer, String seller, Supplier<CompletionStage<T>> trade) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    CompletableFuture<Void> earlier = CompletableFuture.allOf(previous(buyer, done), previous(seller, done));
    CompletionStage<T> result = earlier.thenCompose(ready -> trade.get());
    result.whenComplete((value, failure) -> {
      lastOf.remove(buyer, done);
      lastOf.remove(seller, done);
      if (failure == null) {
        done.complete(null);
      } else {
        done.completeExceptionally(failure);
      }
    });
    return result;
  }

  private CompletableFuture<Void> previous(String account, CompletableFuture<Void> done) {
    CompletableFuture<Void> previous = lastOf.put(account, done);
    return previous == null ? CompletableFuture.completedFuture(null) : previous;
  }

  /** Accounts with a trade in flight (for tests). */
  int accountsInFlight() {
    return lastOf.size();
  }
}
