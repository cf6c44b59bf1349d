package io.clearinghouse.liquidation;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.LiquidationRole;
import io.clearinghouse.liquidation.LiquidationSaga.Answer;
import io.clearinghouse.liquidation.LiquidationSaga.CapitalPaid;
import io.clearinghouse.liquidation.LiquidationSaga.Close;
import io.clearinghouse.liquidation.LiquidationSaga.ClosePlanned;
import io.clearinghouse.liquidation.LiquidationSaga.Closed;
import io.clearinghouse.liquidation.LiquidationSaga.ClosingFinished;
import io.clearinghouse.liquidation.LiquidationSaga.Command;
import io.clearinghouse.liquidation.LiquidationSaga.CoverDelivered;
import io.clearinghouse.liquidation.LiquidationSaga.DebtLeft;
import io.clearinghouse.liquidation.LiquidationSaga.Event;
import io.clearinghouse.liquidation.LiquidationSaga.Failed;
import io.clearinghouse.liquidation.LiquidationSaga.Finished;
import io.clearinghouse.liquidation.LiquidationSaga.Forgot;
import io.clearinghouse.liquidation.LiquidationSaga.FundPaid;
import io.clearinghouse.liquidation.LiquidationSaga.PenaltyApplied;
import io.clearinghouse.liquidation.LiquidationSaga.PenaltyDelivered;
import io.clearinghouse.liquidation.LiquidationSaga.Retry;
import io.clearinghouse.liquidation.LiquidationSaga.SettlementAssessed;
import io.clearinghouse.liquidation.LiquidationSaga.State;
import io.clearinghouse.liquidation.LiquidationSaga.TakenOver;
import io.clearinghouse.liquidation.LiquidationSaga.Undone;
import io.clearinghouse.liquidation.LiquidationSaga.Venue;
import io.clearinghouse.liquidation.LiquidationSaga.VenueChosen;
import io.clearinghouse.liquidation.LiquidationSaga.VenueDeclined;
import io.clearinghouse.liquidation.SagaPhases.Assessing;
import io.clearinghouse.liquidation.SagaPhases.Closing;
import io.clearinghouse.liquidation.SagaPhases.Covering;
import io.clearinghouse.liquidation.SagaPhases.Distributing;
import io.clearinghouse.liquidation.SagaPhases.Ended;
import io.clearinghouse.liquidation.StepAnswer.Assessed;
import io.clearinghouse.liquidation.StepAnswer.Moved;
import io.clearinghouse.liquidation.StepAnswer.Planned;
import io.clearinghouse.liquidation.StepAnswer.Refused;
import io.clearinghouse.liquidation.StepAnswer.Transferred;
import io.clearinghouse.liquidation.StepAnswer.VenueChoice;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One incarnation of a liquidation saga: chooses the next step from the phase the saga is in,
 * sends it, and turns its answer into the event that records it. An answer to a step sent by an
 * earlier incarnation or attempt is ignored; after a crash the journal's phase says which step to
 * send again, with the same key.
 */
final class SagaDriver {
  private static final Logger log = LoggerFactory.getLogger(LiquidationSaga.class);
  private static final Duration MAX_RETRY_INTERVAL = Duration.ofSeconds(30);
  /** The crashes already injected in this JVM, so that each happens once. */
  static final Set<String> INJECTED = ConcurrentHashMap.newKeySet();

  /** What the saga has asked and awaits the answer of. */
  private enum Asked { PLAN, VENUE, TAKE, CLOSE, UNDO, PENALTY, ASSESS, APPLY, PAY, CAPITAL, CREDIT, DEBT, END }

  private final String liquidationId;
  private final LiquidationSaga.Environment env;
  private final SagaSteps steps;
  private final VenueSearch venues;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final EffectFactories<Event, State> effects;
  private final LongSupplier lastSequenceNumber;
  /** Counts the steps sent by this incarnation; an answer to an older one is ignored. */
  private long attempt;
  private Asked asked;
  /** No venue took the last plan: plan again, at the mark of then, before the next venue search. */
  private boolean replan;
  /** Consecutive retries without progress, for the back-off. */
  private int retries;

