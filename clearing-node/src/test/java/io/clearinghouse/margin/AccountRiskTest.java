package io.clearinghouse.margin;

import static io.clearinghouse.margin.Fixtures.BINANCE_TIERS;
import static io.clearinghouse.margin.Fixtures.BTC_MULTIPLIER;
import static io.clearinghouse.margin.Fixtures.ONE_BTC;
import static io.clearinghouse.margin.Fixtures.USDT;
import static io.clearinghouse.margin.Fixtures.priceTicks;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AccountRiskTest {
  /** 1 BTC bought at 50,000 USDT: 1,000 lots * 500,000 ticks * 100 = 50,000 USDT of cost. */
  private static final long LONG_COST = 50_000 * USDT;

  static PositionRisk cross(long lots, long cost, long markTicks, int leverage) {
    return new PositionRisk("BTCUSDT-PERP", lots, cost, markTicks, BTC_MULTIPLIER, BINANCE_TIERS, leverage, MarginMode.CROSS, 0);
  }

  static PositionRisk isolated(long lots, long cost, long markTicks, int leverage, long margin) {
    return new PositionRisk("BTCUSDT-PERP", lots, cost, markTicks, BTC_MULTIPLIER, BINANCE_TIERS, leverage,
        MarginMode.ISOLATED, margin);
  }

  @Test
  void crossAccountWorkedExample() {
    // Cash 10,000 USDT, 1,000 USDT reserved for an open order, 1 BTC long from 50,000 at 20x, marked at 48,000:
    //   N  = 1,000 lots * 480,000 ticks * 100 = 48,000 USDT
    //   U  = 48,000 - 50,000 = -2,000 USDT, so E = 10,000 - 2,000 = 8,000 USDT
    //   MM = ceil(48,000 * 0.4%) - 0 = 192 USDT (tier 1)
    //   IM = 48,000 / 20 = 2,400 USDT
    //   available = 8,000 - 2,400 - 1,000 = 4,600 USDT = withdrawable (below the cash)
    //   margin ratio = 192 / 8,000 = 2.4% = 24,000 ppm
    AccountRisk risk = AccountRisk.evaluate(10_000 * USDT, 1_000 * USDT,
        List.of(cross(ONE_BTC, LONG_COST, priceTicks(48_000), 20)));
    assertEquals(8_000 * USDT, risk.equity());
    assertEquals(192 * USDT, risk.maintenanceMargin());
    assertEquals(2_400 * USDT, risk.initialMargin());
    assertEquals(4_600 * USDT, risk.available());
    assertEquals(4_600 * USDT, risk.withdrawable());
    assertEquals(OptionalLong.of(24_000), risk.marginRatioPpm());
    assertTrue(risk.hasCrossPositions());
    assertFalse(risk.crossLiquidatable());
    assertFalse(risk.liquidatable());
    assertEquals(new PositionMetrics(48_000 * USDT, -2_000 * USDT, 192 * USDT, 2_400 * USDT), risk.metrics(0));
  }

  @Test
  void sumsOverCrossPositions() {
    // The long above plus 2 BTC short from 50,000 at 10x, both marked at 48,000:
    //   short: N = 96,000 USDT (tier 2), U = +4,000, MM = 96,000 * 0.5% - 50 = 430, IM = 9,600
    AccountRisk risk = AccountRisk.evaluate(10_000 * USDT, 0, List.of(
        cross(ONE_BTC, LONG_COST, priceTicks(48_000), 20),
        cross(-2 * ONE_BTC, -2 * LONG_COST, priceTicks(48_000), 10)));
    assertEquals(new PositionMetrics(96_000 * USDT, 4_000 * USDT, 430 * USDT, 9_600 * USDT), risk.metrics(1));
    assertEquals((10_000 - 2_000 + 4_000) * USDT, risk.equity());
    assertEquals((192 + 430) * USDT, risk.maintenanceMargin());
    assertEquals((2_400 + 9_600) * USDT, risk.initialMargin());
    assertEquals((12_000 - 12_000) * USDT, risk.available());
    assertEquals(0, risk.withdrawable());
  }

  @Test
  void leverageIsCappedByTheTierOfTheNotional() {
    // 1.2 BTC at 50,000 = 60,000 USDT sits in tier 2 (max 100x): 125x asks too little, 100x applies.
    AccountRisk risk = AccountRisk.evaluate(10_000 * USDT, 0, List.of(cross(1_200, 60_000 * USDT, priceTicks(50_000), 125)));
    assertEquals(600 * USDT, risk.initialMargin());
    // In tier 1 the chosen 125x stands: 40,000 / 125 = 320 USDT.
    AccountRisk small = AccountRisk.evaluate(10_000 * USDT, 0, List.of(cross(800, 40_000 * USDT, priceTicks(50_000), 125)));
    assertEquals(320 * USDT, small.initialMargin());
  }

  @Test
  void crossLiquidationIsAtOrBelowMaintenanceExactly() {
    // 1 BTC long from 50,000 marked at 40,000: U = -10,000 USDT, MM = 40,000 * 0.4% = 160 USDT.
    // With cash 10,160 USDT, E = 160 = MM: liquidatable. One minor unit more and it is not.
    long atMaintenance = 10_160 * USDT;
    List<PositionRisk> positions = List.of(cross(ONE_BTC, LONG_COST, priceTicks(40_000), 20));
    AccountRisk at = AccountRisk.evaluate(atMaintenance, 0, positions);
    assertEquals(at.maintenanceMargin(), at.equity());
    assertTrue(at.crossLiquidatable());
    assertTrue(at.liquidatable());
    assertEquals(OptionalLong.of(1_000_000), at.marginRatioPpm());
    AccountRisk above = AccountRisk.evaluate(atMaintenance + 1, 0, positions);
    assertFalse(above.crossLiquidatable());
    // 160 / 160.000001 USDT is just below 100%, and rounds up to it.
    assertEquals(OptionalLong.of(1_000_000), above.marginRatioPpm());
  }

  @ParameterizedTest(name = "MM {0}, E {1} -> {2} ppm")
  @CsvSource({"1, 3, 333334", "192000000, 8000000000, 24000", "0, 5, 0"})
  void marginRatioRoundsUp(long maintenance, long equity, long expectedPpm) {
    // An account whose equity is all cash (U = 0) and whose maintenance margin is exactly the wanted
    // amount: a single 1 ppm tier applied to a notional of maintenance * 1e6.
    RiskTiers flat = RiskTiers.fromBrackets(List.of(new RiskTiers.Bracket(Long.MAX_VALUE, 1, 1)));
    long notional = maintenance * MarginMath.PPM;
    PositionRisk p = new PositionRisk("X", notional == 0 ? 0 : 1, notional, Math.max(1, notional), 1, flat, 1,
        MarginMode.CROSS, 0);
    assertEquals(maintenance, AccountRisk.evaluate(equity, 0, List.of(p)).maintenanceMargin());
    assertEquals(OptionalLong.of(expectedPpm), AccountRisk.evaluate(equity, 0, List.of(p)).marginRatioPpm());
  }

  @ParameterizedTest
  @CsvSource({"0", "-1"})
  void marginRatioIsAbsentWithoutPositiveEquity(long equity) {
    AccountRisk risk = AccountRisk.evaluate(equity, 0, List.of(cross(ONE_BTC, LONG_COST, priceTicks(50_000), 20)));
    assertEquals(OptionalLong.empty(), risk.marginRatioPpm());
    assertTrue(risk.crossLiquidatable());
  }

  @Test
  void unrealizedProfitIsNeverWithdrawable() {
    // Short 1 BTC from 50,000 marked at 40,000: U = +10,000 USDT on 1,000 USDT of cash.
    AccountRisk risk = AccountRisk.evaluate(1_000 * USDT, 0, List.of(cross(-ONE_BTC, -LONG_COST, priceTicks(40_000), 20)));
    assertEquals(11_000 * USDT, risk.equity());
    assertEquals((11_000 - 2_000) * USDT, risk.available());
    assertEquals(1_000 * USDT, risk.withdrawable());
  }

  @Test
  void overCommittedAccountHasNegativeAvailableAndNothingWithdrawable() {
    AccountRisk risk = AccountRisk.evaluate(1_000 * USDT, 500 * USDT, List.of(cross(ONE_BTC, LONG_COST, priceTicks(50_000), 50)));
    assertEquals((1_000 - 1_000 - 500) * USDT, risk.available());
    assertEquals(0, risk.withdrawable());
  }

  @Test
  void isolatedPositionsStayOutOfCrossEquityAndMargins() {
    // Isolated 1 BTC long from 50,000 with 5,000 USDT allocated, marked at 48,000: U = -2,000 stays with it.
    AccountRisk risk = AccountRisk.evaluate(3_000 * USDT, 0, List.of(isolated(ONE_BTC, LONG_COST, priceTicks(48_000), 10, 5_000 * USDT)));
    assertEquals(3_000 * USDT, risk.equity());
    assertEquals(0, risk.maintenanceMargin());
    assertEquals(0, risk.initialMargin());
    assertEquals(3_000 * USDT, risk.withdrawable());
    assertFalse(risk.hasCrossPositions());
    assertEquals(new PositionMetrics(48_000 * USDT, -2_000 * USDT, 192 * USDT, 4_800 * USDT), risk.metrics(0));
    assertFalse(risk.isolatedLiquidatable(0));
  }

  @Test
  void isolatedLiquidationIsAtOrBelowItsOwnMaintenance() {
    // Marked at 45,200: U = -4,800, MM = 45,200 * 0.4% = 180.8 USDT. Margin + U = 200 USDT > 180.8.
    // With 4,980.8 USDT allocated, margin + U = 180.8 = MM: liquidatable, and one unit more is not.
    long margin = 4_980_800_000L;
    AccountRisk at = AccountRisk.evaluate(0, 0, List.of(isolated(ONE_BTC, LONG_COST, priceTicks(45_200), 10, margin)));
    assertEquals(180_800_000L, at.metrics(0).maintenanceMargin());
    assertTrue(at.isolatedLiquidatable(0));
    assertTrue(at.anyIsolatedLiquidatable());
    assertTrue(at.liquidatable());
    // An account with no cross position is never cross-liquidatable, even with no cash.
    assertFalse(at.crossLiquidatable());
    AccountRisk above = AccountRisk.evaluate(0, 0, List.of(isolated(ONE_BTC, LONG_COST, priceTicks(45_200), 10, margin + 1)));
    assertFalse(above.isolatedLiquidatable(0));
    assertFalse(above.liquidatable());
  }

  @Test
  void flatPositionsCountForNothing() {
    AccountRisk risk = AccountRisk.evaluate(0, 0, List.of(cross(0, 0, priceTicks(50_000), 20), isolated(0, 0, priceTicks(50_000), 20, 0)));
    assertFalse(risk.hasCrossPositions());
    assertFalse(risk.liquidatable());
    assertFalse(risk.isolatedLiquidatable(1));
    assertEquals(new PositionMetrics(0, 0, 0, 0), risk.metrics(0));
    assertEquals(OptionalLong.empty(), risk.liquidationPriceTicks(0));
  }

  @Test
  void perPositionFiguresMatchTheStandaloneComputation() {
    PositionRisk p = cross(-1_234, -61_700_000_000L, priceTicks(51_234), 33);
    AccountRisk risk = AccountRisk.evaluate(10_000 * USDT, 0, List.of(cross(ONE_BTC, LONG_COST, priceTicks(48_000), 20), p));
    assertEquals(p.metrics(), risk.metrics(1));
    assertEquals(p, risk.position(1));
    assertEquals(2, risk.positionCount());
  }

  @Test
  void refusesMeaninglessInput() {
    assertThrows(IllegalArgumentException.class, () -> AccountRisk.evaluate(0, -1, List.of()));
    assertThrows(IllegalArgumentException.class, () -> new PositionRisk("X", 1, 1, 1, 100, BINANCE_TIERS, 1, MarginMode.CROSS, 5));
    assertThrows(IllegalArgumentException.class, () -> isolated(1, 1, 1, 1, -1));
    assertThrows(IllegalArgumentException.class, () -> cross(1, 1, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> cross(1, 1, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> cross(0, 1, 1, 1));
  }

  @Test
  void overflowingEquityThrows() {
    // Short 1 BTC from 50,000 marked at 40,000 earns 10,000 USDT, which does not fit on top of Long.MAX_VALUE cash.
    assertThrows(ArithmeticException.class, () -> AccountRisk.evaluate(Long.MAX_VALUE, 0,
        List.of(cross(-ONE_BTC, -LONG_COST, priceTicks(40_000), 20))));
  }
}
