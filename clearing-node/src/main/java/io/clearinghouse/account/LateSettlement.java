package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.SettledAfterExpiry;
import io.clearinghouse.account.AccountEntity.SettlementApplied;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.InstrumentSpec;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.SettlementMath;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A side in a dated future this account has already settled (issue 17 review, high): no
 * settlement will ever come back for it, so the account decides it itself. A side that can still
 * be refused before anything moved (a fresh trade side or its check, a reservation, a backstop's
 * takeover) is refused ({@code INSTRUMENT_SETTLED}). A side that must not be refused because its
 * counterpart already moved (a forced seller side, a reversal, a liquidation give-back) is applied,
 * and what it leaves in the future is closed at once in the same batch at the recorded settlement
 * price ({@link SettledAfterExpiry}, without a delivery fee), against the settlement pool: with the counterpart's side
 * closed at the same price (by its settlement or the same way) the pool nets to zero to the unit.
 */
final class LateSettlement {
  private LateSettlement() {}

  /**
   * What an account knows beyond its journal: the instruments, the settlement prices its node
   * heard of, its clock.
   */
  record Expiry(Instruments instruments, SettlementPrices prices, java.util.function.LongSupplier now) {
    /** Whether {@code instrument} is a dated future at or past its expiry now. */
    boolean expired(String instrument) {
      InstrumentSpec spec;
      try {
        spec = instruments.spec(instrument);
      } catch (RuntimeException e) {
        return false;
      }
      return spec.expiry() != null && spec.expiry().expired(now.getAsLong());
    }
  }

  private static boolean holdsNothing(Holding h) {
    return h.lots() == 0 && h.cost() == 0 && h.isolatedMargin() == 0;
  }

  /**
   * The refusal of a side that can still be refused: if {@code instrument} is settled on
   * {@code account} ({@code INSTRUMENT_SETTLED}), or past its expiry on an account that holds
   * nothing in it ({@code INSTRUMENT_EXPIRED}): no settlement round would close what it opens.
   */
  static java.util.Optional<RejectedException> refusal(Account account, String instrument, String what,
      Expiry expiry) {
    SettlementApplied settled = account.settlements().get(instrument);
    if (settled == null) {
      if (expiry != null && expiry.expired(instrument) && holdsNothing(account.holding(instrument))) {
        return java.util.Optional.of(new RejectedException(Rejection.INSTRUMENT_EXPIRED, what + " in " + instrument
            + " refused: it expired and " + account.accountId() + " held nothing in it; no settlement would close"
            + " what it opens"));
      }
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(new RejectedException(Rejection.INSTRUMENT_SETTLED, what + " in " + instrument
        + " refused: " + account.accountId() + " settled it at its expiry (settlement price " + settled.priceTicks()
        + " ticks); it no longer trades"));
  }

  /**
   * {@code events}, decided on {@code account}, followed, if {@code instrument} is settled on it, by
   * the close of what they leave in it at the settlement price and the settlement of a deficit that
   * close leaves with nothing held (as a settlement's). Throws ArithmeticException on overflow.
   */
  static List<Event> closedAtOnce(Account account, List<Event> events, String instrument, Expiry expiry,
      long lastSequenceNumber) {
    Instruments instruments = expiry.instruments();
    long nowMillis = expiry.now().getAsLong();
    SettlementApplied settled = account.settlements().get(instrument);
    List<Event> first = List.of();
    if (settled == null) {
      settled = selfSettlement(account, instrument, expiry).orElse(null);
      if (settled == null) {
        return events;
      }
      first = List.of(settled);
    }
    Account after = account;
    for (Event e : first) {
      after = after.apply(e, Long.MAX_VALUE);
    }
    for (Event e : events) {
      after = after.apply(e, Long.MAX_VALUE);
    }
    Holding h = after.holding(instrument);
    if (holdsNothing(h)) {
      return events;
    }
    InstrumentSpec spec = instruments.spec(instrument);
    SettlementMath.Closed c = SettlementMath.close(h.lots(), h.cost(), h.isolatedMargin(), settled.priceTicks(),
        spec.contract().notionalMultiplier(), 0);
    SettledAfterExpiry close = new SettledAfterExpiry(instrument, settled.expiryMillis(), settled.priceTicks(),
        c.lots(), c.value(), c.cost(), c.isolatedReleased(), c.shortfall(), nowMillis);
    Account closed = after.apply(close, Long.MAX_VALUE);
    List<Event> all = new ArrayList<>(first);
    all.addAll(events);
    all.add(close);
    if (all.stream().noneMatch(e -> e instanceof AccountEntity.LiquidationStarted)) {
      all.addAll(FundingHandlers.unsettledDeficit(closed, Map.of(instrument, settled.priceTicks()),
          lastSequenceNumber + all.size() + 1, nowMillis));
    }
    return all;
  }

  /**
   * The settlement of an account that held nothing in {@code instrument} at its expiry and was
   * never asked to settle (no round names an account without a position): once the node knows the
   * settlement price, the account settles itself with nothing to close (zero lots, zero value, no
   * fee), recorded like any settlement, so that what a forced side then leaves is closed at once at
   * that price. Empty when it is settled already, not expired, holds something (its settlement
   * round will name it) or the price is not known yet (the settlement waits: its rounds will name
   * the account once it holds lots).
   */
  static java.util.Optional<SettlementApplied> selfSettlement(Account account, String instrument, Expiry expiry) {
    if (account.settlements().containsKey(instrument) || !expiry.expired(instrument)
        || !holdsNothing(account.holding(instrument))) {
      return java.util.Optional.empty();
    }
    long price = expiry.prices().priceTicks(instrument);
    if (price <= 0) {
      return java.util.Optional.empty();
    }
    long expiryMillis = expiry.instruments().spec(instrument).expiry().expiryMillis();
    return java.util.Optional.of(new SettlementApplied(instrument, expiryMillis, price, 0, 0, 0, 0, 0,
        expiry.now().getAsLong(), 0));
  }
}
