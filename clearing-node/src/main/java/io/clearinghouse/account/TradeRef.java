package io.clearinghouse.account;

import io.clearinghouse.persistence.CborSerializable;
import java.util.Objects;

/**
 * A trade side an account has applied, remembered to answer a resubmission of it exactly once:
 * with the same fee if it is the same trade, refused if the same sequence comes with other content,
 * and to reverse it exactly if the trade's other side was refused (the movements it made).
 * {@code reversed}: the side was reversed (or, with no movements, refused before it was ever
 * applied); it is never applied again. {@code lotsAfter}, {@code costAfter} and
 * {@code isolatedAfter}: the holding right after the side, to tell whether anything moved it since;
 * {@code reservation} the part of an order's reservation the side consumed and {@code stopBefore}
 * the position's protective stop before it (0: none), both given back if the side is reversed.
 * Fields added later ({@code counterparty} on) are null or 0 in refs recovered from older
 * snapshots, and then not compared.
 */
public record TradeRef(long sequence, String tradeId, long signedLots, long priceTicks, long fee, String counterparty,
    String instrument, Boolean taker, String orderId, long realizedPnl, long costDelta, long isolatedMarginDelta,
    long priorLastPriceTicks, boolean reversed, long lotsAfter, long costAfter, long isolatedAfter,
    Reservation reservation, long stopBefore, long cutMillis) implements CborSerializable {

  /** {@code cutMillis}: the side's funding cut time (0 in refs from before it was kept). */
  public TradeRef(long sequence, String tradeId, long signedLots, long priceTicks, long fee, String counterparty,
      String instrument, Boolean taker, String orderId, long realizedPnl, long costDelta, long isolatedMarginDelta,
      long priorLastPriceTicks, boolean reversed, long lotsAfter, long costAfter, long isolatedAfter,
      Reservation reservation, long stopBefore) {
    this(sequence, tradeId, signedLots, priceTicks, fee, counterparty, instrument, taker, orderId, realizedPnl,
        costDelta, isolatedMarginDelta, priorLastPriceTicks, reversed, lotsAfter, costAfter, isolatedAfter, reservation,
        stopBefore, 0);
  }

  static TradeRef of(AccountEntity.TradeCleared e, long priorLastPriceTicks, Holding after, Reservation consumed,
      long stopBefore) {
    return new TradeRef(e.sequence(), e.tradeId(), e.signedLots(), e.priceTicks(), e.fee(), e.counterparty(),
        e.instrument(), e.taker(), e.requestedOrderId(), e.realizedPnl(), e.costDelta(), e.isolatedMarginDelta(),
        priorLastPriceTicks, false, after.lots(), after.cost(), after.isolatedMargin(), consumed, stopBefore,
        e.cutMillis());
  }

  /** A ref of a side never applied: only marked, so that it never will be. */
  static TradeRef neverApplied(long sequence, String tradeId) {
    return new TradeRef(sequence, tradeId, 0, 0, 0, null, null, null, null, 0, 0, 0, 0, true, 0, 0, 0, null, 0);
  }

  TradeRef asReversed() {
    return new TradeRef(sequence, tradeId, signedLots, priceTicks, fee, counterparty, instrument, taker, orderId,
        realizedPnl, costDelta, isolatedMarginDelta, priorLastPriceTicks, true, lotsAfter, costAfter, isolatedAfter,
        reservation, stopBefore, cutMillis);
  }

  /** Whether {@code holding} is still exactly what this side left. */
  boolean untouchedSince(Holding holding) {
    return holding.lots() == lotsAfter && holding.cost() == costAfter && holding.isolatedMargin() == isolatedAfter;
  }

  /** Whether {@code cmd} is this same trade side in every field this ref knows. */
  boolean sameAs(AccountEntity.ApplyTrade cmd) {
    return tradeId.equals(cmd.tradeId()) && signedLots == cmd.signedLots() && priceTicks == cmd.priceTicks()
        && (counterparty == null || counterparty.equals(cmd.counterparty()))
        && (instrument == null || instrument.equals(cmd.instrument()))
        && (taker == null || taker == cmd.taker())
        && (counterparty == null || Objects.equals(orderId, cmd.orderId()));
  }
}
