package io.clearinghouse.price;

import io.clearinghouse.persistence.CborSerializable;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The market depth of every instrument as feeders and the matching engine publish it (issue 16
 * item 3): per source, the notional (minor units) resting within the band around the mark on the
 * bid and on the ask side. Every node holds every report (a topic of its own, like the marks); an
 * instrument's depth on one side is the sum of its sources' newest reports younger than
 * {@code maxAge} on this node's clock, and unknown (empty) when there is none. Read by the
 * liquidation saga (the size of each close), the account streams (THIN_MARKET) and the metrics.
 */
public final class MarketDepth {
  public static final String TOPIC = "market-depth";

  /** One source's report; amounts in minor units of the settlement asset, never negative. */
  public record Report(String instrument, String source, long bidNotional, long askNotional, long epochMillis)
      implements CborSerializable {
    public Report {
      if (bidNotional < 0 || askNotional < 0) {
        throw new IllegalArgumentException("depth must not be negative");
      }
    }
  }

  private final Map<String, Map<String, Report>> reports = new ConcurrentHashMap<>();
  private final Clock clock;
  private final long maxAgeMillis;
  private volatile ActorRef<Topic.Command<Report>> topic;

  private MarketDepth(Clock clock, Duration maxAge) {
    this.clock = clock;
    this.maxAgeMillis = maxAge.toMillis();
  }

  /** Starts this node's topic actor and the subscriber that keeps the board current. */
  public static MarketDepth start(ActorSystem<?> system, Clock clock, Duration maxAge) {
    MarketDepth board = new MarketDepth(clock, maxAge);
    ActorRef<Topic.Command<Report>> topic = system.systemActorOf(Topic.create(Report.class, TOPIC),
        "market-depth-topic", Props.empty());
    ActorRef<Report> subscriber = system.systemActorOf(Behaviors.receiveMessage(report -> {
      board.accept(report);
      return Behaviors.same();
    }), "market-depth-board", Props.empty());
    topic.tell(Topic.subscribe(subscriber));
    board.topic = topic;
    return board;
  }

  /** {@code clearinghouse.market-depth.max-age}: how long a source's report counts; a bad value stops the node. */
  public static Duration maxAge(com.typesafe.config.Config config) {
    String key = "clearinghouse.market-depth.max-age";
    Duration maxAge;
    try {
      maxAge = config.getDuration(key);
    } catch (com.typesafe.config.ConfigException.WrongType | com.typesafe.config.ConfigException.BadValue e) {
      throw new com.typesafe.config.ConfigException.BadValue(key, "must be a duration such as 30s");
    }
    if (maxAge.compareTo(Duration.ofSeconds(1)) < 0 || maxAge.compareTo(Duration.ofDays(1)) > 0) {
      throw new com.typesafe.config.ConfigException.BadValue(key, "must be from 1s to 1d, was " + maxAge);
    }
    return maxAge;
  }

  /** A board only this node writes to (tests). */
  public static MarketDepth local(Clock clock, Duration maxAge) {
    return new MarketDepth(clock, maxAge);
  }

  /** Publishes to every node, this one included (through the topic, or directly without one). */
  public void publish(Report report) {
    ActorRef<Topic.Command<Report>> t = topic;
    if (t != null) {
      t.tell(Topic.publish(report));
    } else {
      accept(report);
    }
  }

  /** Keeps the report unless the source already reported something newer. */
  public void accept(Report report) {
    reports.computeIfAbsent(report.instrument(), k -> new ConcurrentHashMap<>())
        .merge(report.source(), report, (held, offered) -> offered.epochMillis() >= held.epochMillis() ? offered : held);
  }

  /**
   * The depth a close of {@code closeSignedLots} hits (a sell, closing a long, hits the bids; a
   * buy the asks): the sum of the fresh reports; empty when no source reported in time.
   */
  public OptionalLong against(String instrument, long closeSignedLots) {
    return closeSignedLots < 0 ? bid(instrument) : ask(instrument);
  }

  public OptionalLong bid(String instrument) {
    return sum(instrument, true);
  }

  public OptionalLong ask(String instrument) {
    return sum(instrument, false);
  }

  private OptionalLong sum(String instrument, boolean bid) {
    Map<String, Report> bySource = reports.get(instrument);
    if (bySource == null) {
      return OptionalLong.empty();
    }
    long now = clock.millis();
    long total = 0;
    boolean any = false;
    for (Report r : bySource.values()) {
      if (now - r.epochMillis() <= maxAgeMillis) {
        // Each report is below the 64-bit limit: a sum beyond it is as deep as can be counted.
        total = saturatedAdd(total, bid ? r.bidNotional() : r.askNotional());
        any = true;
      }
    }
    return any ? OptionalLong.of(total) : OptionalLong.empty();
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return sum < 0 ? Long.MAX_VALUE : sum;
  }

  /** The instruments some source reported. */
  public java.util.Set<String> instruments() {
    return new java.util.TreeSet<>(reports.keySet());
  }
}
