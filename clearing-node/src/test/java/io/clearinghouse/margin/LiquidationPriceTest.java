package io.clearinghouse.margin;

import static io.clearinghouse.margin.AccountRiskTest.cross;
import static io.clearinghouse.margin.AccountRiskTest.isolated;
import static io.clearinghouse.margin.Fixtures.BINANCE_TIERS;
import static io.clearinghouse.margin.Fixtures.BTC_MULTIPLIER;
import static io.clearinghouse.margin.Fixtures.ONE_BTC;
import static io.clearinghouse.margin.Fixtures.USDT;
import static io.clearinghouse.margin.Fixtures.priceTicks;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LiquidationPriceTest {
  private static final long ENTRY_COST = 50_000 * USDT;

  @Test
  void crossLongWorkedExample() {
    // 1 BTC long from 50,000 USDT with 10,000 USDT cash, cross, nothing else: q = 1,000 lots, m = 100,
    // c = 50,000 USDT, W = 10,000 USDT. In tier 1 (mmr 0.4%, cum 0):
    //   W + q*M*m - c = q*M*m * 0.004  =>  q*M*m = (50,000 - 10,000) / 0.996 = 40,160.6425... USDT
    //   => M = 40,160.6425... USDT = 401,606.425... ticks, inside tier 1 (below 50,000 USDT of notional).
    // Exact trigger at M = 401,606 (40,160.6): E = 10,000 + 40,160.6 - 50,000 = 160.6 USDT,
    //   MM = ceil(40,160.6 * 0.004) = 160.6424 USDT, E <= MM: liquidated.
    // At M = 401,607 (40,160.7): E = 160.7, MM = 160.6428, E > MM: safe.
    // So the display is 40,160.6: the highest tick at which the trigger fires. (Rounding the root up
    // to 401,607 would show a price at which the account is not liquidated.)
    AccountRisk risk = AccountRisk.evaluate(10_000 * USDT, 0, List.of(cross(ONE_BTC, ENTRY_COST, priceTicks(50_000), 20)));
    assertEquals(OptionalLong.of(401_606), risk.liquidationPriceTicks(0));
    assertBoundary(10_000 * USDT, List.of(cross(ONE_BTC, ENTRY_COST, priceTicks(50_000), 20)), 0, 401_606, 1);
    // Bankruptcy: 10,000 + q*M*m - 50,000 = 0 at q*M*m = 40,000 USDT, M = 40,000.0 = 400,000 ticks exactly.
    assertEquals(OptionalLong.of(400_000), risk.bankruptcyPriceTicks(0));
    assertEquals("40160.6", Fixtures.BTC_PERP.formatPrice(risk.liquidationPriceTicks(0).getAsLong()));
  }

  @Test
  void crossShortWorkedExampleSolvesInTheSecondTier() {
    // 1 BTC short from 50,000 with 10,000 USDT cash: c = -50,000 USDT. For a short, W - N - c = N*mmr - cum:
    //   tier 1: N = (10,000 + 50,000 + 0) / 1.004 = 59,760.96 USDT, not inside [0, 50,000): rejected;
    //   tier 2: N = (10,000 + 50,000 + 50) / 1.005 = 59,751.2438 USDT, inside [50,000, 250,000): taken.
    //   M = 59,751.2438 USDT = 597,512.438 ticks.
    // At M = 597,512: E = 60,000 - 59,751.2 = 248.8, MM = ceil(59,751.2 * 0.005) - 50 = 248.756, E > MM: safe.
    // At M = 597,513: E = 248.7, MM = 248.7565, E <= MM: liquidated. The lowest triggering tick is shown.
    List<PositionRisk> positions = List.of(cross(-ONE_BTC, -ENTRY_COST, priceTicks(50_000), 20));
    AccountRisk risk = AccountRisk.evaluate(10_000 * USDT, 0, positions);
    assertEquals(OptionalLong.of(597_513), risk.liquidationPriceTicks(0));
    assertBoundary(10_000 * USDT, positions, 0, 597_513, -1);
    // Bankruptcy: 10,000 - N + 50,000 = 0 at N = 60,000 USDT: M = 600,000 ticks.
    assertEquals(OptionalLong.of(600_000), risk.bankruptcyPriceTicks(0));
  }

  @Test
  void isolatedLongWorkedExample() {
    // 1 BTC long from 50,000, isolated with 5,000 USDT (10x); the account's cash plays no part.
    //   N = (50,000 - 5,000) / 0.996 = 45,180.7229 USDT -> M = 451,807.229 ticks.
    // At 451,807: margin + U = 5,000 - 4,819.3 = 180.7, MM = ceil(45,180.7 * 0.004) = 180.7228: liquidated.
    // At 451,808: 180.8 > 180.7232: safe. Bankruptcy: 5,000 + U = 0 at 45,000.0.
    List<PositionRisk> positions = List.of(isolated(ONE_BTC, ENTRY_COST, priceTicks(50_000), 10, 5_000 * USDT));
    AccountRisk risk = AccountRisk.evaluate(1_000_000 * USDT, 0, positions);
    assertEquals(OptionalLong.of(451_807), risk.liquidationPriceTicks(0));
    assertEquals(OptionalLong.of(450_000), risk.bankruptcyPriceTicks(0));
    assertBoundary(1_000_000 * USDT, positions, 0, 451_807, 1);
  }

  @Test
  void otherCrossPositionsBackTheLiquidationPriceWithTheirPnlMinusTheirMaintenance() {
    // Beside the 1 BTC long, a 1 BTC short on another contract from 51,000 marked at 51,000:
    // U = 0, MM = 51,000 * 0.5% - 50 = 205 USDT (tier 2). W = 10,000 + 0 - 205 = 9,795 USDT.
    //   N = (50,000 - 9,795) / 0.996 = 40,366.4659 USDT -> M = 403,664.66 ticks.
    // At 403,664: E - MM = 9,795 + 40,366.4 - 50,000 - ceil(161.4656) = 161.4 - 161.4656 <= 0: liquidated.
    // At 403,665: 161.5 - 161.466 > 0: safe.
    PositionRisk shortOther = new PositionRisk("BTCUSDT-210625", -ONE_BTC, -51_000 * USDT, priceTicks(51_000),
        BTC_MULTIPLIER, BINANCE_TIERS, 20, MarginMode.CROSS, 0);
    List<PositionRisk> positions = List.of(cross(ONE_BTC, ENTRY_COST, priceTicks(50_000), 20), shortOther);
    AccountRisk risk = AccountRisk.evaluate(10_000 * USDT, 0, positions);
    assertEquals(205 * USDT, risk.metrics(1).maintenanceMargin());
    assertEquals(OptionalLong.of(403_664), risk.liquidationPriceTicks(0));
    assertBoundary(10_000 * USDT, positions, 0, 403_664, 1);
    // Bankruptcy ignores every MM: 10,000 + 0 + N - 50,000 = 0 at 40,000.0.
    assertEquals(OptionalLong.of(400_000), risk.bankruptcyPriceTicks(0));
  }

  @Test
  void rootExactlyOnATierEdge() {
    // 2 BTC long from 50,000 (c = 100,000 USDT) with W = 50,200 USDT:
    //   tier 1: N = 49,800 / 0.996 = 50,000 exactly, which is the edge and so not inside [0, 50,000);
    //   tier 2: N = (49,800 - 50) / 0.995 = 50,000 exactly, inside [50,000, 250,000): M = 25,000.0.
    // There E = 50,200 + 50,000 - 100,000 = 200 USDT and MM = 250 - 50 = 200 USDT: E == MM, liquidated.
    // One tick up, N = 2,000 * 250,001 * 100 = 50,000.02 USDT: E = 200.02, MM = ceil(250.0001) - 50 = 200.0001
    // (all in minor units, so the ceiling changes nothing): E > MM, safe.
    assertEquals(OptionalLong.of(250_000),
        LiquidationPrice.liquidationPriceTicks(50_200 * USDT, 2 * ONE_BTC, 2 * ENTRY_COST, BTC_MULTIPLIER, BINANCE_TIERS));
    assertTrue(LiquidationPrice.triggers(50_200 * USDT, 2 * ONE_BTC, 2 * ENTRY_COST, BTC_MULTIPLIER, BINANCE_TIERS, 250_000));
    assertFalse(LiquidationPrice.triggers(50_200 * USDT, 2 * ONE_BTC, 2 * ENTRY_COST, BTC_MULTIPLIER, BINANCE_TIERS, 250_001));
  }

  @Test
  void closedFormTakesTheRootLyingInItsOwnTier() {
    // The worked examples above: tier 1 for the long (40,160.642570 USDT, floored to a minor unit),
    // tier 2 for the short (59,751.243781 USDT; tier 1's 59,760.96 lies outside tier 1), and the edge case.
    assertEquals(40_160_642_570L,
        LiquidationPrice.liquidationNotional(10_000 * USDT, ONE_BTC, ENTRY_COST, BINANCE_TIERS));
    assertEquals(59_751_243_781L,
        LiquidationPrice.liquidationNotional(10_000 * USDT, -ONE_BTC, -ENTRY_COST, BINANCE_TIERS));
    assertEquals(50_000 * USDT,
        LiquidationPrice.liquidationNotional(50_200 * USDT, 2 * ONE_BTC, 2 * ENTRY_COST, BINANCE_TIERS));
  }

  @Test
  void closedFormUsesTheEdgeWhenOnlyTheLowerTierReachesItExactly() {
    // Tiers [0, 1,000) at 0.4% and [1,000, ...) at 0.45%: cum_2 = ceil(4.5) - ceil(4) = 1.
    // A 1-lot long (m = 1) with funds 4 and cost 1,000: tier 1 gives 4 + N - 1,000 = 0.004 N at N = 1,000
    // exactly, outside [0, 1,000); tier 2 gives N = 995 / 0.9955 = 999.5, below its bracket. Neither claims
    // the root, so the edge 1,000 is used, and it is the exact answer: at 1,000 E = 4 = MM = ceil(4.5) - 1;
    // at 1,001 E = 5 > MM = ceil(4.5045) - 1 = 4.
    RiskTiers tiers = RiskTiers.fromBrackets(List.of(
        new RiskTiers.Bracket(1_000, 4_000, 100), new RiskTiers.Bracket(1_000_000, 4_500, 100)));
    assertEquals(1_000, LiquidationPrice.liquidationNotional(4, 1, 1_000, tiers));
    assertEquals(OptionalLong.of(1_000), LiquidationPrice.liquidationPriceTicks(4, 1, 1_000, 1, tiers));
    assertTrue(LiquidationPrice.triggers(4, 1, 1_000, 1, tiers, 1_000));
    assertFalse(LiquidationPrice.triggers(4, 1, 1_000, 1, tiers, 1_001));
  }

  @Test
  void overCollateralizedLongHasNoLiquidationOrBankruptcyPrice() {
    // 60,000 USDT backing a 50,000 USDT long: even at a price of one tick the equity stays above MM.
    AccountRisk risk = AccountRisk.evaluate(60_000 * USDT, 0, List.of(cross(ONE_BTC, ENTRY_COST, priceTicks(50_000), 1)));
    assertEquals(OptionalLong.empty(), risk.liquidationPriceTicks(0));
    assertEquals(OptionalLong.empty(), risk.bankruptcyPriceTicks(0));
  }

  @Test
  void shortSunkByOtherPositionsHasNoBoundary() {
    // W = -60,000 USDT behind a short with c = -50,000: W - N - c = -10,000 - N < 0 at every price.
    assertEquals(OptionalLong.empty(),
        LiquidationPrice.liquidationPriceTicks(-60_000 * USDT, -ONE_BTC, -ENTRY_COST, BTC_MULTIPLIER, BINANCE_TIERS));
    assertEquals(OptionalLong.empty(), LiquidationPrice.bankruptcyPriceTicks(-60_000 * USDT, -ONE_BTC, -ENTRY_COST, BTC_MULTIPLIER));
  }

  @Test
  void longLiquidatableAtEveryRepresentablePriceHasNoBoundary() {
    // W = -Long.MAX_VALUE / 2 behind a 1-lot long with c = Long.MAX_VALUE / 2: W + M - c < MM(M) for every
    // M whose notional fits a long (and the closed form's root itself does not fit: the search still runs).
    long half = Long.MAX_VALUE / 2;
    assertEquals(OptionalLong.empty(), LiquidationPrice.liquidationPriceTicks(-half, 1, half, 1, BINANCE_TIERS));
    assertTrue(LiquidationPrice.triggers(-half, 1, half, 1, BINANCE_TIERS, Long.MAX_VALUE));
  }

  @Test
  void flatPositionHasNoPrices() {
    assertEquals(OptionalLong.empty(), LiquidationPrice.liquidationPriceTicks(0, 0, 0, BTC_MULTIPLIER, BINANCE_TIERS));
    assertEquals(OptionalLong.empty(), LiquidationPrice.bankruptcyPriceTicks(0, 0, 0, BTC_MULTIPLIER));
  }

  @Test
  void randomAccountsLiquidateExactlyAtTheDisplayedPrice() {
    Random random = new Random(2021);
    int liquidationPrices = 0;
    int aboveFirstTier = 0;
    int bankruptcyPrices = 0;
    for (int account = 0; account < 3_000; account++) {
      long cash = random.nextInt(200_000) * USDT + random.nextInt(1_000_000);
      List<PositionRisk> positions = randomPositions(random);
      AccountRisk risk = AccountRisk.evaluate(cash, 0, positions);
      for (int i = 0; i < positions.size(); i++) {
        long safer = positions.get(i).lots() > 0 ? 1 : -1;
        OptionalLong liquidation = risk.liquidationPriceTicks(i);
        if (liquidation.isPresent()) {
          liquidationPrices++;
          assertBoundary(cash, positions, i, liquidation.getAsLong(), safer);
          assertClosedFormWithinOneTick(cash, risk, positions.get(i), i, liquidation.getAsLong());
          long notional = MarginMath.notional(positions.get(i).lots(), liquidation.getAsLong(), BTC_MULTIPLIER);
          if (notional >= BINANCE_TIERS.tiers().get(1).lowerBound()) {
            aboveFirstTier++;
          }
        }
        OptionalLong bankruptcy = risk.bankruptcyPriceTicks(i);
        if (bankruptcy.isPresent()) {
          bankruptcyPrices++;
          assertTrue(equityAt(cash, positions, i, bankruptcy.getAsLong()) <= 0, "bankrupt at " + bankruptcy);
          assertTrue(equityAt(cash, positions, i, bankruptcy.getAsLong() + safer) > 0, "solvent one tick safer");
          liquidation.ifPresent(lp -> assertTrue(safer > 0 ? lp >= bankruptcy.getAsLong() : lp <= bankruptcy.getAsLong(),
              "liquidation comes before bankruptcy"));
        }
      }
    }
    assertTrue(liquidationPrices > 3_000, "liquidation prices found: " + liquidationPrices);
    assertTrue(aboveFirstTier > 500, "liquidation prices above tier 1: " + aboveFirstTier);
    assertTrue(bankruptcyPrices > 3_000, "bankruptcy prices found: " + bankruptcyPrices);
  }

  /** With rates at most 50%, the ceiling in MM moves the exact boundary at most one tick from the root. */
  private static void assertClosedFormWithinOneTick(long cash, AccountRisk risk, PositionRisk p, int index, long boundary) {
    long funds = p.mode() == MarginMode.ISOLATED ? p.isolatedMargin()
        : cash + (risk.equity() - cash - risk.metrics(index).unrealizedPnl())
            - (risk.maintenanceMargin() - risk.metrics(index).maintenanceMargin());
    long rootTick = Math.floorDiv(LiquidationPrice.liquidationNotional(funds, p.lots(), p.cost(), p.tiers()),
        Math.abs(p.lots()) * p.multiplier());
    assertTrue(Math.abs(rootTick - boundary) <= 1, "closed form " + rootTick + " vs boundary " + boundary);
  }

  private static List<PositionRisk> randomPositions(Random random) {
    int count = 1 + random.nextInt(3);
    List<PositionRisk> positions = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      // Up to 5,000 BTC, so that notionals reach the upper tiers.
      long lots = 1 + (random.nextInt(4) == 0 ? random.nextInt(5_000_000) : random.nextInt(20_000));
      long signedLots = random.nextBoolean() ? lots : -lots;
      long entryTicks = priceTicks(1_000 + random.nextInt(99_000)) + random.nextInt(10);
      long markTicks = Math.max(1, entryTicks + random.nextInt(100_001) - 50_000);
      long cost = signedLots * entryTicks * BTC_MULTIPLIER;
      int leverage = 1 + random.nextInt(125);
      if (random.nextInt(3) == 0) {
        long margin = MarginMath.notional(lots, entryTicks, BTC_MULTIPLIER) / (1 + random.nextInt(50));
        positions.add(new PositionRisk("ISO-" + i, signedLots, cost, markTicks, BTC_MULTIPLIER, BINANCE_TIERS, leverage,
            MarginMode.ISOLATED, margin));
      } else {
        positions.add(new PositionRisk("CROSS-" + i, signedLots, cost, markTicks, BTC_MULTIPLIER, BINANCE_TIERS, leverage,
            MarginMode.CROSS, 0));
      }
    }
    return positions;
  }

  /** E(LP) <= MM(LP), and one tick safer E > MM, re-evaluating the whole account with only that mark moved. */
  private static void assertBoundary(long cash, List<PositionRisk> positions, int index, long priceTicks, long safer) {
    assertTrue(liquidatableAt(cash, positions, index, priceTicks), "liquidated at " + priceTicks);
    assertFalse(liquidatableAt(cash, positions, index, priceTicks + safer), "safe one tick safer than " + priceTicks);
  }

  private static boolean liquidatableAt(long cash, List<PositionRisk> positions, int index, long markTicks) {
    AccountRisk risk = AccountRisk.evaluate(cash, 0, withMark(positions, index, markTicks));
    PositionRisk p = positions.get(index);
    return p.mode() == MarginMode.CROSS ? risk.crossLiquidatable() : risk.isolatedLiquidatable(index);
  }

  /** Cross equity, or an isolated position's margin plus its PnL, with only that position's mark moved. */
  private static long equityAt(long cash, List<PositionRisk> positions, int index, long markTicks) {
    AccountRisk risk = AccountRisk.evaluate(cash, 0, withMark(positions, index, markTicks));
    PositionRisk p = positions.get(index);
    return p.mode() == MarginMode.CROSS ? risk.equity() : p.isolatedMargin() + risk.metrics(index).unrealizedPnl();
  }

  private static List<PositionRisk> withMark(List<PositionRisk> positions, int index, long markTicks) {
    List<PositionRisk> moved = new ArrayList<>(positions);
    PositionRisk p = positions.get(index);
    moved.set(index, new PositionRisk(p.instrumentId(), p.lots(), p.cost(), markTicks, p.multiplier(), p.tiers(),
        p.leverage(), p.mode(), p.isolatedMargin()));
    return moved;
  }

  /**
   * Funds near the top of a long (an account the model test filled with the largest deposits):
   * the equity at a far mark does not fit a long. The boundary is still found, or rightly absent,
   * and nothing throws (an ArithmeticException here crashed the account entity while it answered
   * SetStop: AccountModelTest, stop 28).
   */
  @Test
  void fundsNearTheTopOfALongStillGiveTheBoundary() {
    long funds = Long.MAX_VALUE - 1_000;
    assertFalse(LiquidationPrice.liquidationPriceTicks(funds, ONE_BTC, ENTRY_COST, BTC_MULTIPLIER, BINANCE_TIERS)
        .isPresent(), "a long carried by such funds is safe at every price");
    OptionalLong shortBoundary = LiquidationPrice.liquidationPriceTicks(funds, -ONE_BTC, -ENTRY_COST, BTC_MULTIPLIER,
        BINANCE_TIERS);
    shortBoundary.ifPresent(tick -> assertTrue(LiquidationPrice.triggers(funds, -ONE_BTC, -ENTRY_COST, BTC_MULTIPLIER,
        BINANCE_TIERS, tick), "the boundary triggers"));
  }
}
