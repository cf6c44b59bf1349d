package io.clearinghouse.account;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The trade sides this account applied whose trades may still be unwound. A trade register
 * applies the buyer's side first and the seller's after; while it has not settled the trade, a
 * seller refusal with no hold behind it (a hold that expired on a slow drive or was lost in a
 * restart) makes it reverse the buyer's side, and a refused trade's seller side that an earlier
 * send still brought in is reversed by the register's fence. Money that leaves the account
 * meanwhile (a withdrawal of what the side realized or of the margin its close freed) would leave
 * the reversal short, so the account is judged as if every such side were reversed; to know which
 * are, it asks their registers ({@link UnfinishedTrades}) and remembers the ones they have
 * finished; a register also tells both accounts when it settles a trade, and an account that
 * recovers, or that still has unconfirmed sides a few seconds after a change, asks about them.
 * Until a side is known settled, what it realized is not moved where a reversal cannot reach it:
 * not withdrawn, not moved into an isolated position's margin, not used to fund a fill or an order,
 * and its instrument's margin mode is not changed.
 *
 * A side the account forgets while it is unconfirmed (its retention of recent trades) is still
 * counted, from the reference kept by {@link #track}.
 *
 * <p>In memory only, on purpose: an account that restarts remembers nothing and asks again, which
 * can only hold back more (but a side it had already forgotten before the restart is no longer
 * known as settling: see {@link #track}). Owned by one account entity and used only from its command handlers.
 */
final class SettlingSides {
  private final Set<Long> finished = new HashSet<>();
  /**
   * When this incarnation first saw each side not known finished applied (its own clock, not the
   * register's record time: a side applied late is waited for as long as one applied at once,
   * and a register's clock ahead holds nothing; review rev10i, findings 1 and 2).
   */
  private final Map<Long, Long> seenAt = new HashMap<>();
  /** When this incarnation started: the applied time of a side it recovered or never saw applied. */
  private final long since;

  SettlingSides(long since) {
    this.since = since;
  }

  /**
   * Notes, at {@code now}, the sides the account applied since the last call: walks its
   * remembered trades from the newest back to the first one already seen or finished (sides are
   * remembered in the order they were applied; reversed ones are skipped).
   */
  void observe(Account account, long now) {
    List<TradeRef> trades = account.recentTrades();
    for (int i = trades.size() - 1; i >= 0; i--) {
      TradeRef ref = trades.get(i);
      if (ref.reversed() || ref.instrument() == null) {
        continue;
      }
      if (seenAt.containsKey(ref.sequence()) || finished.contains(ref.sequence())) {
        return;
      }
      seenAt.put(ref.sequence(), now);
    }
  }

  /** When this incarnation saw {@code sequence} applied (its start for a side recovered). */
  long appliedAt(long sequence) {
    return seenAt.getOrDefault(sequence, since);
  }
  /** The references of unconfirmed sides seen in the account, kept while they are unconfirmed (see {@link #track}). */
  private final java.util.Map<Long, TradeRef> forgotten = new java.util.HashMap<>();

  /**
   * The sequences, oldest first, of the sides this account applied and has not reversed
   * whose trades are not known to be finished, those it no longer remembers included (see
   * {@link #track}). Forgets what it knew of sides the account no longer remembers.
   */
  List<Long> unconfirmed(Account account) {
    List<Long> open = new ArrayList<>();
    for (TradeRef ref : open(account)) {
      open.add(ref.sequence());
    }
    open.sort(Long::compare);
    seenAt.keySet().retainAll(new HashSet<>(open));
    return open;
  }

  /**
   * The references of {@link #unconfirmed}: the account's remembered sides first, then the ones
   * it forgot that are still tracked.
   */
  List<TradeRef> open(Account account) {
    List<TradeRef> open = new ArrayList<>();
    Set<Long> remembered = new HashSet<>();
    for (TradeRef ref : account.recentTrades()) {
      remembered.add(ref.sequence());
      // Refs recovered from snapshots older than the instrument field cannot be reversed exactly
      // any more: the register reads the journal for those, and they are months old.
      if (ref.reversed() || ref.instrument() == null || finished.contains(ref.sequence())) {
        continue;
      }
      open.add(ref);
    }
    for (TradeRef ref : forgotten.values()) {
      if (!remembered.contains(ref.sequence()) && account.tooOldToVerify(ref.sequence())
          && !finished.contains(ref.sequence())) {
        open.add(ref);
        remembered.add(ref.sequence());
      }
    }
    finished.retainAll(remembered);
    return open;
  }

  /**
   * Remembers the references of the account's unconfirmed sides, so that one the account forgets
   * (more than its retained trades newer sides applied since: Account's retention of recent
   * trades) is still bounded and still reversible in the views (review rev10h, finding 4). Called
   * with the account itself, never with a view, before every side it applies. In memory only:
   * after a restart a side already forgotten is not known here (see the class comment).
   */
  void track(Account account) {
    Set<Long> open = new HashSet<>();
    for (TradeRef ref : account.recentTrades()) {
      if (!ref.reversed() && ref.instrument() != null && !finished.contains(ref.sequence())) {
        forgotten.put(ref.sequence(), ref);
        open.add(ref.sequence());
      } else {
        forgotten.remove(ref.sequence());
      }
    }
    forgotten.keySet().removeIf(sequence -> finished.contains(sequence)
        || (!open.contains(sequence) && !account.tooOldToVerify(sequence)));
  }

  /** A forgotten unconfirmed side's reference, when tracked. */
  java.util.Optional<TradeRef> forgottenRef(long sequence) {
    return java.util.Optional.ofNullable(forgotten.get(sequence));
  }

  /**
   * What the sides still settling (all but {@code except}) realized at a profit: cash the
   * account has only if those trades settle, so never moved out of its reach before they do.
   */
  long settlingProfit(Account account, long except) {
    long profit = 0;
    for (TradeRef ref : open(account)) {
      if (ref.sequence() != except && ref.realizedPnl() > 0) {
        profit = Math.addExact(profit, ref.realizedPnl());
      }
    }
    return profit;
  }

  /** The register settled the trade of {@code sequence}: this account's side of it stands. */
  void settled(long sequence) {
    finished.add(sequence);
    forgotten.remove(sequence);
  }

  /** The side of {@code sequence} was reversed: nothing of it is left to reverse. */
  void reversed(long sequence) {
    forgotten.remove(sequence);
  }

  /** The registers answered: of {@code asked}, every sequence not in {@code unfinished} is finished. */
  void answered(Collection<Long> asked, Collection<Long> unfinished) {
    Set<Long> still = new HashSet<>(unfinished);
    for (Long sequence : asked) {
      if (!still.contains(sequence)) {
        finished.add(sequence);
        forgotten.remove(sequence);
      }
    }
  }
}
