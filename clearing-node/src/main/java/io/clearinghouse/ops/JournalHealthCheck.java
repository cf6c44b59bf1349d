package io.clearinghouse.ops;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * Readiness: the journal's Cassandra session answers a read of the journal table itself (so the
 * keyspace and schema exist too) within {@code clearinghouse.readiness.journal-timeout}.
 */
public final class JournalHealthCheck extends ReadinessCheck {
  private static final String SESSION_CONFIG = "pekko.persistence.cassandra";

  private final CassandraSession session;
  private final String keyspace;
  private final String statement;
  private final Duration timeout;

  public JournalHealthCheck(ActorSystem system) {
    this.session = CassandraSessionRegistry.get(system).sessionFor(SESSION_CONFIG);
    this.keyspace = system.settings().config().getString("pekko.persistence.cassandra.journal.keyspace");
    this.statement = "SELECT persistence_id FROM " + keyspace + ".messages LIMIT 1";
    this.timeout = system.settings().config().getDuration("clearinghouse.readiness.journal-timeout");
  }

  @Override
  public String name() {
    return "journal";
  }

  @Override
  public CompletionStage<Optional<String>> problem() {
    return session.selectOne(statement)
        .thenApply(row -> Optional.<String>empty())
        .toCompletableFuture()
        .completeOnTimeout(Optional.of("no answer from Cassandra within " + timeout.toMillis() + " ms (keyspace "
            + keyspace + ")"), timeout.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionally(failure -> Optional.of("Cassandra refused a read of " + keyspace + ".messages: "
            + (failure.getCause() != null ? failure.getCause().getMessage() : failure.getMessage())));
  }
}
