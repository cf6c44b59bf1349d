package io.clearinghouse;

import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/**
 * Test kits: for behaviour tests of one entity (the in-memory journal, no cluster), and a one-node
 * cluster on the in-memory journal for tests of entities that find each other through sharding.
 */
public final class TestKits {
  private TestKits() {}

  public static ActorTestKit inMemoryJournal() {
    return ActorTestKit.create(EventSourcedBehaviorTestKit.config()
        .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
        .withFallback(ConfigFactory.load()));
  }

  /**
   * A one-node cluster that has joined itself, on the in-memory journal (remembered entities off,
   * any free port), with {@code extraConfig} lines on top. A member leaves before it stops: more
   * than the default 10 s on a loaded machine, so 30 s to shut down. The leader acts and gossips
   * every 100 ms instead of every second: a lone member is Up, and Exiting when it leaves, at the
   * next leader tick, and the exiting shard coordinators stop after 100 ms, not one hand-over retry
   * second: waiting out those seconds made every such class about two seconds slower.
   */
  public static ActorTestKit oneNodeCluster(String name, String... extraConfig) {
    java.util.List<String> lines = new java.util.ArrayList<>(java.util.List.of(
        "pekko.actor.provider = cluster",
        "pekko.actor.testkit.typed.system-shutdown-default = 30s",
        "pekko.remote.artery.canonical.port = 0",
        "pekko.cluster.sharding.remember-entities = off",
        "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on",
        "pekko.cluster.leader-actions-interval = 100ms",
        "pekko.cluster.gossip-interval = 100ms",
        "pekko.cluster.sharding.coordinator-singleton.hand-over-retry-interval = 100ms"));
    lines.addAll(java.util.List.of(extraConfig));
    com.typesafe.config.Config config = EventSourcedBehaviorTestKit.config()
        .withFallback(ConfigFactory.parseString(String.join("\n", lines)))
        .withFallback(ConfigFactory.load()).resolve();
    ActorTestKit kit = ActorTestKit.create(name, config);
    org.apache.pekko.cluster.typed.Cluster cluster = org.apache.pekko.cluster.typed.Cluster.get(kit.system());
    cluster.manager().tell(org.apache.pekko.cluster.typed.Join.create(cluster.selfMember().address()));
    return kit;
  }
}
