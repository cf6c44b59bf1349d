package io.clearinghouse.liquidation;

// Over 400 lines: an event-sourced entity with its commands, events, state and the round's steps in one place, as the other sharded entities; one round is one short chain of asks.
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.LiquidationRole;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.LiquidationRules;
import io.clearinghouse.margin.Position;
import io.clearinghouse.persistence.CborSerializable;
import io.clearinghouse.price.MarkPrices;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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

/**
 * Unwinds what an insurance fund took over in one instrument (DESIGN section 6, step 3b), round
 * by round: plan the whole position at the fresh mark, have the fund hold what closing it at the
 * backstop price would lose, offer it to the backstop providers (the first that takes it all),
 * apply the fund's side (its realized PnL moves into or out of its balance), and have both forget
 * the round's keys. A round no provider takes, or without a fresh mark, or with a loss the fund
 * cannot hold, ends with a note and is tried again later. Sharded by {@code fund/instrument},
 * event-sourced; every step carries the key {@code <round id>/close} and is applied once, so a
 * crash resumes the round where its journal says. Its rounds are the fund's own fund-flow record.
 */
public final class FundUnwind extends EventSourcedBehavior<FundUnwind.Command, FundUnwind.Event, FundUnwind.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "FundUnwind");
  /** Rounds kept for the record. */
  private static final int RETAINED_ROUNDS = 1000;
  private static final Duration MAX_RETRY_INTERVAL = Duration.ofSeconds(30);

  public sealed interface Command extends CborSerializable {}

  /** Look at the fund's position now (after a takeover, on the schedule). */
  public enum Wake implements Command { INSTANCE }

  /** The record: the latest {@code limit} rounds, newest first. */
  public record Get(int limit, ActorRef<View> replyTo) implements Command {}

  private record Answer(long attempt, Object reply) implements Command {}

  private record Failed(long attempt, String why) implements Command {}

  public record View(String fund, String instrument, List<Round> rounds, String note) implements CborSerializable {}

  public sealed interface Event extends CborSerializable {}

  /** Round {@code round}: close {@code signedLots} of the fund's position at {@code priceTicks} (mark moved by the spread). */
  public record Planned(int round, long signedLots, long markTicks, long priceTicks, long expectedPnl, long epochMillis)
      implements Event {}

  /** The fund holds the round's expected loss. */
  public record Held(int round) implements Event {}

  public record ProviderChosen(int round, String provider, long providerLimit) implements Event {}

  public record ProviderDeclined(int round, String provider, String reason) implements Event {}

  public record ProviderTook(int round, LiquidationTransfer transfer) implements Event {}

  public record FundClosed(int round, InsuranceFund.PositionTaken fundSide) implements Event {}

  /** The round is over: closed and forgotten, or ({@code note}) abandoned to be tried again. */
  public record RoundEnded(int round, String note, long epochMillis) implements Event {}

  /** One round as far as it got. */
  public record Round(int round, long signedLots, long markTicks, long priceTicks, long expectedPnl, boolean held,
      List<String> declined, String provider, long providerLimit, LiquidationTransfer providerSide,
      InsuranceFund.PositionTaken fundSide, boolean ended, String note, long epochMillis) implements CborSerializable {
    public Round {
      declined = declined == null ? List.of() : List.copyOf(declined);
    }
  }

  public record State(String fund, String instrument, List<Round> rounds, int nextRound) implements CborSerializable {
    public State {
      rounds = rounds == null ? List.of() : List.copyOf(rounds);
    }

    Round open() {
      Round last = rounds.isEmpty() ? null : rounds.get(rounds.size() - 1);
      return last == null || last.ended() ? null : last;
    }

    State with(Round round) {
      List<Round> after = new ArrayList<>(rounds);
      if (!after.isEmpty() && after.get(after.size() - 1).round() == round.round()) {
        after.set(after.size() - 1, round);
      } else {
        after.add(round);
      }
      List<Round> kept = after.subList(Math.max(0, after.size() - RETAINED_ROUNDS), after.size());
      return new State(fund, instrument, kept, Math.max(nextRound, round.round() + 1));
    }
  }

  /** What an unwind needs from its node. */
  public record Environment(LiquidationSettings settings, MarkPrices marks, Clock clock) {}

  public static void init(ActorSystem<?> system, Environment environment) {
    ClusterSharding sharding = ClusterSharding.get(system);
    sharding.init(Entity.of(TYPE_KEY, context -> Behaviors.<Command>setup(ctx -> Behaviors.withTimers(timers ->
        new FundUnwind(context.getEntityId(), environment, sharding, ctx, timers)))));
  }

  /** The entity id of one fund's position in one instrument. */
  public static String entityId(String fund, String instrument) {
    return fund + "/" + instrument;
  }

  private final String fund;
  private final String instrument;
  private final Environment env;
  private final ClusterSharding sharding;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private long attempt;
  private int retries;

  private FundUnwind(String entityId, Environment env, ClusterSharding sharding, ActorContext<Command> context,
      TimerScheduler<Command> timers) {
    super(PersistenceId.of(TYPE_KEY.name(), entityId));
    int slash = entityId.lastIndexOf('/');
    this.fund = entityId.substring(0, slash);
    this.instrument = entityId.substring(slash + 1);
    this.env = env;
    this.sharding = sharding;
    this.context = context;
    this.timers = timers;
  }

  @Override
  public State emptyState() {
    return new State(fund, instrument, List.of(), 0);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), state -> {
      if (state.open() != null) {
        drive(state);
      }
    }).build();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Wake.class, (state, wake) -> {
          // Nothing in flight (idle, or waiting to retry): look now.
          if (asked == null) {
            drive(state);
          }
          return Effect().none();
        })
        .onCommand(Retry.class, (state, retry) -> {
          if (retry.attempt() == attempt) {
            drive(state);
          }
          return Effect().none();
        })
        .onCommand(Get.class, (state, get) -> {
          List<Round> newest = new ArrayList<>();
          for (int i = state.rounds().size() - 1; i >= 0 && newest.size() < Math.max(0, get.limit()); i--) {
            newest.add(state.rounds().get(i));
          }
          Round last = state.rounds().isEmpty() ? null : state.rounds().get(state.rounds().size() - 1);
          get.replyTo().tell(new View(fund, instrument, newest, last == null ? null : last.note()));
          return Effect().none();
        })
        .onCommand(Failed.class, (state, failed) -> failed.attempt() == attempt ? retryLater(failed.why())
            : Effect().none())
        .onCommand(Answer.class, (state, answer) -> answer.attempt() == attempt ? onAnswer(state, answer.reply())
            : Effect().none())
        .build();
  }

  // --- the driver -----------------------------------------------------------------------

  private enum Asked { POSITION, PROVIDERS, HOLD, CHOOSE, TAKE, CLOSE, FORGET }

  private Asked asked;
  /** A round worked out from the fund's position, recorded only once some provider is registered. */
  private Planned plan;

  private String roundId(Round round) {
    return fund + "/" + instrument + "/unwind-" + round.round();
  }

  private void drive(State state) {
    attempt++;
    timers.cancel("retry");
    Round round = state.open();
    if (round == null) {
      if (!state.rounds().isEmpty()) {
        // The last round ended: the fund forgets what it held for it (again after a restart: a
        // fund that already forgot changes nothing), before a new round holds anything.
        forgetHold(state.rounds().get(state.rounds().size() - 1));
      }
      ask(Asked.POSITION, askFund(r -> new InsuranceFund.Get(0, 0, r)));
    } else if (round.expectedPnl() < 0 && !round.held()) {
      ask(Asked.HOLD, askFund(r -> new InsuranceFund.Reserve(roundId(round) + "/hold", roundId(round),
          -round.expectedPnl(), r)));
    } else if (round.provider() == null) {
      ask(Asked.CHOOSE, sharding.entityRefFor(BackstopProviders.TYPE_KEY, instrument)
          .ask(BackstopProviders.ListProviders::new, env.settings().stepTimeout()).thenApply(p -> (Object) p));
    } else if (round.providerSide() == null) {
      ask(Asked.TAKE, sharding.entityRefFor(AccountEntity.TYPE_KEY, round.provider()).<AccountEntity.Reply>ask(r ->
          new AccountEntity.ApplyLiquidationTransfer(roundId(round) + "/close", roundId(round), LiquidationRole.BACKSTOP,
              ReserveRef.FUND_PREFIX + fund, instrument, -round.signedLots(), round.priceTicks(), round.providerLimit(),
              AccountEntity.TransferMode.TAKE_CHECKED, r), env.settings().stepTimeout()).thenApply(r -> (Object) r));
    } else if (round.fundSide() == null) {
      Instrument contract = env.settings().instruments().require(instrument);
      ask(Asked.CLOSE, askFund(r -> new InsuranceFund.TakeOver(roundId(round) + "/close", roundId(round), instrument,
          -round.providerSide().signedLots(), round.priceTicks(), contract.notionalMultiplier(), 0, false, r)));
    } else {
      ask(Asked.FORGET, forget(round));
    }
  }

  private Effect<Event, State> onAnswer(State state, Object reply) {
    Round round = state.open();
    long now = env.clock().millis();
    switch (asked) {
      case POSITION -> {
        Position position = ((InsuranceFund.View) reply).positions().getOrDefault(instrument, Position.FLAT);
        if (position.lots() == 0) {
          retries = 0;
          asked = null;
          return Effect().none();
        }
        if (env.marks().stale(instrument) || env.marks().get(instrument).isEmpty()) {
          return retryLater("no fresh mark for " + instrument);
        }
        long mark = env.marks().get(instrument).get().priceTicks();
        long closeLots = -position.lots();
        long price = LiquidationRules.backstopPrice(mark, closeLots,
            env.settings().rules(instrument).backstopSpreadPpm());
        long expected = position.apply(closeLots, price, env.settings().instruments().require(instrument)
            .notionalMultiplier()).realizedPnl();
        // Nothing is recorded while no provider is registered: a fund waiting for one writes nothing.
        plan = new Planned(state.nextRound(), closeLots, mark, price, expected, now);
        ask(Asked.PROVIDERS, sharding.entityRefFor(BackstopProviders.TYPE_KEY, instrument)
            .ask(BackstopProviders.ListProviders::new, env.settings().stepTimeout()).thenApply(p -> (Object) p));
        return Effect().none();
      }
      case PROVIDERS -> {
        if (((BackstopProviders.Providers) reply).providers().isEmpty()) {
          return retryLater("no backstop provider for " + instrument);
        }
        return persist(plan);
      }
      case HOLD -> {
        if (reply instanceof InsuranceFund.Reservation hold && hold.granted()) {
          return persist(new Held(round.round()));
        }
        return endRound(round, "the fund cannot hold the loss of " + (-round.expectedPnl()) + " closing at "
            + round.priceTicks());
      }
      case CHOOSE -> {
        List<BackstopProviders.Provider> providers = ((BackstopProviders.Providers) reply).providers();
        for (BackstopProviders.Provider p : providers) {
          if (!round.declined().contains(p.accountId())) {
            return persist(new ProviderChosen(round.round(), p.accountId(), p.maxNotional()));
          }
        }
        return endRound(round, providers.isEmpty() ? "no backstop provider for " + instrument
            : "every backstop provider declined");
      }
      case TAKE -> {
        if (reply instanceof AccountEntity.Rejected rejected) {
          return persist(new ProviderDeclined(round.round(), round.provider(), rejected.reason() + ": "
              + rejected.message()));
        }
        LiquidationTransfer taken = ((AccountEntity.TransferApplied) reply).transfer();
        return taken.signedLots() == 0 ? persist(new ProviderDeclined(round.round(), round.provider(), "nothing taken"))
            : persist(new ProviderTook(round.round(), taken));
      }
      case CLOSE -> {
        if (reply instanceof InsuranceFund.Rejected rejected) {
          return retryLater(rejected.reason() + ": " + rejected.message());
        }
        retries = 0;
        return persist(new FundClosed(round.round(), ((InsuranceFund.PositionMoved) reply).taken()));
      }
      case FORGET -> {
        return persist(new RoundEnded(round.round(), null, now));
      }
      default -> throw new IllegalStateException("no answer expected");
    }
  }

  /**
   * Ends a round that could not close, and tries again later: the round ends, then the fund forgets
   * what it held for it (a round that held its loss and found no provider must not leave the hold
   * behind: the holds of round after round would end up holding the whole fund). Ended first, so
   * that a round is never carried on as held once its hold may be gone; the forgetting is repeated
   * by every drive after it, so a crash in between leaves no hold behind either.
   */
  private Effect<Event, State> endRound(Round round, String why) {
    return Effect().persist(new RoundEnded(round.round(), why, env.clock().millis()))
        .thenRun(state -> {
          forgetHold(round);
          retryLater(why);
        });
  }

  /** The fund forgets the round's hold (idempotent; also sent by every drive after the round ended). */
  private void forgetHold(Round round) {
    sharding.entityRefFor(InsuranceFund.TYPE_KEY, fund).tell(new InsuranceFund.Forget(roundId(round), null));
  }

  private CompletionStage<Object> forget(Round round) {
    String id = roundId(round);
    var provider = sharding.entityRefFor(AccountEntity.TYPE_KEY, round.provider())
        .<org.apache.pekko.Done>ask(r -> new AccountEntity.ForgetLiquidation(id, r), env.settings().stepTimeout());
    var fundForgets = sharding.entityRefFor(InsuranceFund.TYPE_KEY, fund)
        .<org.apache.pekko.Done>ask(r -> new InsuranceFund.Forget(id, r), env.settings().stepTimeout());
    return provider.thenCombine(fundForgets, (a, b) -> (Object) org.apache.pekko.Done.done());
  }

  private CompletionStage<Object> askFund(java.util.function.Function<ActorRef<InsuranceFund.Reply>,
      InsuranceFund.Command> command) {
    return sharding.entityRefFor(InsuranceFund.TYPE_KEY, fund).<InsuranceFund.Reply>ask(command::apply,
        env.settings().stepTimeout()).thenApply(r -> r);
  }

  private void ask(Asked what, CompletionStage<Object> reply) {
    asked = what;
    long sent = attempt;
    context.pipeToSelf(reply, (answer, failure) -> failure != null
        ? new Failed(sent, failure.getClass().getSimpleName() + " " + failure.getMessage())
        : new Answer(sent, answer));
  }

  private Effect<Event, State> persist(Event event) {
    return Effect().persist(event).thenRun(this::drive);
  }

  private Effect<Event, State> retryLater(String why) {
    retries++;
    Duration delay = env.settings().retryInterval().multipliedBy(1L << Math.min(retries - 1, 5));
    if (delay.compareTo(MAX_RETRY_INTERVAL) > 0) {
      delay = MAX_RETRY_INTERVAL;
    }
    context.getLog().info("Unwind of {} in {}: {}; retrying in {}", fund, instrument, why, delay);
    asked = null;
    timers.startSingleTimer("retry", new Retry(attempt), delay);
    return Effect().none();
  }

  /** The retry timer's message: look again (if nothing happened since). */
  private record Retry(long attempt) implements Command {}

  // --- events ---------------------------------------------------------------------------

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(FundUnwind::apply);
  }

  static State apply(State s, Event event) {
    if (event instanceof Planned e) {
      return s.with(new Round(e.round(), e.signedLots(), e.markTicks(), e.priceTicks(), e.expectedPnl(), false,
          List.of(), null, 0, null, null, false, null, e.epochMillis()));
    }
    Round r = s.open();
    if (event instanceof Held) {
      return s.with(new Round(r.round(), r.signedLots(), r.markTicks(), r.priceTicks(), r.expectedPnl(), true,
          r.declined(), null, 0, null, null, false, null, r.epochMillis()));
    }
    if (event instanceof ProviderChosen e) {
      return s.with(new Round(r.round(), r.signedLots(), r.markTicks(), r.priceTicks(), r.expectedPnl(), r.held(),
          r.declined(), e.provider(), e.providerLimit(), null, null, false, null, r.epochMillis()));
    }
    if (event instanceof ProviderDeclined e) {
      List<String> declined = new ArrayList<>(r.declined());
      declined.add(e.provider());
      return s.with(new Round(r.round(), r.signedLots(), r.markTicks(), r.priceTicks(), r.expectedPnl(), r.held(),
          declined, null, 0, null, null, false, null, r.epochMillis()));
    }
    if (event instanceof ProviderTook e) {
      return s.with(new Round(r.round(), r.signedLots(), r.markTicks(), r.priceTicks(), r.expectedPnl(), r.held(),
          r.declined(), r.provider(), r.providerLimit(), e.transfer(), null, false, null, r.epochMillis()));
    }
    if (event instanceof FundClosed e) {
      return s.with(new Round(r.round(), r.signedLots(), r.markTicks(), r.priceTicks(), r.expectedPnl(), r.held(),
          r.declined(), r.provider(), r.providerLimit(), r.providerSide(), e.fundSide(), false, null, r.epochMillis()));
    }
    if (event instanceof RoundEnded e) {
      return s.with(new Round(r.round(), r.signedLots(), r.markTicks(), r.priceTicks(), r.expectedPnl(), r.held(),
          r.declined(), r.provider(), r.providerLimit(), r.providerSide(), r.fundSide(), true, e.note(),
          e.epochMillis()));
    }
    throw new IllegalArgumentException("unknown event " + event);
  }
}
