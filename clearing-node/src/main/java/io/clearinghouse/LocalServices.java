package io.clearinghouse;

import com.typesafe.config.Config;
import io.clearinghouse.persistence.CassandraSchema;
import io.clearinghouse.persistence.CqlSessions;
import java.time.Duration;
import io.clearinghouse.persistence.LocalCassandra;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@link Main#main} does before the actor system exists: start the node's own Cassandra in
 * local mode, and create the schema once, up front, instead of letting the plugin race to do it.
 */
final class LocalServices {
  private static final Logger log = LoggerFactory.getLogger(LocalServices.class);

  private LocalServices() {}

  static void startIfConfigured(Config config) {
    if (config.getBoolean("clearinghouse.local-cassandra.enabled")) {
      Path dataDir = Path.of(config.getString("clearinghouse.local-cassandra.data-dir")).toAbsolutePath();
      LocalCassandra cassandra = LocalCassandra.start(LocalCassandra.Settings.fromSystemProperties(dataDir));
      log.info("Cassandra {} at {} (data in {})", cassandra.startedHere() ? "started" : "already running",
          cassandra.contactPoint(), dataDir);
    }
    String contactPoint = config.getStringList("datastax-java-driver.basic.contact-points").get(0);
    String localDc = config.getString("datastax-java-driver.basic.load-balancing-policy.local-datacenter");
    // Fail fast with the address, rather than start a node that can never become ready.
    CqlSessions.probe(contactPoint, localDc, Duration.ofSeconds(10));
    if (config.getBoolean("clearinghouse.persistence.create-schema")) {
      CassandraSchema.apply(contactPoint, localDc,
          config.getString("pekko.persistence.cassandra.journal.keyspace"),
          config.getString("pekko.persistence.cassandra.snapshot.keyspace"), replication(config, contactPoint));
    }
  }

  /**
   * The configured replication; a factor under 3 only against a Cassandra on this machine (local
   * mode): anywhere else one lost Cassandra node would lose or block the journal.
   */
  static String replication(Config config, String contactPoint) {
    String key = "clearinghouse.persistence.replication";
    String replication = config.getString(key);
    int factor;
    try {
      factor = CassandraSchema.minimumFactor(replication);
    } catch (IllegalArgumentException e) {
      throw new com.typesafe.config.ConfigException.BadValue(key, e.getMessage());
    }
    String host = contactPoint.contains(":") ? contactPoint.substring(0, contactPoint.lastIndexOf(':')) : contactPoint;
    if (factor < 3 && !io.clearinghouse.api.Authenticator.isLoopback(host)) {
      throw new com.typesafe.config.ConfigException.BadValue(key, "replication factor " + factor + " is allowed only "
          + "against a Cassandra on this machine (local mode), not " + contactPoint + ": use at least 3, e.g. "
          + "{'class': 'NetworkTopologyStrategy', '<datacenter>': 3}");
    }
    return replication;
  }

  static void printWelcome(Config config, Main.Node node) {
    String grpc = node.grpcAddress().getHostString() + ":" + node.grpcAddress().getPort();
    StringBuilder text = new StringBuilder()
        .append("\n  Clearing house node is up.\n")
        .append("  gRPC:        ").append(grpc).append(config.getBoolean("clearinghouse.tls.enabled")
            ? " (HTTP/2 over TLS, reflection on)\n" : " (plaintext HTTP/2, reflection on)\n")
        .append("  management:  ").append(node.managementUri()).append(" (/cluster/members, /ready, /alive, /health/markets)\n");
    if (config.getBoolean("clearinghouse.demo.enabled")) {
      Config demo = config.getConfig("clearinghouse.demo");
      text.append("  demo operator token: ").append(demo.getString("operator-token")).append('\n')
          .append("  demo client token:   ").append(demo.getString("client-token"))
          .append("  (owns ").append(String.join(", ", demo.getStringList("client-accounts"))).append(")\n")
          .append("  demo engine token:   ").append(demo.getString("engine-token")).append('\n');
      for (Config feeder : demo.getConfigList("feeders")) {
        text.append("  demo feeder token:   ").append(feeder.getString("token"))
            .append("  (publishes for ").append(String.join(", ", feeder.getStringList("sources"))).append(")\n");
      }
    }
    text.append("  Ctrl-C stops the node").append(
        config.getBoolean("clearinghouse.local-cassandra.enabled") ? " and the Cassandra it started.\n" : ".\n");
    System.out.println(text);
  }
}
