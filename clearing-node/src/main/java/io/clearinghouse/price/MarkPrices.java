package io.clearinghouse.price;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The latest mark of every instrument as this node knows it. Marks travel between nodes on the
 * distributed pub-sub topic {@value #TOPIC}; each node keeps the newest one per instrument here,
 * where accounts read it when they evaluate margin. Reading is lock-free and never blocks an actor.
 */
public final class MarkPrices {
  public static final String TOPIC = "mark-prices";

  private final ConcurrentMap<String, Mark> latest = new ConcurrentHashMap<>();
  private volatile ActorRef<Topic.Command<Mark>> topic;

  /** Starts this node's topic actor and the subscriber that keeps the board current. */
  public static MarkPrices start(ActorSystem<?> system) {
    MarkPrices board = new MarkPrices();
    ActorRef<Topic.Command<Mark>> topic = system.systemActorOf(Topic.create(Mark.class, TOPIC), "mark-price-topic",
        org.apache.pekko.actor.typed.Props.empty());
    ActorRef<Mark> subscriber = system.systemActorOf(board.subscriber(), "mark-price-board",
        org.apache.pekko.actor.typed.Props.empty());
    topic.tell(Topic.subscribe(subscriber));
    board.topic = topic;
    return board;
  }

  /** A board that only this node writes to: for tests of behaviour without a cluster. */
  public static MarkPrices local() {
    return new MarkPrices();
  }

  private Behavior<Mark> subscriber() {
    return Behaviors.receiveMessage(mark -> {
      update(mark);
      return Behaviors.same();
    });
  }

  /** Keeps {@code mark} if it is newer than the one held; true if it was kept. */
  public boolean update(Mark mark) {
    Mark result = latest.merge(mark.instrument(), mark,
        (held, offered) -> offered.sequence() > held.sequence() ? offered : held);
    return result == mark;
  }

  /** Updates this node at once and every other node through the topic. */
  public void publish(Mark mark) {
    if (update(mark) && topic != null) {
      topic.tell(Topic.publish(mark));
    }
  }

  public Optional<Mark> get(String instrument) {
    return Optional.ofNullable(latest.get(instrument));
  }
}
