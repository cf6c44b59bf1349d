package io.clearinghouse.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import io.clearinghouse.bench.JournalRows.Message;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The baseline: the journal's own rows written again, as fast as Cassandra takes them, into a
 * scratch table of the same shape. Same session as the journal (so the same driver, connection
 * pool and execution profile), the same INSERT statement pekko-persistence-cassandra 1.1.0
 * prepares, a fixed number of inserts in flight, and nothing else: no actor, no stream, no gRPC.
 */
final class RawJournalInserts {
  /** The execution profile the journal writes with (consistency QUORUM, idempotent). */
  static final String JOURNAL_WRITE_PROFILE = "pekko-persistence-cassandra-profile";
  private static final Duration PERMIT_TIMEOUT = Duration.ofSeconds(30);

  private final CqlSession session;
  private final PreparedStatement insert;
  private final List<Message> rows;
  private int next;

  /**
   * @param rows the journal rows to copy, in a shuffled order so the writes spread over the
   *             accounts' partitions the way the trade stream's did
   */
  RawJournalInserts(CqlSession session, String scratchKeyspace, List<Message> rows, long seed) {
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("no journal rows to copy");
    }
    this.session = session;
    // The statement of CassandraJournalStatements.writeMessage(withMeta = false).
    this.insert = session.prepare("INSERT INTO " + scratchKeyspace + ".messages (persistence_id, partition_nr,"
        + " sequence_nr, timestamp, timebucket, writer_uuid, ser_id, ser_manifest, event_manifest, event, tags)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    List<Message> shuffled = new ArrayList<>(rows);
    Collections.shuffle(shuffled, new Random(seed));
    this.rows = List.copyOf(shuffled);
  }

  /**
   * Inserts the next {@code count} rows (cycling through the copied rows; each insert gets a new
   * time uuid, so no row overwrites another) with at most {@code inFlight} outstanding, and waits
   * for all of them.
   */
  Timing run(int count, int inFlight) {
    Semaphore permits = new Semaphore(inFlight);
    long[] latencies = new long[count];
    AtomicInteger failures = new AtomicInteger();
    AtomicReference<Throwable> firstFailure = new AtomicReference<>();
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      acquire(permits, 1);
      BoundStatement statement = bind(rows.get(next));
      next = (next + 1) % rows.size();
      int index = i;
      long sent = System.nanoTime();
      session.executeAsync(statement).whenComplete((result, failure) -> {
        latencies[index] = System.nanoTime() - sent;
        if (failure != null) {
          failures.incrementAndGet();
          firstFailure.compareAndSet(null, failure);
        }
        permits.release();
      });
    }
    // Every permit back means every insert answered; the semaphore also publishes the latencies.
    acquire(permits, inFlight);
    long elapsed = System.nanoTime() - start;
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " of " + count + " raw inserts failed", firstFailure.get());
    }
    return new Timing(count, elapsed, latencies);
  }

  private BoundStatement bind(Message m) {
    return insert.bind(m.persistenceId(), m.partitionNr(), m.sequenceNr(), Uuids.timeBased(), m.timebucket(),
            m.writerUuid(), m.serId(), m.serManifest(), m.eventManifest(), m.event(), Set.<String>of())
        .setExecutionProfileName(JOURNAL_WRITE_PROFILE);
  }

  private static void acquire(Semaphore permits, int count) {
    try {
      if (!permits.tryAcquire(count, PERMIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("raw inserts: no answer from Cassandra within " + PERMIT_TIMEOUT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("raw inserts: interrupted", e);
    }
  }
}
