package io.clearinghouse.margin;

import static io.clearinghouse.margin.Fixtures.BINANCE_TIERS;
import static io.clearinghouse.margin.Fixtures.USDT;

import org.junit.jupiter.api.Test;

/**
 * Review of issue 16: what the stress test's simulation costs per liquidated account when the market
 * is thin (depth 0 published, liquidation-depth-share 10%, the default min slice 1%), against whole
 * closes. Prints figures only (no timed assertion): 16,000 liquidated accounts of 1 BTC, as in the
 * README's 100,000-account benchmark (16% liquidated).
 */
class Review16SliceCostProbe {
  @Test
  void thinMarketCost() {
    Instrument perp = LiquidationSimulationTest.PERP;
    LiquidationRule.Held[] held = {new LiquidationSimulationTest.Held(perp, 0, 1_000, 1_000L * 50_000 * 10 * 100,
        false, 0)};
    LiquidationSimulation.Slicing thin = (slot, lots, mark) -> DepthRules.slice(lots, 0, 100_000, mark, 10, 10_000);
    for (int round = 0; round < 3; round++) {
      for (LiquidationSimulation.Slicing s : new LiquidationSimulation.Slicing[] {LiquidationSimulation.Slicing.WHOLE,
          thin}) {
        long start = System.nanoTime();
        long closes = 0;
        for (int i = 0; i < 16_000; i++) {
          closes += LiquidationSimulation.simulate(975 * USDT, held, new long[] {400_000}, new boolean[] {true},
              new boolean[] {false}, new long[] {2_000}, new RiskTiers[] {BINANCE_TIERS}, s).closes().size();
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.println("REVIEW16 " + (s == thin ? "thin " : "whole") + " 16,000 accounts: " + closes
            + " closes, " + ms + " ms");
      }
    }
  }
}
