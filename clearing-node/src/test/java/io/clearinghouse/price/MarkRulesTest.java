package io.clearinghouse.price;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Index, mark and jump rules with hand-checked tick values (BTCUSDT-PERP: 1 tick = 0.1 USDT). */
class MarkRulesTest {
  private static final long FIVE_PERCENT = 50_000;
  private static final long P = 500_000;

  /** Sources s0, s1, ... each from a feeder token of its own, all observed at time 100. */
  private static Map<String, MarkRules.SourcePrice> fresh(long... prices) {
    Map<String, MarkRules.SourcePrice> map = new LinkedHashMap<>();
    for (int i = 0; i < prices.length; i++) {
      map.put("s" + i, new MarkRules.SourcePrice(prices[i], 100, "feeder-" + i));
    }
    return map;
  }

  private static MarkRules.Consensus consensus(Map<String, MarkRules.SourcePrice> sources, long reference) {
    return MarkRules.consensus(sources, 50, reference, FIVE_PERCENT, 2, 2);
  }

  @Test
  void indexIsTheMedianOfTheFreshSourcesThatAgree() {
    assertEquals(new MarkRules.Agreed(500_010), consensus(fresh(500_000, 500_010, 500_500), P));
    // Two: the one nearer the last index, never the midpoint (a move needs both).
    assertEquals(new MarkRules.Agreed(500_000), consensus(fresh(500_000, 500_011), P));
    assertEquals(new MarkRules.Agreed(500_900), consensus(fresh(500_900, 501_800), 500_000));
    // Two tokens further apart than 0.5%: one half against the other, nothing is vouched for
    // (the mark ages): one token can neither walk the mark nor hold it further off than that.
    assertEquals(new MarkRules.Agreed(500_000), consensus(fresh(500_000, 502_400), 500_000));
    assertInstanceOf(MarkRules.Split.class, consensus(fresh(500_000, 502_600), 500_000));
    // The very first index: the majority around the median of all.
    assertEquals(new MarkRules.Agreed(500_005), consensus(fresh(500_000, 500_011), 0));
  }

  @Test
  void staleSourcesAreDroppedAndTooFewFreshMakeTheIndexStale() {
    Map<String, MarkRules.SourcePrice> sources = fresh(500_000, 500_010);
    sources.put("old", new MarkRules.SourcePrice(400_000, 40, "feeder-old"));
    assertEquals(new MarkRules.Agreed(500_000), consensus(sources, P));
    assertEquals(new MarkRules.Stale(2), MarkRules.consensus(sources, 50, P, FIVE_PERCENT, 3, 2));
    // A source exactly at the freshness edge still counts.
    assertEquals(new MarkRules.Agreed(P), MarkRules.consensus(
        Map.of("a", new MarkRules.SourcePrice(P, 50, "x")), 50, P, FIVE_PERCENT, 1, 2));
    assertEquals(new MarkRules.Stale(0), MarkRules.consensus(Map.of(), 0, P, FIVE_PERCENT, 1, 2));
  }

  @Test
  void sourcesOfOneFeederTokenCountOnce() {
    Map<String, MarkRules.SourcePrice> sources = new LinkedHashMap<>();
    sources.put("binance", new MarkRules.SourcePrice(P, 100, "one-token"));
    sources.put("okx", new MarkRules.SourcePrice(P, 100, "one-token"));
    assertEquals(new MarkRules.Stale(1), consensus(sources, P));
    // Three sources of one token and two of others: the one token cannot move the index alone.
    sources.put("coinbase", new MarkRules.SourcePrice(P, 100, "one-token"));
    sources.put("kraken", new MarkRules.SourcePrice(P, 100, "k"));
    sources.put("bybit", new MarkRules.SourcePrice(P, 100, "b"));
    sources.replaceAll((name, p) -> p.owner().equals("one-token") ? new MarkRules.SourcePrice(350_000, 100, p.owner()) : p);
    // It speaks once (at 350,000), against two tokens at P: the index stays at P.
    assertEquals(new MarkRules.Agreed(P), consensus(sources, P));
  }

  /** One source at 0.7 P, whatever the number of fresh sources: never the index. */
  @ParameterizedTest
  @ValueSource(ints = {2, 3, 4, 5, 7})
  void aSingleOutlierNeverMovesTheIndex(int freshSources) {
    long[] prices = new long[freshSources];
    java.util.Arrays.fill(prices, P);
    prices[0] = 350_000;
    MarkRules.Consensus c = consensus(fresh(prices), P);
    if (freshSources == 2) {
      // One against one: nobody can tell who is right, nothing is vouched for.
      assertInstanceOf(MarkRules.Split.class, c);
    } else {
      assertEquals(new MarkRules.Agreed(P), c);
    }
    // Nor at the very first mark.
    MarkRules.Consensus first = consensus(fresh(prices), 0);
    assertTrue(first instanceof MarkRules.Split || first.equals(new MarkRules.Agreed(P)), first.toString());
    // Nor two outliers on opposite sides among five.
    if (freshSources == 5) {
      assertEquals(new MarkRules.Agreed(P), consensus(fresh(350_000, P, P, P, 650_000), P));
    }
  }

