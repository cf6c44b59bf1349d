package io.clearinghouse.price;

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
 * newest mark per instrument here, where accounts read it when they evaluate margin, and passes
 * every accepted event to its local listeners (the margin monitor, mark streams). Reading is
 * lock-free and never blocks an actor.
 */
public final class MarkPrices {
  public static final String TOPIC = "mark-prices";

  private final ConcurrentMap<String, Mark> latest = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, FeedStatus> status = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, LiquidationHalt> halts = new ConcurrentHashMap<>();
  private final List<Consumer<PriceEvent>> listeners = new CopyOnWriteArrayList<>();
  private volatile ActorRef<Topic.Command<PriceEvent>> topic;

  /** Starts this node's topic actor and the subscriber that keeps the board current. */
  @SuppressWarnings("unchecked")
  public static MarkPrices start(ActorSystem<?> system) {
    MarkPrices board = new MarkPrices();
    ActorRef<Topic.Command<PriceEvent>> topic = system.systemActorOf(
        Topic.create(PriceEvent.class, TOPIC), "mark-price-topic", Props.empty());
    ActorRef<PriceEvent> subscriber = system.systemActorOf(board.subscriber(), "mark-price-board", Props.empty());
    topic.tell(Topic.subscribe(subscriber));
    board.topic = topic;
    return board;
  }

  /** A board that only this node writes to: for tests of behaviour without a cluster. */
  public static MarkPrices local() {
    return new MarkPrices();
  }

  private Behavior<PriceEvent> subscriber() {
    return Behaviors.receiveMessage(event -> {
      accept(event);
      return Behaviors.same();
    });
  }

  /** Keeps {@code event} if it is newer than what is held, and tells the listeners; true if kept. */
  public boolean accept(PriceEvent event) {
    boolean kept;
    if (event instanceof Mark mark) {
      kept = latest.merge(mark.instrument(), mark,
          (held, offered) -> offered.sequence() > held.sequence() ? offered : held) == mark;
    } else if (event instanceof LiquidationHalt offered) {
      LiquidationHalt before = halts.get(offered.instrument());
      LiquidationHalt after = halts.merge(offered.instrument(), offered,
          (held, o) -> o.sequence() > held.sequence() ? o : held);
      kept = after == offered && (before == null || before.halted() != offered.halted());
    } else {
      FeedStatus offered = (FeedStatus) event;
      FeedStatus before = status.get(offered.instrument());
      FeedStatus after = status.merge(offered.instrument(), offered,
          (held, o) -> o.sequence() > held.sequence() || (o.sequence() == held.sequence() && o.stale() != held.stale())
              ? o : held);
      // A repeated status (the feed's heartbeat) changes nothing and wakes no listener.
      kept = after == offered && (before == null || before.stale() != offered.stale());
    }
    if (kept) {
      for (Consumer<PriceEvent> listener : listeners) {
        listener.accept(event);
      }
    }
    return kept;
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

  public boolean stale(String instrument) {
    FeedStatus s = status.get(instrument);
    return s != null && s.stale();
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

  public Set<String> staleInstruments() {
    Set<String> stale = new java.util.TreeSet<>();
    status.values().forEach(s -> {
      if (s.stale()) {
        stale.add(s.instrument());
      }
    });
    return stale;
  }

  /**
   * Calls {@code listener} for every accepted mark or status from now on, on the publishing
   * thread; running the returned handle stops it.
   */
  public Runnable listen(Consumer<PriceEvent> listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }
}
