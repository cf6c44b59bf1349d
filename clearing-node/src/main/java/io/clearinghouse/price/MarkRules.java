package io.clearinghouse.price;

import io.clearinghouse.margin.MulDiv;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The index and mark price rules of DESIGN section 5, in exact integer ticks, free of actors.
 *
 * <p>The index is the median of the fresh sources that agree with the market: those within the
 * allowed move of the last published index, when they are a majority of the fresh sources (an
 * outlier is left out). A majority beyond the allowed move on one side, agreeing among
 * themselves and coming from enough distinct feeder tokens, is a jump the feed publishes once it
 * has held for the confirmation time. Anything else (no majority anywhere) vouches for nothing.
 * Fresh sources are counted once per feeder token towards {@code minSources}.
 *
 * <p>The mark is the median of the index, the index plus the EMA basis (clamped to a band around
 * the index) and the last trade.
 */
public final class MarkRules {
  private MarkRules() {}

  /** A source's latest price, when it was observed, and the feeder token that sent it. */
  public record SourcePrice(long priceTicks, long epochMillis, String owner) {}

  /**
   * How far apart (ppm) the two middle prices of an even number of tokens may be and still be one
   * level (0.5%: wider than venues usually differ, even in a fast market): with two tokens, one of
   * them can hold the mark at most this far from the other, or let it go stale beyond it. An odd
   * number of fresh tokens (three or more feeders) decides by majority and is not affected.
   */
  public static final long EVEN_SPLIT_TOLERANCE_PPM = 5_000;

  /** What the fresh sources say, relative to the last published index. */
  public sealed interface Consensus {}

  /** Too few fresh sources (counted once per feeder token): the index is stale. */
  public record Stale(int freshOwners) implements Consensus {}

  /** A majority agrees within the allowed move: {@code indexTicks} is their median. */
  public record Agreed(long indexTicks) implements Consensus {}

  /** A majority agrees on a level beyond the allowed move on {@code side} (+1 up, -1 down). */
  public record Jump(long indexTicks, int side) implements Consensus {}

  /** No majority of the fresh sources agrees on any level: nothing may be published. */
  public record Split() implements Consensus {}

  /**
   * The consensus of the sources observed at or after {@code freshSince}, against
   * {@code reference}, the last published index (0 if none yet: then the majority around the
   * median of all fresh sources).
   */
  public static Consensus consensus(Map<String, SourcePrice> sources, long freshSince, long reference,
      long maxJumpPpm, int minSources, int confirmSources) {
    // One voice per feeder token: a token that owns several sources speaks once, at the median
    // of its own sources, so that no single token can tilt the median with extra sources.
    Map<String, List<SourcePrice>> byOwner = new java.util.TreeMap<>();
    for (SourcePrice price : sources.values()) {
      if (price.epochMillis() >= freshSince) {
        byOwner.computeIfAbsent(price.owner(), o -> new ArrayList<>()).add(price);
      }
    }
    List<SourcePrice> fresh = new ArrayList<>(byOwner.size());
    byOwner.forEach((owner, own) -> fresh.add(new SourcePrice(median(own, 0),
        own.stream().mapToLong(SourcePrice::epochMillis).max().orElse(0), owner)));
    int owners = fresh.size();
    if (owners < Math.max(1, minSources)) {
      return new Stale(owners);
    }
    if (reference <= 0) {
      List<SourcePrice> agreeing = near(fresh, median(fresh), maxJumpPpm);
      return majority(agreeing, fresh, owners, minSources) ? new Agreed(median(agreeing)) : new Split();
    }
    List<SourcePrice> inBand = near(fresh, reference, maxJumpPpm);
    if (majority(inBand, fresh, owners, minSources)) {
      // With an even count, the middle value nearer the last index, never the midpoint: a move
      // needs a majority of the tokens at or beyond it, so one token at the edge of the band
      // cannot walk the mark interval by interval; and only while the two middle values agree
      // within EVEN_SPLIT_TOLERANCE_PPM: beyond it, half the tokens against the other half is a
      // split (nothing published, the mark ages): with an even count nobody can tell which half
      // is right, and a wrong mark costs money while a stale one only waits. One token can thus
      // hold the mark at most that far off, or let it go stale, never move it further.
      if (!middleAgrees(inBand, EVEN_SPLIT_TOLERANCE_PPM)) {
        return new Split();
      }
      return new Agreed(median(inBand, reference));
    }
    for (int side : new int[] {1, -1}) {
      List<SourcePrice> beyond = new ArrayList<>();
      for (SourcePrice p : fresh) {
        if (isJump(reference, p.priceTicks(), maxJumpPpm) && Long.signum(p.priceTicks() - reference) == side) {
          beyond.add(p);
        }
      }
      if (2 * beyond.size() > fresh.size()) {
        // Among them, those that agree with each other.
        List<SourcePrice> cluster = near(beyond, median(beyond), maxJumpPpm);
        if (majority(cluster, fresh, owners, Math.max(minSources, confirmSources))) {
          return new Jump(median(cluster), side);
        }
      }
    }
    return new Split();
  }

