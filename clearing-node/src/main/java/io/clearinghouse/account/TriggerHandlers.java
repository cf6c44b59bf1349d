package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.LiquidationStarted;
import io.clearinghouse.account.AccountEntity.Rejected;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.ReservationReleased;
import io.clearinghouse.account.AccountEntity.SetStop;
import io.clearinghouse.account.AccountEntity.StartLiquidation;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.account.AccountEntity.StopSet;
import io.clearinghouse.account.AccountEntity.TriggerStop;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.AccountRisk;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.price.MarkPrices;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * What starts a liquidation (DESIGN section 6, step 1): the monitor's margin trigger and a
 * protective stop crossed by the mark, each re-checked by the account with exact integers. A stop
 * whose trigger finds the account at or below maintenance starts a margin liquidation instead:
 * a stop only ever closes a position of an account that can carry the rest.
 */
final class TriggerHandlers {
  private final EffectFactories<Event, State> effect;
  private final RiskView risk;
  private final Instruments instruments;
  private final MarkPrices marks;
  private final Clock clock;
  private final Consumer<State> changed;
  private final LongSupplier lastSequenceNumber;
  private final String accountId;
  private final Consumer<AccountEntity.Notice> notify;

  TriggerHandlers(EffectFactories<Event, State> effect, RiskView risk, Instruments instruments, MarkPrices marks,
      Clock clock, Consumer<State> changed, LongSupplier lastSequenceNumber, String accountId,
      Consumer<AccountEntity.Notice> notify) {
    this.effect = effect;
    this.risk = risk;
    this.instruments = instruments;
    this.marks = marks;
    this.clock = clock;
    this.changed = changed;
    this.lastSequenceNumber = lastSequenceNumber;
    this.accountId = accountId;
    this.notify = notify;
  }

  /**
   * Re-checks the monitor's finding with exact integers at the current marks (never on a stale
   * instrument); if it holds, persists the trigger and releases every reservation: from here the
   * account is reduce-only.
   */
  ReplyEffect<Event, State> startLiquidation(Account account, StartLiquidation cmd) {
    if (account.liquidating()) {
      return effect.noReply();
    }
    for (var entry : account.holdings().entrySet()) {
      if (!entry.getValue().flat() && marks.halted(entry.getKey())) {
        // The operator halted new liquidations on this instrument: nothing starts until resumed
        // (reporting the state again lets the monitor tell it once more after the resume).
        return effect.none().thenRun(changed::accept).thenNoReply();
      }
    }
    if (!risk.breached(account)) {
      // The monitor saw an older state or mark: tell it what is true now, which also lets it
      // trigger again later.
      return effect.none().thenRun(changed::accept).thenNoReply();
    }
    return effect.persist(marginLiquidation(account, cmd.markSequence())).thenRun(changed::accept).thenNoReply();
  }

  /** The trigger of a margin liquidation and the release of every reservation. */
  private List<Event> marginLiquidation(Account account, long markSequence) {
    AccountRisk evaluation = risk.evaluate(account);
    Map<String, Long> valued = new TreeMap<>();
    account.holdings().forEach((instrument, holding) -> {
      if (!holding.flat()) {
        valued.put(instrument, risk.markTicks(instrument, holding));
      }
    });
    List<Event> events = new ArrayList<>();
    // Unique and stable: the sequence number this event will have in the account's journal.
    events.add(new LiquidationStarted(accountId + "-" + (lastSequenceNumber.getAsLong() + 1), markSequence, valued,
        evaluation.equity(), evaluation.maintenanceMargin(), clock.millis(), null));
    account.reservations().forEach((orderId, reservation) ->
        events.add(new ReservationReleased(orderId, reservation.amount())));
    return events;
  }

