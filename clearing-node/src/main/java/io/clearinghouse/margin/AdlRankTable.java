package io.clearinghouse.margin;

import java.util.Arrays;

/**
 * The ADL scores of one side of one instrument's holders, sorted once, so that where a position
 * stands among them is a binary search: how many holders score strictly higher.
 */
public final class AdlRankTable {
  public static final AdlRankTable EMPTY = new AdlRankTable(new long[0]);

  private final long[] ascending;

  private AdlRankTable(long[] ascending) {
    this.ascending = ascending;
  }

  /** A table of the first {@code count} of {@code scores}, which it sorts and keeps: the caller lets go of the array. */
  public static AdlRankTable sortingInPlace(long[] scores, int count) {
    long[] kept = count == scores.length ? scores : Arrays.copyOf(scores, count);
    Arrays.sort(kept);
    return new AdlRankTable(kept);
  }

  public int size() {
    return ascending.length;
  }

  /** How many scores in the table are strictly higher than {@code score}. */
  public int above(long score) {
    int low = 0;
    int high = ascending.length;
    // The first index whose score is higher: everything from there on is above.
    while (low < high) {
      int middle = (low + high) >>> 1;
      if (ascending[middle] > score) {
        high = middle;
      } else {
        low = middle + 1;
      }
    }
    return ascending.length - low;
  }
}