  SagaDriver(SagaSteps steps, ActorContext<Command> context, TimerScheduler<Command> timers,
      EffectFactories<Event, State> effects, LongSupplier lastSequenceNumber) {
    this.liquidationId = steps.liquidationId();
    this.env = steps.env();
    this.steps = steps;
    this.venues = new VenueSearch(steps);
    this.context = context;
    this.timers = timers;
    this.effects = effects;
    this.lastSequenceNumber = lastSequenceNumber;
  }

  /** Whether {@code sent} is the attempt now awaited (an older one's message is ignored). */
  boolean current(long sent) {
    return sent == attempt;
  }

  // --- what the phase says comes next ----------------------------------------------------

  void drive(State state) {
    attempt++;
    timers.cancelAll();
    if (state instanceof Closing closing) {
      nextClose(closing);
    } else if (state instanceof Assessing assessing) {
      // Waits (TRADE_SETTLING) while a side its register may reverse could change the cash judged.
      ask(Asked.ASSESS, steps.askAccount(assessing.accountId(),
          r -> new AccountEntity.AssessLiquidation(liquidationId, r)));
    } else if (state instanceof Covering covering) {
      nextCover(covering);
    } else if (state instanceof Distributing distributing) {
      nextShare(distributing);
    } else if (state instanceof Ended ended) {
      // Remembered (restarted after a crash) until every counterparty and fund confirmed.
      long forgetting = attempt;
      context.pipeToSelf(steps.forget(ended), (done, failure) -> new Forgot(forgetting,
          failure == null ? null : failure.toString()));
    }
    // Not begun: nothing to do until Begin.
  }

  private void nextClose(Closing state) {
    String trader = state.accountId();
    Close last = state.last();
    if (last == null || last.done() || (last.venue() == null && replan)) {
      ask(Asked.PLAN, steps.askAccount(trader, r -> new AccountEntity.PlanLiquidationClose(liquidationId, r)));
    } else if (last.venue() == null) {
      ask(Asked.VENUE, venues.choose(state, last));
    } else if (last.taken() == null && last.venue() == Venue.FUND) {
      ask(Asked.TAKE, steps.fundSide(last, steps.key(last), -last.venueLots(), true, trader));
    } else if (last.taken() == null) {
      boolean backstop = last.venue() == Venue.BACKSTOP;
      ask(Asked.TAKE, steps.askAccount(last.counterparty(), r -> new AccountEntity.ApplyLiquidationTransfer(
          steps.key(last), liquidationId, SagaSteps.counterpartyRole(last), trader, last.instrument(),
          -last.venueLots(), last.priceTicks(), backstop ? last.providerLimit() : 0,
          backstop ? AccountEntity.TransferMode.TAKE_CHECKED : AccountEntity.TransferMode.REDUCE_CLIPPED, r)));
    } else if (last.closed() == null) {
      // Both sides of the close count for funding from the counterparty's take (its own time).
      ask(Asked.CLOSE, steps.askAccount(trader, r -> new AccountEntity.ApplyLiquidationTransfer(steps.key(last),
          liquidationId, state.trigger().stop() ? LiquidationRole.STOPPED : LiquidationRole.LIQUIDATED,
          last.counterparty(), last.instrument(), -last.taken().signedLots(), last.priceTicks(), 0,
          AccountEntity.TransferMode.CLOSE_CLIPPED, last.taken().epochMillis(), r)));
    } else if (last.venue() == Venue.FUND) {
      ask(Asked.UNDO, steps.fundSide(last, steps.key(last) + "/undo", -last.unmatchedLots(), false, trader));
    } else {
      // The give-back corrects the take: it counts for funding from the take's time too.
      ask(Asked.UNDO, steps.askAccount(last.counterparty(), r -> new AccountEntity.ApplyLiquidationTransfer(
          steps.key(last) + "/undo", liquidationId, SagaSteps.counterpartyRole(last), trader, last.instrument(),
          -last.unmatchedLots(), last.priceTicks(), 0, AccountEntity.TransferMode.FORCED,
          last.taken().epochMillis(), r)));
    }
  }

