package io.clearinghouse.liquidation;

// Over 450 lines (since the liquidation issue): protocol, state and driver; issue 12 makes the phases state types and splits it.

import io.clearinghouse.account.Account;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.LiquidationRole;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.instrument.LiquidationTerms;
import io.clearinghouse.instrument.LiquidationTerms.NegativeBalancePolicy;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.persistence.CborSerializable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One liquidation, driven through the waterfall of DESIGN section 6 across the cluster:
 * plan -> close (backstop providers, else auto-deleveraging) -> repeat until the account is
 * healthy or flat -> penalties to the insurance fund -> cover of any deficit by the fund -> what
 * the fund could not cover as debt -> end. Sharded by liquidation id, event-sourced and
 * remembered until it finishes.
 *
 * <p>Every step is an ask to another entity carrying the key {@code liquidationId/step}; the
 * answer is persisted before the next step is sent. After a crash the saga recovers its journal
 * and re-sends the step it was at with the same key, which the entity answers with its first
 * result: the saga ends exactly as it would have without the crash. Money between two entities
 * (penalties on their way to the fund, the fund's cover on its way to the account) is held in the
 * saga's escrow, which the ledger audit counts.
 */
public final class LiquidationSaga
    extends EventSourcedBehavior<LiquidationSaga.Command, LiquidationSaga.Event, LiquidationSaga.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "LiquidationSaga");
  private static final Logger log = LoggerFactory.getLogger(LiquidationSaga.class);

  // --- protocol -------------------------------------------------------------------------

  public sealed interface Command extends CborSerializable {}

  /** From the liquidated account, after LiquidationStarted and again periodically until it ends. */
  public record Begin(String accountId, Account.Liquidation trigger) implements Command {}

  /** The fund-flow record so far (final once {@code outcome} is set); empty if never begun. */
  public record Get(ActorRef<Optional<FundFlow>> replyTo) implements Command {}

  private record Answer(long attempt, StepAnswer reply) implements Command {}

  /**
   * What a step's ask came back with, typed once where it arrives ({@link #typed}): the driver
   * never casts a reply.
   */
  sealed interface StepAnswer extends CborSerializable {}

  /** The entity asked refused (an account's or a fund's rejection): the step is retried, or the venue declined. */
  record Refused(String why) implements StepAnswer {}

  /** The liquidated account's next close (zero lots: nothing left to close). */
  record Planned(AccountEntity.ClosePlan plan) implements StepAnswer {}

  /** One side of a close applied (by a counterparty, the fund, or the liquidated account). */
  record Transferred(LiquidationTransfer transfer) implements StepAnswer {}

  /** An amount moved (a penalty share delivered, the fund's or the capital's payment, the penalty draw). */
  record Moved(long amount) implements StepAnswer {}

  /** The liquidated account as it stands, for the settlement. */
  record Assessed(AccountSummary account) implements StepAnswer {}

  /** Done, nothing to read from the answer (the cover credited, the debt recorded, the end). */
  record Acknowledged() implements StepAnswer {}

  private record Failed(long attempt, String why) implements Command {}

  private record Retry(long attempt) implements Command {}

  /** Every counterparty and fund has dropped this finished liquidation's keys and holds (or not). */
  private record Forgot(long attempt, String failure) implements Command {}

  /** Names are stored in journals: never rename. FUND: the insurance fund took the close over at the bankruptcy price. */
  public enum Venue { BACKSTOP, ADL, FUND }

  // --- events ---------------------------------------------------------------------------

  public sealed interface Event extends CborSerializable {}

  public record Began(String accountId, Account.Liquidation trigger) implements Event {}

  /** What to close next (a new step, or the same step planned again at a fresher mark). */
  public record ClosePlanned(int step, String instrument, long signedLots, long markTicks, long bankruptcyTicks,
      boolean isolated) implements Event {}

  /**
   * The counterparty asked to take (at most) {@code signedLots} of the close, at {@code priceTicks};
   * a provider within its registered notional limit {@code providerLimit}.
   */
  public record VenueChosen(int step, Venue venue, String counterparty, long priceTicks, long signedLots,
      long providerLimit) implements Event {}

  /** The counterparty took none of it (a provider's margin or limit, no opposite position left). */
  public record VenueDeclined(int step, String counterparty, String reason) implements Event {}

  /** The counterparty's side, applied first: a provider's takeover or a deleveraged reduction. */
  public record TakenOver(int step, LiquidationTransfer transfer) implements Event {}

  /**
   * The liquidated account's side, as it applied it (at most what was taken over; penalty into
   * escrow). {@code fullPenalty}: what the penalty rate charges on the close's notional, before it
   * was cut to what the trader had above bankruptcy.
   */
  public record Closed(int step, LiquidationTransfer transfer, long fullPenalty) implements Event {
    public Closed(int step, LiquidationTransfer transfer) {
      this(step, transfer, 0);
    }
  }

  /** The counterparty gives back what the liquidated account no longer held to close. */
  public record Undone(int step, LiquidationTransfer transfer) implements Event {}

  /** No more closes: the account is healthy or flat ({@code note} says when a stop found no taker). */
  public record ClosingFinished(long epochMillis, String note) implements Event {}

  /**
   * A share of the penalties held in escrow delivered to {@code fund}: a fund's name,
   * {@code reserve/<name>} (a platform reserve) or {@code provider/<account>} (a liquidator's reward).
   */
  public record PenaltyDelivered(String fund, long amount) implements Event {}

  /** Of the penalties held in escrow, {@code amount} covers this liquidation's own deficit before any reserve pays. */
  public record PenaltyApplied(long amount) implements Event {}

  /** The operator's capital paid {@code amount} of {@code requested} into escrow (after the fund, within its daily amount). */
  public record CapitalPaid(long requested, long amount) implements Event {}

  /**
   * What the account needs covered, and its cash then: {@code shortfall} owed by closed isolated
   * positions (never charged to the cash) plus the cross deficit ({@code need - shortfall}).
   */
  public record SettlementAssessed(String fund, long need, long cash, long shortfall) implements Event {}

  /** The fund paid {@code amount} of {@code requested} into escrow. */
  public record FundPaid(String fund, long requested, long amount) implements Event {}

  /** The cover (penalty applied, the fund's and the operator capital's payments) delivered from escrow to the account. */
  public record CoverDelivered(long amount) implements Event {}

  /** What nobody covered, recorded as the account's debt. */
  public record DebtLeft(long amount) implements Event {}

  /** {@code outcome}: an {@link Outcome}'s wire value (a string in the journal, as it always was). */
  public record Finished(String outcome, long epochMillis) implements Event {}

  // --- state ----------------------------------------------------------------------------

  /**
   * One close of the liquidation as far as it got: planned, the venue asked (after the ones that
   * declined), the counterparty's side, the liquidated account's side, and a give-back when the
   * liquidated account held less than the counterparty took.
   */
  public record Close(int step, String instrument, long plannedLots, long markTicks, long bankruptcyTicks,
      boolean isolated, List<String> declined, Venue venue, String counterparty, long priceTicks, long venueLots,
      long providerLimit, LiquidationTransfer taken, LiquidationTransfer closed, LiquidationTransfer undone,
      long fullPenalty) implements CborSerializable {
    public Close {
      declined = declined == null ? List.of() : List.copyOf(declined);
    }

    public Close(int step, String instrument, long plannedLots, long markTicks, long bankruptcyTicks, boolean isolated,
        List<String> declined, Venue venue, String counterparty, long priceTicks, long venueLots, long providerLimit,
        LiquidationTransfer taken, LiquidationTransfer closed, LiquidationTransfer undone) {
      this(step, instrument, plannedLots, markTicks, bankruptcyTicks, isolated, declined, venue, counterparty,
          priceTicks, venueLots, providerLimit, taken, closed, undone, 0);
    }

    static Close planned(ClosePlanned e) {
      return new Close(e.step(), e.instrument(), e.signedLots(), e.markTicks(), e.bankruptcyTicks(), e.isolated(),
          List.of(), null, null, 0, 0, 0, null, null, null);
    }

    Close with(VenueChosen e) {
      return new Close(step, instrument, plannedLots, markTicks, bankruptcyTicks, isolated, declined, e.venue(),
          e.counterparty(), e.priceTicks(), e.signedLots(), e.providerLimit(), null, null, null);
    }

    Close declinedBy(String counterparty) {
      List<String> after = new ArrayList<>(declined);
      after.add(counterparty);
      return new Close(step, instrument, plannedLots, markTicks, bankruptcyTicks, isolated, after, null, null, 0, 0, 0,
          null, null, null);
    }

    Close withSides(LiquidationTransfer taken, LiquidationTransfer closed, LiquidationTransfer undone) {
      return new Close(step, instrument, plannedLots, markTicks, bankruptcyTicks, isolated, declined, venue,
          counterparty, priceTicks, venueLots, providerLimit, taken, closed, undone, fullPenalty);
    }

    Close closedWith(LiquidationTransfer closed, long fullPenalty) {
      return new Close(step, instrument, plannedLots, markTicks, bankruptcyTicks, isolated, declined, venue,
          counterparty, priceTicks, venueLots, providerLimit, taken, closed, null, fullPenalty);
    }

    /** What the penalty rate would have charged beyond the penalty taken. */
    public long penaltyCut() {
      return closed == null ? 0 : Math.max(0, fullPenalty - closed.penalty());
    }

    /** What the counterparty still holds of the close once both sides and any give-back are in. */
    long unmatchedLots() {
      long lots = taken.signedLots() + closed.signedLots();
      return undone == null ? lots : lots + undone.signedLots();
    }

    boolean done() {
      return closed != null && unmatchedLots() == 0;
    }
  }

  public record State(String accountId, Account.Liquidation trigger, List<Close> closes, boolean closingDone,
      String closingNote, Map<String, Long> penaltiesDelivered, String coverFund, Long need, Long fundPaid,
      boolean coverDelivered, Long debt, String outcome, long finishedMillis, long cashAtSettlement, long shortfall,
      Long penaltyApplied, Long capitalPaid) implements CborSerializable {
    public State {
      closes = closes == null ? List.of() : List.copyOf(closes);
      penaltiesDelivered = penaltiesDelivered == null ? Map.of() : Map.copyOf(penaltiesDelivered);
    }

    public static State empty() {
      return new State(null, null, List.of(), false, null, Map.of(), null, null, null, false, null, null, 0, 0, 0, null,
          null);
    }

    Close last() {
      return closes.isEmpty() ? null : closes.get(closes.size() - 1);
    }

    State withLast(Close close) {
      List<Close> after = new ArrayList<>(closes);
      if (!after.isEmpty() && after.get(after.size() - 1).step() == close.step()) {
        after.set(after.size() - 1, close);
      } else {
        after.add(close);
      }
      return new State(accountId, trigger, after, closingDone, closingNote, penaltiesDelivered, coverFund, need,
          fundPaid, coverDelivered, debt, outcome, finishedMillis, cashAtSettlement, shortfall, penaltyApplied,
          capitalPaid);
    }

    /** The deficit's cover, layer by layer: the penalty applied, the fund's and the operator capital's payments. */
    public long cover() {
      return Math.addExact(Math.addExact(penaltyApplied == null ? 0 : penaltyApplied, fundPaid == null ? 0 : fundPaid),
          capitalPaid == null ? 0 : capitalPaid);
    }

    /** Of the cover, what goes to the isolated shortfalls (first) rather than the cash. */
    public long shortfallCovered() {
      return Math.min(cover(), shortfall);
    }

    /** Every penalty the closes took. */
    public long penalties() {
      long taken = 0;
      for (Close c : closes) {
        if (c.closed() != null) {
          taken = Math.addExact(taken, c.closed().penalty());
        }
      }
      return taken;
    }

    /** Penalties taken and not yet delivered to a fund, reserve or provider (some may be applied to the deficit). */
    long undeliveredPenalties() {
      long held = penalties();
      for (long delivered : penaltiesDelivered.values()) {
        held = Math.subtractExact(held, delivered);
      }
      return held;
    }

    /** Money held by the saga: penalties not yet delivered, payments not yet with the account. */
    public long escrow() {
      long held = undeliveredPenalties();
      held = Math.addExact(Math.addExact(held, fundPaid == null ? 0 : fundPaid), capitalPaid == null ? 0 : capitalPaid);
      return coverDelivered ? Math.subtractExact(held, cover()) : held;
    }

    /** Every account that took a side of a close, and every fund the saga touched: told to forget its keys. */
    Set<String> counterparties() {
      Set<String> parties = new TreeSet<>();
      closes.forEach(c -> {
        // A fund that took a close over is told as a fund.
        if (c.taken() != null && c.venue() != Venue.FUND) {
          parties.add(c.counterparty());
        }
      });
      return parties;
    }
  }

  // --- wiring ---------------------------------------------------------------------------

  /**
   * What a saga needs from its node; {@code sizing} cuts each planned close to the market depth
   * (issue 16 item 3).
   */
  public record Environment(LiquidationSettings settings, Instruments instruments, AdlCandidates adl, Metrics metrics,
      Clock clock, CloseSizing sizing) {
    /** Closes as planned, whatever the depth. */
    public Environment(LiquidationSettings settings, Instruments instruments, AdlCandidates adl, Metrics metrics,
        Clock clock) {
      this(settings, instruments, adl, metrics, clock, CloseSizing.WHOLE);
    }
  }

  public static void init(ActorSystem<?> system, Environment environment) {
    ClusterSharding sharding = ClusterSharding.get(system);
    sharding.init(Entity.of(TYPE_KEY, context -> Behaviors.<Command>setup(ctx -> Behaviors.withTimers(timers ->
        new LiquidationSaga(context.getEntityId(), environment, sharding, ctx, timers,
            () -> context.getShard().tell(new ClusterSharding.Passivate<>(ctx.getSelf())))))));
  }

  public static PersistenceId persistenceId(String liquidationId) {
    return PersistenceId.of(TYPE_KEY.name(), liquidationId);
  }

  /** What the saga has asked and awaits the answer of. */
  private enum Asked { PLAN, VENUE, TAKE, CLOSE, UNDO, PENALTY, ASSESS, APPLY, PAY, CAPITAL, CREDIT, DEBT, END }

  private static final Duration MAX_RETRY_INTERVAL = Duration.ofSeconds(30);

  private final String liquidationId;
  private final Environment env;
  private final ClusterSharding sharding;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final Runnable passivate;
  /** Counts the steps sent by this incarnation; an answer to an older one is ignored. */
  private long attempt;
  private Asked asked;
  /** No venue took the last plan: plan again, at the mark of then, before the next venue search. */
  private boolean replan;
  /** Consecutive retries without progress, for the back-off. */
  private int retries;

  private LiquidationSaga(String liquidationId, Environment env, ClusterSharding sharding, ActorContext<Command> context,
      TimerScheduler<Command> timers, Runnable passivate) {
    super(persistenceId(liquidationId));
    this.liquidationId = liquidationId;
    this.env = env;
    this.sharding = sharding;
    this.context = context;
    this.timers = timers;
    this.passivate = passivate;
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), this::drive).build();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Begin.class, (state, begin) -> state.accountId() != null
            ? Effect().none()
            : persist(new Began(begin.accountId(), begin.trigger()), env.metrics()::liquidationStarted))
        .onCommand(Get.class, (state, get) -> {
          get.replyTo().tell(state.accountId() == null ? Optional.empty() : Optional.of(FundFlow.of(liquidationId, state,
              env.settings())));
          return Effect().none();
        })
        .onCommand(Retry.class, (state, retry) -> {
          if (retry.attempt() == attempt) {
            drive(state);
          }
          return Effect().none();
        })
        .onCommand(Forgot.class, (state, forgot) -> {
          if (forgot.attempt() != attempt) {
            return Effect().none();
          }
          if (forgot.failure() != null) {
            return retryLater("forgetting its keys and holds: " + forgot.failure());
          }
          passivate.run();
          return Effect().none();
        })
        .onCommand(Failed.class, (state, failed) -> failed.attempt() == attempt ? retryLater(failed.why())
            : Effect().none())
        .onCommand(Answer.class, (state, answer) -> {
          if (answer.attempt() != attempt) {
            return Effect().none();
          }
          injectCrash("answer");
          return onAnswer(state, answer.reply());
        })
        .build();
  }

  // --- the driver: what the state says comes next ---------------------------------------

  private void drive(State state) {
    attempt++;
    timers.cancelAll();
    if (state.accountId() == null) {
      return;
    }
    if (state.outcome() != null) {
      // Remembered (restarted after a crash) until every counterparty and fund confirmed.
      long forgetting = attempt;
      context.pipeToSelf(forget(state), (done, failure) -> new Forgot(forgetting,
          failure == null ? null : failure.toString()));
      return;
    }
    String trader = state.accountId();
    if (!state.closingDone()) {
      Close last = state.last();
      if (last == null || last.done() || (last.venue() == null && replan)) {
        ask(Asked.PLAN, askAccount(trader, r -> new AccountEntity.PlanLiquidationClose(liquidationId, r)));
      } else if (last.venue() == null) {
        ask(Asked.VENUE, chooseVenue(state, last));
      } else if (last.taken() == null && last.venue() == Venue.FUND) {
        ask(Asked.TAKE, fundSide(last, key(last), -last.venueLots(), true, trader));
      } else if (last.taken() == null) {
        boolean backstop = last.venue() == Venue.BACKSTOP;
        ask(Asked.TAKE, askAccount(last.counterparty(), r -> new AccountEntity.ApplyLiquidationTransfer(key(last),
            liquidationId, counterpartyRole(last), trader, last.instrument(), -last.venueLots(), last.priceTicks(),
            backstop ? last.providerLimit() : 0,
            backstop ? AccountEntity.TransferMode.TAKE_CHECKED : AccountEntity.TransferMode.REDUCE_CLIPPED, r)));
      } else if (last.closed() == null) {
        // Both sides of the close count for funding from the counterparty's take (its own time).
        ask(Asked.CLOSE, askAccount(trader, r -> new AccountEntity.ApplyLiquidationTransfer(key(last), liquidationId,
            state.trigger().stop() ? LiquidationRole.STOPPED : LiquidationRole.LIQUIDATED, last.counterparty(),
            last.instrument(), -last.taken().signedLots(), last.priceTicks(), 0,
            AccountEntity.TransferMode.CLOSE_CLIPPED, last.taken().epochMillis(), r)));
      } else if (last.venue() == Venue.FUND) {
        ask(Asked.UNDO, fundSide(last, key(last) + "/undo", -last.unmatchedLots(), false, trader));
      } else {
        // The give-back corrects the take: it counts for funding from the take's time too.
        ask(Asked.UNDO, askAccount(last.counterparty(), r -> new AccountEntity.ApplyLiquidationTransfer(
            key(last) + "/undo", liquidationId, counterpartyRole(last), trader, last.instrument(),
            -last.unmatchedLots(), last.priceTicks(), 0, AccountEntity.TransferMode.FORCED,
            last.taken().epochMillis(), r)));
      }
      return;
    }
    // The deficit's waterfall: the penalties still in escrow, the fund, the operator's capital (up
    // to its daily amount), then the account (ADL was the policy's part during the closes; debt
    // here); the penalty's shares go out only once the deficit has had its part.
    if (state.need() == null) {
      ask(Asked.ASSESS, askAccount(trader, AccountEntity.Get::new));
    } else if (state.need() > 0 && state.penaltyApplied() == null) {
      ask(Asked.APPLY, CompletableFuture.completedFuture(
          io.clearinghouse.margin.ReserveRules.penaltyDraw(state.need(), state.undeliveredPenalties())));
    } else if (Settlement.afterPenalty(state) > 0 && state.fundPaid() == null) {
      ask(Asked.PAY, askFund(state.coverFund(), r -> new InsuranceFund.Pay(liquidationId + "/cover", liquidationId,
          Settlement.afterPenalty(state), r)));
    } else if (Settlement.afterFund(state) > 0 && state.capitalPaid() == null && capitalPerDay(state) > 0) {
      ask(Asked.CAPITAL, askReserve(PlatformReserve.OPERATOR_CAPITAL, r -> new InsuranceFund.Pay(liquidationId
          + "/capital", liquidationId, Settlement.afterFund(state), coverInstrument(state), capitalPerDay(state), r)));
    } else if (state.cover() > 0 && !state.coverDelivered()) {
      ask(Asked.CREDIT, askAccount(trader, r -> new AccountEntity.CreditLiquidation(liquidationId + "/cover",
          liquidationId, state.cover(), state.shortfallCovered(), r)));
    } else if (Settlement.uncovered(state) > 0 && state.debt() == null) {
      ask(Asked.DEBT, askAccount(trader, r -> new AccountEntity.RecordDebt(liquidationId + "/debt", liquidationId,
          Settlement.uncovered(state), r)));
    } else if (!pendingPenalties(state).isEmpty()) {
      var first = pendingPenalties(state).entrySet().iterator().next();
      ask(Asked.PENALTY, deliver(first.getKey(), first.getValue()));
    } else {
      ask(Asked.END, askAccount(trader, r -> new AccountEntity.EndLiquidation(liquidationId, r)));
    }
  }

  /**
   * The insurance fund's side of a close it takes over ({@code checked}: within its takeover limit
   * and what it can pay) or gives back; answered as an account's side would be, so that the close
   * runs as with any counterparty.
   */
  private CompletionStage<Object> fundSide(Close close, String key, long signedLots, boolean checked, String trader) {
    long multiplier = env.instruments().require(close.instrument()).notionalMultiplier();
    return askFund(close.counterparty(), r -> new InsuranceFund.TakeOver(key, liquidationId, close.instrument(),
        signedLots, close.priceTicks(), multiplier, close.providerLimit(), checked, r)).thenApply(reply -> {
          if (reply instanceof InsuranceFund.PositionMoved moved) {
            return new AccountEntity.TransferApplied(FundCommands.transfer(moved.taken(), trader));
          }
          if (reply instanceof InsuranceFund.Rejected rejected) {
            return new AccountEntity.Rejected(rejected.reason(), rejected.message());
          }
          return reply;
        });
  }

  /** A penalty share from escrow to its destination: a fund, a platform reserve, or the provider's cash. */
  private CompletionStage<Object> deliver(String destination, long amount) {
    if (destination.startsWith(Settlement.RESERVE)) {
      PlatformReserve reserve = PlatformReserve.byId(destination.substring(Settlement.RESERVE.length())).orElseThrow();
      return askReserve(reserve, r -> new InsuranceFund.Receive(liquidationId + "/penalty", liquidationId, amount, r));
    }
    if (destination.startsWith(Settlement.PROVIDER)) {
      return askAccount(destination.substring(Settlement.PROVIDER.length()), r -> new AccountEntity.CreditLiquidation(
          liquidationId + "/reward", liquidationId, amount, 0, r));
    }
    return askFund(destination, r -> new InsuranceFund.Receive(liquidationId + "/penalty", liquidationId, amount, r));
  }

  /** What the operator's capital pays at most per day for the instrument the deficit is settled in (0: no layer). */
  private long capitalPerDay(State state) {
    return env.instruments().spec(coverInstrument(state)).liquidation().operatorCapitalPerDay();
  }

  /** A reply as the step answer it is; anything else fails the step (retried, and logged naming it). */
  static StepAnswer typed(Object reply) {
    if (reply instanceof AccountEntity.Rejected r) {
      return new Refused(r.reason() + ": " + r.message());
    } else if (reply instanceof InsuranceFund.Rejected r) {
      return new Refused(r.reason() + ": " + r.message());
    } else if (reply instanceof AccountEntity.TransferApplied t) {
      return new Transferred(t.transfer());
    } else if (reply instanceof AccountEntity.ClosePlan p) {
      return new Planned(p);
    } else if (reply instanceof VenueChoice c) {
      return c;
    } else if (reply instanceof AccountEntity.StepApplied a) {
      return new Moved(a.amount());
    } else if (reply instanceof InsuranceFund.Moved m) {
      return new Moved(m.entry().amount());
    } else if (reply instanceof Long amount) {
      return new Moved(amount);
    } else if (reply instanceof AccountEntity.Snapshot snapshot) {
      return new Assessed(snapshot.account());
    } else if (reply instanceof AccountEntity.Reply || reply instanceof org.apache.pekko.Done) {
      return new Acknowledged();
    }
    throw new IllegalStateException("unexpected answer " + (reply == null ? "null" : reply.getClass().getName()));
  }

  /** The answer as {@code type}, or a failure naming the step and what came instead. */
  private <T extends StepAnswer> T expect(Class<T> type, StepAnswer reply) {
    if (!type.isInstance(reply)) {
      throw new IllegalStateException("step " + asked + " expected " + type.getSimpleName() + ", got " + reply);
    }
    return type.cast(reply);
  }

  private Effect<Event, State> onAnswer(State state, StepAnswer reply) {
    Close last = state.last();
    if (asked == Asked.TAKE && (reply instanceof Refused
        || expect(Transferred.class, reply).transfer().signedLots() == 0)) {
      String reason = reply instanceof Refused r ? r.why() : "nothing to reduce";
      return persist(new VenueDeclined(last.step(), last.counterparty(), reason));
    }
    if (reply instanceof Refused refused) {
      return retryLater(refused.why());
    }
    switch (asked) {
      case PLAN -> {
        replan = false;
        AccountEntity.ClosePlan plan = expect(Planned.class, reply).plan();
        if (plan.signedLots() == 0) {
          return persist(new ClosingFinished(env.clock().millis(), null));
        }
        int step = last == null || last.done() ? state.closes().size() : last.step();
        // A liquidation closes in slices of the depth; the next plan takes the next slice. A stop closes whole.
        long lots = state.trigger().stop() ? plan.signedLots()
            : env.sizing().slice(plan.instrument(), plan.signedLots(), plan.markTicks());
        return persist(new ClosePlanned(step, plan.instrument(), lots, plan.markTicks(),
            plan.bankruptcyTicks(), plan.isolated()));
      }
      case VENUE -> {
        VenueChoice choice = expect(VenueChoice.class, reply);
        if (choice.venue() != null) {
          return persist(new VenueChosen(last.step(), choice.venue(), choice.counterparty(), choice.priceTicks(),
              choice.signedLots(), choice.providerLimit()));
        }
        if (state.trigger().stop()) {
          // A stop is closed at a provider's price or not at all: never deleveraged at bankruptcy.
          return persist(new ClosingFinished(env.clock().millis(), "stop not filled: " + choice.why()));
        }
        replan = true;
        return retryLater(choice.why());
      }
      case TAKE -> {
        return persist(new TakenOver(last.step(), expect(Transferred.class, reply).transfer()));
      }
      case CLOSE -> {
        LiquidationTransfer closed = expect(Transferred.class, reply).transfer();
        // A position the fund took over is unwound through the providers from now on.
        Runnable unwind = last.venue() != Venue.FUND ? () -> { } : () -> sharding.entityRefFor(FundUnwind.TYPE_KEY,
            FundUnwind.entityId(last.counterparty(), last.instrument())).tell(FundUnwind.Wake.INSTANCE);
        return persist(new Closed(last.step(), closed, fullPenalty(closed)), unwind);
      }
      case UNDO -> {
        return persist(new Undone(last.step(), expect(Transferred.class, reply).transfer()));
      }
      case PENALTY -> {
        String destination = pendingPenalties(state).keySet().iterator().next();
        return persist(new PenaltyDelivered(destination, expect(Moved.class, reply).amount()));
      }
      case APPLY -> {
        return persist(new PenaltyApplied(expect(Moved.class, reply).amount()));
      }
      case CAPITAL -> {
        return persist(new CapitalPaid(Settlement.afterFund(state), expect(Moved.class, reply).amount()));
      }
      case ASSESS -> {
        AccountSummary account = expect(Assessed.class, reply).account();
        long shortfalls = Settlement.shortfalls(state);
        // Isolated shortfalls are owed by their positions, not by the cash (which they never
        // touched); beyond them the cross deficit, counted once: see crossDeficit.
        long need = Math.addExact(shortfalls, Settlement.crossDeficit(state, account));
        return persist(new SettlementAssessed(coverFund(state), need, account.cash(), shortfalls));
      }
      case PAY -> {
        return persist(new FundPaid(state.coverFund(), Settlement.afterPenalty(state),
            expect(Moved.class, reply).amount()));
      }
      case CREDIT -> {
        return persist(new CoverDelivered(state.cover()));
      }
      case DEBT -> {
        return persist(new DebtLeft(Settlement.uncovered(state)));
      }
      case END -> {
        boolean closedAny = state.closes().stream().anyMatch(c -> c.closed() != null && c.closed().signedLots() != 0);
        Outcome outcome = state.debt() != null ? Outcome.DEBT : usedAdl(state) ? Outcome.ADL
            : state.trigger().stop() ? (closedAny ? Outcome.STOP : Outcome.STOP_UNFILLED) : Outcome.COVERED;
        return persist(new Finished(outcome.wire(), env.clock().millis()),
            () -> env.metrics().liquidationEnded(outcome.wire()));
      }
      default -> throw new IllegalStateException("no answer expected");
    }
  }

  private Effect<Event, State> persist(Event event) {
    return persist(event, () -> {});
  }

  /** Persists, runs {@code persisted}, then drives on to the next step. */
  private Effect<Event, State> persist(Event event, Runnable persisted) {
    return Effect().persist(event).thenRun(state -> {
      persisted.run();
      retries = 0;
      injectCrash("event");
      drive(state);
    });
  }

  private Effect<Event, State> retryLater(String why) {
    retries++;
    Duration delay = env.settings().retryInterval().multipliedBy(1L << Math.min(retries - 1, 5));
    if (delay.compareTo(MAX_RETRY_INTERVAL) > 0) {
      delay = MAX_RETRY_INTERVAL;
    }
    log.info("Liquidation {}: {}; retrying in {}", liquidationId, why, delay);
    timers.startSingleTimer(new Retry(attempt), delay);
    return Effect().none();
  }

  /** After the end: every counterparty and fund drops this liquidation's keys and holds; done when all confirmed. */
  private CompletionStage<Void> forget(State state) {
    List<CompletableFuture<org.apache.pekko.Done>> asks = new ArrayList<>();
    state.counterparties().forEach(account -> asks.add(sharding.entityRefFor(AccountEntity.TYPE_KEY, account)
        .<org.apache.pekko.Done>ask(r -> new AccountEntity.ForgetLiquidation(liquidationId, r), timeout())
        .toCompletableFuture()));
    Set<String> funds = new TreeSet<>();
    Set<String> reserves = new TreeSet<>();
    for (String destination : state.penaltiesDelivered().keySet()) {
      if (destination.startsWith(Settlement.RESERVE)) {
        reserves.add(destination.substring(Settlement.RESERVE.length()));
      } else if (!destination.startsWith(Settlement.PROVIDER)) {
        funds.add(destination);
      }
    }
    // The operator's capital may hold for this liquidation (ADL policy) without having paid.
    if (state.capitalPaid() != null || state.closes().stream()
        .anyMatch(c -> env.settings().rules(c.instrument()).operatorCapitalPerDay() > 0)) {
      reserves.add(PlatformReserve.OPERATOR_CAPITAL.id());
    }
    state.closes().forEach(c -> funds.add(env.settings().rules(c.instrument()).insuranceFund()));
    if (state.coverFund() != null) {
      funds.add(state.coverFund());
    }
    funds.forEach(fund -> asks.add(sharding.entityRefFor(InsuranceFund.TYPE_KEY, fund)
        .<org.apache.pekko.Done>ask(r -> new InsuranceFund.Forget(liquidationId, r), timeout())
        .toCompletableFuture()));
    reserves.forEach(reserve -> asks.add(sharding.entityRefFor(InsuranceFund.RESERVE_TYPE_KEY, reserve)
        .<org.apache.pekko.Done>ask(r -> new InsuranceFund.Forget(liquidationId, r), timeout())
        .toCompletableFuture()));
    return CompletableFuture.allOf(asks.toArray(new CompletableFuture<?>[0]));
  }


  /**
   * Fault injection for the crash tests ({@code fault-injection.crash-at-every-step}): the saga
   * fails once right after each event it persists, and once on each answer before persisting it
   * (the other entity has applied the step; the saga has not recorded it). The shard restarts it
   * (it is remembered) and it must carry on from its journal to exactly the same end.
   */
  private void injectCrash(String where) {
    if (env.settings().crashAtEveryStep()
        && INJECTED.add(liquidationId + "/" + where + "-" + lastSequenceNumber(context))) {
      throw new IllegalStateException("fault injection: liquidation " + liquidationId + " crashes at its " + where
          + " after event " + lastSequenceNumber(context));
    }
  }

  /** How many crashes fault injection has caused in this JVM (for the crash tests). */
  public static int injectedCrashes() {
    return INJECTED.size();
  }

  /** The crashes already injected in this JVM, so that each happens once. */
  private static final Set<String> INJECTED = ConcurrentHashMap.newKeySet();

  private static boolean usedAdl(State state) {
    return state.closes().stream().anyMatch(c -> c.venue() == Venue.ADL && c.closed() != null
        && c.closed().signedLots() != 0);
  }

  /**
   * The instrument a deficit is settled in: the first position closed (the one with the largest
   * margin), else the first planned, else the first instrument the trigger valued.
   */
  private String coverInstrument(State state) {
    for (Close c : state.closes()) {
      if (c.closed() != null && c.closed().signedLots() != 0) {
        return c.instrument();
      }
    }
    if (!state.closes().isEmpty()) {
      return state.closes().get(0).instrument();
    }
    return state.trigger().marks().keySet().stream().sorted().findFirst().orElseThrow();
  }

  /** The fund of the instrument the deficit is settled in. */
  private String coverFund(State state) {
    return env.settings().rules(coverInstrument(state)).insuranceFund();
  }

  /** What the penalty rate charges on the close's notional before any cut (0 for a stop's close). */
  private long fullPenalty(LiquidationTransfer closed) {
    if (closed.role() != LiquidationRole.LIQUIDATED || closed.signedLots() == 0) {
      return 0;
    }
    Instrument instrument = env.instruments().require(closed.instrument());
    return io.clearinghouse.margin.ReserveRules.fullPenalty(instrument.notional(closed.priceTicks(),
        closed.signedLots()), instrument.liquidationFeePpm());
  }

  /** The penalty shares not yet delivered, by destination, in a stable order. */
  private Map<String, Long> pendingPenalties(State state) {
    return Settlement.pendingShares(state, instrument -> env.settings().rules(instrument));
  }

  private String key(Close close) {
    return liquidationId + "/close-" + close.step();
  }

  private static LiquidationRole counterpartyRole(Close close) {
    return close.venue() == Venue.ADL ? LiquidationRole.DELEVERAGED : LiquidationRole.BACKSTOP;
  }

  // --- choosing a venue -----------------------------------------------------------------

  /** The venue's answer; {@code venue} null: none now ({@code why}). */
  record VenueChoice(Venue venue, String counterparty, long priceTicks, long signedLots, long providerLimit,
      String why) implements StepAnswer, CborSerializable {}

  /**
   * Backstop providers first, in registration order from a place of the liquidation's own,
   * skipping those that declined this close, at
   * the mark moved against the trader by the spread. When every provider declined, or (ADL policy)
   * when closing at that price would leave a deficit the insurance fund cannot pay, the
   * highest-ranked opposing position not yet asked is deleveraged at the bankruptcy price instead
   * (at most its size; the next plan continues with the rest). A stop is never deleveraged.
   */
  private CompletionStage<Object> chooseVenue(State state, Close close) {
    Instrument instrument = env.instruments().require(close.instrument());
    LiquidationTerms rules = env.settings().rules(close.instrument());
    long price = backstopPrice(close.markTicks(), close.plannedLots(), rules.backstopSpreadPpm());
    long deficitAtPrice = deficit(close, price, instrument);
    // Under the ADL policy a close that would lose more than the trader has goes to a provider only
    // if the fund holds the deficit for this liquidation: concurrent sagas cannot count on the
    // same balance. One hold per liquidation, replaced by each plan (a replan at a new mark, the
    // next close): it covers this close's deficit plus what earlier isolated closes left owed (a
    // cross close's deficit already counts earlier cross losses through the account's equity).
    long hold = Math.addExact(deficitAtPrice, Settlement.shortfalls(state));
    CompletionStage<Boolean> fundCanPay = deficitAtPrice == 0 || rules.policy() == NegativeBalancePolicy.DEBT
        ? CompletableFuture.completedFuture(true)
        : askFund(rules.insuranceFund(), r -> new InsuranceFund.Reserve(liquidationId + "/reserve", liquidationId, hold, r))
            .thenCompose(reply -> reply instanceof InsuranceFund.Reservation reservation && reservation.granted()
                ? CompletableFuture.completedFuture(true) : fundAndCapitalHold(rules, close.instrument(), hold));
    return fundCanPay.thenCompose(canPay -> {
      CompletionStage<VenueChoice> backstop = canPay
          ? provider(state, close, price)
          : CompletableFuture.completedFuture(none("closing at the backstop price " + instrument.formatPrice(price)
              + " would leave a deficit of " + deficitAtPrice + " the insurance fund " + rules.insuranceFund() + " cannot cover"));
      return backstop.thenCompose(choice -> choice.venue() != null || state.trigger().stop()
          ? CompletableFuture.completedFuture(choice)
          : fundTakeover(state, close, choice.why()));
    }).thenApply(choice -> (Object) choice);
  }

  /**
   * The waterfall's next layer before deleveraging: the fund holds what it can and the operator's
   * capital the rest, within the day's amount for the instrument; false when there is no such
   * layer or it cannot hold the rest (its hold is then refused and the fund's part let go).
   */
  private CompletionStage<Boolean> fundAndCapitalHold(LiquidationTerms rules, String instrument, long hold) {
    if (rules.operatorCapitalPerDay() == 0) {
      return CompletableFuture.completedFuture(false);
    }
    return askFund(rules.insuranceFund(), r -> new InsuranceFund.ReserveUpTo(liquidationId + "/reserve", liquidationId,
        hold, r)).thenCompose(reply -> {
          long fundPart = reply instanceof InsuranceFund.Reservation part ? part.amount() : 0;
          long rest = hold - fundPart;
          if (rest <= 0) {
            return CompletableFuture.completedFuture(true);
          }
          return askReserve(PlatformReserve.OPERATOR_CAPITAL, r -> new InsuranceFund.Reserve(liquidationId
              + "/capital-reserve", liquidationId, rest, instrument, rules.operatorCapitalPerDay(), r))
              .thenCompose(capital -> capital instanceof InsuranceFund.Reservation held && held.granted()
                  ? CompletableFuture.completedFuture(true)
                  // The capital cannot hold the rest: the fund's part alone carries no close, and
                  // must not keep other liquidations from the fund while this one replans.
                  : askFund(rules.insuranceFund(), r -> new InsuranceFund.ReleaseHold(liquidationId + "/release",
                      liquidationId, r)).thenApply(released -> false));
        });
  }

  /**
   * The insurance fund takes the close over at the bankruptcy price (so the trader's margin is
   * used up exactly and no deficit is left), when its takeover limit is above zero and it has not
   * declined this close; else the close is deleveraged.
   */
  private CompletionStage<VenueChoice> fundTakeover(State state, Close close, String why) {
    LiquidationTerms terms = env.settings().rules(close.instrument());
    if (terms.fundTakeoverLimit() > 0 && !close.declined().contains(terms.insuranceFund())) {
      return CompletableFuture.completedFuture(new VenueChoice(Venue.FUND, terms.insuranceFund(),
          close.bankruptcyTicks(), close.plannedLots(), terms.fundTakeoverLimit(), null));
    }
    return deleverage(state, close, terms.fundTakeoverLimit() > 0 ? why + "; the insurance fund declined" : why);
  }

  private static VenueChoice none(String why) {
    return new VenueChoice(null, null, 0, 0, 0, why);
  }

  /** See {@link io.clearinghouse.margin.LiquidationRules#backstopPrice}. */
  static long backstopPrice(long markTicks, long closeLots, long spreadPpm) {
    return io.clearinghouse.margin.LiquidationRules.backstopPrice(markTicks, closeLots, spreadPpm);
  }

  /** What closing at {@code price} would lose beyond the bankruptcy price. */
  static long deficit(Close close, long price, Instrument instrument) {
    return io.clearinghouse.margin.LiquidationRules.deficit(close.plannedLots(), close.bankruptcyTicks(), price,
        instrument);
  }

  /** The first registered provider that has not declined this close (nor is the trader). */
  private CompletionStage<VenueChoice> provider(State state, Close close, long price) {
    return askProviders(close.instrument()).thenApply(providers -> {
      // Each liquidation starts at its own place in the list (then goes round in registration
      // order), so that a cascade spreads over the providers instead of queueing at the first.
      List<BackstopProviders.Provider> all = providers.providers();
      int start = all.isEmpty() ? 0 : Math.floorMod(liquidationId.hashCode(), all.size());
      for (int i = 0; i < all.size(); i++) {
        BackstopProviders.Provider p = all.get((start + i) % all.size());
        if (!p.accountId().equals(state.accountId()) && !close.declined().contains(p.accountId())) {
          return new VenueChoice(Venue.BACKSTOP, p.accountId(), price, close.plannedLots(), p.maxNotional(), null);
        }
      }
      return none(providers.providers().isEmpty() ? "no backstop provider for " + close.instrument()
          : "every backstop provider declined " + close.plannedLots() + " lots of " + close.instrument());
    });
  }

  private CompletionStage<VenueChoice> deleverage(State state, Close close, String why) {
    // The counterparty takes the other side of the close: it buys what a liquidated long sells, so
    // it must hold a short that the purchase reduces (and the other way round).
    int wantedSign = close.plannedLots() < 0 ? -1 : 1;
    return env.adl().candidates(close.instrument(), wantedSign, state.accountId()).thenApply(candidates -> {
      for (AdlCandidates.Candidate c : candidates) {
        if (!close.declined().contains(c.accountId())) {
          long lots = Long.signum(close.plannedLots()) * Math.min(Math.abs(close.plannedLots()), Math.abs(c.lots()));
          return new VenueChoice(Venue.ADL, c.accountId(), close.bankruptcyTicks(), lots, 0, null);
        }
      }
      return none(why + "; no opposing position left to deleverage");
    });
  }

  // --- asking ---------------------------------------------------------------------------

  private void ask(Asked what, CompletionStage<?> reply) {
    asked = what;
    long sent = attempt;
    context.pipeToSelf(reply.thenApply(LiquidationSaga::typed), (answer, failure) -> failure != null
        ? new Failed(sent, failure.getClass().getSimpleName() + " " + failure.getMessage())
        : new Answer(sent, answer));
  }

  private Duration timeout() {
    return env.settings().stepTimeout();
  }

  private CompletionStage<Object> askAccount(String accountId,
      Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command) {
    return sharding.entityRefFor(AccountEntity.TYPE_KEY, accountId).<AccountEntity.Reply>ask(command::apply, timeout())
        .thenApply(r -> r);
  }

  private CompletionStage<Object> askFund(String fund,
      Function<ActorRef<InsuranceFund.Reply>, InsuranceFund.Command> command) {
    return sharding.entityRefFor(InsuranceFund.TYPE_KEY, fund).<InsuranceFund.Reply>ask(command::apply, timeout())
        .thenApply(r -> r);
  }

  private CompletionStage<Object> askReserve(PlatformReserve reserve,
      Function<ActorRef<InsuranceFund.Reply>, InsuranceFund.Command> command) {
    return sharding.entityRefFor(InsuranceFund.RESERVE_TYPE_KEY, reserve.id())
        .<InsuranceFund.Reply>ask(command::apply, timeout()).thenApply(r -> r);
  }

  private CompletionStage<BackstopProviders.Providers> askProviders(String instrument) {
    return sharding.entityRefFor(BackstopProviders.TYPE_KEY, instrument)
        .ask(BackstopProviders.ListProviders::new, timeout());
  }

  // --- event handler --------------------------------------------------------------------

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(LiquidationSaga::apply);
  }

  /** The saga's state after {@code event}: also how the fund-flow records are read back from the journal. */
  public static State apply(State s, Event event) {
    if (event instanceof Began e) {
      return new State(e.accountId(), e.trigger(), List.of(), false, null, Map.of(), null, null, null, false, null,
          null, 0, 0, 0, null, null);
    }
    if (event instanceof ClosePlanned e) {
      return s.withLast(Close.planned(e));
    }
    Close c = s.last();
    if (event instanceof VenueChosen e) {
      return s.withLast(c.with(e));
    }
    if (event instanceof VenueDeclined e) {
      return s.withLast(c.declinedBy(e.counterparty()));
    }
    if (event instanceof TakenOver e) {
      return s.withLast(c.withSides(e.transfer(), null, null));
    }
    if (event instanceof Closed e) {
      return s.withLast(c.closedWith(e.transfer(), e.fullPenalty()));
    }
    if (event instanceof Undone e) {
      return s.withLast(c.withSides(c.taken(), c.closed(), e.transfer()));
    }
    boolean closingDone = s.closingDone() || event instanceof ClosingFinished;
    String note = event instanceof ClosingFinished e ? e.note() : s.closingNote();
    Map<String, Long> delivered = s.penaltiesDelivered();
    if (event instanceof PenaltyDelivered e) {
      delivered = new LinkedHashMap<>(delivered);
      delivered.merge(e.fund(), e.amount(), Math::addExact);
    }
    SettlementAssessed assessed = event instanceof SettlementAssessed e ? e : null;
    Long fundPaid = event instanceof FundPaid e ? Long.valueOf(e.amount()) : s.fundPaid();
    boolean coverDelivered = s.coverDelivered() || event instanceof CoverDelivered;
    Long debt = event instanceof DebtLeft e ? Long.valueOf(e.amount()) : s.debt();
    Finished finished = event instanceof Finished e ? e : null;
    Long applied = event instanceof PenaltyApplied e ? Long.valueOf(e.amount()) : s.penaltyApplied();
    Long capital = event instanceof CapitalPaid e ? Long.valueOf(e.amount()) : s.capitalPaid();
    return new State(s.accountId(), s.trigger(), s.closes(), closingDone, note, delivered,
        assessed != null ? assessed.fund() : s.coverFund(), assessed != null ? Long.valueOf(assessed.need()) : s.need(),
        fundPaid, coverDelivered, debt, finished != null ? finished.outcome() : s.outcome(),
        finished != null ? finished.epochMillis() : s.finishedMillis(),
        assessed != null ? assessed.cash() : s.cashAtSettlement(), assessed != null ? assessed.shortfall() : s.shortfall(),
        applied, capital);
  }
}
