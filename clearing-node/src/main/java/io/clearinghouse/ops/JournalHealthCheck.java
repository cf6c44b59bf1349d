package io.clearinghouse.ops;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * Readiness check for pekko-management's {@code /ready}: true only when the journal's Cassandra
 * session answers a read of the journal table itself (so the keyspace and schema exist too).
 */
public final class JournalHealthCheck implements Supplier<CompletionStage<Boolean>> {
  private static final String SESSION_CONFIG = "pekko.persistence.cassandra";

  private final CassandraSession session;
  private final String statement;
  private final Duration timeout;

  public JournalHealthCheck(ActorSystem system) {
    this.session = CassandraSessionRegistry.get(system).sessionFor(SESSION_CONFIG);
    String keyspace = system.settings().config().getString("pekko.persistence.cassandra.journal.keyspace");
    this.statement = "SELECT persistence_id FROM " + keyspace + ".messages LIMIT 1";
    this.timeout = system.settings().config().getDuration("pekko.management.health-checks.check-timeout");
  }

  @Override
  public CompletionStage<Boolean> get() {
    return session.selectOne(statement)
        .thenApply(row -> true)
        .toCompletableFuture()
        .completeOnTimeout(false, timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .exceptionally(failure -> false);
  }
}
