package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.ApplySettlement;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.Rejected;
import io.clearinghouse.account.AccountEntity.SettlementApplied;
import io.clearinghouse.account.AccountEntity.SettlementDone;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.InstrumentSpec;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.SettlementMath;
import java.time.Clock;
import java.util.function.Consumer;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * A dated future's final settlement, as the account applies it (issue 17, expiry): its position
 * closed at the settlement price in one event ({@link SettlementApplied}) against the
 * instrument's settlement pool, so its money is never half-moved, with the delivery fee and no
 * penalty. Once per instrument: a repeat (the settlement resending after a crash or a lost answer)
 * gets the first result back. An account being liquidated is settled once its liquidation ends
 * (the settlement asks again every round): the saga owns its positions until then.
 */
final class SettlementHandlers {
  private final EffectFactories<Event, State> effect;
  private final Instruments instruments;
  private final Clock clock;
  private final Consumer<State> changed;
  private final java.util.function.LongSupplier lastSequenceNumber;

  SettlementHandlers(EffectFactories<Event, State> effect, Instruments instruments, Clock clock,
      Consumer<State> changed, java.util.function.LongSupplier lastSequenceNumber) {
    this.lastSequenceNumber = lastSequenceNumber;
    this.effect = effect;
    this.instruments = instruments;
    this.clock = clock;
    this.changed = changed;
  }

  ReplyEffect<Event, State> apply(Account account, ApplySettlement cmd) {
    SettlementApplied before = account.settlements().get(cmd.instrument());
    if (before != null) {
      return effect.reply(cmd.replyTo(), new SettlementDone(before, true));
    }
    InstrumentSpec spec;
    try {
      spec = instruments.spec(cmd.instrument());
    } catch (RuntimeException e) {
      return reject(cmd, Rejection.UNKNOWN_INSTRUMENT, "no instrument " + cmd.instrument());
    }
    if (spec.expiry() == null) {
      return reject(cmd, Rejection.NOT_DATED_FUTURE, cmd.instrument() + " is not a dated future");
    }
    if (cmd.expiryMillis() != spec.expiry().expiryMillis() || !spec.expiry().expired(clock.millis())) {
      return reject(cmd, Rejection.INSTRUMENT_NOT_EXPIRED, cmd.instrument() + " expires at " + spec.expiry().expiry());
    }
    if (cmd.priceTicks() <= 0) {
      return reject(cmd, Rejection.PRICE_NOT_POSITIVE, "a settlement price must be positive");
    }
    if (account.liquidating()) {
      return reject(cmd, Rejection.ACCOUNT_LIQUIDATING, "the account is being liquidated: settled when it ends");
    }
    Holding h = account.holding(cmd.instrument());
    SettlementMath.Closed closed;
    try {
      closed = SettlementMath.close(h.lots(), h.cost(), h.isolatedMargin(), cmd.priceTicks(),
          spec.contract().notionalMultiplier(), spec.expiry().deliveryFeePpm());
      Math.addExact(account.cash(), closed.cashDelta());
    } catch (ArithmeticException e) {
      return reject(cmd, Rejection.BALANCE_OVERFLOW, "the settlement of " + cmd.instrument() + " overflows");
    }
    SettlementApplied event = new SettlementApplied(cmd.instrument(), cmd.expiryMillis(), cmd.priceTicks(),
        closed.lots(), closed.value(), closed.cost(), closed.fee(), closed.isolatedReleased(), clock.millis(),
        closed.shortfall());
    // Settled at a loss beyond what the account has (or an isolated position's beyond its margin),
    // with no position left: the deficit is settled at once as a liquidation's is (no monitor
    // watches a flat account). With positions left, the monitor judges the account as it is.
    java.util.List<Event> events = new java.util.ArrayList<>(java.util.List.of(event));
    events.addAll(FundingHandlers.unsettledDeficit(account.apply(event, Long.MAX_VALUE),
        java.util.Map.of(cmd.instrument(), cmd.priceTicks()), lastSequenceNumber.getAsLong() + 2, clock.millis()));
    return effect.persist(events)
        .thenRun(changed::accept)
        .thenReply(cmd.replyTo(), state -> new SettlementDone(event, false));
  }

  private ReplyEffect<Event, State> reject(ApplySettlement cmd, Rejection reason, String message) {
    return effect.reply(cmd.replyTo(), new Rejected(reason, message));
  }
}
