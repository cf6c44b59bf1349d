package io.clearinghouse.price;

// Over 450 lines: one event-sourced entity keeps its protocol, events, state and handlers together
// (STYLE.md); the mark rules are in MarkRules and the volatility scales in FeedScales, what is left
// is the feed's own sequencing of them.

import io.clearinghouse.margin.MarginScaling;
import io.clearinghouse.persistence.CborSerializable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.pekko.Done;
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
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The price feed of one instrument: a sharded, remembered, event-sourced entity, so exactly one
 * runs in the cluster and another node carries on when its node dies. It keeps the latest price
 * of each index source (with the feeder token that sent it) and the latest trade price in memory
 * (they are refreshed within seconds), and persists every mark it publishes, so mark sequence
 * numbers keep increasing across failover.
 *
 * <p>Which index may be published is {@link MarkRules#consensus}'s answer; a jump is published only
 * after its majority has held for the confirmation time. At most one mark is persisted per mark
 * interval; the latest data is used when the interval is over. The feed vouches for its mark each
 * time the sources agree with it, and re-announces it with that time on every check, so every
 * node sees how old the mark is on its own clock, and a mark nobody vouches for goes stale.
 */
public final class PriceFeed extends EventSourcedBehavior<PriceFeed.Command, PriceFeed.Event, PriceFeed.State> {
  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "PriceFeed");

  public sealed interface Command extends CborSerializable {}

  /** A validated index price from {@code source}, sent by the feeder token named {@code feeder}. */
  public record IndexTick(String source, long priceTicks, long epochMillis, String feeder) implements Command {}

  /** Ticks of one feeder stream, taken together; {@code replyTo} hears once they are applied. */
  public record IndexTicks(List<IndexTick> ticks, ActorRef<Done> replyTo) implements Command {
    public IndexTicks {
      ticks = List.copyOf(ticks);
    }
  }

  /** The latest trade price a node has seen for this instrument. */
  public record LastTrade(long priceTicks, long epochMillis) implements Command {}

  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  /** Each source's last price and time as this feed holds them (the operator console's Markets panel). */
  public record GetSources(ActorRef<Sources> replyTo) implements Command {}

  /** {@code fresh}: the price is recent enough to count toward the index (within stale-after). */
  public record SourcePrice(String source, long priceTicks, long epochMillis, boolean fresh) implements CborSerializable {}

  /** The sources heard since this feed started (in memory only), by name. */
  public record Sources(String instrument, List<SourcePrice> sources) implements CborSerializable {
    public Sources {
      sources = List.copyOf(sources);
    }
  }

  /**
   * From a dated future's settlement: the expected settlement price (the index average of its
   * settlement window so far, or the fixed price); the mark converges to it over the window
   * ({@link io.clearinghouse.margin.SettlementMath#convergedMark}).
   */
  public record SettlementExpected(long expectedTicks, long windowStartMillis, long expiryMillis) implements Command {}

  /** Halts ({@code true}) or resumes new liquidations on this instrument; replies with the status. */
  /** {@code by}: the name of the operator token that asked (recorded on the event). */
  public record SetLiquidationHalt(boolean halted, String by, ActorRef<Status> replyTo) implements Command {
    public SetLiquidationHalt(boolean halted, ActorRef<Status> replyTo) {
      this(halted, "", replyTo);
    }
  }

  /**
   * The stress test's question (issue 16 item 7): the volatility-scaled margins a mark at
   * {@code priceTicks} would put in force if it were this feed's next mark (at the earliest time
   * the feed could publish it: a jump once its confirmation time has passed); changes nothing. The answer's scales are null when the instrument
   * has no volatility margin.
   */
  public record ScalesAt(long priceTicks, ActorRef<ScalesAnswer> replyTo) implements Command {}

  public record ScalesAnswer(String instrument, long priceTicks, MarkScales scales) implements CborSerializable {}

  /** The periodic re-check and re-announcement (package-private for tests). */
  enum Check implements Command { INSTANCE }

  /** A recomputation when a held jump's confirmation time or the mark interval is over. */
  enum Recompute implements Command { INSTANCE }

  /** {@code indexTicks}: the index the last mark was published with (0: none yet). */
  public record Status(String instrument, long sequence, long markTicks, boolean stale, int freshSources,
      boolean liquidationsHalted, long indexTicks) implements CborSerializable {
    public Status(String instrument, long sequence, long markTicks, boolean stale, int freshSources,
        boolean liquidationsHalted) {
      this(instrument, sequence, markTicks, stale, freshSources, liquidationsHalted, 0);
    }
  }

  public sealed interface Event extends CborSerializable {}

  /**
   * A mark. {@code emaBasisMicros} is the EMA basis in millionths of a tick (the EMA moves by a
   * small fraction of the gap per report, which whole ticks would round away); {@code emaBasisTicks}
   * is the same rounded down, kept for older readers. {@code scales}: the volatility-scaled
   * margins this mark put in force (null: none, and in events written before they were kept).
   */
  public record MarkPublished(long sequence, long markTicks, long indexTicks, long epochMillis, long emaBasisTicks,
      long emaBasisMicros, MarkScales scales) implements Event {
    public MarkPublished(long sequence, long markTicks, long indexTicks, long epochMillis, long emaBasisTicks,
        long emaBasisMicros) {
      this(sequence, markTicks, indexTicks, epochMillis, emaBasisTicks, emaBasisMicros, null);
    }

    public MarkPublished(long sequence, long markTicks, long indexTicks, long epochMillis, long emaBasisTicks) {
      this(sequence, markTicks, indexTicks, epochMillis, emaBasisTicks, Math.multiplyExact(emaBasisTicks, MICROS));
    }
  }

  public record StalenessChanged(boolean stale, long epochMillis) implements Event {}

  /** {@code by}: the operator token's name ("" in events written before it was recorded). */
  public record LiquidationHaltChanged(boolean halted, long version, long epochMillis, String by) implements Event {
    public LiquidationHaltChanged {
      by = by == null ? "" : by;
    }

    public LiquidationHaltChanged(boolean halted, long version, long epochMillis) {
      this(halted, version, epochMillis, "");
    }
  }

  /**
   * What survives a restart: the last published mark, its index, time and sequence, the EMA,
   * staleness, whether new liquidations are halted ({@code haltVersion} counts the halt
   * changes), and the scales the last mark put in force (null: none, or a snapshot from before
   * they were kept).
   */
  public record State(long sequence, long markTicks, long emaBasisTicks, boolean stale, boolean halted,
      long haltVersion, long indexTicks, long markEpochMillis, long emaBasisMicros, MarkScales scales)
      implements CborSerializable {
    State withMark(MarkPublished e) {
      return new State(e.sequence(), e.markTicks(), e.emaBasisTicks(), stale, halted, haltVersion, e.indexTicks(),
          e.epochMillis(), e.emaBasisMicros(), e.scales());
    }

    State withStale(boolean stale) {
      return new State(sequence, markTicks, emaBasisTicks, stale, halted, haltVersion, indexTicks, markEpochMillis,
          emaBasisMicros, scales);
    }

    State withHalt(boolean halted, long version) {
      return new State(sequence, markTicks, emaBasisTicks, stale, halted, version, indexTicks, markEpochMillis,
          emaBasisMicros, scales);
    }

    long basisMicros() {
      return emaBasisMicros != 0 ? emaBasisMicros : Math.multiplyExact(emaBasisTicks, MICROS);
    }

    /** The index new prices are compared with (the mark, for feeds persisted before the index was kept). */
    long referenceTicks() {
      return indexTicks > 0 ? indexTicks : markTicks;
    }
  }

  /** {@code terms}: each instrument's volatility margin terms (the feed computes the scales with each mark). */
  public static void init(ActorSystem<?> system, PriceSettings settings, MarkPrices marks, Clock clock,
      PriceMetrics metrics, java.util.function.Function<String, MarginScaling.VolatilityTerms> terms,
      VolatilityBoard.Settings volatility) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, context -> Behaviors.<Command>withTimers(timers ->
        new PriceFeed(context.getEntityId(), settings, marks, clock, timers, metrics,
            new FeedScales(context.getEntityId(), terms.apply(context.getEntityId()), volatility)))));
  }

  /** For tests: the behaviour without sharding, without volatility-scaled margin. */
  public static Behavior<Command> create(String instrument, PriceSettings settings, MarkPrices marks, Clock clock) {
    return create(instrument, settings, marks, clock, MarginScaling.VolatilityTerms.NONE,
        VolatilityBoard.Settings.DEFAULT);
  }

  /** For tests: the behaviour without sharding, scaling margins by {@code terms}. */
  public static Behavior<Command> create(String instrument, PriceSettings settings, MarkPrices marks, Clock clock,
      MarginScaling.VolatilityTerms terms, VolatilityBoard.Settings volatility) {
    return Behaviors.withTimers(timers -> new PriceFeed(instrument, settings, marks, clock, timers, PriceMetrics.NONE,
        new FeedScales(instrument, terms, volatility)));
  }

  private static final String RECOMPUTE_TIMER = "recompute";
  private static final long MICROS = 1_000_000L;

  private final String instrument;
  private final PriceSettings settings;
  private final MarkPrices marks;
  private final Clock clock;
  private final TimerScheduler<Command> timers;
  private final PriceMetrics metrics;
  // In memory only: refreshed by feeders and trades within seconds after a restart.
  private final Map<String, MarkRules.SourcePrice> sources = new HashMap<>();
  private OptionalLong lastTrade = OptionalLong.empty();
  /** The EMA of (last trade - index), in millionths of a tick. */
  private long emaBasis;
  private long lastBasisSample;
  /** The side (+1, -1) of the jump a majority holds, and since when; 0 when none. */
  private int pendingSide;
  private long pendingSince;
  /** When the sources last agreed with the published mark (0: not since this feed started). */
  private long vouchedAt;
  private long lastPublishedAt;
  /** In memory: the settlement's last word (told again with every sample); null before any. */
  private SettlementExpected settlementExpected;
  /** The volatility index of this feed's marks and the scales they put in force (restored from the state). */
  private final FeedScales scales;

  private PriceFeed(String instrument, PriceSettings settings, MarkPrices marks, Clock clock,
      TimerScheduler<Command> timers, PriceMetrics metrics, FeedScales scales) {
    super(PersistenceId.of(TYPE_KEY.name(), instrument));
    this.instrument = instrument;
    this.settings = settings;
    this.marks = marks;
    this.clock = clock;
    this.timers = timers;
    this.metrics = metrics;
    this.scales = scales;
  }

  @Override
  public State emptyState() {
    // A feed that never published is stale: nothing may be liquidated on it.
    return new State(0, 0, 0, true, false, 0, 0, 0, 0, null);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(1_000, 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          emaBasis = state.basisMicros();
          scales.restore(state.scales());
          timers.startTimerWithFixedDelay(Check.INSTANCE, settings.checkInterval());
        })
        .build();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(IndexTick.class, (state, tick) -> {
          take(tick);
          return recompute(state);
        })
        .onCommand(IndexTicks.class, (state, batch) -> {
          batch.ticks().forEach(this::take);
          return recompute(state).thenRun(s -> batch.replyTo().tell(Done.getInstance()));
        })
        .onCommand(LastTrade.class, (state, trade) -> {
          sampleBasis(state, trade);
          return recompute(state);
        })
        .onCommand(Check.class, (state, check) -> {
          heartbeat(state);
          return recompute(state);
        })
        .onCommand(Recompute.class, (state, recompute) -> recompute(state))
        .onCommand(SettlementExpected.class, (state, expected) -> {
          if (expected.equals(settlementExpected)) {
            // Told again every tick of the settlement (to survive this feed's restart): nothing new.
            return Effect().none();
          }
          settlementExpected = expected;
          return recompute(state);
        })
        .onCommand(GetStatus.class, (state, get) -> Effect().none().thenRun(s -> get.replyTo().tell(status(s))))
        .onCommand(ScalesAt.class, (state, ask) -> Effect().none().thenRun(s -> ask.replyTo().tell(
            new ScalesAnswer(instrument, ask.priceTicks(), scales.at(ask.priceTicks(), nextMarkAt(s, ask.priceTicks()))))))
        .onCommand(GetSources.class, (state, get) -> Effect().none().thenRun(s -> get.replyTo().tell(sourcePrices())))
        .onCommand(SetLiquidationHalt.class, (state, set) -> {
          if (state.halted() == set.halted()) {
            return Effect().none().thenRun(s -> {
              announceHalt(s);
              set.replyTo().tell(status(s));
            });
          }
          return Effect().persist(new LiquidationHaltChanged(set.halted(), state.haltVersion() + 1, clock.millis(), set.by()))
              .thenRun(s -> {
                announceHalt(s);
                set.replyTo().tell(status(s));
              });
        })
        .build();
  }

  private void take(IndexTick tick) {
    MarkRules.SourcePrice held = sources.get(tick.source());
    if (held == null || held.epochMillis() <= tick.epochMillis()) {
      sources.put(tick.source(), new MarkRules.SourcePrice(tick.priceTicks(), tick.epochMillis(), tick.feeder()));
    }
  }

  /**
   * One step of the EMA of (last trade - index) against the last published index: the sample is
   * clamped to the basis band and weighs the time since the previous sample (at most one report
   * interval) over the basis window, so a burst of trades moves it no faster than steady ones.
   */
  private void sampleBasis(State state, LastTrade trade) {
    lastTrade = OptionalLong.of(trade.priceTicks());
    long index = state.indexTicks();
    if (index <= 0) {
      return;
    }
    long now = clock.millis();
    long interval = settings.lastTradeInterval().toMillis();
    long weight = lastBasisSample == 0 ? interval : Math.min(Math.max(0, now - lastBasisSample), interval);
    long sample = Math.multiplyExact(MICROS,
        MarkRules.clampBasis(Math.subtractExact(trade.priceTicks(), index), index, settings.basisBandPpm()));
    emaBasis = MarkRules.emaStep(emaBasis, sample, weight, settings.basisWindow().toMillis());
    lastBasisSample = now;
  }

  private Status status(State s) {
    return new Status(instrument, s.sequence(), s.markTicks(), s.stale(), freshSources(), s.halted(), s.indexTicks());
  }

  private void announceHalt(State s) {
    if (s.haltVersion() > 0) {
      marks.publish(new LiquidationHalt(instrument, s.halted(), s.haltVersion(), clock.millis()));
    }
  }

  private long freshSince() {
    return clock.millis() - settings.staleAfter().toMillis();
  }

  private Sources sourcePrices() {
    long since = freshSince();
    List<SourcePrice> out = new java.util.ArrayList<>();
    new java.util.TreeMap<>(sources).forEach((source, p) ->
        out.add(new SourcePrice(source, p.priceTicks(), p.epochMillis(), p.epochMillis() >= since)));
    return new Sources(instrument, out);
  }

  private int freshSources() {
    long since = freshSince();
    return (int) sources.values().stream().filter(p -> p.epochMillis() >= since).count();
  }

  /**
   * Re-announces the status and the mark with the time the sources last vouched for it: pub-sub
   * does not replay, so a node that joined or restarted learns them within one check interval,
   * and a mark no longer vouched for ages on every node. The board ignores what it already has.
   */
  private void heartbeat(State state) {
    announceHalt(state);
    if (state.sequence() > 0) {
      long now = clock.millis();
      marks.publish(new FeedStatus(instrument, state.stale(), state.sequence(), now));
      if (!state.stale()) {
        marks.publish(new Mark(instrument, state.markTicks(), state.sequence(),
            Math.max(vouchedAt, state.markEpochMillis()), state.scales()));
      }
    }
  }

  /**
   * The earliest time this feed could publish a mark at {@code priceTicks} next: past the mark
   * interval, never before the last mark, and a jump from the index only once it has held for the
   * confirmation time from now.
   */
  private long nextMarkAt(State state, long priceTicks) {
    long now = clock.millis();
    long at = Math.max(Math.max(now, state.markEpochMillis()), lastPublishedAt + settings.markInterval().toMillis());
    if (state.referenceTicks() > 0 && MarkRules.isJump(state.referenceTicks(), priceTicks, settings.maxJumpPpm())) {
      at = Math.max(at, now + settings.jumpConfirmTime().toMillis());
    }
    return at;
  }

  /** Recomputes the index and the mark from what the sources say now. */
  private EffectBuilder<Event, State> recompute(State state) {
    long now = clock.millis();
    MarkRules.Consensus consensus = MarkRules.consensus(sources, freshSince(), state.referenceTicks(),
        settings.maxJumpPpm(), settings.minSources(), settings.jumpConfirmSources());
    long index;
    boolean jump = false;
    if (consensus instanceof MarkRules.Agreed agreed) {
      pendingSide = 0;
      index = agreed.indexTicks();
    } else if (consensus instanceof MarkRules.Jump held) {
      if (pendingSide != held.side()) {
        pendingSide = held.side();
        pendingSince = now;
        metrics.jumpHeld(instrument);
      }
      long confirmAt = pendingSince + settings.jumpConfirmTime().toMillis();
      if (now < confirmAt) {
        timers.startSingleTimer(RECOMPUTE_TIMER, Recompute.INSTANCE, Duration.ofMillis(confirmAt - now));
        return Effect().none();
      }
      index = held.indexTicks();
      jump = true;
    } else if (consensus instanceof MarkRules.Split) {
      // No majority on any level: nothing is vouched for, the mark ages.
      pendingSide = 0;
      return Effect().none();
    } else {
      pendingSide = 0;
      vouchedAt = 0;
      if (state.stale()) {
        return Effect().none();
      }
      return Effect().persist(new StalenessChanged(true, now))
          .thenRun(s -> marks.publish(new FeedStatus(instrument, true, s.sequence(), now)));
    }
    long basisTicks = Math.floorDiv(emaBasis, MICROS);
    long candidate = MarkRules.mark(index, basisTicks, lastTrade, settings.basisBandPpm());
    if (settlementExpected != null) {
      candidate = io.clearinghouse.margin.SettlementMath.convergedMark(candidate, settlementExpected.expectedTicks(), now,
          settlementExpected.windowStartMillis(), settlementExpected.expiryMillis());
    }
    if (candidate == state.markTicks() && !state.stale()) {
      vouchedAt = now;
      return Effect().none();
    }
    long wait = lastPublishedAt + settings.markInterval().toMillis() - now;
    if (wait > 0) {
      timers.startSingleTimer(RECOMPUTE_TIMER, Recompute.INSTANCE, Duration.ofMillis(wait));
      return Effect().none();
    }
    if (jump) {
      pendingSide = 0;
      metrics.jumpConfirmed(instrument);
    }
    lastPublishedAt = now;
    vouchedAt = now;
    List<Event> events = new ArrayList<>(2);
    boolean wasStale = state.stale();
    if (wasStale) {
      events.add(new StalenessChanged(false, now));
    }
    events.add(new MarkPublished(state.sequence() + 1, candidate, index, now, basisTicks, emaBasis,
        scales.onMark(candidate, now)));
    return Effect().persist(events).thenRun(s -> {
      // Fresh first, so that listeners act on the mark that follows.
      if (wasStale) {
        marks.publish(new FeedStatus(instrument, false, s.sequence(), now));
      }
      marks.publish(new Mark(instrument, s.markTicks(), s.sequence(), now, s.scales()));
      metrics.markPublished(instrument);
    });
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(MarkPublished.class, State::withMark)
        .onEvent(StalenessChanged.class, (state, e) -> state.withStale(e.stale()))
        .onEvent(LiquidationHaltChanged.class, (state, e) -> state.withHalt(e.halted(), e.version()))
        .build();
  }
}
