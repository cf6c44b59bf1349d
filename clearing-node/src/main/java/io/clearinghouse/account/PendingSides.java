package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.TradeCleared;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * Trade sides this account has passed in a check ({@code CheckTrade}) and not yet applied: the
 * trade register applies the buyer's side in between, and then asks this account to take its
 * side. Until then every other decision of the account is taken as if those sides were already
 * applied ({@link #view}): a second trade checked at the same moment, a withdrawal, a reservation,
 * a margin move or a leverage change cannot use what the first one will need, so the side the
 * register then applies is never refused by the account's own rules (nor forced beyond them).
 *
 * <p>In memory only, on purpose: a side is held for at most {@code holdFor} (the register applies
 * it within its step timeout, or never forces it: after a retry or a restart it reverses the
 * buyer's side instead), and an account that restarts holds nothing, which can only let more
 * through to the same reversal. Owned by one account entity and used only from its command
 * handlers (one message at a time).
 */
final class PendingSides {
  /** Sequence that is never a trade's: {@link #view} leaves nothing out. */
  static final long NONE = -1;

  private record Held(TradeCleared side, long expiresAtNanos) {}

  private final TreeMap<Long, Held> bySequence = new TreeMap<>();
  private final long holdForNanos;
  private final LongSupplier nanoTime;

  PendingSides(Duration holdFor, LongSupplier nanoTime) {
    this.holdForNanos = holdFor.toNanos();
    this.nanoTime = nanoTime;
  }

  /** Holds {@code side}, computed on {@link #view} by a check that passed. */
  void hold(TradeCleared side) {
    bySequence.put(side.sequence(), new Held(side, nanoTime.getAsLong() + holdForNanos));
  }

  /** The side of {@code sequence} was applied, forced, reversed or its trade refused: no longer held. */
  void release(long sequence) {
    bySequence.remove(sequence);
  }

  /** Whether the side of {@code sequence} is held (passed its check and not yet applied, released or expired). */
  boolean holds(long sequence) {
    Held held = bySequence.get(sequence);
    return held != null && nanoTime.getAsLong() - held.expiresAtNanos() <= 0;
  }

  int size() {
    return bySequence.size();
  }

  /**
   * {@code account} as it will be once every held side (but {@code except}) is applied, in
   * sequence order; {@code account} itself when nothing is held. A held side the account has
   * applied meanwhile, or that no longer fits the account, is left out.
   */
  Account view(Account account, long except) {
    if (bySequence.isEmpty()) {
      return account;
    }
    long now = nanoTime.getAsLong();
    Account view = account;
    Iterator<Map.Entry<Long, Held>> held = bySequence.entrySet().iterator();
    while (held.hasNext()) {
      Map.Entry<Long, Held> entry = held.next();
      if (now - entry.getValue().expiresAtNanos() > 0 || account.trade(entry.getKey()).isPresent()) {
        held.remove();
        continue;
      }
      if (entry.getKey() == except) {
        continue;
      }
      try {
        view = view.apply(entry.getValue().side());
      } catch (ArithmeticException e) {
        // A side that no longer fits a long is refused when it comes; it holds nothing meanwhile.
      }
    }
    return view;
  }
}