  @Test
  void aMajorityBeyondTheAllowedMoveIsAJumpAMinorityIsNot() {
    // 2 of 3 down 20%: a jump down to their median.
    assertEquals(new MarkRules.Jump(400_000, -1), consensus(fresh(400_000, 400_000, P), P));
    // 3 of 5 down, agreeing among themselves: a jump at their median.
    assertEquals(new MarkRules.Jump(400_100, -1), consensus(fresh(400_000, 400_100, 400_200, P, P), P));
    // 2 of 5 down: the 3 others are the index.
    assertEquals(new MarkRules.Agreed(P), consensus(fresh(400_000, 400_000, P, P, P), P));
    // 3 of 5 beyond, but far from each other: no level has a majority.
    assertInstanceOf(MarkRules.Split.class, consensus(fresh(300_000, 400_000, 470_000, P, 600_000), P));
    // 2 of 2: a jump, both feeder tokens agreeing.
    assertEquals(new MarkRules.Jump(600_000, 1), consensus(fresh(600_000, 600_000), P));
  }

  @Test
  void aJumpNeedsAtLeastConfirmSourcesDistinctTokens() {
    Map<String, MarkRules.SourcePrice> sources = new LinkedHashMap<>();
    sources.put("binance", new MarkRules.SourcePrice(400_000, 100, "a"));
    sources.put("okx", new MarkRules.SourcePrice(400_000, 100, "b"));
    sources.put("kraken", new MarkRules.SourcePrice(400_000, 100, "c"));
    assertEquals(new MarkRules.Jump(400_000, -1), MarkRules.consensus(sources, 50, P, FIVE_PERCENT, 1, 3));
    assertInstanceOf(MarkRules.Split.class, MarkRules.consensus(sources, 50, P, FIVE_PERCENT, 1, 4));
  }

  @ParameterizedTest
  @CsvSource({
      // index, ema basis, last trade (0 = none), expected mark (band 0.2% = 1,000 ticks)
      "500000, 0,    0,      500000",   // no trades yet: the index
      "500000, 30,   500100, 500030",   // median(500000, 500030, 500100)
      "500000, 30,   499000, 500000",   // a low last trade: the index is the median
      "500000, -50,  499990, 499990",   // median(500000, 499950, 499990)
      "500000, 200,  600000, 500200",   // a wild last trade cannot drag the mark beyond index + basis
      "500000, 9000, 600000, 501000",   // nor can a wild basis: clamped to the band
      "500000, -9000, 400000, 499000"
  })
  void markIsTheMedianOfIndexIndexPlusClampedBasisAndLastTrade(long index, long basis, long lastTrade, long expected) {
    OptionalLong trade = lastTrade == 0 ? OptionalLong.empty() : OptionalLong.of(lastTrade);
    assertEquals(expected, MarkRules.mark(index, basis, trade, 2_000));
  }

  @Test
  void emaStepsWeighTheirTimeOverTheWindow() {
    // 500 ms of a 300 s window: 1/600 of the gap.
    assertEquals(1, MarkRules.emaStep(0, 600, 500, 300_000));
    assertEquals(0, MarkRules.emaStep(0, 599, 500, 300_000));
    // Rounded toward negative infinity.
    assertEquals(-1, MarkRules.emaStep(0, -1, 500, 300_000));
    // A gap longer than the window weighs the whole window: the sample itself.
    assertEquals(-40, MarkRules.emaStep(10, -40, 900_000, 300_000));
    assertEquals(1_000, MarkRules.clampBasis(5_000, P, 2_000));
    assertEquals(-1_000, MarkRules.clampBasis(-5_000, P, 2_000));
    assertEquals(-999, MarkRules.clampBasis(-999, P, 2_000));
  }

  @Test
  void theAllowedMoveIsInclusive() {
    // 5% of 500,000 is 25,000 ticks: exactly 25,000 is not a jump, 25,001 is.
    assertFalse(MarkRules.isJump(P, 525_000, FIVE_PERCENT));
    assertTrue(MarkRules.isJump(P, 525_001, FIVE_PERCENT));
    assertTrue(MarkRules.isJump(P, 474_999, FIVE_PERCENT));
  }
}
