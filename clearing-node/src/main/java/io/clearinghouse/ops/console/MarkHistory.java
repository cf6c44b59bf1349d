package io.clearinghouse.ops.console;

import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The marks of the last hour per instrument, as this node heard them, for the console's chart.
 * Kept in memory only (a restarted node starts an empty chart); at most {@link #MAX_POINTS} per
 * instrument, the oldest dropped first.
 */
public final class MarkHistory {
  static final Duration WINDOW = Duration.ofHours(1);
  static final int MAX_POINTS = 7_200;

  /** One mark: when the feed published it and its price in ticks. */
  public record Point(long epochMillis, long priceTicks) {}

  private final Map<String, Deque<Point>> byInstrument = new ConcurrentHashMap<>();

  static MarkHistory listening(MarkPrices marks, Instruments instruments) {
    MarkHistory history = new MarkHistory();
    for (var spec : instruments.specs()) {
      marks.get(spec.symbol()).ifPresent(history::add);
    }
    marks.listen(event -> {
      if (event instanceof Mark mark) {
        history.add(mark);
      }
    });
    return history;
  }

  void add(Mark mark) {
    Deque<Point> points = byInstrument.computeIfAbsent(mark.instrument(), i -> new ArrayDeque<>());
    synchronized (points) {
      points.addLast(new Point(mark.epochMillis(), mark.priceTicks()));
      long from = mark.epochMillis() - WINDOW.toMillis();
      while (points.size() > MAX_POINTS || (!points.isEmpty() && points.peekFirst().epochMillis() < from)) {
        points.removeFirst();
      }
    }
  }

  /** The instrument's marks since {@code fromEpochMillis}, oldest first. */
  public List<Point> since(String instrument, long fromEpochMillis) {
    Deque<Point> points = byInstrument.get(instrument);
    if (points == null) {
      return List.of();
    }
    synchronized (points) {
      List<Point> out = new ArrayList<>(points.size());
      for (Point p : points) {
        if (p.epochMillis() >= fromEpochMillis) {
          out.add(p);
        }
      }
      return out;
    }
  }
}
