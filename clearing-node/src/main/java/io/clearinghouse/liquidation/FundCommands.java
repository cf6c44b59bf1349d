package io.clearinghouse.liquidation;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.liquidation.InsuranceFund.Entry;
import io.clearinghouse.liquidation.InsuranceFund.Event;
import io.clearinghouse.liquidation.InsuranceFund.Kind;
import io.clearinghouse.liquidation.InsuranceFund.Moved;
import io.clearinghouse.liquidation.InsuranceFund.Reply;
import io.clearinghouse.liquidation.InsuranceFund.State;
import io.clearinghouse.margin.Position;
import io.clearinghouse.margin.PositionChange;
import io.clearinghouse.margin.ReserveRules;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * The rules of a reserve ledger's commands ({@link InsuranceFund}): every movement once per key,
 * never below zero, never past a long; the money arithmetic itself is in {@link ReserveRules}.
 */
final class FundCommands {
  private final EffectFactories<Event, State> effect;
  private final String fundId;
  private final boolean insuranceFund;
  private final Clock clock;
  private final Consumer<State> changed;

  FundCommands(EffectFactories<Event, State> effect, String fundId, boolean insuranceFund, Clock clock,
      Consumer<State> changed) {
    this.effect = effect;
    this.fundId = fundId;
    this.insuranceFund = insuranceFund;
    this.clock = clock;
    this.changed = changed;
  }

