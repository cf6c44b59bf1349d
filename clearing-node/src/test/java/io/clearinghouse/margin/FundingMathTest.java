package io.clearinghouse.margin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The funding rules, table-driven. Rates in 10^-8 (0.01% = 10,000). The venue rows are facts
 * published with the formulas, re-derived here, not copied: Binance documents the rate as
 * {@code P + clamp(I - P, 0.05%, -0.05%)} with the interest I = 0.01% per 8 h interval (so any
 * average premium within I ± 0.05% pays exactly the interest), the average premium as the
 * time-weighted {@code (1*P1 + 2*P2 + ... + n*Pn) / (1 + 2 + ... + n)}, the cap as
 * {@code ±0.75 * (initial margin rate - maintenance margin rate)}, and the payment as the
 * position's notional at the mark times the rate (positive: longs pay shorts). dYdX v4 settles
 * funding so that the protocol never pays out more than it takes in: the payer's amount rounds up
 * and the receiver's down.
 */
class FundingMathTest {
  private static final long INTEREST = 10_000;   // 0.01%
  private static final long CLAMP = 50_000;      // 0.05%
  private static final long CAP = 300_000;       // 0.3% = 0.75 * (1/125 - 0.4%)

  @ParameterizedTest(name = "P {0} -> rate {1}")
  @CsvSource({
      // Within I ± 0.05% (from -0.04% to 0.06%) the rate is the interest, 0.01%.
      "0, 10000",
      "35800, 10000",        // P = 0.0358%
      "60000, 10000",        // P = 0.06%: the clamp's upper edge
      "-40000, 10000",       // P = -0.04%: its lower edge
      "-12345, 10000",
      // Beyond it the clamp holds the difference at 0.05%.
      "70000, 20000",        // 0.07% - 0.05% = 0.02%
      "60001, 10001",
      "-50000, 0",           // -0.05% + 0.05% = 0
      "-100000, -50000",     // -0.1% + 0.05% = -0.05%
      // The cap: ±0.3% for the first tier of 125x at 0.4% maintenance.
      "1000000, 300000",     // 1% - 0.05% = 0.95% -> capped to 0.3%
      "350000, 300000",      // 0.35% - 0.05% = 0.30%: exactly the cap
      "350001, 300000",
      "-1000000, -300000",
  })
  void binancesRateFormulaWithClampAndCap(long averagePremium, long rate) {
    assertEquals(rate, FundingMath.rate(averagePremium, INTEREST, CLAMP, CAP));
  }

  @ParameterizedTest(name = "mark {0} index {1} -> premium {2}")
  @CsvSource({
      "500500, 500000, 100000",      // 50,050 over 50,000: +0.1%
      "499750, 500000, -50000",      // 49,975: -0.05%
      "500000, 500000, 0",
      "500001, 500000, 200",         // one tick above: 2e-6
      "3, 7, -57142857",             // -4/7 toward zero
      "4, 7, -42857142",             // -3/7 toward zero (not -42857143)
      "10, 7, 42857142",             // 3/7 toward zero
  })
  void premiumIsTheMarksBasisToTheIndexTowardZero(long mark, long index, long premium) {
    assertEquals(premium, FundingMath.premium(mark, index));
  }

  @Test
  void theAveragePremiumWeighsLaterSamplesMore() {
    // (1*100 + 2*200 + 3*300) / 6 = 233.33 -> 233; a simple average would be 200.
    FundingMath.PremiumAverage a = FundingMath.PremiumAverage.EMPTY.add(100).add(200).add(300);
    assertEquals(233, a.average());
    FundingMath.PremiumAverage b = FundingMath.PremiumAverage.EMPTY.add(-100).add(-200).add(-300);
    assertEquals(-233, b.average());
    assertEquals(0, FundingMath.PremiumAverage.EMPTY.average());
    // A constant premium averages to itself whatever the weights.
    FundingMath.PremiumAverage c = FundingMath.PremiumAverage.EMPTY;
    for (int i = 0; i < 5_760; i++) {   // one sample every 5 s over 8 h
      c = c.add(35_800);
    }
    assertEquals(35_800, c.average());
  }

  @ParameterizedTest(name = "{0} lots at {1} ticks, rate {2} -> {3}")
  @CsvSource({
      // 1 BTC (1,000 lots) at 50,000 (500,000 ticks of 0.1; multiplier 100): notional 50,000 USDT.
      // 0.01% of it is 5 USDT: the long pays, the short receives.
      "1000, 500000, 10000, -5000000",
      "-1000, 500000, 10000, 5000000",
      // A negative rate: shorts pay longs.
      "1000, 500000, -10000, 5000000",
      "-1000, 500000, -10000, -5000000",
      // 0.001 BTC at 50,000.3: notional 50.0003 USDT, 0.01% of it 5,000.03 minor units:
      // the payer pays 5,001 (up), the receiver gets 5,000 (down); 1 stays in the pool.
      "1, 500003, 10000, -5001",
      "-1, 500003, 10000, 5000",
      "1, 500003, -10000, 5000",
      "-1, 500003, -10000, -5001",
      // Nothing held, or a zero rate: nothing moves.
      "0, 500000, 10000, 0",
      "1000, 500000, 0, 0",
      // The cap on 10 BTC at 60,000: 0.3% of 600,000 = 1,800 USDT.
      "10000, 600000, 300000, -1800000000",
  })
  void paymentsRoundAgainstThePayer(long lots, long markTicks, long rate, long payment) {
    assertEquals(payment, FundingMath.payment(lots, markTicks, 100, rate));
  }

  @Test
  void aLongAndAShortOfTheSameSizeLeaveOnlyTheResidue() {
    long paid = FundingMath.payment(7, 432_109, 100, 12_345);
    long received = FundingMath.payment(-7, 432_109, 100, 12_345);
    // 7 * 432,109 * 100 = 302,476,300 minor units; * 0.00012345 = 37,340.69...
    assertEquals(-37_341, paid);
    assertEquals(37_340, received);
    assertEquals(1, -(paid + received));
  }

  @Test
  void overflowAndBadPricesAreRefused() {
    assertThrows(ArithmeticException.class, () -> FundingMath.payment(Long.MAX_VALUE / 10, 500_000, 100, 10_000));
    assertThrows(IllegalArgumentException.class, () -> FundingMath.premium(0, 500_000));
    assertThrows(IllegalArgumentException.class, () -> FundingMath.premium(500_000, -1));
    assertThrows(IllegalArgumentException.class, () -> FundingMath.rate(0, 0, -1, 1));
  }

  @Test
  void theDefaultCapIsThreeQuartersOfInitialLessMaintenanceOfTheFirstTier() {
    RiskTiers tiers = RiskTiers.fromBrackets(java.util.List.of(new RiskTiers.Bracket(50_000_000_000L, 4_000, 125)));
    assertEquals(300_000, FundingMath.defaultCap(tiers));
    RiskTiers twenty = RiskTiers.fromBrackets(java.util.List.of(new RiskTiers.Bracket(50_000_000_000L, 10_000, 20)));
    // 0.75 * (5% - 1%) = 3%
    assertEquals(3_000_000, FundingMath.defaultCap(twenty));
  }
}
