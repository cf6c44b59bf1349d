package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clearinghouse.account.Account;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.LiquidationRole;
import io.clearinghouse.instrument.LiquidationTerms;
import io.clearinghouse.instrument.LiquidationTerms.NegativeBalancePolicy;
import io.clearinghouse.margin.PenaltySplit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A deficit's waterfall and the penalty's shares on the saga's state replayed from its events
 * (issue 14, items 2 and 4): the penalties in escrow cover the deficit first, then the fund, then
 * the operator's capital; what is left of the penalty is split by the instrument's policy, the
 * liquidator's share to the provider that took the close; escrow is zero once all is delivered.
 */
class WaterfallTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final LiquidationTerms TERMS = new LiquidationTerms(PERP, NegativeBalancePolicy.DEBT, 2_000,
      new PenaltySplit(400_000, 250_000, 150_000, 125_000, 75_000), 0, 300_000_000);

  private static List<LiquidationSaga.Event> twoCloses() {
    var trigger = new Account.Liquidation("alice-1-9", 1, 0, Map.of(PERP, 494_000L), 450, 390, null);
    List<LiquidationSaga.Event> events = new ArrayList<>(List.of(new LiquidationSaga.Began("alice-1", trigger)));
    // Close 0 through provider "prov" with a penalty of 98.300001, close 1 deleveraged with none.
    events.addAll(close(0, LiquidationSaga.Venue.BACKSTOP, "prov", 98_300_001));
    events.addAll(close(1, LiquidationSaga.Venue.ADL, "bob-1", 0));
    events.add(new LiquidationSaga.ClosingFinished(0, null));
    return events;
  }

  private static List<LiquidationSaga.Event> close(int step, LiquidationSaga.Venue venue, String counterparty,
      long penalty) {
    String key = "alice-1-9/close-" + step;
    // 0.5 BTC bought at 50,000 (cost 25,000) sold at 49,123.3 (24,561.65): realized -438.35.
    LiquidationTransfer taken = new LiquidationTransfer(key, "alice-1-9", venue == LiquidationSaga.Venue.ADL
        ? LiquidationRole.DELEVERAGED : LiquidationRole.BACKSTOP, "alice-1", PERP, 500, 491_233, 0, 24_561_650_000L,
        0, 0, 0, 0);
    LiquidationTransfer closed = new LiquidationTransfer(key, "alice-1-9", LiquidationRole.LIQUIDATED, counterparty,
        PERP, -500, 491_233, -438_350_000, -25_000_000_000L, 0, penalty, 0, 0);
    return List.of(new LiquidationSaga.ClosePlanned(step, PERP, -500, 492_218, 490_250, false),
        new LiquidationSaga.VenueChosen(step, venue, counterparty, 491_233, -500, 0),
        new LiquidationSaga.TakenOver(step, taken), new LiquidationSaga.Closed(step, closed, 245_616_500));
  }

  private static LiquidationSaga.State replay(List<LiquidationSaga.Event> events) {
    LiquidationSaga.State s = LiquidationSaga.State.empty();
    for (LiquidationSaga.Event e : events) {
      s = LiquidationSaga.apply(s, e);
    }
    return s;
  }

  @Test
  void withoutADeficitThePenaltyIsSplitFiveWaysAndTheProviderGetsItsReward() {
    List<LiquidationSaga.Event> events = twoCloses();
    events.add(new LiquidationSaga.SettlementAssessed(PERP, 0, 500, 0));
    LiquidationSaga.State s = replay(events);
    Map<String, Long> expected = new LinkedHashMap<>();
    expected.put(PERP, 39_320_001L);
    expected.put("reserve/market-making", 24_575_000L);
    expected.put("reserve/platform-revenue", 14_745_000L);
    expected.put("reserve/investor-protection", 12_287_500L);
    expected.put("provider/prov", 7_372_500L);
    assertEquals(expected, Settlement.pendingShares(s, i -> TERMS));
    assertEquals(98_300_001, s.escrow());
    // Delivered one by one: nothing pending, nothing left in escrow.
    expected.forEach((destination, amount) -> events.add(new LiquidationSaga.PenaltyDelivered(destination, amount)));
    LiquidationSaga.State delivered = replay(events);
    assertEquals(Map.of(), Settlement.pendingShares(delivered, i -> TERMS));
    assertEquals(0, delivered.escrow());
    // The cut: 1% of 0.5 BTC at 49,123.3 is 245.6165; close 0 took 98.300001 of it, close 1 nothing.
    assertEquals(List.of(147_316_499L, 245_616_500L), delivered.closes().stream()
        .map(LiquidationSaga.Close::penaltyCut).toList());
  }

  @Test
  void aDeficitTakesThePenaltyThenTheFundThenTheOperatorsCapitalThenIsDebt() {
    List<LiquidationSaga.Event> events = twoCloses();
    // The account needs 500 covered: the penalty in escrow covers 98.300001 of it first.
    events.add(new LiquidationSaga.SettlementAssessed(PERP, 500_000_000, -500_000_000, 0));
    events.add(new LiquidationSaga.PenaltyApplied(98_300_001));
    LiquidationSaga.State applied = replay(events);
    assertEquals(401_699_999, Settlement.afterPenalty(applied));
    assertEquals(Map.of(), Settlement.pendingShares(applied, i -> TERMS));
    // The fund pays the 100 it has, the operator's capital its daily 300, and 1.699999 is debt.
    events.add(new LiquidationSaga.FundPaid(PERP, 401_699_999, 100_000_000));
    events.add(new LiquidationSaga.CapitalPaid(301_699_999, 300_000_000));
    LiquidationSaga.State paid = replay(events);
    assertEquals(301_699_999, Settlement.afterFund(replay(events.subList(0, events.size() - 1))));
    assertEquals(498_300_001, paid.cover());
    assertEquals(1_699_999, Settlement.uncovered(paid));
    assertEquals(498_300_001, paid.escrow());
    events.add(new LiquidationSaga.CoverDelivered(498_300_001));
    events.add(new LiquidationSaga.DebtLeft(1_699_999));
    LiquidationSaga.State settled = replay(events);
    assertEquals(0, settled.escrow());
    FundFlow flow = FundFlow.of("alice-1-9", settled, settings());
    assertEquals(0, flow.movementsSum());
    FundFlow.Shares shares = flow.shares();
    assertEquals(List.of(98_300_001L, 100_000_000L, 300_000_000L, 0L), List.of(shares.penaltyApplied(),
        flow.insuranceFundOut(), shares.operatorCapitalPaid(), shares.penaltyToInsuranceFunds()));
    // The closes gave 0.5 BTC at 49,123.3 against a mark of 49,221.8: 49.25 each to the counterparty.
    assertEquals(List.of(49_250_000L, 49_250_000L, 0L), List.of(shares.toProviders(), shares.toDeleveraged(),
        shares.socialized()));
    // What the trader lost: the gains and the penalty, less every layer's cover.
    assertEquals(98_500_000 + 98_300_001 - 498_300_001, shares.tradersLoss());
  }

  private static LiquidationSettings settings() {
    var instruments = io.clearinghouse.instrument.Instruments.of(List.of(new io.clearinghouse.instrument.InstrumentSpec(
        io.clearinghouse.instrument.Instruments.fromConfig(com.typesafe.config.ConfigFactory.load(), 6).require(PERP),
        100_000, TERMS)));
    return new LiquidationSettings(instruments, java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(5), 10, 10,
        false, java.time.Duration.ofDays(8));
  }
}
