package io.clearinghouse.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The journal rows of every {@code TradeCleared} event of the run, read back from the journal's
 * {@code messages} table, so that the raw-insert baseline writes rows of exactly their size and
 * content.
 */
final class JournalRows {
  /** The journal's non-key columns of one row, as pekko-persistence-cassandra wrote them. */
  record Message(String persistenceId, long partitionNr, long sequenceNr, String timebucket, String writerUuid,
      int serId, String serManifest, String eventManifest, ByteBuffer event) {

    /** Bytes of the values written, keys included (a uuid and longs at their binary width). */
    int payloadBytes() {
      return utf8(persistenceId) + Long.BYTES + Long.BYTES + 16 + utf8(timebucket) + utf8(writerUuid)
          + Integer.BYTES + utf8(serManifest) + utf8(eventManifest) + event.remaining();
    }

    private static int utf8(String text) {
      return text == null ? 0 : text.getBytes(StandardCharsets.UTF_8).length;
    }
  }

  private static final String TRADE_CLEARED_MANIFEST_SUFFIX = "$TradeCleared";
  private static final int PAGE_SIZE = 5_000;
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

  private final List<Message> tradeSides;
  private final int otherRows;

  private JournalRows(List<Message> tradeSides, int otherRows) {
    this.tradeSides = List.copyOf(tradeSides);
    this.otherRows = otherRows;
  }

  /** Reads the whole messages table of {@code keyspace} (one run: some tens of thousands of rows). */
  static JournalRows read(CqlSession session, String keyspace) {
    return read(session, keyspace, TRADE_CLEARED_MANIFEST_SUFFIX);
  }

  /** The rows whose event's manifest ends with {@code manifestSuffix} ("$FundingApplied"), and how many others. */
  static JournalRows read(CqlSession session, String keyspace, String manifestSuffix) {
    SimpleStatement select = SimpleStatement.newInstance("SELECT persistence_id, partition_nr, sequence_nr, timebucket,"
            + " writer_uuid, ser_id, ser_manifest, event_manifest, event FROM " + keyspace + ".messages")
        .setPageSize(PAGE_SIZE)
        .setTimeout(READ_TIMEOUT);
    List<Message> tradeSides = new ArrayList<>();
    int other = 0;
    for (Row row : session.execute(select)) {
      String manifest = row.getString("ser_manifest");
      if (manifest == null || !manifest.endsWith(manifestSuffix)) {
        other++;
        continue;
      }
      tradeSides.add(new Message(row.getString("persistence_id"), row.getLong("partition_nr"),
          row.getLong("sequence_nr"), row.getString("timebucket"), row.getString("writer_uuid"), row.getInt("ser_id"),
          manifest, row.getString("event_manifest"), copy(row.getByteBuffer("event"))));
    }
    return new JournalRows(tradeSides, other);
  }

  /** A copy of its own, so the kept rows do not pin the driver's response frames. */
  private static ByteBuffer copy(ByteBuffer bytes) {
    byte[] copy = new byte[bytes.remaining()];
    bytes.duplicate().get(copy);
    return ByteBuffer.wrap(copy);
  }

  List<Message> tradeSides() {
    return tradeSides;
  }

  /** Rows of other events: account openings, deposits, remembered-entity starts. */
  int otherRows() {
    return otherRows;
  }

  double averageEventBytes() {
    return tradeSides.stream().mapToInt(m -> m.event().remaining()).average().orElse(0);
  }

  int minEventBytes() {
    return tradeSides.stream().mapToInt(m -> m.event().remaining()).min().orElse(0);
  }

  int maxEventBytes() {
    return tradeSides.stream().mapToInt(m -> m.event().remaining()).max().orElse(0);
  }

  double averagePayloadBytes() {
    return tradeSides.stream().mapToInt(Message::payloadBytes).average().orElse(0);
  }
}
