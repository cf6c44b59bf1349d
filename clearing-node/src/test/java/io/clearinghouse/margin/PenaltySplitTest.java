package io.clearinghouse.margin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The penalty split (DESIGN section 6, step 4): exact parts, rounding residue to the fund, shares summing to 100%. */
class PenaltySplitTest {
  /** 40% fund, 25% market-making, 15% platform revenue, 12.5% investor protection, 7.5% liquidator. */
  private static final PenaltySplit FIVE_WAYS = new PenaltySplit(400_000, 250_000, 150_000, 125_000, 75_000);

  @Test
  void aSurplusSplitFiveWaysRoundsEachShareDownAndGivesTheFundTheRest() {
    // 98.300001 USDT: 24.575000(.25), 14.745000(.15), 12.287500(.125), 7.372500(.075) rounded down;
    // the fund's 40% would be 39.3200004: it takes the rest, 39.320001.
    PenaltySplit.Shares shares = FIVE_WAYS.split(98_300_001, true);
    assertEquals(new PenaltySplit.Shares(39_320_001, 24_575_000, 14_745_000, 12_287_500, 7_372_500), shares);
    assertEquals(98_300_001, shares.sum());
  }

  @Test
  void aProvidersRewardOnlyWhenAProviderTookTheClose() {
    assertEquals(new PenaltySplit.Shares(46_692_501, 24_575_000, 14_745_000, 12_287_500, 0),
        FIVE_WAYS.split(98_300_001, false));
    assertEquals(new PenaltySplit.Shares(0, 0, 0, 0, 0), FIVE_WAYS.split(0, true));
    // One unit: every share rounds down to nothing, the fund takes it.
    assertEquals(new PenaltySplit.Shares(1, 0, 0, 0, 0), FIVE_WAYS.split(1, true));
    assertEquals(new PenaltySplit.Shares(7, 0, 0, 0, 0), PenaltySplit.ALL_TO_FUND.split(7, true));
  }

  @Test
  void sharesMustSumToExactlyOneHundredPercent() {
    assertThrows(IllegalArgumentException.class, () -> new PenaltySplit(400_000, 250_000, 150_000, 125_000, 74_999));
    assertThrows(IllegalArgumentException.class, () -> new PenaltySplit(1_000_001, 0, 0, 0, -1));
    assertThrows(IllegalArgumentException.class, () -> new PenaltySplit(500_000, 500_000, 0, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> FIVE_WAYS.split(-1, true));
  }

  @Test
  void theOtherReserveRules() {
    assertEquals(30, ReserveRules.penaltyDraw(30, 98));
    assertEquals(98, ReserveRules.penaltyDraw(130, 98));
    assertEquals(0, ReserveRules.penaltyDraw(0, 98));
    assertEquals(100, ReserveRules.withinDailyLimit(250, 300, 200));
    assertEquals(0, ReserveRules.withinDailyLimit(250, 300, 300));
    assertEquals(123, ReserveRules.replenishment(1_234, 100_000, 1_000));
    assertEquals(100, ReserveRules.replenishment(1_234, 500_000, 100));
    assertEquals(0, ReserveRules.replenishment(-5, 500_000, 100));
    // A long of 1 BTC (-1,000 lots closed) sold at 49,123.3 against a mark of 49,221.8: the buyer
    // gained 98.5 USDT; bought back at a bankruptcy price above the mark, it lost.
    assertEquals(98_500_000, ReserveRules.counterpartyGain(-1_000, 491_233, 492_218, 100));
    assertEquals(-500_000, ReserveRules.counterpartyGain(-1_000, 500_005, 500_000, 100));
    assertEquals(491_233, ReserveRules.fullPenalty(49_123_300_000L, 10));
    assertEquals("its position would reach a net notional of 98050000000, above its takeover limit of 50000000000",
        ReserveRules.takeoverRefusal(2_000, 490_250, 100, 50_000_000_000L, 0, 0).orElseThrow());
    assertEquals(java.util.Optional.empty(), ReserveRules.takeoverRefusal(-1_000, 490_250, 100, 50_000_000_000L, -5, 5));
    assertEquals("it cannot pay the loss of 6 with 5",
        ReserveRules.takeoverRefusal(0, 490_250, 100, 50_000_000_000L, -6, 5).orElseThrow());
  }
}
