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

  /** The refusal of a side that can still be refused, if {@code instrument} is settled on {@code account}. */
  static java.util.Optional<RejectedException> refusal(Account account, String instrument, String what) {
    SettlementApplied settled = account.settlements().get(instrument);
    if (settled == null) {
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
  static List<Event> closedAtOnce(Account account, List<Event> events, String instrument, Instruments instruments,
      long nowMillis, long lastSequenceNumber) {
    SettlementApplied settled = account.settlements().get(instrument);
    if (settled == null) {
      return events;
    }
    Account after = account;
    for (Event e : events) {
      after = after.apply(e, Long.MAX_VALUE);
    }
    Holding h = after.holding(instrument);
    if (h.lots() == 0 && h.cost() == 0 && h.isolatedMargin() == 0) {
      return events;
    }
    InstrumentSpec spec = instruments.spec(instrument);
    SettlementMath.Closed c = SettlementMath.close(h.lots(), h.cost(), h.isolatedMargin(), settled.priceTicks(),
        spec.contract().notionalMultiplier(), 0);
    SettledAfterExpiry close = new SettledAfterExpiry(instrument, settled.expiryMillis(), settled.priceTicks(),
        c.lots(), c.value(), c.cost(), c.isolatedReleased(), c.shortfall(), nowMillis);
    Account closed = after.apply(close, Long.MAX_VALUE);
    List<Event> all = new ArrayList<>(events);
    all.add(close);
    if (all.stream().noneMatch(e -> e instanceof AccountEntity.LiquidationStarted)) {
      all.addAll(FundingHandlers.unsettledDeficit(closed, Map.of(instrument, settled.priceTicks()),
          lastSequenceNumber + all.size() + 1, nowMillis));
    }
    return all;
  }
}
