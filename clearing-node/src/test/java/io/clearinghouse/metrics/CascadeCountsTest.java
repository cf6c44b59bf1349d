package io.clearinghouse.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CascadeCountsTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final CascadeCounts counts = new CascadeCounts(now::get, 10);

  @Test
  void nothingCountedIsAllZero() {
    assertEquals(new CascadeCounts.Snapshot(0, 0, 0, 0, 10), counts.snapshot());
  }

  @Test
  void startedAndSettledAreCountedInTotalAndInTheWindow() {
    for (int i = 0; i < 5; i++) {
      counts.started();
    }
    counts.settled();
    counts.settled();
    CascadeCounts.Snapshot snapshot = counts.snapshot();
    assertEquals(new CascadeCounts.Snapshot(5, 2, 5, 2, 10), snapshot);
    assertEquals(3, snapshot.unfinished());
    // 5 in 10 s: 0.5 a second; 2 in 10 s: 0.2.
    assertEquals("0.5", CascadeCounts.Snapshot.tenths(snapshot.startedPerSecondTenths()));
    assertEquals("0.2", CascadeCounts.Snapshot.tenths(snapshot.settledPerSecondTenths()));
  }

  @Test
  void theWindowKeepsTheLastTenWholeSecondsTheCurrentOneIncluded() {
    counts.started(); // second 0
    now.addAndGet(9_999); // still within second 9 of the window started at second 0
    counts.started();
    assertEquals(2, counts.snapshot().startedInWindow());
    now.addAndGet(1); // second 10: second 0 has left the window
    assertEquals(1, counts.snapshot().startedInWindow());
    assertEquals(2, counts.snapshot().started());
    counts.started(); // reuses second 0's slot, cleared first
    assertEquals(2, counts.snapshot().startedInWindow());
    now.addAndGet(60_000); // a quiet minute: nothing in the window, totals kept
    assertEquals(new CascadeCounts.Snapshot(3, 0, 0, 0, 10), counts.snapshot());
  }

  @Test
  void aSlotLeftOverFromALongAgoSecondIsNotCounted() {
    counts.settled();
    now.addAndGet(10_000 * 7L); // exactly 70 s later: the same slot, another second
    assertEquals(0, counts.snapshot().settledInWindow());
    counts.settled();
    assertEquals(1, counts.snapshot().settledInWindow());
    assertEquals(2, counts.snapshot().settled());
  }

  @Test
  void ratesAreTenthsRoundedDown() {
    CascadeCounts.Snapshot snapshot = new CascadeCounts.Snapshot(0, 0, 1234, 7, 10);
    assertEquals("123.4", CascadeCounts.Snapshot.tenths(snapshot.startedPerSecondTenths()));
    assertEquals("0.7", CascadeCounts.Snapshot.tenths(snapshot.settledPerSecondTenths()));
    assertEquals("0.3", CascadeCounts.Snapshot.tenths(new CascadeCounts.Snapshot(0, 0, 1, 0, 3).startedPerSecondTenths()));
  }

  @Test
  void nodesSumOverTheSameWindowOnly() {
    CascadeCounts.Snapshot a = new CascadeCounts.Snapshot(10, 4, 3, 1, 10);
    CascadeCounts.Snapshot b = new CascadeCounts.Snapshot(5, 5, 2, 2, 10);
    assertEquals(new CascadeCounts.Snapshot(15, 9, 5, 3, 10), a.plus(b));
    assertThrows(IllegalArgumentException.class, () -> a.plus(new CascadeCounts.Snapshot(0, 0, 0, 0, 5)));
    assertThrows(ArithmeticException.class, () -> a.plus(new CascadeCounts.Snapshot(Long.MAX_VALUE, 0, 0, 0, 10)));
  }

  @Test
  void moreSettledThanStartedHereIsNoNegativeUnfinished() {
    // A saga begun on another node that finished here after a crash.
    assertEquals(0, new CascadeCounts.Snapshot(1, 3, 0, 0, 10).unfinished());
  }

  @Test
  void aWindowUnderOneSecondIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new CascadeCounts(now::get, 0));
  }

  @Test
  void theMetricsCountStartsAndEndsOfSagas() {
    Metrics metrics = new Metrics();
    metrics.liquidationStarted();
    metrics.liquidationStarted();
    metrics.liquidationEnded("covered");
    CascadeCounts.Snapshot snapshot = metrics.cascade();
    assertEquals(2, snapshot.started());
    assertEquals(1, snapshot.settled());
    assertEquals(2, metrics.total("clearinghouse_liquidations_started_total"));
    metrics.cascadeScraped(1);
    String scraped = metrics.scrape();
    assertEquals(true, scraped.contains("clearinghouse_liquidations_pending 1.0"), scraped);
    assertEquals(true, scraped.contains("clearinghouse_liquidations_per_second{phase=\"started\",}"), scraped);
  }
}
