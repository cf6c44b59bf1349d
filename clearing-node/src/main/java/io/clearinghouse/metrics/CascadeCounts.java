package io.clearinghouse.metrics;

import java.util.function.LongSupplier;

/**
 * Liquidations started and settled on one node since it started, and how many of each in the
 * last few seconds, for the cascade progress view (issue 15). A liquidation is counted as started
 * where its saga persisted its first event and as settled where it persisted its last: both are
 * this node's own counts, summed across the cluster by whoever shows them.
 *
 * <p>The window is {@code windowSeconds} one-second buckets, the current second included, kept
 * in a ring indexed by epoch second; a bucket older than the window is cleared when its slot is
 * reused. Counts are whole numbers: a rate is shown as tenths per second from them, never
 * computed in floating point.
 */
public final class CascadeCounts {
  /** What the node counted: totals since it started, and within the last {@code windowSeconds}. */
  public record Snapshot(long started, long settled, long startedInWindow, long settledInWindow, int windowSeconds) {
    public static final Snapshot EMPTY = new Snapshot(0, 0, 0, 0, DEFAULT_WINDOW_SECONDS);

    /** Started minus settled: liquidations this node began that have not finished here. */
    public long unfinished() {
      return Math.max(0, started - settled);
    }

    /** The sum of two nodes' counts over the same window. */
    public Snapshot plus(Snapshot other) {
      if (other.windowSeconds != windowSeconds) {
        throw new IllegalArgumentException("windows of " + windowSeconds + " s and " + other.windowSeconds + " s");
      }
      return new Snapshot(Math.addExact(started, other.started), Math.addExact(settled, other.settled),
          Math.addExact(startedInWindow, other.startedInWindow), Math.addExact(settledInWindow, other.settledInWindow),
          windowSeconds);
    }

    /** Started per second over the window, in tenths (rounded down). */
    public long startedPerSecondTenths() {
      return tenthsPerSecond(startedInWindow);
    }

    /** Settled per second over the window, in tenths (rounded down). */
    public long settledPerSecondTenths() {
      return tenthsPerSecond(settledInWindow);
    }

    private long tenthsPerSecond(long count) {
      return Math.multiplyExact(count, 10L) / windowSeconds;
    }

    /** Tenths as a decimal with one place ({@code 125} is {@code "12.5"}). */
    public static String tenths(long tenths) {
      return (tenths / 10) + "." + (tenths % 10);
    }
  }

  public static final int DEFAULT_WINDOW_SECONDS = 10;

  private final LongSupplier clockMillis;
  private final int windowSeconds;
  private final long[] bucketSecond;
  private final long[] startedBuckets;
  private final long[] settledBuckets;
  private long started;
  private long settled;

  public CascadeCounts() {
    this(System::currentTimeMillis, DEFAULT_WINDOW_SECONDS);
  }

  public CascadeCounts(LongSupplier clockMillis, int windowSeconds) {
    if (windowSeconds < 1) {
      throw new IllegalArgumentException("the window must be at least one second, was " + windowSeconds);
    }
    this.clockMillis = clockMillis;
    this.windowSeconds = windowSeconds;
    this.bucketSecond = new long[windowSeconds];
    java.util.Arrays.fill(bucketSecond, Long.MIN_VALUE);
    this.startedBuckets = new long[windowSeconds];
    this.settledBuckets = new long[windowSeconds];
  }

  public synchronized void started() {
    started = Math.addExact(started, 1);
    int slot = slot(Math.floorDiv(clockMillis.getAsLong(), 1000L));
    startedBuckets[slot]++;
  }

  public synchronized void settled() {
    settled = Math.addExact(settled, 1);
    int slot = slot(Math.floorDiv(clockMillis.getAsLong(), 1000L));
    settledBuckets[slot]++;
  }

  public synchronized Snapshot snapshot() {
    long now = Math.floorDiv(clockMillis.getAsLong(), 1000L);
    long startedInWindow = 0;
    long settledInWindow = 0;
    for (int i = 0; i < windowSeconds; i++) {
      if (bucketSecond[i] > now - windowSeconds && bucketSecond[i] <= now) {
        startedInWindow += startedBuckets[i];
        settledInWindow += settledBuckets[i];
      }
    }
    return new Snapshot(started, settled, startedInWindow, settledInWindow, windowSeconds);
  }

  /** The ring slot of {@code second}, cleared first if it held an older second. */
  private int slot(long second) {
    int slot = (int) Math.floorMod(second, (long) windowSeconds);
    if (bucketSecond[slot] != second) {
      bucketSecond[slot] = second;
      startedBuckets[slot] = 0;
      settledBuckets[slot] = 0;
    }
    return slot;
  }
}
