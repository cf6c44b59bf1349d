package io.clearinghouse.margin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The settlement price, its rounding, and each position closed at it (BTCUSDT units: tick 0.1, multiplier 100). */
class SettlementMathTest {
  private static final long M = 100;

  @ParameterizedTest
  @CsvSource({
      // sum, samples, average ticks (half up)
      "0, 0, 0",
      "500000, 1, 500000",
      "1000001, 2, 500001",   // 500000.5 -> up
      "1000000, 2, 500000",
      "1500001, 3, 500000",   // 500000.33 -> down
      "1500002, 3, 500001",   // 500000.67 -> up
      "9223372036854775807, 2, 4611686018427387904"   // at the edge of a long, no overflow
  })
  void theAverageRoundsToTheNearestTickAHalfUp(long sum, long samples, long expected) {
    assertEquals(expected, SettlementMath.averageTicks(sum, samples));
  }

  @Test
  void theRunningAverageOfSamples() {
    SettlementMath.Average a = SettlementMath.Average.EMPTY.plus(500_000).plus(500_010).plus(500_011);
    assertEquals(3, a.samples());
    assertEquals(500_007, a.priceTicks()); // 1,500,021 / 3 = 500,007
    assertThrows(IllegalArgumentException.class, () -> a.plus(0));
    assertThrows(ArithmeticException.class, () -> new SettlementMath.Average(Long.MAX_VALUE, 1).plus(1));
  }

  @Test
  void slotsAndTheSamplesASettlementPriceNeeds() {
    assertEquals(180, SettlementMath.slots(30 * 60_000, 10_000));
    assertEquals(4, SettlementMath.slots(10_000, 3_000));
    assertEquals(90, SettlementMath.requiredSamples(180, 500_000));
    assertEquals(1, SettlementMath.requiredSamples(180, 0));
    assertEquals(3, SettlementMath.requiredSamples(4, 600_000)); // 2.4 -> 3
  }

  @Test
  void longsAndShortsClosedAtTheSettlementPriceWithAFee() {
    long price = 501_234; // 50,123.4
    // Long 1 BTC (1000 lots) entered at 50,000: cost 50,000 USDT.
    SettlementMath.Closed longCross = SettlementMath.close(1_000, 50_000_000_000L, 0, price, M, 200);
    assertEquals(50_123_400_000L, longCross.value());
    assertEquals(123_400_000L, longCross.pnl());
    // 0.02% of 50,123.4 = 10.02468 USDT exactly.
    assertEquals(10_024_680L, longCross.fee());
    assertEquals(123_400_000L - 10_024_680L, longCross.cashDelta());
    // Its short, isolated with 5,000 USDT of margin: pays the same value, loses the same pnl.
    SettlementMath.Closed shortIsolated = SettlementMath.close(-1_000, -50_000_000_000L, 5_000_000_000L, price, M, 200);
    assertEquals(-50_123_400_000L, shortIsolated.value());
    assertEquals(-123_400_000L, shortIsolated.pnl());
    assertEquals(10_024_680L, shortIsolated.fee());
    assertEquals(5_000_000_000L - 123_400_000L - 10_024_680L, shortIsolated.cashDelta());
    // Zero-sum: the values cancel; pnl sums to minus the costs, which cancel too.
    assertEquals(0, longCross.value() + shortIsolated.value());
    assertEquals(0, longCross.pnl() + shortIsolated.pnl());
  }

  /**
   * Review 12 (medium): an isolated long 1 BTC from 50,000 with 2,500 of margin settled at 47,000
   * loses 3,000 and the fee 9.40: its margin carries 2,500 of it, the 509.40 beyond is its
   * shortfall, owed by the account; the cash (its cross part) is untouched. A cross position has
   * none: its loss is the cash's.
   */
  @Test
  void anIsolatedPositionLosesAtMostItsMarginAtSettlement() {
    SettlementMath.Closed isolated = SettlementMath.close(1_000, 50_000_000_000L, 2_500_000_000L, 470_000, M, 200);
    assertEquals(-3_000_000_000L, isolated.pnl());
    assertEquals(9_400_000L, isolated.fee());
    assertEquals(509_400_000L, isolated.shortfall());
    assertEquals(0, isolated.cashDelta());
    // Carried by its margin: no shortfall, the rest back to the cash.
    SettlementMath.Closed carried = SettlementMath.close(1_000, 50_000_000_000L, 5_000_000_000L, 470_000, M, 200);
    assertEquals(0, carried.shortfall());
    assertEquals(5_000_000_000L - 3_000_000_000L - 9_400_000L, carried.cashDelta());
    SettlementMath.Closed cross = SettlementMath.close(1_000, 50_000_000_000L, 0, 470_000, M, 200);
    assertEquals(0, cross.shortfall());
    assertEquals(-3_009_400_000L, cross.cashDelta());
  }

  @Test
  void theFeeRoundsUpAndAFlatPositionPaysNothing() {
    // 0.001 BTC at 50,000.3: notional 50.0003 USDT; 0.015% = 0.0075000450 -> 0.007501.
    SettlementMath.Closed small = SettlementMath.close(1, 50_000_000, 0, 500_003, M, 150);
    assertEquals(7_501, small.fee());
    assertEquals(300, small.pnl());
    SettlementMath.Closed flat = SettlementMath.close(0, 0, 0, 500_003, M, 150);
    assertEquals(new SettlementMath.Closed(0, 0, 0, 0, 0, 0, 0), flat);
    assertThrows(IllegalArgumentException.class, () -> SettlementMath.close(1, 0, 0, 0, M, 0));
    assertThrows(ArithmeticException.class, () -> SettlementMath.close(Long.MAX_VALUE, 0, 0, 2, M, 0));
  }

  @ParameterizedTest
  @CsvSource({
      // mark, expected, now, window start, expiry, converged
      "500000, 501000, 999, 1000, 2000, 500000",     // before the window
      "500000, 501000, 1000, 1000, 2000, 500000",    // at its start
      "500000, 501000, 1500, 1000, 2000, 500500",    // half way
      "500000, 501001, 1500, 1000, 2000, 500501",    // 500,500.5 -> up
      "500000, 499999, 1500, 1000, 2000, 500000",    // 499,999.5 -> up
      "500000, 501000, 2000, 1000, 2000, 501000",    // at expiry: the expected price
      "500000, 0, 1500, 1000, 2000, 500000"          // no expected price yet
  })
  void theMarkConvergesToTheExpectedPriceOverTheWindow(long mark, long expected, long now, long start, long expiry,
      long converged) {
    assertEquals(converged, SettlementMath.convergedMark(mark, expected, now, start, expiry));
  }
}
