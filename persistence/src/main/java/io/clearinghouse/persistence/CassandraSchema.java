package io.clearinghouse.persistence;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.metadata.Metadata;
import com.typesafe.config.Config;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the keyspaces and tables of the Cassandra journal and snapshot store from
 * {@code cql/journal.cql} and {@code cql/snapshot.cql}.
 *
 * <p>The plugin runs with auto-create off: several nodes creating tables concurrently race on
 * schema, so this runs once, up front (deploy step or test setup). Every statement is
 * {@code CREATE ... IF NOT EXISTS}, so applying it again is a no-op.
 */
public final class CassandraSchema {

  /** Replication for a single-node (development) cluster. */
  public static final String DEFAULT_REPLICATION = "{'class': 'SimpleStrategy', 'replication_factor': 1}";
  /** The tables pekko-persistence-cassandra 1.1.0 uses in the journal keyspace. */
  public static final List<String> JOURNAL_TABLES = List.of(
      "messages", "tag_views", "tag_write_progress", "tag_scanning", "metadata", "all_persistence_ids");
  /** The table pekko-persistence-cassandra 1.1.0 uses in the snapshot keyspace. */
  public static final List<String> SNAPSHOT_TABLES = List.of("snapshots");

  private static final Logger log = LoggerFactory.getLogger(CassandraSchema.class);

  /** Unquoted CQL identifiers only: the names are substituted into the statements as they are. */
  private static final Pattern KEYSPACE_NAME = Pattern.compile("[a-zA-Z][a-zA-Z0-9_]{0,47}");
  private static final Pattern CREATE_IF_NOT_EXISTS =
      Pattern.compile("(?is)^CREATE\\s+(KEYSPACE|TABLE)\\s+IF\\s+NOT\\s+EXISTS\\s+([\\w.]+).*");
  private static final Duration DDL_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration AGREEMENT_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration AGREEMENT_POLL = Duration.ofMillis(200);

  private CassandraSchema() {
  }

  /** Applies the schema with the keyspaces and replication of {@code clearinghouse.persistence}. */
  public static void apply(Config config, CqlSession session) {
    Config persistence = config.getConfig("clearinghouse.persistence");
    apply(session, persistence.getString("journal-keyspace"), persistence.getString("snapshot-keyspace"),
        persistence.getString("replication"));
  }

  /** Opens a short session to {@code contactPoint} ("host:port") and applies the schema with RF 1. */
  public static void apply(String contactPoint, String localDatacenter, String journalKeyspace,
               String snapshotKeyspace) {
    apply(contactPoint, localDatacenter, journalKeyspace, snapshotKeyspace, DEFAULT_REPLICATION);
  }

  /** Opens a short session to {@code contactPoint} ("host:port") and applies the schema with {@code replication}. */
  public static void apply(String contactPoint, String localDatacenter, String journalKeyspace,
               String snapshotKeyspace, String replication) {
    try (CqlSession session = CqlSessions.open(contactPoint, localDatacenter, DDL_TIMEOUT)) {
      apply(session, journalKeyspace, snapshotKeyspace, replication);
    }
  }

  private static final Pattern FACTOR = Pattern.compile("'([^']+)'\\s*:\\s*'?(\\d+)'?");

  /**
   * The smallest replication factor of a CQL replication map: {@code replication_factor} of
   * SimpleStrategy, or the smallest per-datacenter factor of NetworkTopologyStrategy.
   *
   * @throws IllegalArgumentException when the map names no factor
   */
  public static int minimumFactor(String replication) {
    Matcher matcher = FACTOR.matcher(replication);
    int minimum = Integer.MAX_VALUE;
    while (matcher.find()) {
      if (!matcher.group(1).equals("class")) {
        minimum = Math.min(minimum, Integer.parseInt(matcher.group(2)));
      }
    }
    if (minimum == Integer.MAX_VALUE) {
      throw new IllegalArgumentException("no replication factor in " + replication);
    }
    return minimum;
  }

