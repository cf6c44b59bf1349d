package io.clearinghouse.clearing;

import io.clearinghouse.account.AccountEntity;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Whether a trade side is applied (and not reversed), from the account's own journal: the answer
 * once the account no longer remembers the trade's sequence. An account refuses every sequence at or below the highest
 * it has forgotten (TRADE_TOO_OLD) and never moves that mark back, so once it has answered
 * TRADE_TOO_OLD no late message can still apply the side: its journal is then final for that trade.
 */
public interface SideRecords {

  /**
   * The fee charged to the buyer's ({@code buyer}) or the seller's side of {@code trade} if that
   * account's journal holds the side applied and not reversed; empty if it holds no such side
   * (never applied, reversed, or the sequence taken by another trade, which the account refused).
   */
  CompletionStage<Optional<Long>> sideFee(TradeContent trade, boolean buyer);

  /** No journal to read: the question is never answered (the register keeps the trade unsettled and retries). */
  SideRecords UNKNOWN = (trade, buyer) -> CompletableFuture.failedFuture(new IllegalStateException(
      "no journal to read " + (buyer ? trade.buyer() : trade.seller()) + "'s side of sequence " + trade.sequence()));

  /**
   * Reads the account's events from {@code journal}; fails when no event came for {@code timeout}
   * (a long journal read at a steady pace finishes however long it is: a whole-read deadline would
   * fail it again on every retry).
   */
  static SideRecords fromJournal(ActorSystem<?> system, CurrentEventsByPersistenceIdQuery journal,
      java.time.Duration timeout) {
    return (trade, buyer) -> journal
        .currentEventsByPersistenceId(AccountEntity.persistenceId(buyer ? trade.buyer() : trade.seller()).id(), 0L,
            Long.MAX_VALUE)
        .idleTimeout(timeout)
        .map(EventEnvelope::event)
        .runWith(Sink.fold(Optional.<Long>empty(), (applied, event) -> fold(trade, buyer, applied, event)), system);
  }

  /** The buyer's or seller's side of {@code trade} after one more of its account's events. */
  static Optional<Long> fold(TradeContent trade, boolean buyer, Optional<Long> applied, Object event) {
    if (event instanceof AccountEntity.TradeCleared cleared && cleared.sequence() == trade.sequence()) {
      long lots = buyer ? trade.lots() : Math.negateExact(trade.lots());
      boolean same = cleared.tradeId().equals(trade.tradeId()) && cleared.instrument().equals(trade.instrument())
          && cleared.signedLots() == lots && cleared.priceTicks() == trade.priceTicks();
      return same ? Optional.of(cleared.fee()) : Optional.empty();
    }
    if (event instanceof AccountEntity.TradeSideReversed reversed && reversed.sequence() == trade.sequence()) {
      return Optional.empty();
    }
    return applied;
  }
}