  ReplyEffect<Event, State> topUp(State state, InsuranceFund.TopUp cmd) {
    var replayed = replay(state, cmd.key(), Kind.TOP_UP, cmd.amount(), cmd.replyTo());
    if (replayed != null) {
      return replayed;
    }
    if (cmd.amount() <= 0) {
      return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "a top-up must be greater than zero");
    }
    if (state.balance() > Long.MAX_VALUE - cmd.amount() || state.totalIn() > Long.MAX_VALUE - cmd.amount()) {
      return reject(cmd.replyTo(), Rejection.BALANCE_OVERFLOW, "the top-up would overflow the balance");
    }
    return persist(new InsuranceFund.ToppedUp(cmd.key(), cmd.amount(), clock.millis(), cmd.by()), cmd.key(), cmd.replyTo());
  }

  ReplyEffect<Event, State> withdraw(State state, InsuranceFund.Withdraw cmd) {
    var replayed = replay(state, cmd.key(), Kind.WITHDRAWAL, cmd.amount(), cmd.replyTo());
    if (replayed != null) {
      return replayed;
    }
    if (cmd.amount() <= 0) {
      return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "a withdrawal must be greater than zero");
    }
    long free = Math.max(0, state.balance() - state.reserved());
    if (cmd.amount() > free) {
      return reject(cmd.replyTo(), Rejection.INSUFFICIENT_RESERVE, fundId + " holds " + free
          + " not held for liquidations, less than the " + cmd.amount() + " asked");
    }
    return persist(new InsuranceFund.Withdrawn(cmd.key(), cmd.amount(), clock.millis(), cmd.by()), cmd.key(), cmd.replyTo());
  }

  ReplyEffect<Event, State> receive(State state, InsuranceFund.Receive cmd) {
    var replayed = replay(state, cmd.key(), Kind.PENALTY, cmd.amount(), cmd.replyTo());
    if (replayed != null) {
      return replayed;
    }
    if (cmd.amount() <= 0) {
      return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "a receipt must be greater than zero");
    }
    if (state.balance() > Long.MAX_VALUE - cmd.amount() || state.totalIn() > Long.MAX_VALUE - cmd.amount()) {
      return reject(cmd.replyTo(), Rejection.BALANCE_OVERFLOW, "the receipt would overflow the balance");
    }
    return persist(new InsuranceFund.Received(cmd.key(), cmd.liquidationId(), cmd.amount(), clock.millis()), cmd.key(),
        cmd.replyTo());
  }

  ReplyEffect<Event, State> pay(State state, InsuranceFund.Pay cmd) {
    Optional<Entry> first = state.entry(cmd.key());
    if (first.isPresent()) {
      return first.get().kind() == Kind.DEFICIT_PAID && first.get().requested() == cmd.requested()
          ? effect.reply(cmd.replyTo(), new Moved(first.get(), true))
          : reject(cmd.replyTo(), Rejection.IDEMPOTENCY_KEY_REUSED, "key " + cmd.key() + " was used for another movement");
    }
    if (cmd.requested() <= 0) {
      return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "a payment must be greater than zero");
    }
    long now = clock.millis();
    long paid = Math.min(cmd.requested(), state.availableTo(cmd.liquidationId()));
    boolean limited = cmd.dailyLimit() > 0 && cmd.instrument() != null;
    if (limited) {
      // What others hold of the day's amount is theirs.
      paid = Math.min(paid, leftToday(state, cmd.instrument(), cmd.dailyLimit(), cmd.liquidationId()));
    }
    return persist(new InsuranceFund.Paid(cmd.key(), cmd.liquidationId(), cmd.requested(), paid, now,
        limited ? cmd.instrument() : null), cmd.key(), cmd.replyTo());
  }

  ReplyEffect<Event, State> reserve(State state, InsuranceFund.Reserve cmd) {
    if (cmd.amount() <= 0) {
      return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "a reservation must be greater than zero");
    }
    var own = state.holdOf(cmd.liquidationId());
    if (own.isPresent() && own.get().amount() == cmd.amount()) {
      // A retry, or a replan that needs what is already held: nothing to change.
      return effect.reply(cmd.replyTo(), new InsuranceFund.Reservation(cmd.key(), true, cmd.amount()));
    }
    // Measured against the other liquidations' holds only: its own earlier hold is replaced.
    if (state.balance() - state.heldForOthers(cmd.liquidationId()) < cmd.amount()) {
      return effect.reply(cmd.replyTo(), new InsuranceFund.Reservation(cmd.key(), false, cmd.amount()));
    }
    if (cmd.dailyLimit() > 0 && cmd.instrument() != null && cmd.amount() > leftToday(state, cmd.instrument(),
        cmd.dailyLimit(), cmd.liquidationId())) {
      return effect.reply(cmd.replyTo(), new InsuranceFund.Reservation(cmd.key(), false, cmd.amount()));
    }
    return effect.persist(new InsuranceFund.Reserved(cmd.key(), cmd.liquidationId(), cmd.amount(), clock.millis()))
        .thenReply(cmd.replyTo(), s -> new InsuranceFund.Reservation(cmd.key(), true, cmd.amount()));
  }

  ReplyEffect<Event, State> releaseHold(State state, InsuranceFund.ReleaseHold cmd) {
    if (state.holdOf(cmd.liquidationId()).isEmpty()) {
      return effect.reply(cmd.replyTo(), new InsuranceFund.Reservation(cmd.key(), false, 0));
    }
    // A hold of nothing: the liquidation's hold is gone (the event handler keeps no empty hold).
    return effect.persist(new InsuranceFund.Reserved(cmd.key(), cmd.liquidationId(), 0, clock.millis()))
        .thenReply(cmd.replyTo(), s -> new InsuranceFund.Reservation(cmd.key(), false, 0));
  }

  ReplyEffect<Event, State> reserveUpTo(State state, InsuranceFund.ReserveUpTo cmd) {
    long free = Math.max(0, state.balance() - state.heldForOthers(cmd.liquidationId()));
    long granted = Math.min(Math.max(0, cmd.amount()), free);
    var own = state.holdOf(cmd.liquidationId());
    if (granted == 0 || (own.isPresent() && own.get().amount() == granted)) {
      return effect.reply(cmd.replyTo(), new InsuranceFund.Reservation(cmd.key(), granted > 0, granted));
    }
    return effect.persist(new InsuranceFund.Reserved(cmd.key(), cmd.liquidationId(), granted, clock.millis()))
        .thenReply(cmd.replyTo(), s -> new InsuranceFund.Reservation(cmd.key(), true, granted));
  }

  /**
   * What is left today of a daily amount for {@code instrument}: less what was paid today and
   * what is held for other liquidations (counted against it, whatever their instrument).
   */
  private long leftToday(State state, String instrument, long dailyLimit, String liquidationId) {
    // Never a day before the tally's: a clock behind the one before it must not find a fresh day.
    long today = Math.max(Math.floorDiv(clock.millis(), 86_400_000L), state.day());
    return ReserveRules.withinDailyLimit(Long.MAX_VALUE, dailyLimit,
        Math.addExact(state.drawn(instrument, today), state.heldForOthers(liquidationId)));
  }

  ReplyEffect<Event, State> forget(State state, InsuranceFund.Forget cmd) {
    if (!state.remembers(cmd.liquidationId())) {
      return cmd.replyTo() == null ? effect.noReply() : effect.reply(cmd.replyTo(), org.apache.pekko.Done.done());
    }
    var persisted = effect.persist(new InsuranceFund.Forgotten(cmd.liquidationId()));
    return cmd.replyTo() == null ? persisted.thenNoReply()
        : persisted.thenReply(cmd.replyTo(), s -> org.apache.pekko.Done.done());
  }

  ReplyEffect<Event, State> get(State state, InsuranceFund.Get cmd) {
    List<Entry> page = new ArrayList<>();
    int newest = state.recent().size() - 1 - Math.max(0, cmd.offset());
    for (int i = newest; i >= 0 && page.size() < Math.max(0, cmd.limit()); i--) {
      page.add(state.recent().get(i));
    }
    return effect.reply(cmd.replyTo(), new InsuranceFund.View(fundId, state.balance(), state.reserved(),
        state.totalIn(), state.totalOut(), state.entries(), page, state.positions(), insuranceFund));
  }

  ReplyEffect<Event, State> moveOut(State state, InsuranceFund.MoveOut cmd) {
    Optional<Entry> first = state.entry(cmd.key());
    if (first.isPresent()) {
      return first.get().kind() == Kind.MOVED_OUT
          ? effect.reply(cmd.replyTo(), new Moved(first.get(), true))
          : reject(cmd.replyTo(), Rejection.IDEMPOTENCY_KEY_REUSED, "key " + cmd.key() + " was used for another movement");
    }
    long free = Math.max(0, state.balance() - state.reserved());
    long amount = ReserveRules.replenishment(free, cmd.sharePpm(), cmd.maxAmount());
    if (amount == 0) {
      // Nothing to move: nothing recorded, and the key stays free.
      return effect.reply(cmd.replyTo(), new Moved(new Entry(Kind.MOVED_OUT, cmd.key(), cmd.to(), 0, 0,
          state.balance(), clock.millis()), false));
    }
    return persist(new InsuranceFund.MovedOut(cmd.key(), cmd.to(), amount, clock.millis()), cmd.key(), cmd.replyTo());
  }

  ReplyEffect<Event, State> moveIn(State state, InsuranceFund.MoveIn cmd) {
    var replayed = replay(state, cmd.key(), Kind.MOVED_IN, cmd.amount(), cmd.replyTo());
    if (replayed != null) {
      return replayed;
    }
    if (cmd.amount() <= 0) {
      return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "a move must be greater than zero");
    }
    if (state.balance() > Long.MAX_VALUE - cmd.amount() || state.totalIn() > Long.MAX_VALUE - cmd.amount()) {
      return reject(cmd.replyTo(), Rejection.BALANCE_OVERFLOW, "the move would overflow the balance");
    }
    return persist(new InsuranceFund.MovedIn(cmd.key(), cmd.from(), cmd.amount(), clock.millis()), cmd.key(),
        cmd.replyTo());
  }

  ReplyEffect<Event, State> collectFees(State state, InsuranceFund.CollectFees cmd) {
    long last = state.feeSweeps().getOrDefault(cmd.accountId(), 0L);
    String key = io.clearinghouse.account.FeeSweep.key(cmd.accountId(), cmd.sweep());
    if (last < 0 && cmd.sweep() == -last) {
      // Voided before (its refusal lost on the way): refused again, never taken.
      return reject(cmd.replyTo(), Rejection.INSUFFICIENT_RESERVE, "rebate claim " + key + " was refused: claim it"
          + " again under the next number");
    }
    if (cmd.sweep() <= Math.abs(last)) {
      // Taken in before (an answer lost on the way): done, nothing moves again.
      Entry first = state.entry(key).orElse(new Entry(Kind.FEES, key, cmd.accountId(), cmd.amount(), cmd.amount(),
          state.balance(), 0));
      return effect.reply(cmd.replyTo(), new Moved(first, true));
    }
    if (cmd.amount() == 0 || cmd.amount() == Long.MIN_VALUE) {
      return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "a fee sweep moves some money");
    }
    if (cmd.amount() < 0 && -cmd.amount() > state.balance() - state.reserved()) {
      // A net rebate the reserve cannot pay now (beyond what it holds less what liquidations hold):
      // this number is voided for good, and the account claims the amount again, netted with its
      // later fees, under the next one (so its later fees are never held up behind the claim).
      String message = "platform revenue holds " + (state.balance() - state.reserved()) + " free, the rebate claim "
          + key + " is " + (-cmd.amount()) + ": claim it again under the next number";
      return effect.persist(new InsuranceFund.FeeSweepVoided(cmd.accountId(), cmd.sweep(), clock.millis()))
          .thenReply(cmd.replyTo(), after -> new InsuranceFund.Rejected(Rejection.INSUFFICIENT_RESERVE, message));
    }
    if (cmd.amount() > 0
        && (state.balance() > Long.MAX_VALUE - cmd.amount() || state.totalIn() > Long.MAX_VALUE - cmd.amount())) {
      return reject(cmd.replyTo(), Rejection.BALANCE_OVERFLOW, "the fee sweep would overflow the balance");
    }
    return persist(new InsuranceFund.FeesReceived(cmd.accountId(), cmd.sweep(), cmd.amount(), clock.millis()), key,
        cmd.replyTo());
  }

  ReplyEffect<Event, State> confirmMove(State state, InsuranceFund.ConfirmMove cmd) {
    boolean outgoing = state.outgoing().stream().anyMatch(m -> m.key().equals(cmd.key()));
    if (!outgoing) {
      return effect.reply(cmd.replyTo(), new InsuranceFund.Outgoing(state.outgoing()));
    }
    return effect.persist(new InsuranceFund.MoveConfirmed(cmd.key()))
        .thenReply(cmd.replyTo(), s -> new InsuranceFund.Outgoing(s.outgoing()));
  }

  ReplyEffect<Event, State> takeOver(State state, InsuranceFund.TakeOver cmd) {
    var first = state.takeover(cmd.key());
    if (first.isPresent()) {
      return effect.reply(cmd.replyTo(), new InsuranceFund.PositionMoved(first.get(), true));
    }
    if (!insuranceFund) {
      return reject(cmd.replyTo(), Rejection.BACKSTOP_DECLINED, fundId + " is not an insurance fund: it holds no positions");
    }
    if (cmd.signedLots() == 0 || cmd.priceTicks() <= 0 || cmd.multiplier() <= 0) {
      return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "a takeover needs a quantity and a positive price");
    }
    Position before = state.position(cmd.instrument());
    PositionChange change;
    long balanceAfter;
    try {
      change = before.apply(cmd.signedLots(), cmd.priceTicks(), cmd.multiplier());
      balanceAfter = Math.addExact(state.balance(), change.realizedPnl());
    } catch (ArithmeticException e) {
      return reject(cmd.replyTo(), Rejection.NOTIONAL_OVERFLOW, "the takeover overflows the fund's position");
    }
    if (cmd.checked()) {
      Optional<String> refusal = ReserveRules.takeoverRefusal(change.position().lots(), cmd.priceTicks(),
          cmd.multiplier(), cmd.maxNetNotional(), change.realizedPnl(), state.availableTo(cmd.liquidationId()));
      if (refusal.isPresent()) {
        return reject(cmd.replyTo(), Rejection.BACKSTOP_DECLINED, "insurance fund " + fundId + ": " + refusal.get());
      }
    }
    if (balanceAfter < 0) {
      return reject(cmd.replyTo(), Rejection.BACKSTOP_DECLINED, "insurance fund " + fundId
          + " cannot pay the loss of " + (-change.realizedPnl()));
    }
    var event = new InsuranceFund.PositionTaken(cmd.key(), cmd.liquidationId(), cmd.instrument(), cmd.signedLots(),
        cmd.priceTicks(), Math.subtractExact(change.position().cost(), before.cost()), change.realizedPnl(),
        clock.millis());
    return effect.persist(event).thenRun(changed::accept)
        .thenReply(cmd.replyTo(), s -> new InsuranceFund.PositionMoved(event, false));
  }

  /** A retried key: its first result when the content matches, a refusal when it does not; null if new. */
  private ReplyEffect<Event, State> replay(State state, String key, Kind kind, long amount, ActorRef<Reply> replyTo) {
    Optional<Entry> first = state.entry(key);
    if (first.isEmpty()) {
      return null;
    }
    if (first.get().kind() == kind && first.get().amount() == amount) {
      return effect.reply(replyTo, new Moved(first.get(), true));
    }
    return reject(replyTo, Rejection.IDEMPOTENCY_KEY_REUSED, "key " + key + " was already used for a "
        + first.get().kind().name().toLowerCase() + " of " + first.get().amount());
  }

  private ReplyEffect<Event, State> persist(Event event, String key, ActorRef<Reply> replyTo) {
    return effect.persist(event).thenRun(changed::accept)
        .thenReply(replyTo, state -> new Moved(state.entry(key).orElseThrow(), false));
  }

  private ReplyEffect<Event, State> reject(ActorRef<Reply> replyTo, Rejection reason, String message) {
    return effect.reply(replyTo, new InsuranceFund.Rejected(reason, message));
  }

  /** The fund's side of a close as the saga records it (role INSURANCE_FUND; {@code counterparty}: the trader). */
  static AccountEntity.LiquidationTransfer transfer(InsuranceFund.PositionTaken t, String counterparty) {
    return new AccountEntity.LiquidationTransfer(t.key(), t.liquidationId(),
        io.clearinghouse.account.LiquidationRole.INSURANCE_FUND, counterparty, t.instrument(), t.signedLots(),
        t.priceTicks(), t.realizedPnl(), t.costDelta(), 0, 0, 0, t.epochMillis());
  }
}
