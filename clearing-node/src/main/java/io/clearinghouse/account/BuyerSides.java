package io.clearinghouse.account;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The buyer sides this account applied whose trades may still be unwound. A trade register
 * applies the buyer's side first and the seller's after; while it has not settled the trade, a
 * seller refusal with no hold behind it (a hold that expired on a slow drive or was lost in a
 * restart) makes it reverse the buyer's side. Money that leaves the account meanwhile (a
 * withdrawal of what the side realized) would leave the reversal short, so a withdrawal is judged
 * as if every such side were reversed; to know which are, the account asks their registers
 * ({@link UnfinishedTrades}) and remembers the ones they have finished.
 *
 * <p>In memory only, on purpose: an account that restarts remembers nothing and asks again, which
 * can only hold back more. Owned by one account entity and used only from its command handlers.
 */
final class BuyerSides {
  private final Set<Long> finished = new HashSet<>();

  /**
   * The sequences, oldest first, of the buyer sides this account applied and has not reversed
   * whose trades are not known to be finished. Forgets what it knew of sides the account no
   * longer remembers.
   */
  List<Long> unconfirmed(Account account) {
    List<Long> open = new ArrayList<>();
    Set<Long> remembered = new HashSet<>();
    for (TradeRef ref : account.recentTrades()) {
      // Refs recovered from snapshots older than the instrument field cannot be reversed exactly
      // any more: the register reads the journal for those, and they are months old.
      if (ref.reversed() || ref.signedLots() <= 0 || ref.instrument() == null) {
        continue;
      }
      if (finished.contains(ref.sequence())) {
        remembered.add(ref.sequence());
      } else {
        open.add(ref.sequence());
      }
    }
    finished.retainAll(remembered);
    open.sort(Long::compare);
    return open;
  }

  /** The registers answered: of {@code asked}, every sequence not in {@code unfinished} is finished. */
  void answered(Collection<Long> asked, Collection<Long> unfinished) {
    Set<Long> still = new HashSet<>(unfinished);
    for (Long sequence : asked) {
      if (!still.contains(sequence)) {
        finished.add(sequence);
      }
    }
  }
}