  /**
   * The deficit's waterfall: the penalties still in escrow, the fund, the operator's capital (up
   * to its daily amount), then the account (ADL was the policy's part during the closes; debt
   * here); the penalty's shares go out only once the deficit has had its part.
   */
  private void nextCover(Covering state) {
    String trader = state.accountId();
    SagaPhases.Payments paid = state.payments();
    long need = state.assessment().need();
    if (need > 0 && paid.penaltyApplied() == null) {
      ask(Asked.APPLY, CompletableFuture.completedFuture(
          io.clearinghouse.margin.ReserveRules.penaltyDraw(need, state.undeliveredPenalties())));
    } else if (Settlement.afterPenalty(state) > 0 && paid.fundPaid() == null) {
      ask(Asked.PAY, steps.askFund(state.assessment().fund(), r -> new InsuranceFund.Pay(liquidationId + "/cover",
          liquidationId, Settlement.afterPenalty(state), r)));
    } else if (Settlement.afterFund(state) > 0 && paid.capitalPaid() == null && steps.capitalPerDay(state) > 0) {
      ask(Asked.CAPITAL, steps.askReserve(PlatformReserve.OPERATOR_CAPITAL, r -> new InsuranceFund.Pay(liquidationId
          + "/capital", liquidationId, Settlement.afterFund(state), SagaSteps.coverInstrument(state),
          steps.capitalPerDay(state), r)));
    } else if (state.cover() > 0 && !paid.coverDelivered()) {
      ask(Asked.CREDIT, steps.askAccount(trader, r -> new AccountEntity.CreditLiquidation(liquidationId + "/cover",
          liquidationId, state.cover(), state.shortfallCovered(), r)));
    } else if (Settlement.uncovered(state) > 0 && paid.debt() == null) {
      ask(Asked.DEBT, steps.askAccount(trader, r -> new AccountEntity.RecordDebt(liquidationId + "/debt",
          liquidationId, Settlement.uncovered(state), r)));
    } else {
      nextShare(state);
    }
  }

  /** The penalty's next share from escrow, else the end. */
  private void nextShare(State state) {
    Map<String, Long> pending = steps.pendingPenalties(state);
    if (!pending.isEmpty()) {
      var first = pending.entrySet().iterator().next();
      ask(Asked.PENALTY, steps.deliver(first.getKey(), first.getValue()));
    } else {
      ask(Asked.END, steps.askAccount(state.accountId(), r -> new AccountEntity.EndLiquidation(liquidationId, r)));
    }
  }

  private void ask(Asked what, CompletionStage<?> reply) {
    asked = what;
    long sent = attempt;
    context.pipeToSelf(reply.thenApply(StepAnswer::of), (answer, failure) -> failure != null
        ? new Failed(sent, failure.getClass().getSimpleName() + " " + failure.getMessage())
        : new Answer(sent, answer));
  }

  // --- what an answer records -------------------------------------------------------------

  /** The answer as {@code type}, or a failure naming the step and what came instead. */
  private <T> T expect(Class<T> type, Object reply) {
    if (!type.isInstance(reply)) {
      throw new IllegalStateException("step " + asked + " expected " + type.getSimpleName() + ", got " + reply);
    }
    return type.cast(reply);
  }

