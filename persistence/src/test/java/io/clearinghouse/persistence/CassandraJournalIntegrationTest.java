package io.clearinghouse.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * This module's reference.conf, CQL files and CBOR binding together: an event-sourced actor
 * persists to the real journal and snapshot store and recovers in a new actor system.
 */
class CassandraJournalIntegrationTest {

  /** The first writes prepare statements on a cold server: several seconds here. */
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(60);

  private static LocalCassandra cassandra;

  private final String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  private final String journalKeyspace = "test_journal_" + suffix;
  private final String snapshotKeyspace = "test_snapshot_" + suffix;

  @BeforeAll
  static void startCassandra() {
    cassandra = LocalCassandra.shared();
  }

  @AfterEach
  void dropKeyspaces() {
    try (CqlSession session = openSession()) {
      session.execute("DROP KEYSPACE IF EXISTS " + journalKeyspace);
      session.execute("DROP KEYSPACE IF EXISTS " + snapshotKeyspace);
    }
  }

  @Test
  void eventsAndSnapshotsSurviveARestartOfTheActorSystem() throws Exception {
    Config config = config();
    try (CqlSession session = openSession()) {
      CassandraSchema.apply(config, session);
    }

    ActorSystem<Counter.Command> first = ActorSystem.create(Counter.create("counter-1"), "journal-1", config);
    try {
      for (int amount : new int[] {2, 3, 4}) {
        ask(first, replyTo -> new Counter.Add(amount, replyTo));
      }
    } finally {
      terminate(first);
    }

    ActorSystem<Counter.Command> second = ActorSystem.create(Counter.create("counter-1"), "journal-2", config);
    try {
      assertEquals(9, ask(second, Counter.Get::new));
    } finally {
      terminate(second);
    }
    try (CqlSession session = openSession()) {
      assertEquals(3L, session.execute("SELECT count(*) FROM " + journalKeyspace
          + ".messages WHERE persistence_id = 'counter-1' AND partition_nr = 0").one().getLong(0));
      assertEquals(1L, session.execute("SELECT count(*) FROM " + snapshotKeyspace
          + ".snapshots WHERE persistence_id = 'counter-1'").one().getLong(0));
    }
  }

  /**
   * The reference configuration with this test's keyspaces and server. Built from the
   * unresolved reference so that the plugin keys follow clearinghouse.persistence.
   */
  private Config config() {
    return ConfigFactory.parseMap(Map.of(
            "clearinghouse.persistence.journal-keyspace", journalKeyspace,
            "clearinghouse.persistence.snapshot-keyspace", snapshotKeyspace,
            "clearinghouse.persistence.contact-point", cassandra.contactPoint(),
            "pekko.loggers", List.of("org.apache.pekko.event.slf4j.Slf4jLogger"),
            "pekko.logging-filter", "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"))
        .withFallback(ConfigFactory.defaultReferenceUnresolved())
        .resolve();
  }

  private static CqlSession openSession() {
    return CqlSessions.open(cassandra.contactPoint(), LocalCassandra.LOCAL_DATACENTER, Duration.ofSeconds(60));
  }

  private static int ask(ActorSystem<Counter.Command> system,
              Function<ActorRef<Integer>, Counter.Command> command) throws Exception {
    return AskPattern.ask(system, command::apply, ASK_TIMEOUT, system.scheduler())
        .toCompletableFuture()
        .get(ASK_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }

  private static void terminate(ActorSystem<?> system) throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** A sum of added amounts; snapshots every second event so that recovery reads both stores. */
  static final class Counter extends EventSourcedBehavior<Counter.Command, Counter.Added, Counter.Total> {

    interface Command {
    }

    record Add(int amount, ActorRef<Integer> replyTo) implements Command {
    }

    record Get(ActorRef<Integer> replyTo) implements Command {
    }

    record Added(int amount) implements CborSerializable {
    }

    record Total(int value) implements CborSerializable {
    }

    static Counter create(String id) {
      return new Counter(PersistenceId.ofUniqueId(id));
    }

    private Counter(PersistenceId persistenceId) {
      super(persistenceId);
    }

    @Override
    public Total emptyState() {
      return new Total(0);
    }

    @Override
    public CommandHandler<Command, Added, Total> commandHandler() {
      return newCommandHandlerBuilder().forAnyState()
          .onCommand(Add.class, (state, add) -> Effect().persist(new Added(add.amount()))
              .thenReply(add.replyTo(), Total::value))
          .onCommand(Get.class, (state, get) -> Effect().reply(get.replyTo(), state.value()))
          .build();
    }

    @Override
    public EventHandler<Total, Added> eventHandler() {
      return newEventHandlerBuilder().forAnyState()
          .onEvent(Added.class, (state, added) -> new Total(state.value() + added.amount()))
          .build();
    }

    @Override
    public boolean shouldSnapshot(Total state, Added event, long sequenceNr) {
      return sequenceNr % 2 == 0;
    }
  }
}