  ReplyEffect<Event, State> setStop(Account account, SetStop cmd) {
    instruments.require(cmd.instrument());
    if (cmd.stopTicks() < 0) {
      return reject(cmd.replyTo(), Rejection.PRICE_NOT_POSITIVE, "a stop price must be positive");
    }
    Holding holding = account.holding(cmd.instrument());
    if (cmd.stopTicks() == 0) {
      if (!account.stops().containsKey(cmd.instrument())) {
        return effect.reply(cmd.replyTo(), new AccountEntity.Snapshot(risk.summary(account)));
      }
      return persistThenSnapshot(new StopSet(cmd.instrument(), 0), cmd.replyTo());
    }
    if (holding.flat()) {
      return reject(cmd.replyTo(), Rejection.NO_POSITION, "there is no " + cmd.instrument() + " position to protect");
    }
    if (account.liquidating()) {
      return reject(cmd.replyTo(), Rejection.ACCOUNT_LIQUIDATING, "the account is being liquidated");
    }
    long mark = risk.markTicks(cmd.instrument(), holding);
    Instrument instrument = instruments.require(cmd.instrument());
    if (holding.lots() > 0 ? cmd.stopTicks() >= mark : cmd.stopTicks() <= mark) {
      return reject(cmd.replyTo(), Rejection.STOP_WRONG_SIDE, "a " + (holding.lots() > 0 ? "long" : "short")
          + " position's stop must be " + (holding.lots() > 0 ? "below" : "above") + " the mark of "
          + instrument.formatPrice(mark));
    }
    return persistThenSnapshot(new StopSet(cmd.instrument(), cmd.stopTicks()), cmd.replyTo());
  }

  /**
   * The monitor saw the mark cross a stop: re-check, then hand the close to a saga like a
   * liquidation; but an account at or below maintenance by then is liquidated (with penalty,
   * every due position) rather than stopped, so that a stop never settles a loss the rest of the
   * account cannot carry.
   */
  ReplyEffect<Event, State> triggerStop(Account account, TriggerStop cmd) {
    Long stop = account.stops().get(cmd.instrument());
    Holding holding = account.holding(cmd.instrument());
    if (stop == null || holding.flat() || account.liquidating() || marks.stale(cmd.instrument())
        || marks.halted(cmd.instrument()) || marks.get(cmd.instrument()).isEmpty()) {
      return effect.none().thenRun(changed::accept).thenNoReply();
    }
    long mark = marks.get(cmd.instrument()).get().priceTicks();
    if (!StopRule.crossed(holding.lots(), stop, mark)) {
      return effect.none().thenRun(changed::accept).thenNoReply();
    }
    if (risk.breached(account)) {
      return startLiquidation(account, new StartLiquidation(cmd.markSequence()));
    }
    AccountRisk evaluation = risk.evaluate(account);
    return effect.persist(new LiquidationStarted(accountId + "-" + (lastSequenceNumber.getAsLong() + 1),
            cmd.markSequence(), Map.of(cmd.instrument(), mark), evaluation.equity(), evaluation.maintenanceMargin(),
            clock.millis(), cmd.instrument()))
        .thenRun(changed::accept)
        .thenRun(state -> notify.accept(new AccountEntity.Notice(AccountEntity.NoticeKind.STOP_TRIGGERED,
            ((Account) state).liquidation().liquidationId(), "the mark " + instruments.require(cmd.instrument())
                .formatPrice(mark) + " crossed the stop of " + instruments.require(cmd.instrument()).formatPrice(stop)
                + ": closing the " + cmd.instrument() + " position")))
        .thenNoReply();
  }

  private ReplyEffect<Event, State> persistThenSnapshot(Event event, ActorRef<Reply> replyTo) {
    return effect.persist(event).thenRun(changed::accept)
        .thenReply(replyTo, state -> new AccountEntity.Snapshot(risk.summary((Account) state)));
  }

  private ReplyEffect<Event, State> reject(ActorRef<Reply> replyTo, Rejection reason, String message) {
    return effect.reply(replyTo, new Rejected(reason, message));
  }
}
