package io.clearinghouse.api;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongFunction;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Sequence order per account within one trade stream: a trade is started only once every earlier
 * trade of the stream that shares an account with it (as buyer or seller) has its result, so each
 * account applies its trades in the stream's order whatever the parallelism; trades with no
 * account in common run alongside. Trades must be handed in in stream order (mapAsync and mapAsyncUnordered do).
 *
 * <p>A trade whose outcome is unknown (unconfirmed) blocks its two accounts at its sequence: every
 * later trade of the stream that shares an account with a blocked one, other than the blocking
 * trade itself resent, is not started (it is answered as waiting). {@link Hold#WAITING_TOO}: a
 * waiting trade blocks its other account at its own sequence in turn, so that once resent it is
 * still applied before that account's later trades (strict sequence order; during an outage the
 * hold spreads through counterparties). {@link Hold#UNCONFIRMED_ONLY}: only the unconfirmed
 * trade's own accounts wait; a waiting trade's other account goes on, and the waiting trade, once
 * resent, is applied after that account's later trades (the one exception to sequence order: each
 * side's equity is the same in either order, only the split between realized and unrealized PnL
 * differs). The block is lifted only when the blocking trade, resent, gets an outcome (applied or
 * refused). Trades of other accounts go on. The map of trades in flight holds only accounts with a
 * trade in flight; the blocks last as long as the stream.
 */
final class AccountOrder {
  /** Whom an unconfirmed trade holds back (clearinghouse.clearing.hold-after-unconfirmed). */
  enum Hold { WAITING_TOO, UNCONFIRMED_ONLY }

  private final Hold hold;

  AccountOrder() {
    this(Hold.WAITING_TOO);
  }

  AccountOrder(Hold hold) {
    this.hold = hold;
  }

  private final ConcurrentHashMap<String, CompletableFuture<Void>> lastOf = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Long> blockedAt = new ConcurrentHashMap<>();

  /**
   * Runs {@code trade} in its turn, or answers {@code waiting.apply(blockingSequence)} without
   * starting it when one of its accounts is blocked by an earlier unconfirmed trade; a result that
   * {@code unconfirmed} accepts blocks both accounts.
   */
  <T> CompletionStage<T> after(long sequence, String buyer, String seller, Supplier<CompletionStage<T>> trade,
      Predicate<T> unconfirmed, LongFunction<T> waiting) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    CompletableFuture<Void> earlier = CompletableFuture.allOf(previous(buyer, done), previous(seller, done));
    CompletionStage<T> result = earlier.thenCompose(ready -> {
      long blocking = Math.min(blockingOther(buyer, sequence), blockingOther(seller, sequence));
      if (blocking != Long.MAX_VALUE) {
        if (hold == Hold.WAITING_TOO) {
          block(buyer, sequence);
          block(seller, sequence);
        }
        return CompletableFuture.completedFuture(waiting.apply(blocking));
      }
      return trade.get().thenApply(outcome -> {
        if (unconfirmed.test(outcome)) {
          block(buyer, sequence);
          block(seller, sequence);
        } else {
          // The blocking trade has its outcome: its accounts go on.
          blockedAt.remove(buyer, sequence);
          blockedAt.remove(seller, sequence);
        }
        return outcome;
      });
    });
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

  /**
   * The sequence of the unconfirmed trade that blocks {@code account} for the trade at
   * {@code sequence} (any other trade than the blocking one itself), or Long.MAX_VALUE.
   */
  private long blockingOther(String account, long sequence) {
    Long at = blockedAt.get(account);
    return at == null || at == sequence ? Long.MAX_VALUE : at;
  }

  /** Blocks {@code account} at {@code sequence} unless an earlier unconfirmed trade blocks it already (that one goes first). */
  private void block(String account, long sequence) {
    blockedAt.putIfAbsent(account, sequence);
  }

  private CompletableFuture<Void> previous(String account, CompletableFuture<Void> done) {
    CompletableFuture<Void> previous = lastOf.put(account, done);
    return previous == null ? CompletableFuture.completedFuture(null) : previous;
  }

  /** Accounts with a trade in flight (for tests). */
  int accountsInFlight() {
    return lastOf.size();
  }

  /** Accounts blocked by an unconfirmed trade (for tests). */
  int accountsBlocked() {
    return blockedAt.size();
  }
}