  Effect<Event, State> onAnswer(State state, StepAnswer reply) {
    injectCrash("answer");
    if (asked == Asked.TAKE && (reply instanceof Refused
        || expect(Transferred.class, reply).transfer().signedLots() == 0)) {
      Close last = expect(Closing.class, state).last();
      String reason = reply instanceof Refused r ? r.why() : "nothing to reduce";
      return persist(new VenueDeclined(last.step(), last.counterparty(), reason));
    }
    if (reply instanceof Refused refused) {
      // The account bounds how long a settling side holds a step (settling-wait): asked again at the
      // plain interval, not backed off past the wait's end (rev10f).
      return refused.reason() == io.clearinghouse.common.Rejection.TRADE_SETTLING
          ? retryAt(env.settings().retryInterval(), refused.why()) : retryLater(refused.why());
    }
    return switch (asked) {
      case PLAN, VENUE, TAKE, CLOSE, UNDO -> onClose(expect(Closing.class, state), reply);
      case ASSESS -> {
        Assessing assessing = expect(Assessing.class, state);
        AccountSummary account = expect(Assessed.class, reply).account();
        long shortfalls = Math.addExact(Settlement.shortfalls(assessing),
            Settlement.unrecordedOwed(assessing, account));
        // Isolated shortfalls are owed by their positions, not by the cash (which they never
        // touched); beyond them the cross deficit, counted once: see crossDeficit.
        long need = Math.addExact(shortfalls, Settlement.crossDeficit(assessing, account));
        yield persist(new SettlementAssessed(steps.coverFund(assessing), need, account.cash(), shortfalls));
      }
      case APPLY -> persist(new PenaltyApplied(expect(Moved.class, reply).amount()));
      case PAY -> {
        Covering covering = expect(Covering.class, state);
        yield persist(new FundPaid(covering.assessment().fund(), Settlement.afterPenalty(covering),
            expect(Moved.class, reply).amount()));
      }
      case CAPITAL -> persist(new CapitalPaid(Settlement.afterFund(expect(Covering.class, state)),
          expect(Moved.class, reply).amount()));
      case CREDIT -> persist(new CoverDelivered(expect(Covering.class, state).cover()));
      case DEBT -> persist(new DebtLeft(Settlement.uncovered(expect(Covering.class, state))));
      case PENALTY -> {
        String destination = steps.pendingPenalties(state).keySet().iterator().next();
        yield persist(new PenaltyDelivered(destination, expect(Moved.class, reply).amount()));
      }
      case END -> {
        boolean closedAny = state.closes().stream().anyMatch(c -> c.closed() != null && c.closed().signedLots() != 0);
        Outcome outcome = state.payments().debt() != null ? Outcome.DEBT : SagaSteps.usedAdl(state) ? Outcome.ADL
            : state.trigger().stop() ? (closedAny ? Outcome.STOP : Outcome.STOP_UNFILLED) : Outcome.COVERED;
        yield persist(new Finished(outcome.wire(), env.clock().millis()),
            () -> env.metrics().liquidationEnded(outcome.wire()));
      }
    };
  }

  private Effect<Event, State> onClose(Closing state, StepAnswer reply) {
    Close last = state.last();
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
        Runnable unwind = last.venue() != Venue.FUND ? () -> { } : () -> steps.sharding().entityRefFor(
            FundUnwind.TYPE_KEY, FundUnwind.entityId(last.counterparty(), last.instrument()))
            .tell(FundUnwind.Wake.INSTANCE);
        return persist(new Closed(last.step(), closed, steps.fullPenalty(closed)), unwind);
      }
      case UNDO -> {
        return persist(new Undone(last.step(), expect(Transferred.class, reply).transfer()));
      }
      default -> throw new IllegalStateException("no close step " + asked);
    }
  }

  Effect<Event, State> persist(Event event) {
    return persist(event, () -> {});
  }

  /** Persists, runs {@code persisted}, then drives on to the next step. */
  Effect<Event, State> persist(Event event, Runnable persisted) {
    return effects.persist(event).thenRun(state -> {
      persisted.run();
      retries = 0;
      injectCrash("event");
      drive(state);
    });
  }

  Effect<Event, State> retryLater(String why) {
    retries++;
    Duration delay = env.settings().retryInterval().multipliedBy(1L << Math.min(retries - 1, 5));
    if (delay.compareTo(MAX_RETRY_INTERVAL) > 0) {
      delay = MAX_RETRY_INTERVAL;
    }
    return retryAt(delay, why);
  }

  private Effect<Event, State> retryAt(Duration delay, String why) {
    log.info("Liquidation {}: {}; retrying in {}", liquidationId, why, delay);
    timers.startSingleTimer(new Retry(attempt), delay);
    return effects.none();
  }

  /**
   * Fault injection for the crash tests ({@code fault-injection.crash-at-every-step}): the saga
   * fails once right after each event it persists, and once on each answer before persisting it
   * (the other entity has applied the step; the saga has not recorded it). The shard restarts it
   * (it is remembered) and it must carry on from its journal to exactly the same end.
   */
  private void injectCrash(String where) {
    if (env.settings().crashAtEveryStep()
        && INJECTED.add(liquidationId + "/" + where + "-" + lastSequenceNumber.getAsLong())) {
      throw new IllegalStateException("fault injection: liquidation " + liquidationId + " crashes at its " + where
          + " after event " + lastSequenceNumber.getAsLong());
    }
  }
}