  /**
   * Whether {@code agreeing} is a majority of the fresh sources and of their feeder tokens, from
   * at least {@code minOwners} distinct tokens.
   */
  private static boolean majority(List<SourcePrice> agreeing, List<SourcePrice> fresh, int freshOwners,
      int minOwners) {
    int owners = owners(agreeing);
    return 2 * agreeing.size() > fresh.size() && 2 * owners > freshOwners && owners >= minOwners;
  }

  private static int owners(List<SourcePrice> prices) {
    Set<String> owners = new HashSet<>();
    for (SourcePrice p : prices) {
      owners.add(p.owner());
    }
    return owners.size();
  }

  /** The prices within the allowed move of {@code level}. */
  private static List<SourcePrice> near(List<SourcePrice> prices, long level, long maxJumpPpm) {
    List<SourcePrice> near = new ArrayList<>(prices.size());
    for (SourcePrice p : prices) {
      if (!isJump(level, p.priceTicks(), maxJumpPpm)) {
        near.add(p);
      }
    }
    return near;
  }

  private static long median(List<SourcePrice> prices) {
    long[] sorted = prices.stream().mapToLong(SourcePrice::priceTicks).sorted().toArray();
    return median(sorted, sorted.length);
  }

  /**
   * The middle value; for an even count the one of the two middle values nearer {@code reference}
   * (0: the midpoint, as {@link #median(long[], int)}).
   */
  static long median(List<SourcePrice> prices, long reference) {
    long[] sorted = prices.stream().mapToLong(SourcePrice::priceTicks).sorted().toArray();
    int n = sorted.length;
    if (reference <= 0 || n % 2 == 1) {
      return median(sorted, n);
    }
    long low = sorted[n / 2 - 1];
    long high = sorted[n / 2];
    return Math.abs(reference - low) <= Math.abs(high - reference) ? low : high;
  }

  /**
   * Whether the two middle values of an even count agree within {@code tolerancePpm} of the
   * lower: beyond it, half the tokens say one thing and half another.
   */
  static boolean middleAgrees(List<SourcePrice> prices, long tolerancePpm) {
    long[] sorted = prices.stream().mapToLong(SourcePrice::priceTicks).sorted().toArray();
    int n = sorted.length;
    if (n % 2 == 1) {
      return true;
    }
    long low = sorted[n / 2 - 1];
    long high = sorted[n / 2];
    return MulDiv.mulDivCeil(high - low, 1_000_000, Math.max(1, low)) <= tolerancePpm;
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
   * One time-weighted EMA step towards {@code sample}: the step weighs {@code weightMillis} over
   * {@code windowMillis} (at most the whole gap), rounded toward negative infinity.
   */
  public static long emaStep(long ema, long sample, long weightMillis, long windowMillis) {
    long weight = Math.max(0, Math.min(weightMillis, windowMillis));
    return Math.addExact(ema, MulDiv.mulDivFloor(Math.subtractExact(sample, ema), weight, windowMillis));
  }

  /** {@code basis} limited to {@code bandPpm} of {@code indexTicks} either way (rounded toward zero). */
  public static long clampBasis(long basis, long indexTicks, long bandPpm) {
    long band = MulDiv.mulDivFloor(Math.abs(indexTicks), bandPpm, 1_000_000L);
    return Math.max(-band, Math.min(band, basis));
  }

  /**
   * The mark from the index, the EMA of (last trade - index) and the last trade, the basis
   * clamped to {@code bandPpm} of the index. Without a funding rate the funding-basis price is the
   * index itself; without any trade yet the last trade counts as the index. The mark therefore
   * never leaves the band around the index, whatever the trades.
   */
  public static long mark(long indexTicks, long emaBasisTicks, OptionalLong lastTradeTicks, long bandPpm) {
    long lastTrade = lastTradeTicks.orElse(indexTicks);
    long basis = clampBasis(emaBasisTicks, indexTicks, bandPpm);
    return median3(indexTicks, Math.addExact(indexTicks, basis), lastTrade);
  }

  /** True when {@code next} moves more than {@code maxJumpPpm} of {@code previous} away from it. */
  public static boolean isJump(long previous, long next, long maxJumpPpm) {
    long move = Math.abs(Math.subtractExact(next, previous));
    return move > MulDiv.mulDivFloor(previous, maxJumpPpm, 1_000_000L);
  }
}
