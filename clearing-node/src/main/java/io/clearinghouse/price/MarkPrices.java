package io.clearinghouse.price;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The latest mark of every instrument as this node knows it, and which instruments are stale.
 * Price feeds broadcast on the distributed pub-sub topic {@value #TOPIC}; each node keeps the
 * newest mark per instrument here, where accounts read it when they evaluate margin. Reading is
 * lock-free and never blocks an actor.
 *
 * <p>Staleness is decided here, on this node's clock, not taken from the feed: an instrument is
 * stale when its feed says so, when it has no mark, or when its mark is older than
 * {@code stale-after} (the feed re-announces its mark with the time its sources last agreed with
 * it; a feed that is failing over, dead or without a majority stops doing so). Listeners (the
 * margin monitor, mark streams) hear of every new mark, every change of this staleness (as a
 * {@link FeedStatus} from the board) and every halt change; a periodic sweep notices marks that
 * aged out.
 */
public final class MarkPrices {
  public static final String TOPIC = "mark-prices";

  private final ConcurrentMap<String, Mark> latest = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, FeedStatus> status = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, LiquidationHalt> halts = new ConcurrentHashMap<>();
  /** The staleness last told to listeners, per instrument (absent: stale, never told). */
  private final ConcurrentMap<String, Boolean> told = new ConcurrentHashMap<>();
  private final List<Consumer<PriceEvent>> listeners = new CopyOnWriteArrayList<>();
  private final Clock clock;
  private final long staleAfterMillis;
  private volatile ActorRef<Topic.Command<PriceEvent>> topic;

  private MarkPrices(Clock clock, long staleAfterMillis) {
    this.clock = clock;
    this.staleAfterMillis = staleAfterMillis;
  }

  /**
   * Starts this node's topic actor and the subscriber that keeps the board current, and sweeps
   * for marks that aged out every {@code sweepInterval}.
   */
  public static MarkPrices start(ActorSystem<?> system, Clock clock, Duration staleAfter, Duration sweepInterval) {
    MarkPrices board = new MarkPrices(clock, staleAfter.toMillis());
    ActorRef<Topic.Command<PriceEvent>> topic = system.systemActorOf(
        Topic.create(PriceEvent.class, TOPIC), "mark-price-topic", Props.empty());
    ActorRef<Object> subscriber = system.systemActorOf(board.subscriber(), "mark-price-board", Props.empty());
    topic.tell(Topic.subscribe(subscriber.narrow()));
    system.scheduler().scheduleWithFixedDelay(sweepInterval, sweepInterval, () -> subscriber.tell(Sweep.INSTANCE),
        system.executionContext());
    board.topic = topic;
    return board;
  }

  /** A board that only this node writes to, whose marks never age: for tests of other behaviour. */
  public static MarkPrices local() {
    return new MarkPrices(Clock.systemUTC(), Long.MAX_VALUE);
  }

  /** A board that only this node writes to, on {@code clock}, whose marks go stale after {@code staleAfter}. */
  public static MarkPrices local(Clock clock, Duration staleAfter) {
    return new MarkPrices(clock, staleAfter.toMillis());
  }

  private enum Sweep { INSTANCE }

  private Behavior<Object> subscriber() {
    return Behaviors.receiveMessage(message -> {
      if (message instanceof PriceEvent event) {
        accept(event);
      } else {
        sweep();
      }
      return Behaviors.same();
    });
  }

  /** Keeps {@code event} if it is newer than what is held, and tells the listeners; true if kept. */
  public boolean accept(PriceEvent event) {
    boolean kept;
    if (event instanceof Mark mark) {
      Mark before = latest.get(mark.instrument());
      Mark after = latest.merge(mark.instrument(), mark, (held, offered) ->
          offered.sequence() > held.sequence()
              || (offered.sequence() == held.sequence() && offered.epochMillis() > held.epochMillis())
              ? offered : held);
      // A re-announced mark only refreshes its time: listeners hear of it only as a staleness change.
      kept = after == mark && (before == null || mark.sequence() > before.sequence());
      staleness(mark.instrument(), mark.sequence());
      if (kept) {
        tell(event);
      }
      return after == mark;
    } else if (event instanceof LiquidationHalt offered) {
      LiquidationHalt before = halts.get(offered.instrument());
      LiquidationHalt after = halts.merge(offered.instrument(), offered,
          (held, o) -> o.sequence() > held.sequence() ? o : held);
      kept = after == offered && (before == null || before.halted() != offered.halted());
      if (kept) {
        tell(event);
      }
    } else {
      FeedStatus offered = (FeedStatus) event;
      FeedStatus after = status.merge(offered.instrument(), offered,
          (held, o) -> o.sequence() > held.sequence() || (o.sequence() == held.sequence() && o.stale() != held.stale())
              ? o : held);
      kept = after == offered;
      // A repeated status (the feed's heartbeat) changes nothing and wakes no listener.
      staleness(offered.instrument(), offered.sequence());
    }
    return kept;
  }

  /** Tells the listeners when the instrument's staleness on this node changed since last told. */
  private synchronized void staleness(String instrument, long sequence) {
    boolean stale = stale(instrument);
    Boolean before = told.put(instrument, stale);
    if ((before == null && !stale) || (before != null && before != stale)) {
      tell(new FeedStatus(instrument, stale, sequence, clock.millis()));
    }
  }

  private void tell(PriceEvent event) {
    for (Consumer<PriceEvent> listener : listeners) {
      listener.accept(event);
    }
  }

  /** Notices marks that aged out since the last event (run periodically on each node). */
  public void sweep() {
    for (String instrument : latest.keySet()) {
      staleness(instrument, latest.get(instrument).sequence());
    }
  }

  /** Publishes to every node, this one included (through the topic, or directly without one). */
  public void publish(PriceEvent event) {
    if (topic != null) {
      topic.tell(Topic.publish(event));
    } else {
      accept(event);
    }
  }

  public Optional<Mark> get(String instrument) {
    return Optional.ofNullable(latest.get(instrument));
  }

  /** Instruments with a mark or a status. */
  public Set<String> instruments() {
    Set<String> all = new java.util.TreeSet<>(latest.keySet());
    all.addAll(status.keySet());
    return all;
  }

  /**
   * Whether nothing may be done on {@code instrument}'s mark here: its feed says its index is
   * stale, there is no mark, the feed announced a newer mark than the one held here (it was
   * stale, and its next mark is on the way), or the mark is older than {@code stale-after} on this
   * node's clock.
   */
  public boolean stale(String instrument) {
    FeedStatus s = status.get(instrument);
    Mark mark = latest.get(instrument);
    return mark == null || (s != null && (s.stale() || s.sequence() > mark.sequence()))
        || ageMillis(mark) > staleAfterMillis;
  }

  /** Milliseconds since the feed last vouched for the mark, on this node's clock (for metrics). */
  public Optional<Long> ageMillis(String instrument) {
    return get(instrument).map(this::ageMillis);
  }

  private long ageMillis(Mark mark) {
    return clock.millis() - mark.epochMillis();
  }

  /** Whether the operator halted new liquidations on {@code instrument}. */
  public boolean halted(String instrument) {
    LiquidationHalt halt = halts.get(instrument);
    return halt != null && halt.halted();
  }

  public Set<String> haltedInstruments() {
    Set<String> halted = new java.util.TreeSet<>();
    halts.values().forEach(h -> {
      if (h.halted()) {
        halted.add(h.instrument());
      }
    });
    return halted;
  }

  /** The instruments this board has heard of (a mark or a status) that are stale here. */
  public Set<String> staleInstruments() {
    Set<String> stale = new java.util.TreeSet<>();
    for (String instrument : instruments()) {
      if (stale(instrument)) {
        stale.add(instrument);
      }
    }
    return stale;
  }

  /**
   * Calls {@code listener} for every accepted mark, staleness change or halt change from now on,
   * on the publishing thread; running the returned handle stops it.
   */
  public Runnable listen(Consumer<PriceEvent> listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }
}
