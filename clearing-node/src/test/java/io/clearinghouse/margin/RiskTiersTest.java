package io.clearinghouse.margin;

import static io.clearinghouse.margin.Fixtures.BINANCE_TIERS;
import static io.clearinghouse.margin.Fixtures.USDT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RiskTiersTest {

  @Test
  void binanceMaintenanceAmountsMatchThePublishedTable() {
    // Binance's BTCUSDT bracket table (March 2021) lists these maintenance amounts in USDT.
    long[] publishedUsdt = {0, 50, 1_300, 16_300, 266_300, 1_266_300, 2_516_300, 5_016_300, 25_016_300, 100_016_300};
    List<RiskTier> tiers = BINANCE_TIERS.tiers();
    assertEquals(publishedUsdt.length, tiers.size());
    for (int k = 0; k < tiers.size(); k++) {
      assertEquals(publishedUsdt[k] * USDT, tiers.get(k).maintenanceAmount(), "tier " + (k + 1));
    }
  }

  @Test
  void binanceBoundsAreInMinorUnitsOfTheScale() {
    RiskTier second = BINANCE_TIERS.tiers().get(1);
    assertEquals(new RiskTier(50_000 * USDT, 250_000 * USDT, 5_000, 100, 50 * USDT), second);
    RiskTier last = BINANCE_TIERS.tiers().get(9);
    assertEquals(new RiskTier(300_000_000 * USDT, 500_000_000 * USDT, 500_000, 1, 100_016_300 * USDT), last);
    assertEquals(5_000L, RiskTiers.binanceBtcUsdtMarch2021(2).tiers().get(1).maintenanceAmount());
  }

  @Test
  void binanceTableAtAScaleTooLargeForItsBoundsOverflows() {
    assertThrows(ArithmeticException.class, () -> RiskTiers.binanceBtcUsdtMarch2021(18));
    assertThrows(IllegalArgumentException.class, () -> RiskTiers.binanceBtcUsdtMarch2021(19));
  }

  @Test
  void maintenanceMarginIsContinuousAtEveryBinanceEdge() {
    assertContinuousAtEveryEdge(BINANCE_TIERS);
  }

  @Test
  void maintenanceAmountsAreDerivedWithCeilingsOnAwkwardBounds() {
    RiskTiers tiers = RiskTiers.fromBrackets(List.of(
        new RiskTiers.Bracket(1_001, 3_333, 100),
        new RiskTiers.Bracket(3_333, 7_777, 50),
        new RiskTiers.Bracket(1_000_003, 123_457, 5)));
    // cum_2 = ceil(1001 * 7777e-6) - ceil(1001 * 3333e-6) = ceil(7.784777) - ceil(3.336333) = 8 - 4 = 4
    // cum_3 = 4 + ceil(3333 * 123457e-6) - ceil(3333 * 7777e-6) = 4 + ceil(411.482181) - ceil(25.920741) = 4 + 412 - 26
    assertEquals(List.of(0L, 4L, 390L), List.of(
        tiers.tiers().get(0).maintenanceAmount(), tiers.tiers().get(1).maintenanceAmount(), tiers.tiers().get(2).maintenanceAmount()));
    assertContinuousAtEveryEdge(tiers);
  }

  @Test
  void randomTablesAreContinuousAndNonDecreasing() {
    Random random = new Random(42);
    for (int table = 0; table < 2_000; table++) {
      int count = 1 + random.nextInt(8);
      List<RiskTiers.Bracket> brackets = new ArrayList<>();
      long upper = 0;
      long rate = 0;
      int leverage = 125;
      for (int k = 0; k < count; k++) {
        upper += 1 + (random.nextLong() >>> (20 + random.nextInt(25)));
        rate += 1 + random.nextInt(9_000);
        leverage = Math.max(1, Math.min(leverage, (int) ((MarginMath.PPM - 1) / rate)) - random.nextInt(3));
        if (rate * leverage >= MarginMath.PPM) {
          break;
        }
        brackets.add(new RiskTiers.Bracket(upper, rate, leverage));
      }
      if (brackets.isEmpty()) {
        continue;
      }
      RiskTiers tiers = RiskTiers.fromBrackets(brackets);
      assertContinuousAtEveryEdge(tiers);
      for (RiskTier tier : tiers.tiers()) {
        long lower = tier.lowerBound();
        assertTrue(MarginMath.maintenanceMargin(lower, tiers) >= 0);
        if (lower > 0) {
          long below = MarginMath.maintenanceMargin(lower - 1, tiers);
          long at = MarginMath.maintenanceMargin(lower, tiers);
          assertTrue(below <= at && at - below <= 1, "MM steps by at most one unit per unit of notional at " + lower);
        }
      }
    }
  }

  private static void assertContinuousAtEveryEdge(RiskTiers tiers) {
    List<RiskTier> list = tiers.tiers();
    for (int k = 1; k < list.size(); k++) {
      long edge = list.get(k).lowerBound();
      long fromBelow = MarginMath.maintenanceMargin(edge, list.get(k - 1));
      long fromAbove = MarginMath.maintenanceMargin(edge, list.get(k));
      assertEquals(fromBelow, fromAbove, "MM at the lower bound of tier " + (k + 1));
      assertEquals(fromAbove, MarginMath.maintenanceMargin(edge, tiers));
    }
  }

  @ParameterizedTest(name = "notional {0} USDT minor units is in tier {1}")
  @CsvSource({
      "0,                  1",
      "1,                  1",
      "49999999999,        1",
      "50000000000,        2",
      "249999999999,       2",
      "250000000000,       3",
      "1000000000000,      4",
      "499999999999999,    10",
      "500000000000000,    10",
      "9223372036854775807, 10"
  })
  void tierForUsesHalfOpenBracketsAndTheLastTierBeyondTheTable(long notional, int tierNumber) {
    assertSame(BINANCE_TIERS.tiers().get(tierNumber - 1), BINANCE_TIERS.tierFor(notional));
  }

  @Test
  void negativeNotionalIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> BINANCE_TIERS.tierFor(-1));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "upper bounds not increasing      | 100:4000:125, 100:5000:100   | tier 2: tier bounds must satisfy",
      "rates equal                      | 100:4000:125, 200:4000:100   | tier 2 maintenance margin rate 4000 ppm must exceed tier 1's 4000 ppm",
      "rates decreasing                 | 100:5000:100, 200:4000:100   | tier 2 maintenance margin rate 4000 ppm must exceed",
      "leverage increasing              | 100:4000:100, 200:5000:125   | tier 2 max leverage 125 must not exceed tier 1's 100",
      "leverage zero                    | 100:4000:0                   | tier 1: max leverage must be at least 1",
      "rate zero                        | 100:0:1                      | tier 1: maintenance margin rate must be between 1 and 999999 ppm",
      "rate 100%                        | 100:1000000:1                | tier 1: maintenance margin rate must be between 1 and 999999 ppm",
      "maintenance not below initial    | 100:10000:100                | tier 1: maintenance margin rate 10000 ppm is not below the initial margin rate of max leverage 100"
  })
  void refusesInconsistentBrackets(String description, String brackets, String message) {
    List<RiskTiers.Bracket> parsed = new ArrayList<>();
    for (String bracket : brackets.split(",")) {
      String[] parts = bracket.trim().split(":");
      parsed.add(new RiskTiers.Bracket(Long.parseLong(parts[0]), Long.parseLong(parts[1]), Integer.parseInt(parts[2])));
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RiskTiers.fromBrackets(parsed));
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  @Test
  void refusesTablesThatDoNotStartAtZeroOrHaveGaps() {
    IllegalArgumentException notAtZero = assertThrows(IllegalArgumentException.class,
        () -> new RiskTiers(List.of(new RiskTier(1, 100, 4_000, 125, 0))));
    assertTrue(notAtZero.getMessage().contains("tier 1 must start at notional 0"), notAtZero.getMessage());
    IllegalArgumentException gap = assertThrows(IllegalArgumentException.class, () -> new RiskTiers(List.of(
        new RiskTier(0, 100, 4_000, 125, 0), new RiskTier(101, 200, 5_000, 100, 1))));
    assertTrue(gap.getMessage().contains("tier 2 must start where tier 1 ends (100), starts at 101"), gap.getMessage());
    assertThrows(IllegalArgumentException.class, () -> RiskTiers.fromBrackets(List.of()));
    assertThrows(IllegalArgumentException.class, () -> new RiskTiers(List.of()));
  }

  @Test
  void refusesTypedInMaintenanceAmounts() {
    // The right amount for tier 2 at bound 1,000,000 is ceil(5,000) - ceil(4,000) = 1,000.
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RiskTiers(List.of(
        new RiskTier(0, 1_000_000, 4_000, 125, 0), new RiskTier(1_000_000, 2_000_000, 5_000, 100, 999))));
    assertTrue(e.getMessage().contains("tier 2 maintenance amount must be the derived 1000, was 999"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new RiskTiers(List.of(new RiskTier(0, 100, 4_000, 125, 1))));
    assertEquals(1_000, new RiskTiers(List.of(new RiskTier(0, 1_000_000, 4_000, 125, 0),
        new RiskTier(1_000_000, 2_000_000, 5_000, 100, 1_000))).tiers().get(1).maintenanceAmount());
  }
}