  /**
   * Creates whatever is missing of both keyspaces and their tables, then waits for schema
   * agreement.
   *
   * @param replicationClause a CQL replication map, e.g. {@link #DEFAULT_REPLICATION}
   */
  public static void apply(CqlSession session, String journalKeyspace, String snapshotKeyspace,
               String replicationClause) {
    requireKeyspaceName(journalKeyspace);
    requireKeyspaceName(snapshotKeyspace);
    if (!replicationClause.trim().startsWith("{") || replicationClause.contains(";")) {
      throw new IllegalArgumentException("Not a CQL replication map: " + replicationClause);
    }
    Map<String, String> variables = Map.of(
        "journal_keyspace", journalKeyspace,
        "snapshot_keyspace", snapshotKeyspace,
        "replication", replicationClause);
    List<String> statements = new ArrayList<>(statements("cql/journal.cql", variables));
    statements.addAll(statements("cql/snapshot.cql", variables));

    Instant begun = Instant.now();
    List<String> created = new ArrayList<>();
    List<String> present = new ArrayList<>();
    for (String statement : statements) {
      String object = createdObject(statement);
      (exists(session.getMetadata(), object) ? present : created).add(object);
      session.execute(SimpleStatement.newInstance(statement).setTimeout(DDL_TIMEOUT));
    }
    awaitSchemaAgreement(session);
    log.info("Cassandra schema applied in {} ms (journal keyspace {}, snapshot keyspace {}): created {}, "
            + "already present {}", Duration.between(begun, Instant.now()).toMillis(), journalKeyspace,
        snapshotKeyspace, created, present);
  }

  /**
   * The statements of a CQL resource with {@code ${name}} placeholders substituted: "--" comment
   * lines dropped, split on ';', each checked to be a {@code CREATE ... IF NOT EXISTS}.
   */
  static List<String> statements(String resource, Map<String, String> variables) {
    String text = readResource(resource);
    for (Map.Entry<String, String> variable : variables.entrySet()) {
      text = text.replace("${" + variable.getKey() + "}", variable.getValue());
    }
    if (text.contains("${")) {
      throw new IllegalStateException("Unknown placeholder left in " + resource + ": " + text);
    }
    String withoutComments = text.lines()
        .filter(line -> !line.trim().startsWith("--"))
        .collect(Collectors.joining("\n"));
    List<String> statements = Arrays.stream(withoutComments.split(";"))
        .map(String::trim)
        .filter(statement -> !statement.isEmpty())
        .toList();
    statements.forEach(CassandraSchema::createdObject);
    return statements;
  }

  /** "keyspace" or "keyspace.table" named by a CREATE ... IF NOT EXISTS; rejects anything else. */
  private static String createdObject(String statement) {
    Matcher matcher = CREATE_IF_NOT_EXISTS.matcher(statement);
    if (!matcher.matches()) {
      throw new IllegalStateException("Schema statements must be CREATE ... IF NOT EXISTS: " + statement);
    }
    return matcher.group(2);
  }

  private static boolean exists(Metadata metadata, String object) {
    String[] parts = object.split("\\.", 2);
    return metadata.getKeyspace(CqlIdentifier.fromCql(parts[0]))
        .map(keyspace -> parts.length == 1 || keyspace.getTable(CqlIdentifier.fromCql(parts[1])).isPresent())
        .orElse(false);
  }

  /**
   * The driver already waits for agreement after each DDL statement, but gives up silently after
   * its timeout; the journal must not start before every node sees the tables.
   */
  private static void awaitSchemaAgreement(CqlSession session) {
    Instant deadline = Instant.now().plus(AGREEMENT_TIMEOUT);
    while (!session.checkSchemaAgreement()) {
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException("Cassandra nodes did not agree on the schema within "
            + AGREEMENT_TIMEOUT.toSeconds() + " s");
      }
      LockSupport.parkNanos(AGREEMENT_POLL.toNanos());
    }
  }

  private static void requireKeyspaceName(String name) {
    if (name == null || !KEYSPACE_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("Not a valid unquoted keyspace name: " + name);
    }
  }

  private static String readResource(String resource) {
    try (InputStream in = CassandraSchema.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("Missing resource " + resource);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not read " + resource, e);
    }
  }
}
