package io.clearinghouse.price;

import io.clearinghouse.persistence.CborSerializable;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
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
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The price feed of one instrument: a sharded, remembered, event-sourced entity, so exactly one
 * runs in the cluster and another node carries on when its node dies. It keeps the latest price
 * of each index source and the latest trade price in memory (they are refreshed within seconds),
 * and persists every mark it publishes, so mark sequence numbers keep increasing across failover.
 */
public final class PriceFeed extends EventSourcedBehavior<PriceFeed.Command, PriceFeed.Event, PriceFeed.State> {
  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "PriceFeed");

  public sealed interface Command extends CborSerializable {}

  /** A validated index price from a source, in ticks. */
  public record IndexTick(String source, long priceTicks, long epochMillis) implements Command {}

  /** The latest trade price a node has seen for this instrument. */
  public record LastTrade(long priceTicks, long epochMillis) implements Command {}

  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  /** Halts ({@code true}) or resumes new liquidations on this instrument; replies with the status. */
  public record SetLiquidationHalt(boolean halted, ActorRef<Status> replyTo) implements Command {}

  /** The periodic re-check (package-private for tests). */
  enum Check implements Command { INSTANCE }

  public record Status(String instrument, long sequence, long markTicks, boolean stale, int freshSources,
      boolean liquidationsHalted) implements CborSerializable {}

  public sealed interface Event extends CborSerializable {}

  public record MarkPublished(long sequence, long markTicks, long indexTicks, long epochMillis, long emaBasisTicks)
      implements Event {}

  public record StalenessChanged(boolean stale, long epochMillis) implements Event {}

  public record LiquidationHaltChanged(boolean halted, long version, long epochMillis) implements Event {}

  /**
   * What survives a restart: the last published mark, its sequence, the EMA, staleness, and
   * whether new liquidations are halted ({@code haltVersion} counts the halt changes).
   */
  public record State(long sequence, long markTicks, long emaBasisTicks, boolean stale, boolean halted,
      long haltVersion) implements CborSerializable {
    State withMark(long sequence, long markTicks, long emaBasisTicks) {
      return new State(sequence, markTicks, emaBasisTicks, stale, halted, haltVersion);
    }

    State withStale(boolean stale) {
      return new State(sequence, markTicks, emaBasisTicks, stale, halted, haltVersion);
    }

    State withHalt(boolean halted, long version) {
      return new State(sequence, markTicks, emaBasisTicks, stale, halted, version);
    }
  }

  public static void init(ActorSystem<?> system, PriceSettings settings, MarkPrices marks, Clock clock) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, context -> Behaviors.<Command>withTimers(timers ->
        new PriceFeed(context.getEntityId(), settings, marks, clock, timers))));
  }

  /** For tests: the behaviour without sharding. */
  public static Behavior<Command> create(String instrument, PriceSettings settings, MarkPrices marks, Clock clock) {
    return Behaviors.withTimers(timers -> new PriceFeed(instrument, settings, marks, clock, timers));
  }

  private final String instrument;
  private final PriceSettings settings;
  private final MarkPrices marks;
  private final Clock clock;
  private final TimerScheduler<Command> timers;
  // In memory only: refreshed by feeders and trades within seconds after a restart.
  private final Map<String, MarkRules.SourcePrice> sources = new HashMap<>();
  private OptionalLong lastTrade = OptionalLong.empty();
  private long emaBasis;
  private long held;

  private PriceFeed(String instrument, PriceSettings settings, MarkPrices marks, Clock clock,
      TimerScheduler<Command> timers) {
    super(PersistenceId.of(TYPE_KEY.name(), instrument));
    this.instrument = instrument;
    this.settings = settings;
    this.marks = marks;
    this.clock = clock;
    this.timers = timers;
  }

  @Override
  public State emptyState() {
    // A feed that never published is stale: nothing may be liquidated on it.
    return new State(0, 0, 0, true, false, 0);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(1_000, 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          emaBasis = state.emaBasisTicks();
          timers.startTimerWithFixedDelay(Check.INSTANCE, settings.checkInterval());
        })
        .build();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(IndexTick.class, (state, tick) -> {
          MarkRules.SourcePrice held = sources.get(tick.source());
          if (held == null || held.epochMillis() <= tick.epochMillis()) {
            sources.put(tick.source(), new MarkRules.SourcePrice(tick.priceTicks(), tick.epochMillis()));
          }
          return recompute(state, true);
        })
        .onCommand(LastTrade.class, (state, trade) -> {
          lastTrade = OptionalLong.of(trade.priceTicks());
          index().ifPresent(index -> emaBasis = MarkRules.emaStep(emaBasis, trade.priceTicks() - index, settings.emaWindow()));
          return recompute(state, true);
        })
        .onCommand(Check.class, (state, check) -> {
          heartbeat(state);
          return recompute(state, false);
        })
        .onCommand(GetStatus.class, (state, get) -> Effect().none().thenRun(s -> get.replyTo().tell(status(s))))
        .onCommand(SetLiquidationHalt.class, (state, set) -> {
          if (state.halted() == set.halted()) {
            return Effect().none().thenRun(s -> {
              announceHalt(s);
              set.replyTo().tell(status(s));
            });
          }
          return Effect().persist(new LiquidationHaltChanged(set.halted(), state.haltVersion() + 1, clock.millis()))
              .thenRun(s -> {
                announceHalt(s);
                set.replyTo().tell(status(s));
              });
        })
        .build();
  }

  private Status status(State s) {
    return new Status(instrument, s.sequence(), s.markTicks(), s.stale(), freshSources(), s.halted());
  }

  private void announceHalt(State s) {
    if (s.haltVersion() > 0) {
      marks.publish(new LiquidationHalt(instrument, s.halted(), s.haltVersion(), clock.millis()));
    }
  }

  private long freshSince() {
    return clock.millis() - settings.staleAfter().toMillis();
  }

  private OptionalLong index() {
    return MarkRules.index(sources, freshSince(), settings.minSources());
  }

  private int freshSources() {
    long since = freshSince();
    return (int) sources.values().stream().filter(p -> p.epochMillis() >= since).count();
  }

  /**
   * Re-announces the current mark and status: pub-sub does not replay, so a node that joined or
   * restarted learns them within one check interval. The board ignores what it already has.
   */
  private void heartbeat(State state) {
    announceHalt(state);
    if (state.sequence() > 0) {
      long now = clock.millis();
      marks.publish(new FeedStatus(instrument, state.stale(), state.sequence(), now));
      if (!state.stale()) {
        marks.publish(new Mark(instrument, state.markTicks(), state.sequence(), now));
      }
    }
  }

  /**
   * Recomputes the mark. Only new data ({@code newData}: a tick or a trade) may confirm a held
   * jump; the periodic check only notices sources going stale.
   */
  private Effect<Event, State> recompute(State state, boolean newData) {
    long now = clock.millis();
    OptionalLong index = index();
    if (index.isEmpty()) {
      held = 0;
      if (state.stale()) {
        return Effect().none();
      }
      return Effect().persist(new StalenessChanged(true, now))
          .thenRun(s -> marks.publish(new FeedStatus(instrument, true, s.sequence(), now)));
    }
    long candidate = MarkRules.mark(index.getAsLong(), emaBasis, lastTrade);
    if (candidate == state.markTicks() && !state.stale()) {
      held = 0;
      return Effect().none();
    }
    if (!MarkRules.confirmed(state.markTicks(), held, candidate, settings.maxJumpPpm())) {
      if (newData) {
        held = candidate;
      }
      return Effect().none();
    }
    if (!newData && MarkRules.isJump(state.markTicks(), candidate, settings.maxJumpPpm())) {
      return Effect().none();
    }
    held = 0;
    List<Event> events = new ArrayList<>(2);
    if (state.stale()) {
      events.add(new StalenessChanged(false, now));
    }
    events.add(new MarkPublished(state.sequence() + 1, candidate, index.getAsLong(), now, emaBasis));
    boolean wasStale = state.stale();
    return Effect().persist(events).thenRun(s -> {
      // Fresh first, so that listeners act on the mark that follows.
      if (wasStale) {
        marks.publish(new FeedStatus(instrument, false, s.sequence(), now));
      }
      marks.publish(new Mark(instrument, s.markTicks(), s.sequence(), now));
    });
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(MarkPublished.class, (state, e) -> state.withMark(e.sequence(), e.markTicks(), e.emaBasisTicks()))
        .onEvent(StalenessChanged.class, (state, e) -> state.withStale(e.stale()))
        .onEvent(LiquidationHaltChanged.class, (state, e) -> state.withHalt(e.halted(), e.version()))
        .build();
  }
}
