package io.clearinghouse.liquidation;

import io.clearinghouse.account.Account;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.LiquidationRole;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.liquidation.LiquidationSettings.NegativeBalancePolicy;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.MarginMath;
import io.clearinghouse.margin.MulDiv;
import io.clearinghouse.ops.Metrics;
import io.clearinghouse.persistence.CborSerializable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
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

  /** From the liquidated account, after LiquidationStarted and again after each recovery. */
  public record Begin(String accountId, Account.Liquidation trigger) implements Command {}

  /** The fund-flow record so far (final once {@code outcome} is set); empty if never begun. */
  public record Get(ActorRef<Optional<FundFlow>> replyTo) implements Command {}

  private record Answer(long attempt, Object reply) implements Command {}

  private record Failed(long attempt, String why) implements Command {}

  private record Retry(long attempt) implements Command {}

  public enum Venue { BACKSTOP, ADL }

  // --- events ---------------------------------------------------------------------------

  public sealed interface Event extends CborSerializable {}

  public record Began(String accountId, Account.Liquidation trigger) implements Event {}

  public record ClosePlanned(int step, String instrument, long signedLots, long markTicks, long bankruptcyTicks,
      boolean isolated) implements Event {}

  /** The venue of a close and the lots it takes (at most the plan's). */
  public record VenueChosen(int step, Venue venue, String counterparty, long priceTicks, long signedLots)
      implements Event {}

  /** The liquidated account's side, as it applied it (lots clipped to what it held; penalty into escrow). */
  public record Closed(int step, LiquidationTransfer transfer) implements Event {}

  public record TakenOver(int step, LiquidationTransfer transfer) implements Event {}

  public record ClosingFinished(long epochMillis) implements Event {}

  /** Penalties held in escrow delivered to {@code fund}. */
  public record PenaltyDelivered(String fund, long amount) implements Event {}

  /** What the account needs covered: isolated shortfalls and negative cash. */
  public record SettlementAssessed(String fund, long need, long cash) implements Event {}

  /** The fund paid {@code amount} of {@code requested} into escrow. */
  public record FundPaid(String fund, long requested, long amount) implements Event {}

  /** The fund's payment delivered from escrow to the account. */
  public record CoverDelivered(long amount) implements Event {}

  /** What nobody covered, recorded as the account's debt. */
  public record DebtLeft(long amount) implements Event {}

  public record Finished(String outcome, long epochMillis) implements Event {}

  // --- state ----------------------------------------------------------------------------

  /** One close of the liquidation as far as it got. */
  public record Close(int step, String instrument, long plannedLots, long markTicks, long bankruptcyTicks,
      boolean isolated, Venue venue, String counterparty, long priceTicks, long venueLots, LiquidationTransfer closed,
      LiquidationTransfer takenOver) implements CborSerializable {
    boolean done() {
      return closed != null && (closed.signedLots() == 0 || takenOver != null);
    }
  }

  public record State(String accountId, Account.Liquidation trigger, List<Close> closes, boolean closingDone,
      Map<String, Long> penaltiesDelivered, String coverFund, Long need, Long fundPaid, boolean coverDelivered,
      Long debt, String outcome, long finishedMillis, long cashAtSettlement) implements CborSerializable {
    public State {
      closes = closes == null ? List.of() : List.copyOf(closes);
      penaltiesDelivered = penaltiesDelivered == null ? Map.of() : Map.copyOf(penaltiesDelivered);
    }

    public static State empty() {
      return new State(null, null, List.of(), false, Map.of(), null, null, null, false, null, null, 0, 0);
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
      return new State(accountId, trigger, after, closingDone, penaltiesDelivered, coverFund, need, fundPaid,
          coverDelivered, debt, outcome, finishedMillis, cashAtSettlement);
    }

    /** Money held by the saga: penalties not yet with the fund, the fund's cover not yet with the account. */
    public long escrow() {
      long held = 0;
      for (Close c : closes) {
        if (c.closed() != null) {
          held = Math.addExact(held, c.closed().penalty());
        }
      }
      for (long delivered : penaltiesDelivered.values()) {
        held = Math.subtractExact(held, delivered);
      }
      if (fundPaid != null && !coverDelivered) {
        held = Math.addExact(held, fundPaid);
      }
      return held;
    }
  }

  // --- wiring ---------------------------------------------------------------------------

  /** What a saga needs from its node. */
  public record Environment(LiquidationSettings settings, Instruments instruments, AdlCandidates adl, Metrics metrics,
      Clock clock) {}

  public static void init(ActorSystem<?> system, Environment environment) {
    ClusterSharding sharding = ClusterSharding.get(system);
    sharding.init(Entity.of(TYPE_KEY, context -> Behaviors.<Command>setup(ctx -> Behaviors.withTimers(timers ->
        new LiquidationSaga(context.getEntityId(), environment, sharding, ctx, timers,
            () -> context.getShard().tell(new ClusterSharding.Passivate<>(ctx.getSelf())))))));
  }

  public static PersistenceId persistenceId(String liquidationId) {
    return PersistenceId.of(TYPE_KEY.name(), liquidationId);
  }

  private final String liquidationId;
  private final Environment env;
  private final ClusterSharding sharding;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final Runnable passivate;
  /** Counts the steps sent by this incarnation; an answer to an older one is ignored. */
  private long attempt;

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
            : Effect().persist(new Began(begin.accountId(), begin.trigger())).thenRun(this::drive))
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
        .onCommand(Failed.class, (state, failed) -> {
          if (failed.attempt() == attempt) {
            log.info("Liquidation {}: {}; retrying in {}", liquidationId, failed.why(), env.settings().retryInterval());
            timers.startSingleTimer(new Retry(attempt), env.settings().retryInterval());
          }
          return Effect().none();
        })
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
      passivate.run();
      return;
    }
    if (!state.closingDone()) {
      Close last = state.last();
      if (last == null || last.done()) {
        ask(askAccount(state.accountId(), r -> new AccountEntity.PlanLiquidationClose(liquidationId, r)));
      } else if (last.venue() == null) {
        ask(chooseVenue(state, last));
      } else if (last.closed() == null) {
        ask(askAccount(state.accountId(), r -> new AccountEntity.ApplyLiquidationTransfer(key(last.step()),
            liquidationId, state.trigger().stop() ? LiquidationRole.STOPPED : LiquidationRole.LIQUIDATED,
            last.counterparty(), last.instrument(), last.venueLots(),
            last.priceTicks(), 0, false, r)));
      } else {
        LiquidationTransfer closed = last.closed();
        ask(askAccount(last.counterparty(), r -> new AccountEntity.ApplyLiquidationTransfer(key(last.step()),
            liquidationId, last.venue() == Venue.ADL ? LiquidationRole.DELEVERAGED : LiquidationRole.BACKSTOP,
            state.accountId(), last.instrument(), -closed.signedLots(), closed.priceTicks(), 0, false, r)));
      }
      return;
    }
    Map<String, Long> pending = pendingPenalties(state);
    if (!pending.isEmpty()) {
      var first = pending.entrySet().iterator().next();
      ask(askFund(first.getKey(), r -> new InsuranceFund.Receive(liquidationId + "/penalty", liquidationId,
          first.getValue(), r)));
    } else if (state.need() == null) {
      ask(askAccount(state.accountId(), AccountEntity.Get::new));
    } else if (state.need() > 0 && state.fundPaid() == null) {
      ask(askFund(state.coverFund(), r -> new InsuranceFund.Pay(liquidationId + "/cover", liquidationId,
          state.need(), r)));
    } else if (state.fundPaid() != null && state.fundPaid() > 0 && !state.coverDelivered()) {
      ask(askAccount(state.accountId(), r -> new AccountEntity.CreditLiquidation(liquidationId + "/cover",
          liquidationId, state.fundPaid(), r)));
    } else if (uncovered(state) > 0 && state.debt() == null) {
      ask(askAccount(state.accountId(), r -> new AccountEntity.RecordDebt(liquidationId + "/debt", liquidationId,
          uncovered(state), r)));
    } else {
      ask(askAccount(state.accountId(), r -> new AccountEntity.EndLiquidation(liquidationId, r)));
    }
  }

  private Effect<Event, State> onAnswer(State state, Object reply) {
    if (reply instanceof AccountEntity.Rejected rejected) {
      return retryLater(rejected.reason() + ": " + rejected.message());
    }
    if (reply instanceof InsuranceFund.Rejected rejected) {
      return retryLater(rejected.reason() + ": " + rejected.message());
    }
    if (!state.closingDone()) {
      Close last = state.last();
      if (last == null || last.done()) {
        AccountEntity.ClosePlan plan = (AccountEntity.ClosePlan) reply;
        if (plan.signedLots() == 0) {
          return persist(new ClosingFinished(env.clock().millis()));
        }
        return persist(new ClosePlanned(state.closes().size(), plan.instrument(), plan.signedLots(), plan.markTicks(),
            plan.bankruptcyTicks(), plan.isolated()));
      }
      if (last.venue() == null) {
        VenueChoice choice = (VenueChoice) reply;
        if (choice.venue() == null) {
          return retryLater(choice.why());
        }
        return persist(new VenueChosen(last.step(), choice.venue(), choice.counterparty(), choice.priceTicks(),
            choice.signedLots()));
      }
      LiquidationTransfer transfer = ((AccountEntity.TransferApplied) reply).transfer();
      return persist(last.closed() == null ? new Closed(last.step(), transfer) : new TakenOver(last.step(), transfer));
    }
    if (!pendingPenalties(state).isEmpty()) {
      InsuranceFund.Moved moved = (InsuranceFund.Moved) reply;
      String fund = pendingPenalties(state).keySet().iterator().next();
      return persist(new PenaltyDelivered(fund, moved.entry().amount()));
    }
    if (state.need() == null) {
      long cash = ((AccountEntity.Snapshot) reply).account().cash();
      long shortfalls = 0;
      for (Close c : state.closes()) {
        if (c.closed() != null) {
          shortfalls = Math.addExact(shortfalls, c.closed().shortfall());
        }
      }
      // Isolated shortfalls are owed whatever the cash; a negative cash beyond them too.
      long need = Math.max(shortfalls, Math.max(0, -cash));
      return persist(new SettlementAssessed(coverFund(state), need, cash));
    }
    if (state.need() > 0 && state.fundPaid() == null) {
      InsuranceFund.Moved moved = (InsuranceFund.Moved) reply;
      return persist(new FundPaid(state.coverFund(), state.need(), moved.entry().amount()));
    }
    if (state.fundPaid() != null && state.fundPaid() > 0 && !state.coverDelivered()) {
      return persist(new CoverDelivered(state.fundPaid()));
    }
    if (uncovered(state) > 0 && state.debt() == null) {
      return persist(new DebtLeft(uncovered(state)));
    }
    String outcome = state.debt() != null ? "debt" : usedAdl(state) ? "adl" : state.trigger().stop() ? "stop" : "covered";
    env.metrics().liquidationEnded(outcome);
    return persist(new Finished(outcome, env.clock().millis()));
  }

  private Effect<Event, State> persist(Event event) {
    return Effect().persist(event).thenRun(state -> {
      injectCrash("event");
      drive(state);
    });
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
  private static final java.util.Set<String> INJECTED = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private Effect<Event, State> retryLater(String why) {
    log.info("Liquidation {}: {}; retrying in {}", liquidationId, why, env.settings().retryInterval());
    timers.startSingleTimer(new Retry(attempt), env.settings().retryInterval());
    return Effect().none();
  }

  private static boolean usedAdl(State state) {
    return state.closes().stream().anyMatch(c -> c.venue() == Venue.ADL && c.closed() != null
        && c.closed().signedLots() != 0);
  }

  private static long uncovered(State state) {
    long need = state.need() == null ? 0 : state.need();
    long paid = state.fundPaid() == null ? 0 : state.fundPaid();
    return Math.max(0, need - paid);
  }

  /** The fund of the first position closed (the one with the largest margin), or of the first planned. */
  private String coverFund(State state) {
    for (Close c : state.closes()) {
      if (c.closed() != null && c.closed().signedLots() != 0) {
        return env.settings().rules(c.instrument()).fund();
      }
    }
    return state.closes().isEmpty() ? null : env.settings().rules(state.closes().get(0).instrument()).fund();
  }

  /** Per fund, the penalties held in escrow that have not reached it; in a stable order. */
  private Map<String, Long> pendingPenalties(State state) {
    Map<String, Long> pending = new LinkedHashMap<>();
    for (Close c : state.closes()) {
      if (c.closed() != null && c.closed().penalty() > 0) {
        pending.merge(env.settings().rules(c.instrument()).fund(), c.closed().penalty(), Math::addExact);
      }
    }
    state.penaltiesDelivered().forEach((fund, delivered) -> pending.remove(fund));
    return pending;
  }

  private String key(int step) {
    return liquidationId + "/close-" + step;
  }

  // --- choosing a venue -----------------------------------------------------------------

  /** The venue's answer; {@code venue} null: none now ({@code why}). */
  record VenueChoice(Venue venue, String counterparty, long priceTicks, long signedLots, String why)
      implements CborSerializable {}

  /**
   * Backstop providers first, in registration order, at the mark moved against the trader by the
   * spread; the first to accept takes the whole close. When no provider takes it, or (ADL policy)
   * when closing at that price would leave a deficit the insurance fund cannot pay, the
   * highest-ranked opposing position is deleveraged at the bankruptcy price instead (at most its
   * size; the next plan continues with the rest).
   */
  private CompletionStage<Object> chooseVenue(State state, Close close) {
    Instrument instrument = env.instruments().require(close.instrument());
    LiquidationSettings.Rules rules = env.settings().rules(close.instrument());
    long price = backstopPrice(close.markTicks(), close.plannedLots(), rules.backstopSpreadPpm());
    long deficitAtPrice = deficit(close, price, instrument);
    CompletionStage<Boolean> fundCanPay = deficitAtPrice == 0 || rules.policy() == NegativeBalancePolicy.DEBT
        ? CompletableFuture.completedFuture(true)
        : askFund(rules.fund(), r -> new InsuranceFund.Get(0, 0, r))
            .thenApply(view -> ((InsuranceFund.View) view).balance() >= deficitAtPrice);
    return fundCanPay.thenCompose(canPay -> {
      CompletionStage<Object> backstop = canPay
          ? tryProviders(state, close, price)
          : CompletableFuture.completedFuture(new VenueChoice(null, null, 0, 0, "closing at the backstop price "
              + instrument.formatPrice(price) + " would leave a deficit of " + deficitAtPrice
              + " the insurance fund " + rules.fund() + " cannot cover"));
      // Auto-deleveraging closes whatever no provider took, under either policy.
      return backstop.thenCompose(choice -> ((VenueChoice) choice).venue() != null
          ? CompletableFuture.completedFuture(choice)
          : deleverage(state, close, ((VenueChoice) choice).why()));
    });
  }

  /** Mark moved against the trader: a long is sold lower (rounded down), a short bought higher (rounded up). */
  static long backstopPrice(long markTicks, long closeLots, long spreadPpm) {
    long price = closeLots < 0
        ? MulDiv.mulDivFloor(markTicks, MarginMath.PPM - spreadPpm, MarginMath.PPM)
        : MulDiv.mulDivCeil(markTicks, MarginMath.PPM + spreadPpm, MarginMath.PPM);
    return Math.max(1, price);
  }

  /** What closing at {@code price} would lose beyond the bankruptcy price. */
  static long deficit(Close close, long price, Instrument instrument) {
    long worse = close.plannedLots() < 0 ? close.bankruptcyTicks() - price : price - close.bankruptcyTicks();
    return worse <= 0 ? 0 : instrument.notional(worse, close.plannedLots());
  }

  private CompletionStage<Object> tryProviders(State state, Close close, long price) {
    return askProviders(close.instrument()).thenCompose(providers -> {
      CompletionStage<Object> chain = CompletableFuture.completedFuture(
          new VenueChoice(null, null, 0, 0, "no backstop provider took " + close.plannedLots() + " lots of "
              + close.instrument()));
      for (int i = providers.providers().size() - 1; i >= 0; i--) {
        BackstopProviders.Provider provider = providers.providers().get(i);
        if (provider.accountId().equals(state.accountId())) {
          continue;
        }
        CompletionStage<Object> next = chain;
        chain = askAccount(provider.accountId(), r -> new AccountEntity.ApplyLiquidationTransfer(key(close.step()),
            liquidationId, LiquidationRole.BACKSTOP, state.accountId(), close.instrument(), -close.plannedLots(), price,
            provider.maxNotional(), true, r))
            .exceptionally(failure -> null)
            .thenCompose(reply -> reply instanceof AccountEntity.TransferApplied
                ? CompletableFuture.completedFuture(new VenueChoice(Venue.BACKSTOP, provider.accountId(), price,
                    close.plannedLots(), null))
                : next);
      }
      return chain;
    });
  }

  private CompletionStage<Object> deleverage(State state, Close close, String why) {
    // The counterparty takes the other side of the close: it buys what a liquidated long sells, so
    // it must hold a short that the purchase reduces (and the other way round).
    int wantedSign = close.plannedLots() < 0 ? -1 : 1;
    return env.adl().candidates(close.instrument(), wantedSign, state.accountId()).thenApply(candidates -> {
      if (candidates.isEmpty()) {
        return (Object) new VenueChoice(null, null, 0, 0, why + "; no opposing position to deleverage");
      }
      AdlCandidates.Candidate top = candidates.get(0);
      long lots = Long.signum(close.plannedLots()) * Math.min(Math.abs(close.plannedLots()), Math.abs(top.lots()));
      return new VenueChoice(Venue.ADL, top.accountId(), close.bankruptcyTicks(), lots, null);
    });
  }

  // --- asking ---------------------------------------------------------------------------

  private void ask(CompletionStage<Object> reply) {
    long sent = attempt;
    context.pipeToSelf(reply, (answer, failure) -> failure != null
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
      return new State(e.accountId(), e.trigger(), List.of(), false, Map.of(), null, null, null, false, null, null, 0, 0);
    }
    if (event instanceof ClosePlanned e) {
      return s.withLast(new Close(e.step(), e.instrument(), e.signedLots(), e.markTicks(), e.bankruptcyTicks(),
          e.isolated(), null, null, 0, 0, null, null));
    }
    Close c = s.last();
    if (event instanceof VenueChosen e) {
      return s.withLast(new Close(c.step(), c.instrument(), c.plannedLots(), c.markTicks(), c.bankruptcyTicks(),
          c.isolated(), e.venue(), e.counterparty(), e.priceTicks(), e.signedLots(), null, null));
    }
    if (event instanceof Closed e) {
      return s.withLast(new Close(c.step(), c.instrument(), c.plannedLots(), c.markTicks(), c.bankruptcyTicks(),
          c.isolated(), c.venue(), c.counterparty(), c.priceTicks(), c.venueLots(), e.transfer(), null));
    }
    if (event instanceof TakenOver e) {
      return s.withLast(new Close(c.step(), c.instrument(), c.plannedLots(), c.markTicks(), c.bankruptcyTicks(),
          c.isolated(), c.venue(), c.counterparty(), c.priceTicks(), c.venueLots(), c.closed(), e.transfer()));
    }
    boolean closingDone = s.closingDone() || event instanceof ClosingFinished;
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
    return new State(s.accountId(), s.trigger(), s.closes(), closingDone, delivered,
        assessed != null ? assessed.fund() : s.coverFund(), assessed != null ? Long.valueOf(assessed.need()) : s.need(),
        fundPaid, coverDelivered, debt, finished != null ? finished.outcome() : s.outcome(),
        finished != null ? finished.epochMillis() : s.finishedMillis(),
        assessed != null ? assessed.cash() : s.cashAtSettlement());
  }
}
