package io.clearinghouse.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.metadata.schema.KeyspaceMetadata;
import com.datastax.oss.driver.api.core.metadata.schema.TableMetadata;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.persistence.cassandra.KeyspaceAndTableStatements;
import org.apache.pekko.persistence.cassandra.PluginSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real Cassandra: the shared test server, or one that already runs on 9042. */
class LocalCassandraIntegrationTest {

  private static LocalCassandra cassandra;
  private static CqlSession session;

  private final String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  private final String journalKeyspace = "test_journal_" + suffix;
  private final String snapshotKeyspace = "test_snapshot_" + suffix;

  @BeforeAll
  static void startCassandra() {
    cassandra = LocalCassandra.shared();
    session = CqlSessions.open(cassandra.contactPoint(), LocalCassandra.LOCAL_DATACENTER, Duration.ofSeconds(60));
  }

  @AfterAll
  static void closeSession() {
    session.close();
  }

  @AfterEach
  void dropKeyspaces() {
    for (String keyspace : List.of(journalKeyspace, snapshotKeyspace)) {
      session.execute("DROP KEYSPACE IF EXISTS " + keyspace);
    }
  }

  @Test
  void answersCqlAsCassandra5() {
    String version = session.execute("SELECT release_version FROM system.local").one().getString("release_version");

    assertTrue(version.startsWith("5."), "release_version " + version);
  }

  @Test
  void appliesTheSchemaAndApplyingItAgainChangesNothing() {
    CassandraSchema.apply(session, journalKeyspace, snapshotKeyspace, CassandraSchema.DEFAULT_REPLICATION);
    Map<String, String> first = describeTables(session, journalKeyspace, snapshotKeyspace);

    CassandraSchema.apply(session, journalKeyspace, snapshotKeyspace, CassandraSchema.DEFAULT_REPLICATION);

    assertEquals(first, describeTables(session, journalKeyspace, snapshotKeyspace));
    assertEquals(CassandraSchema.JOURNAL_TABLES.stream().sorted().toList(), tableNames(journalKeyspace));
    assertEquals(CassandraSchema.SNAPSHOT_TABLES, tableNames(snapshotKeyspace));
  }

  @Test
  void appliesTheKeyspacesOfTheClearinghousePersistenceConfig() {
    CassandraSchema.apply(ConfigFactory.parseMap(Map.of(
            "clearinghouse.persistence.journal-keyspace", journalKeyspace,
            "clearinghouse.persistence.snapshot-keyspace", snapshotKeyspace))
        .withFallback(ConfigFactory.defaultReference()), session);

    assertEquals(CassandraSchema.JOURNAL_TABLES.stream().sorted().toList(), tableNames(journalKeyspace));
    assertEquals(CassandraSchema.SNAPSHOT_TABLES, tableNames(snapshotKeyspace));
  }

  /** The CQL files must define exactly what the plugin itself would create with auto-create on. */
  @Test
  void tablesAreThoseThePluginWouldCreate() throws Exception {
    String pluginJournal = "plugin_journal_" + suffix;
    String pluginSnapshot = "plugin_snapshot_" + suffix;
    ActorSystem system = ActorSystem.create("schema-check", ConfigFactory.parseMap(Map.of(
            "pekko.persistence.cassandra.journal.keyspace", pluginJournal,
            "pekko.persistence.cassandra.snapshot.keyspace", pluginSnapshot))
        .withFallback(ConfigFactory.load()));
    try {
      // PluginSettings is internal to the plugin; reading its rendering here is the point.
      KeyspaceAndTableStatements plugin = new KeyspaceAndTableStatements(
          system, "pekko.persistence.cassandra", PluginSettings.apply(system));
      Stream.of(List.of(plugin.createJournalKeyspaceStatement(), plugin.createSnapshotKeyspaceStatement()),
              plugin.getCreateJournalTablesStatements(), plugin.getCreateSnapshotTablesStatements())
          .flatMap(List::stream)
          .forEach(session::execute);
      CassandraSchema.apply(session, journalKeyspace, snapshotKeyspace, CassandraSchema.DEFAULT_REPLICATION);

      assertEquals(describeTables(session, pluginJournal, pluginSnapshot),
          describeTables(session, journalKeyspace, snapshotKeyspace));
    } finally {
      session.execute("DROP KEYSPACE IF EXISTS " + pluginJournal);
      session.execute("DROP KEYSPACE IF EXISTS " + pluginSnapshot);
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void aSecondStartOnTheSamePortReusesTheRunningServer(@TempDir Path otherDataDir) {
    LocalCassandra second = LocalCassandra.start(cassandra.settings().withDataDir(otherDataDir));

    assertFalse(second.startedHere());
    assertEquals(cassandra.contactPoint(), second.contactPoint());
    assertFalse(Files.exists(otherDataDir.resolve("cassandra.log")), "no server was launched");

    second.stop();
    second.stop();
    assertEquals(1, session.execute("SELECT release_version FROM system.local").all().size(),
        "stopping a reused server leaves it running");
  }

  private static List<String> tableNames(String keyspace) {
    return session.getMetadata().getKeyspace(keyspace).orElseThrow().getTables().keySet().stream()
        .map(CqlIdentifier::asInternal)
        .sorted()
        .toList();
  }

  /** Table name to its CQL as Cassandra reports it, with keyspace names made comparable. */
  private static Map<String, String> describeTables(CqlSession session, String journal, String snapshot) {
    Map<String, String> tables = new TreeMap<>();
    for (String keyspace : List.of(journal, snapshot)) {
      KeyspaceMetadata metadata = session.getMetadata().getKeyspace(keyspace).orElseThrow();
      tables.put(keyspace.equals(journal) ? "journal" : "snapshot", metadata.describe(false)
          .replace(keyspace, "ks"));
      for (TableMetadata table : metadata.getTables().values()) {
        tables.put(table.getName().asInternal(), table.describe(false).replace(keyspace, "ks"));
      }
    }
    return tables;
  }
}
