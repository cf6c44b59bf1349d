package io.clearinghouse.persistence;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import java.time.Duration;
import java.util.List;

/** Short-lived driver sessions to one explicit node, outside of any actor system. */
public final class CqlSessions {

  private CqlSessions() {
  }

  /**
   * Opens a session to {@code contactPoint} ("host:port") and only that node. The contact point
   * is set as the configured option rather than added programmatically, because the driver merges
   * programmatic contact points with the configured ones (this module's reference.conf names
   * 127.0.0.1:9042). Fails at once when the node does not answer: callers decide about retries.
   */
  static CqlSession open(String contactPoint, String localDatacenter, Duration requestTimeout) {
    return openSession(contactPoint, localDatacenter, requestTimeout);
  }

  /**
   * Checks that Cassandra answers at {@code contactPoint}; returns its release version, or throws
   * an exception whose message names the contact point.
   */
  public static String probe(String contactPoint, String localDatacenter, Duration timeout) {
    try (CqlSession session = openSession(contactPoint, localDatacenter, timeout)) {
      return session.execute("SELECT release_version FROM system.local").one().getString(0);
    } catch (RuntimeException e) {
      throw new IllegalStateException("Cassandra does not answer at " + contactPoint + " (datacenter "
          + localDatacenter + "): " + e.getMessage(), e);
    }
  }

  private static CqlSession openSession(String contactPoint, String localDatacenter, Duration requestTimeout) {
    DriverConfigLoader config = DriverConfigLoader.programmaticBuilder()
        .withStringList(DefaultDriverOption.CONTACT_POINTS, List.of(contactPoint))
        .withString(DefaultDriverOption.LOAD_BALANCING_LOCAL_DATACENTER, localDatacenter)
        .withBoolean(DefaultDriverOption.RECONNECT_ON_INIT, false)
        .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, requestTimeout)
        .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, requestTimeout)
        // Each DDL statement waits for a debounced metadata refresh (1 s by default): the schema
        // step runs its statements in a row, so refresh right away.
        .withDuration(DefaultDriverOption.METADATA_SCHEMA_WINDOW, Duration.ofMillis(20))
        // Netty's default 2 s quiet period would make every close of these short sessions slow.
        .withInt(DefaultDriverOption.NETTY_IO_SHUTDOWN_QUIET_PERIOD, 0)
        .withInt(DefaultDriverOption.NETTY_ADMIN_SHUTDOWN_QUIET_PERIOD, 0)
        .build();
    return CqlSession.builder().withConfigLoader(config).build();
  }
}
