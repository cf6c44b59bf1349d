package io.clearinghouse.margin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The binary search counts exactly the scores strictly above, ties and extremes included. */
class AdlRankTableTest {
  @Test
  void countsTheScoresStrictlyAbove() {
    AdlRankTable table = AdlRankTable.sortingInPlace(new long[] {30, -5, 10, 10, 0, 0, 99}, 6);
    // 99 was beyond the count given: not in the table.
    assertEquals(6, table.size());
    assertEquals(0, table.above(30));
    assertEquals(1, table.above(29));
    assertEquals(1, table.above(10));
    assertEquals(3, table.above(9));
    assertEquals(3, table.above(0));
    assertEquals(5, table.above(-5));
    assertEquals(6, table.above(Long.MIN_VALUE));
    assertEquals(0, table.above(Long.MAX_VALUE));
    assertEquals(0, AdlRankTable.EMPTY.above(0));
  }

  @Test
  void agreesWithCountingOneByOne() {
    Random random = new Random(7);
    long[] scores = new long[2_000];
    for (int i = 0; i < scores.length; i++) {
      scores[i] = random.nextInt(200) - 100;
    }
    long[] original = scores.clone();
    AdlRankTable table = AdlRankTable.sortingInPlace(scores, scores.length);
    for (long probe = -102; probe <= 102; probe++) {
      long expected = 0;
      for (long s : original) {
        expected += s > probe ? 1 : 0;
      }
      assertEquals(expected, table.above(probe), "above " + probe);
    }
  }
}
