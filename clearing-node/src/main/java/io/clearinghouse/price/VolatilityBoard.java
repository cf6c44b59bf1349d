package io.clearinghouse.price;

import io.clearinghouse.margin.Volatility;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The volatility index of every instrument on this node (issue 16 item 1), from the marks it
 * receives ({@link Volatility}): the realized volatility over a short and a long window (1 minute
 * and 1 hour by default), annualized, in ppm, and whether the short one exceeds the configured
 * multiple of the long one (unusual volatility). Windows are judged on the marks' own times, so
 * every node computes the same index from the same marks. Fed by {@link MarkPrices#listen}; read
 * by the API, the account streams and the metrics.
 */
public final class VolatilityBoard {
  /** The index of one instrument now. */
  public record Index(long shortPpm, long longPpm, boolean unusual) {
    public static final Index NONE = new Index(0, 0, false);
  }

  /** How the index is computed: window lengths, the unusual multiple (ppm), the fewest steps to judge. */
  public record Settings(Duration shortWindow, Duration longWindow, long unusualMultiplePpm, int minSteps) {
    public static final Settings DEFAULT = new Settings(Duration.ofMinutes(1), Duration.ofHours(1), 3_000_000, 10);

    /** From {@code clearinghouse.volatility}; a bad value stops the node naming its key. */
    public static Settings fromConfig(com.typesafe.config.Config config) {
      String key = "clearinghouse.volatility";
      com.typesafe.config.Config c = config.getConfig(key);
      Duration shortWindow = c.getDuration("short-window");
      Duration longWindow = c.getDuration("long-window");
      if (shortWindow.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new com.typesafe.config.ConfigException.BadValue(key + ".short-window", "must be at least 1s");
      }
      if (longWindow.compareTo(shortWindow) <= 0) {
        throw new com.typesafe.config.ConfigException.BadValue(key + ".long-window",
            "must be longer than the short window");
      }
      long multiple = io.clearinghouse.common.Ppm.percent(c.getString("unusual-multiple"), key + ".unusual-multiple",
          1_000_001, 100 * 1_000_000L);
      int minSteps = c.getInt("min-steps");
      if (minSteps < 1) {
        throw new com.typesafe.config.ConfigException.BadValue(key + ".min-steps", "must be at least 1");
      }
      return new Settings(shortWindow, longWindow, multiple, minSteps);
    }

    public Settings {
      if (shortWindow.isNegative() || shortWindow.isZero() || longWindow.compareTo(shortWindow) <= 0) {
        throw new IllegalArgumentException("the short window must be positive and shorter than the long one");
      }
      if (unusualMultiplePpm <= 1_000_000) {
        throw new IllegalArgumentException("the unusual multiple must be above 100%");
      }
      if (minSteps < 1) {
        throw new IllegalArgumentException("min-steps must be at least 1");
      }
    }
  }

  /** One step between consecutive marks: when it started (the previous mark) and ended, and its squared return. */
  private record Step(long startMillis, long epochMillis, long squared) {}

  /** One instrument's steps within the long window, with running sums for both windows. */
  private static final class Series {
    final ArrayDeque<Step> steps = new ArrayDeque<>();
    /** Steps still inside the short window are the newest ones: counted from the end. */
    long longSum;
    long lastTicks;
    long lastMillis;
    Index index = Index.NONE;
  }

  private final Settings settings;
  private final Map<String, Series> series = new ConcurrentHashMap<>();

  public VolatilityBoard(Settings settings) {
    this.settings = settings;
  }

  /** A board fed by every mark {@code marks} accepts from now on. */
  public static VolatilityBoard listening(MarkPrices marks, Settings settings) {
    VolatilityBoard board = new VolatilityBoard(settings);
    marks.listen(event -> {
      if (event instanceof Mark mark) {
        board.accept(mark);
      }
    });
    return board;
  }

  public Settings settings() {
    return settings;
  }

  /** Adds a mark (one not newer than the last is ignored) and recomputes the instrument's index. */
  public void accept(Mark mark) {
    Series s = series.computeIfAbsent(mark.instrument(), k -> new Series());
    synchronized (s) {
      step(s, mark.priceTicks(), mark.epochMillis());
    }
  }

  /** The index and whether it is settled, as they would be once a mark at {@code priceTicks} and {@code epochMillis} came. */
  public record Projection(Index index, boolean settled) {}

  /**
   * What {@link #accept} would make of the instrument's index with a mark at {@code priceTicks}
   * and {@code epochMillis}, changing nothing (the stress test's question: what the shocked mark
   * would do to the volatility-scaled margins).
   */
  public Projection projected(String instrument, long priceTicks, long epochMillis) {
    Series held = series.get(instrument);
    Series s = new Series();
    if (held != null) {
      synchronized (held) {
        s.steps.addAll(held.steps);
        s.longSum = held.longSum;
        s.lastTicks = held.lastTicks;
        s.lastMillis = held.lastMillis;
        s.index = held.index;
      }
    }
    step(s, priceTicks, epochMillis);
    return new Projection(s.index, s.steps.size() >= settings.minSteps());
  }

  private void step(Series s, long priceTicks, long epochMillis) {
    if (s.lastTicks > 0 && epochMillis >= s.lastMillis) {
      long squared = Volatility.squared(Volatility.returnPpm(s.lastTicks, priceTicks));
      s.steps.addLast(new Step(s.lastMillis, epochMillis, squared));
      s.longSum = Math.addExact(s.longSum, squared);
    } else if (s.lastTicks > 0) {
      return;
    }
    s.lastTicks = priceTicks;
    s.lastMillis = epochMillis;
    long longStart = epochMillis - settings.longWindow().toMillis();
    while (!s.steps.isEmpty() && s.steps.peekFirst().epochMillis() <= longStart) {
      s.longSum -= s.steps.pollFirst().squared();
    }
    s.index = compute(s, epochMillis);
  }

  private Index compute(Series s, long now) {
    long shortStart = now - settings.shortWindow().toMillis();
    long shortSum = 0;
    int shortSteps = 0;
    var newest = s.steps.descendingIterator();
    while (newest.hasNext()) {
      Step step = newest.next();
      if (step.epochMillis() <= shortStart) {
        break;
      }
      shortSum = Math.addExact(shortSum, step.squared());
      shortSteps++;
    }
    if (s.steps.isEmpty()) {
      return Index.NONE;
    }
    // Annualized over the time the window covers: the whole window once it is full, else since its
    // first step started (the mark before it: a first step after a start or a gap covers its own time).
    long longCovered = Math.min(settings.longWindow().toMillis(), Math.max(1, now - s.steps.peekFirst().startMillis()));
    long shortCovered = Math.min(settings.shortWindow().toMillis(), longCovered);
    long shortPpm = Volatility.annualizedPpm(shortSum, shortCovered);
    long longPpm = Volatility.annualizedPpm(s.longSum, longCovered);
    boolean judged = s.steps.size() >= settings.minSteps() && shortSteps > 0
        && longCovered > settings.shortWindow().toMillis();
    return new Index(shortPpm, longPpm, judged && Volatility.unusual(shortPpm, longPpm, settings.unusualMultiplePpm()));
  }

  /** The instrument's index as of its last mark on this node. */
  public Index index(String instrument) {
    Series s = series.get(instrument);
    if (s == null) {
      return Index.NONE;
    }
    synchronized (s) {
      return s.index;
    }
  }

  /**
   * True once the instrument's long window holds at least {@code min-steps} steps: the index is
   * then judged (unusual volatility) and followed by volatility-scaled margin.
   */
  public boolean settled(String instrument) {
    Series s = series.get(instrument);
    if (s == null) {
      return false;
    }
    synchronized (s) {
      return s.steps.size() >= settings.minSteps();
    }
  }

  /** Every instrument's index (those that had a mark). */
  public Map<String, Index> all() {
    Map<String, Index> all = new java.util.TreeMap<>();
    series.keySet().forEach(symbol -> all.put(symbol, index(symbol)));
    return all;
  }
}
