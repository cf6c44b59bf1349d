package io.clearinghouse.price;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Index, mark and jump rules with hand-checked tick values (BTCUSDT-PERP: 1 tick = 0.1 USDT). */
class MarkRulesTest {

  private static Map<String, MarkRules.SourcePrice> sources(long... priceAndTime) {
    Map<String, MarkRules.SourcePrice> map = new LinkedHashMap<>();
    for (int i = 0; i < priceAndTime.length; i += 2) {
      map.put("s" + i, new MarkRules.SourcePrice(priceAndTime[i], priceAndTime[i + 1]));
    }
    return map;
  }

  @Test
  void indexIsTheMedianOfFreshSources() {
    // Three fresh sources: the middle one.
    assertEquals(OptionalLong.of(500_010), MarkRules.index(sources(500_000, 100, 500_010, 100, 500_500, 100), 50, 2));
    // Two fresh: the lower one plus half the gap, rounded down (500,000 and 500,011 -> 500,005).
    assertEquals(OptionalLong.of(500_005), MarkRules.index(sources(500_000, 100, 500_011, 100), 50, 2));
    // An outlier does not move the median of five.
    assertEquals(OptionalLong.of(500_002), MarkRules.index(
        sources(500_000, 100, 500_001, 100, 500_002, 100, 500_003, 100, 9_000_000, 100), 50, 3));
  }

  @Test
  void staleSourcesAreDroppedAndTooFewFreshMakeTheIndexStale() {
    // The source seen at 40 is older than freshSince 50: only two remain, enough for min 2.
    assertEquals(OptionalLong.of(500_005), MarkRules.index(sources(400_000, 40, 500_000, 60, 500_010, 60), 50, 2));
    // With min 3 the same sources are stale.
    assertEquals(OptionalLong.empty(), MarkRules.index(sources(400_000, 40, 500_000, 60, 500_010, 60), 50, 3));
    // A source exactly at the freshness edge still counts.
    assertEquals(OptionalLong.of(500_000), MarkRules.index(sources(500_000, 50), 50, 1));
    assertEquals(OptionalLong.empty(), MarkRules.index(Map.of(), 0, 1));
  }

  @ParameterizedTest
  @CsvSource({
      // index, ema basis, last trade (0 = none), expected mark
      "500000, 0,    0,      500000",   // no trades yet: the index
      "500000, 30,   500100, 500030",   // median(500000, 500030, 500100)
      "500000, 30,   499000, 500000",   // a low last trade: the index is the median
      "500000, -50,  499990, 499990",   // median(500000, 499950, 499990)
      "500000, 200,  600000, 500200"    // a wild last trade cannot drag the mark beyond index + basis
  })
  void markIsTheMedianOfIndexIndexPlusBasisAndLastTrade(long index, long basis, long lastTrade, long expected) {
    OptionalLong trade = lastTrade == 0 ? OptionalLong.empty() : OptionalLong.of(lastTrade);
    assertEquals(expected, MarkRules.mark(index, basis, trade));
  }

  @Test
  void emaStepsTowardsTheSampleWithAlphaTwoOverWindowPlusOne() {
    // window 3: alpha 1/2.
    assertEquals(50, MarkRules.emaStep(0, 100, 3));
    assertEquals(75, MarkRules.emaStep(50, 100, 3));
    // Rounded toward negative infinity: (-1 * 2) / 4 = -0.5 -> -1.
    assertEquals(-1, MarkRules.emaStep(0, -1, 3));
    // window 1: alpha 1, the sample itself.
    assertEquals(-40, MarkRules.emaStep(10, -40, 1));
  }

  @Test
  void aJumpBeyondTheLimitIsHeldUntilConfirmed() {
    long maxJump = 50_000; // 5%
    // 5% of 500,000 is 25,000 ticks: exactly 25,000 is not a jump, 25,001 is.
    assertFalse(MarkRules.isJump(500_000, 525_000, maxJump));
    assertTrue(MarkRules.isJump(500_000, 525_001, maxJump));
    assertTrue(MarkRules.isJump(500_000, 474_999, maxJump));
    // Nothing held: a jump is not confirmed.
    assertFalse(MarkRules.confirmed(500_000, 0, 600_000, maxJump));
    // Held on the same side and the next candidate near it: confirmed.
    assertTrue(MarkRules.confirmed(500_000, 600_000, 601_000, maxJump));
    // Held on the other side: not confirmed.
    assertFalse(MarkRules.confirmed(500_000, 400_000, 600_000, maxJump));
    // Held far from the candidate: not confirmed.
    assertFalse(MarkRules.confirmed(500_000, 600_000, 700_000, maxJump));
    // Small moves and the very first mark pass at once.
    assertTrue(MarkRules.confirmed(500_000, 0, 510_000, maxJump));
    assertTrue(MarkRules.confirmed(0, 0, 510_000, maxJump));
  }
}
