package io.clearinghouse.price;

import io.clearinghouse.margin.MulDiv;
import java.util.Arrays;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The index and mark price rules of DESIGN section 5, in exact integer ticks, free of actors:
 * the index is the median of the fresh sources; the mark is the median of the funding-basis
 * price, the EMA-basis price and the last trade; a mark that jumps more than the allowed move
 * from the last published one is held until the next computation confirms it.
 */
public final class MarkRules {
  private MarkRules() {}

  /** A source's latest price and when it was observed. */
  public record SourcePrice(long priceTicks, long epochMillis) {}

  /** Median of the prices observed at or after {@code freshSince}; empty below {@code minSources}. */
  public static OptionalLong index(Map<String, SourcePrice> sources, long freshSince, int minSources) {
    long[] fresh = new long[sources.size()];
    int n = 0;
    for (SourcePrice price : sources.values()) {
      if (price.epochMillis() >= freshSince) {
        fresh[n++] = price.priceTicks();
      }
    }
    if (n < minSources || n == 0) {
      return OptionalLong.empty();
    }
    Arrays.sort(fresh, 0, n);
    return OptionalLong.of(median(fresh, n));
  }

  /** The middle value; for an even count the lower middle plus half the gap, rounded down. */
  static long median(long[] sorted, int n) {
    long low = sorted[(n - 1) / 2];
    long high = sorted[n / 2];
    return low + (high - low) / 2;
  }

  public static long median3(long a, long b, long c) {
    return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
  }

  /**
   * One EMA step towards {@code sample} over {@code window} samples (alpha = 2 / (window + 1)),
   * rounded toward negative infinity.
   */
  public static long emaStep(long ema, long sample, int window) {
    return Math.addExact(ema, MulDiv.mulDivFloor(Math.subtractExact(sample, ema), 2, window + 1L));
  }

  /**
   * The mark from the index, the EMA of (last trade - index) and the last trade. Without a
   * funding rate the funding-basis price is the index itself; without any trade yet the last
   * trade counts as the index.
   */
  public static long mark(long indexTicks, long emaBasisTicks, OptionalLong lastTradeTicks) {
    long lastTrade = lastTradeTicks.orElse(indexTicks);
    return median3(indexTicks, Math.addExact(indexTicks, emaBasisTicks), lastTrade);
  }

  /** True when {@code next} moves more than {@code maxJumpPpm} of {@code previous} away from it. */
  public static boolean isJump(long previous, long next, long maxJumpPpm) {
    long move = Math.abs(Math.subtractExact(next, previous));
    return move > MulDiv.mulDivFloor(previous, maxJumpPpm, 1_000_000L);
  }

  /**
   * Whether a candidate mark may be published. {@code held} is a mark held back by the previous
   * computation (0 if none). A jump is confirmed when the held mark and the candidate are both
   * beyond the allowed move on the same side and within the allowed move of each other.
   */
  public static boolean confirmed(long published, long held, long candidate, long maxJumpPpm) {
    if (published == 0 || !isJump(published, candidate, maxJumpPpm)) {
      return true;
    }
    return held != 0 && Long.signum(held - published) == Long.signum(candidate - published)
        && !isJump(held, candidate, maxJumpPpm);
  }
}
