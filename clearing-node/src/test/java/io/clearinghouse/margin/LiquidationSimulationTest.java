package io.clearinghouse.margin;

import static io.clearinghouse.margin.Fixtures.BINANCE_TIERS;
import static io.clearinghouse.margin.Fixtures.USDT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The liquidation worked out in place (the stress test): the worked examples of
 * FundFlowIntegrationTest reproduced without a node, partial closes tier by tier, isolated
 * shortfalls, bankruptcy pricing, the shock rule, and the trigger always the monitor's.
 */
class LiquidationSimulationTest {
  /** BTCUSDT-PERP as configured: maker 0.02%, taker 0.05%, liquidation fee 1%. */
  static final Instrument PERP = Instrument.define("BTCUSDT-PERP", InstrumentKind.PERPETUAL, null, 6, "0.1", "0.001",
      200, 500, 10_000, BINANCE_TIERS);
  static final long SPREAD = 2_000;

  record Held(Instrument instrument, int slot, long lots, long cost, boolean isolated, long isolatedMargin)
      implements LiquidationRule.Held {}

  static Held cross(long lots, long priceUsdt) {
    return new Held(PERP, 0, lots, lots * priceUsdt * 10 * 100, false, 0);
  }

  static LiquidationSimulation.Outcome at(long cash, long markTicks, boolean atBankruptcy, Held... held) {
    return LiquidationSimulation.simulate(cash, held, new long[] {markTicks}, new boolean[] {true},
        new boolean[] {atBankruptcy}, new long[] {SPREAD});
  }

  @Test
  void aSurplusClosedThroughAProviderAsTheFundFlowTestSawIt() {
    // 1 BTC bought at 50,000 with 975 of cash; mark 49,221.8: the provider takes it at 49,123.3,
    // the penalty is what is left above bankruptcy, 98.3 (1% would be 491.233).
    var outcome = at(975 * USDT, 492_218, false, cross(1_000, 50_000));
    assertTrue(outcome.liquidated());
    assertEquals(1, outcome.closes().size());
    var close = outcome.closes().get(0);
    assertEquals(List.of(-1_000L, 491_233L, 98_300_000L, 491_233_000L, 0L, 0L, 0L),
        List.of(close.signedLots(), close.priceTicks(), close.penalty(), close.fullPenalty(), outcome.need(),
            outcome.penaltyApplied(), outcome.hold()));
    assertTrue(close.backstop());
    assertEquals(49_123_300_000L, close.notional());
  }

  @Test
  void theSimulationValuesAtTheTiersAsScaledNow() {
    // 1 BTC from 50,000 with 975 of cash at mark 49,500: equity 475, MM 198: safe at the configured
    // rates; with maintenance scaled x3 (1.2%: 594) it is liquidated, as the monitor would.
    assertFalse(at(975 * USDT, 495_000, false, cross(1_000, 50_000)).liquidated());
    RiskTiers tripled = MarginScaling.scaled(BINANCE_TIERS, 3_000_000, 3_000_000, 0);
    var outcome = LiquidationSimulation.simulate(975 * USDT, new Held[] {cross(1_000, 50_000)}, new long[] {495_000},
        new boolean[] {true}, new boolean[] {false}, new long[] {SPREAD}, new RiskTiers[] {tripled});
    assertTrue(outcome.liquidated());
    assertEquals(-1_000L, outcome.closes().get(0).signedLots());
  }

  @Test
  void aDeficitTheFundIsAskedToHoldAndToPay() {
    // The same at mark 49,000: closed at 48,902.0, 123 beyond the trader's 975; bankruptcy 49,025.
    var outcome = at(975 * USDT, 490_000, false, cross(1_000, 50_000));
    assertEquals(List.of(123 * USDT, 0L, 123 * USDT), List.of(outcome.need(), outcome.penaltyApplied(), outcome.hold()));
    assertEquals(0, outcome.penalties());
    // At bankruptcy instead (no provider, or the fund cannot hold it): no deficit, no penalty.
    var deleveraged = at(975 * USDT, 490_000, true, cross(1_000, 50_000));
    assertEquals(490_250L, deleveraged.closes().get(0).priceTicks());
    assertEquals(List.of(0L, 0L, 0L), List.of(deleveraged.need(), deleveraged.penalties(), deleveraged.hold()));
  }

  @Test
  void aPositionAboveTheFirstTierIsClosedInPartDownToIt() {
    // 5 BTC bought at 50,000 (taker fee 125) with 6,200: at 49,000 equity 1,075 <= maintenance 1,175
    // (tier 2); closing 3.98 BTC at 48,902.0 leaves 1.02 BTC (49,980 of notional) in the first
    // tier. Its penalty takes what is left above bankruptcy (684.96 of 1% = 1,946.2996), so the
    // account is at 0 <= 199.92 and the rest goes too: 99.96 beyond the cash (bankruptcy 49,000),
    // which the first close's penalty covers before any fund pays.
    var outcome = at(6_075 * USDT, 490_000, false, cross(5_000, 50_000));
    assertEquals(2, outcome.closes().size());
    assertEquals(-3_980L, outcome.closes().get(0).signedLots());
    assertEquals(-1_020L, outcome.closes().get(1).signedLots());
    assertEquals(List.of(684_960_000L, 0L), List.of(outcome.closes().get(0).penalty(), outcome.closes().get(1).penalty()));
    assertEquals(List.of(99_960_000L, 99_960_000L, 99_960_000L), List.of(outcome.need(), outcome.penaltyApplied(),
        outcome.hold()));
    assertEquals(List.of(585_000_000L, 0L), toList(outcome.penaltiesLeft()));
  }

