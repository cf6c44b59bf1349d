package io.clearinghouse.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The journal rows written within a time window, read back from the journal's {@code messages}
 * table (each row's write time is its {@code timestamp} timeuuid), by entity type and event class:
 * how many rows and how many event bytes a phase of a benchmark wrote. Snapshots are elsewhere and
 * not counted.
 */
final class JournalWrites {
  /** Rows and event bytes of one entity type and event class. */
  record Count(long rows, long eventBytes) {
    Count plus(long bytes) {
      return new Count(rows + 1, eventBytes + bytes);
    }
  }

  private static final int PAGE_SIZE = 5_000;
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

  private final Map<String, Count> byKind;

  private JournalWrites(Map<String, Count> byKind) {
    this.byKind = byKind;
  }

  /** Rows of {@code keyspace} written in {@code [fromMillis, toMillis)}, by "entity type / event class". */
  static JournalWrites read(CqlSession session, String keyspace, long fromMillis, long toMillis) {
    SimpleStatement select = SimpleStatement.newInstance("SELECT persistence_id, timestamp, ser_manifest, event FROM "
        + keyspace + ".messages").setPageSize(PAGE_SIZE).setTimeout(READ_TIMEOUT);
    Map<String, Count> byKind = new TreeMap<>();
    for (Row row : session.execute(select)) {
      long at = Uuids.unixTimestamp(row.getUuid("timestamp"));
      if (at < fromMillis || at >= toMillis) {
        continue;
      }
      String id = row.getString("persistence_id");
      int bar = id.indexOf('|');
      String type = bar > 0 ? id.substring(0, bar) : id.startsWith("/sharding/") ? "sharding (remembered entities)" : id;
      String manifest = row.getString("ser_manifest");
      String event = manifest == null ? "?" : manifest.substring(Math.max(manifest.lastIndexOf('$'),
          manifest.lastIndexOf('.')) + 1);
      ByteBuffer bytes = row.getByteBuffer("event");
      byKind.merge(type + " / " + event, new Count(1, bytes == null ? 0 : bytes.remaining()),
          (a, b) -> new Count(a.rows() + b.rows(), a.eventBytes() + b.eventBytes()));
    }
    return new JournalWrites(byKind);
  }

  long rows() {
    return byKind.values().stream().mapToLong(Count::rows).sum();
  }

  long eventBytes() {
    return byKind.values().stream().mapToLong(Count::eventBytes).sum();
  }

  /** Prints the rows per unit ({@code units}: the liquidations of the phase), biggest kinds first. */
  void print(String phase, long units) {
    System.out.printf(Locale.ROOT, "  journal rows of %s: %,d (%.2f per liquidation), event bytes %,d (%.0f per "
        + "liquidation)%n", phase, rows(), rows() / (double) Math.max(1, units), eventBytes(),
        eventBytes() / (double) Math.max(1, units));
    byKind.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue().rows(), a.getValue().rows()))
        .forEach(e -> System.out.printf(Locale.ROOT, "    %-58s %9d  %6.2f per liquidation  %6.0f bytes each%n",
            e.getKey(), e.getValue().rows(), e.getValue().rows() / (double) Math.max(1, units),
            e.getValue().eventBytes() / (double) Math.max(1, e.getValue().rows())));
  }
}
