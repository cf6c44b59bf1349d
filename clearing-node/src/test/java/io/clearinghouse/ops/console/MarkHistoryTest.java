package io.clearinghouse.ops.console;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clearinghouse.price.Mark;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The console chart's last hour of marks: a window by the marks' own times, and a bound on the points. */
class MarkHistoryTest {
  private static final long HOUR = MarkHistory.WINDOW.toMillis();

  @Test
  void keepsTheLastHourPerInstrument() {
    MarkHistory history = new MarkHistory();
    history.add(new Mark("BTC", 100, 1, 1_000));
    history.add(new Mark("BTC", 101, 2, 1_000 + HOUR));
    history.add(new Mark("ETH", 7, 1, 5_000));
    // The first is exactly an hour older than the second: still inside; one more millisecond drops it.
    assertEquals(List.of(new MarkHistory.Point(1_000, 100), new MarkHistory.Point(1_000 + HOUR, 101)),
        history.since("BTC", 0));
    history.add(new Mark("BTC", 102, 3, 1_001 + HOUR));
    assertEquals(List.of(new MarkHistory.Point(1_000 + HOUR, 101), new MarkHistory.Point(1_001 + HOUR, 102)),
        history.since("BTC", 0));
    assertEquals(List.of(new MarkHistory.Point(1_001 + HOUR, 102)), history.since("BTC", 1_001 + HOUR));
    assertEquals(List.of(new MarkHistory.Point(5_000, 7)), history.since("ETH", 0));
    assertEquals(List.of(), history.since("SOL", 0));
  }

  @Test
  void keepsAtMostMaxPointsTheOldestDroppedFirst() {
    MarkHistory history = new MarkHistory();
    for (int i = 0; i < MarkHistory.MAX_POINTS + 5; i++) {
      history.add(new Mark("BTC", 1_000 + i, i, 10_000 + i));
    }
    List<MarkHistory.Point> points = history.since("BTC", 0);
    assertEquals(MarkHistory.MAX_POINTS, points.size());
    assertEquals(new MarkHistory.Point(10_005, 1_005), points.get(0));
  }
}