  @Test
  void anIsolatedLossBeyondItsMarginIsOwedNotTakenFromTheCash() {
    // Isolated 1 BTC at 50,000 with 500 of margin, 10,000 of cash; mark 49,400: 500 - 600 <= MM.
    Held isolated = new Held(PERP, 0, 1_000, 50_000_000_000L, true, 500 * USDT);
    var outcome = LiquidationSimulation.simulate(10_000 * USDT, new Held[] {isolated}, new long[] {494_000},
        new boolean[] {true}, new boolean[] {false}, new long[] {SPREAD});
    assertTrue(outcome.liquidated());
    // Closed at 49,301.2: a loss of 698.8 against 500 of margin: 198.8 owed.
    assertEquals(198_800_000L, outcome.need());
    assertEquals(0, outcome.penalties());
  }

  @Test
  void aPositionWithoutAUsableMarkWaits() {
    Held isolated = new Held(PERP, 0, 1_000, 50_000_000_000L, true, 1);
    Held other = new Held(PERP, 1, 1_000, 50_000_000_000L, true, 1);
    var outcome = LiquidationSimulation.simulate(0, new Held[] {isolated, other}, new long[] {400_000, 0},
        new boolean[] {true, false}, new boolean[] {false, false}, new long[] {SPREAD, SPREAD});
    assertTrue(outcome.triggered());
    assertTrue(outcome.waiting());
    assertFalse(outcome.liquidated());
  }

  @Test
  void theTriggerIsAlwaysTheMonitorsRule() {
    Random random = new Random(16);
    for (int i = 0; i < 2_000; i++) {
      long lots = (random.nextInt(20_000) + 1) * (random.nextBoolean() ? 1L : -1L);
      long entry = 300_000 + random.nextInt(400_000);
      Held held = new Held(PERP, 0, lots, lots * entry * 100, false, 0);
      long cash = random.nextInt(50_000) * USDT;
      long mark = 300_000 + random.nextInt(400_000);
      boolean breached = LiquidationRule.breached(cash, new Held[] {held}, new long[] {mark}, new boolean[] {true});
      var outcome = at(cash, mark, random.nextBoolean(), held);
      assertEquals(breached, outcome.liquidated(), "cash " + cash + ", " + held + ", mark " + mark);
      if (outcome.liquidated()) {
        // Every close reduced the position, and the account ends healthy or flat.
        long left = lots;
        for (var c : outcome.closes()) {
          assertEquals(-Long.signum(left), Long.signum(c.signedLots()));
          left += c.signedLots();
        }
        assertTrue(outcome.penaltyApplied() <= Math.min(outcome.need(), outcome.penalties()));
      }
    }
  }

  @Test
  void theShockRule() {
    assertEquals(400_000, LiquidationSimulation.shockedMarkTicks(500_000, -200_000));
    assertEquals(475_000, LiquidationSimulation.shockedMarkTicks(500_000, -50_000));
    // Rounded down, at least one tick.
    assertEquals(3, LiquidationSimulation.shockedMarkTicks(7, -500_000));
    assertEquals(1, LiquidationSimulation.shockedMarkTicks(1, -990_000));
    assertEquals(995_000, LiquidationSimulation.shockedMarkTicks(500_000, 990_000));
    assertThrows(IllegalArgumentException.class, () -> LiquidationSimulation.shockedMarkTicks(500_000, -990_001));
    assertThrows(IllegalArgumentException.class, () -> LiquidationSimulation.shockedMarkTicks(500_000, 990_001));
    assertThrows(IllegalArgumentException.class, () -> LiquidationSimulation.shockedMarkTicks(0, -1));
  }

  @Test
  void penaltiesLeftAfterTheNeedFromTheFirstClosesFirst() {
    assertEquals(List.of(0L, 3L, 7L), toList(ReserveRules.penaltiesLeft(new long[] {5, 5, 7}, 7)));
    assertEquals(List.of(5L, 5L), toList(ReserveRules.penaltiesLeft(new long[] {5, 5}, 0)));
    assertEquals(List.of(0L, 0L), toList(ReserveRules.penaltiesLeft(new long[] {5, 5}, 10)));
  }

  @Test
  void theIsolatedRelease() {
    assertEquals(100, LiquidationRules.isolatedRelease(10, 0, 100));
    assertEquals(100, LiquidationRules.isolatedRelease(10, -3, 100));
    assertEquals(33, LiquidationRules.isolatedRelease(-9, -6, 100));
    assertEquals(0, LiquidationRules.isolatedRelease(5, 8, 100));
  }

  private static List<Long> toList(long[] values) {
    return java.util.Arrays.stream(values).boxed().toList();
  }
}
