package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.price.MarkPrices;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Trades, reservations, leverage and margin mode on one account, with hand-checked numbers for
 * BTCUSDT-PERP (tick 0.1 USDT, lot 0.001 BTC, so 50,000.0 USDT = 500,000 ticks, 1 BTC = 1,000
 * lots, notional multiplier 100; taker 0.05%, maker 0.02%; default leverage 20). Money is in
 * minor units: 1 USDT = 1,000,000.
 */
class TradingEntityTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final AtomicInteger ids = new AtomicInteger();
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long P50K = 500_000L;
  private static final long ONE_BTC = 1_000L;

  private EventSourcedBehaviorTestKit<Command, Event, State> account;
  private MarkPrices marks;
  private final AtomicInteger sequence = new AtomicInteger(100);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newAccount() {
    marks = MarkPrices.local();
    account = AccountEntityTest.openedAccount(testKit, "trader-" + ids.incrementAndGet(), marks);
  }

  private void deposit(long amount) {
    run(replyTo -> new AccountEntity.Deposit("d-" + amount + "-" + sequence.incrementAndGet(), amount,
        replyTo));
  }

  private CommandResultWithReply<Command, Event, State, Reply> trade(long seq, String tradeId, long lots, long price,
      boolean taker, String orderId) {
    return run(replyTo -> new AccountEntity.ApplyTrade(tradeId, seq, PERP, lots, price, taker, orderId, "counterparty",
        replyTo));
  }

  private CommandResultWithReply<Command, Event, State, Reply> trade(long lots, long price, boolean taker) {
    int seq = sequence.incrementAndGet();
    return trade(seq, "t-" + seq, lots, price, taker, null);
  }

  private CommandResultWithReply<Command, Event, State, Reply> run(
      java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<Reply>, Command> command) {
    return account.runCommand(command);
  }

  private AccountSummary summary() {
    return ((AccountEntity.Snapshot) account.runCommand(AccountEntity.Get::new).reply()).account();
  }

  private Account state() {
    return (Account) account.getState();
  }

  private static void assertRejected(CommandResultWithReply<Command, Event, State, Reply> result, Rejection reason) {
    AccountEntity.Rejected rejected = assertInstanceOf(AccountEntity.Rejected.class, result.reply());
    assertEquals(reason, rejected.reason(), rejected.message());
    assertTrue(result.hasNoEvents(), "a refused command must persist nothing");
  }

  @Test
  void aTakerBuyOpensALongAndChargesTheTakerFeeInTheSameEvent() {
    deposit(10_000 * USDT);
    var result = trade(101, "t-101", ONE_BTC, P50K, true, null);
    // Notional 50,000 USDT; taker fee 0.05% = 25 USDT; the cost basis takes the whole value.
    // Without a register's cut time the account's clock is the funding cut; BTCUSDT-PERP funds every 8 h.
    long cut = ((AccountEntity.TradeCleared) result.event()).cutMillis();
    assertTrue(Math.abs(cut - System.currentTimeMillis()) < 60_000, "cut " + cut);
    assertEquals(new AccountEntity.TradeCleared("t-101", 101, PERP, ONE_BTC, P50K, 25 * USDT, 0, 50_000 * USDT, 0,
        null, 0, "counterparty", true, null, cut, 8 * 3_600_000L), result.event());
    assertEquals(new AccountEntity.TradeSideApplied(25 * USDT, false), result.reply());

    AccountSummary s = summary();
    assertEquals(9_975 * USDT, s.cash());
    assertEquals(9_975 * USDT, s.equity()); // marked at the last trade price: no unrealized PnL
    // IM = 50,000 / 20 = 2,500; available = 9,975 - 2,500; withdrawable = min(cash, available).
    assertEquals(7_475 * USDT, s.available());
    assertEquals(7_475 * USDT, s.withdrawable());
    PositionSummary p = s.positions().get(0);
    assertEquals(2_500 * USDT, p.initialMargin());
    // Tier 2 (50k-250k): 0.5% * 50,000 - 50 = 200 USDT.
    assertEquals(200 * USDT, p.maintenanceMargin());
    // 200 / 9,975 = 0.0200501... rounded up to whole ppm.
    assertEquals(20_051, s.marginRatioPpm());
    assertEquals(P50K, p.entryPriceTicks());
    // Tier 1 solves it: 9,975 + M - 50,000 = 0.004 M  ->  M = 40,025 / 0.996 = 40,185.74...;
    // shown as the highest tick that triggers: at 40,185.7 equity 160.7 <= MM 160.74, while at
    // 40,185.8 equity 160.8 > MM 160.7432.
    assertEquals(401_857L, p.liquidationPriceTicks());
  }

  @Test
  void aPartialCloseRealizesExactPnlAndTheMakerFee() {
    deposit(10_000 * USDT);
    trade(ONE_BTC, P50K, true);
    var close = trade(-400, 510_000L, false);
    AccountEntity.TradeCleared event = (AccountEntity.TradeCleared) close.event();
    // 0.4 BTC of a 50,000 cost: cost removed 20,000; sold for 20,400; realized +400 USDT.
    assertEquals(400 * USDT, event.realizedPnl());
    assertEquals(-20_000 * USDT, event.costDelta());
    // Maker fee 0.02% of 20,400 = 4.08 USDT.
    assertEquals(4_080_000L, event.fee());
    assertEquals(9_975 * USDT + 400 * USDT - 4_080_000L, state().cash());
    assertEquals(600, state().holding(PERP).lots());
    assertEquals(30_000 * USDT, state().holding(PERP).cost());
  }

  @Test
  void resubmittedSidesAreAnsweredOnceConflictsAndTooOldOnesAreRefused() {
    deposit(100_000 * USDT);
    trade(201, "t-201", ONE_BTC, P50K, true, null);
    var again = trade(201, "t-201", ONE_BTC, P50K, true, null);
    assertTrue(again.hasNoEvents());
    assertEquals(new AccountEntity.TradeSideApplied(25 * USDT, true), again.reply());
    assertRejected(trade(201, "t-other", ONE_BTC, P50K, true, null), Rejection.TRADE_CONFLICT);
    // The account remembers 5 trades (test settings); fill the memory with newer ones.
    for (int seq = 202; seq <= 206; seq++) {
      trade(seq, "t-" + seq, 1, P50K, false, null);
    }
    assertRejected(trade(150, "t-150", 1, P50K, false, null), Rejection.TRADE_TOO_OLD);
    assertEquals(ONE_BTC + 5, state().holding(PERP).lots());
  }

  @Test
  void reservationsHoldMarginUntilFilledOrReleased() {
    deposit(1_000 * USDT);
    // 1 BTC at 50,000: IM 2,500 + taker fee 25 > 1,000 available.
    assertRejected(run(r -> new AccountEntity.ReserveMargin("o-big", PERP, ONE_BTC, P50K, r)),
        Rejection.INSUFFICIENT_MARGIN);
    // 0.3 BTC: notional 15,000 -> IM 750 + fee 7.5 = 757.5 USDT.
    var reserved = run(r -> new AccountEntity.ReserveMargin("o-1", PERP, 300, P50K, r));
    assertEquals(new AccountEntity.MarginReserved("o-1", PERP, 300, P50K, 757_500_000L), reserved.event());
    assertEquals(242_500_000L, ((AccountEntity.Reserved) reserved.reply()).availableAfter());
    assertTrue(run(r -> new AccountEntity.ReserveMargin("o-1", PERP, 300, P50K, r)).hasNoEvents());
    assertRejected(run(r -> new AccountEntity.ReserveMargin("o-1", PERP, 300, 490_000L, r)),
        Rejection.RESERVATION_CONFLICT);
    assertEquals(757_500_000L, summary().reserved());

    // A fill of 0.1 BTC releases a third of the hold.
    var fill = trade(301, "t-301", 100, P50K, true, "o-1");
    assertEquals(252_500_000L, ((AccountEntity.TradeCleared) fill.event()).reservationReleased());
    assertEquals(new Reservation("o-1", PERP, 200, P50K, 505_000_000L), state().reservations().get("o-1"));

    var released = run(r -> new AccountEntity.ReleaseReservation("o-1", r));
    assertEquals(new AccountEntity.ReservationReleased("o-1", 505_000_000L), released.event());
    assertEquals(0, summary().reserved());
    assertRejected(run(r -> new AccountEntity.ReleaseReservation("o-1", r)),
        Rejection.RESERVATION_NOT_FOUND);
    assertRejected(run(r -> new AccountEntity.ReleaseReservation("never", r)),
        Rejection.RESERVATION_NOT_FOUND);
  }

  @Test
  void leverageIsBoundedByTheCapTheTierAndTheMarginLeft() {
    assertRejected(run(r -> new AccountEntity.SetLeverage(PERP, 0, r)), Rejection.INVALID_LEVERAGE);
    run(r -> new AccountEntity.SetLeverageCap(5, r));
    assertRejected(run(r -> new AccountEntity.SetLeverage(PERP, 6, r)), Rejection.LEVERAGE_ABOVE_CAP);
    assertEquals(1, run(r -> new AccountEntity.SetLeverage(PERP, 5, r)).events().size());
    run(r -> new AccountEntity.SetLeverageCap(0, r));
    // No position: tier 1, at most 125x.
    assertRejected(run(r -> new AccountEntity.SetLeverage(PERP, 126, r)),
        Rejection.LEVERAGE_ABOVE_TIER_MAXIMUM);
    run(r -> new AccountEntity.SetLeverage(PERP, 20, r));

    deposit(3_000 * USDT);
    trade(ONE_BTC, P50K, true); // cash 2,975; IM at 20x 2,500; available 475
    assertEquals(475 * USDT, summary().available());
    assertRejected(run(r -> new AccountEntity.SetLeverage(PERP, 5, r)), Rejection.INSUFFICIENT_MARGIN);
    var raised = run(r -> new AccountEntity.SetLeverage(PERP, 25, r));
    assertEquals(975 * USDT, ((AccountEntity.Snapshot) raised.reply()).account().available());
    // 50,000 is tier 2 (max 100x).
    assertRejected(run(r -> new AccountEntity.SetLeverage(PERP, 101, r)),
        Rejection.LEVERAGE_ABOVE_TIER_MAXIMUM);
    // A cap below the chosen leverage caps it at once.
    run(r -> new AccountEntity.SetLeverageCap(10, r));
    assertEquals(10, summary().positions().get(0).leverage());
  }

  @Test
  void isolatedPositionsTakeTheirMarginFromCashAndGiveItBackOnClose() {
    deposit(10_000 * USDT);
    trade(ONE_BTC, P50K, true);
    assertRejected(run(r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r)),
        Rejection.POSITION_OPEN);
    assertRejected(run(r -> new AccountEntity.AdjustIsolatedMargin(PERP, USDT, r)),
        Rejection.NOT_ISOLATED);
    trade(-ONE_BTC, P50K, false); // flat again: cash 10,000 - 25 - 10
    run(r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r));
    assertRejected(run(r -> new AccountEntity.AdjustIsolatedMargin(PERP, USDT, r)),
        Rejection.NO_POSITION);

    var open = trade(ONE_BTC, P50K, true);
    marks.accept(new io.clearinghouse.price.Mark(PERP, P50K, 1, 0));
    assertEquals(2_500 * USDT, ((AccountEntity.TradeCleared) open.event()).isolatedMarginDelta());
    assertEquals(9_965 * USDT - 25 * USDT - 2_500 * USDT, state().cash());
    run(r -> new AccountEntity.AdjustIsolatedMargin(PERP, 1_000 * USDT, r));
    assertEquals(3_500 * USDT, state().holding(PERP).isolatedMargin());
    assertRejected(run(r -> new AccountEntity.AdjustIsolatedMargin(PERP, -1_001 * USDT, r)),
        Rejection.INSUFFICIENT_ISOLATED_MARGIN);
    run(r -> new AccountEntity.AdjustIsolatedMargin(PERP, -1_000 * USDT, r));

    var close = trade(-ONE_BTC, P50K, false);
    assertEquals(-2_500 * USDT, ((AccountEntity.TradeCleared) close.event()).isolatedMarginDelta());
    // Everything but the four fees (25 + 10 + 25 + 10) is back in cash.
    assertEquals(10_000 * USDT - 70 * USDT, state().cash());
    assertEquals(0, state().holding(PERP).isolatedMargin());
  }

  @Test
  void withdrawalsStopAtTheMarginThePositionsNeed() {
    deposit(10_000 * USDT);
    trade(ONE_BTC, P50K, true);
    marks.accept(new io.clearinghouse.price.Mark(PERP, P50K, 1, 0));
    assertRejected(run(r -> new AccountEntity.Withdraw("w-1", 7_475 * USDT + 1, r)),
        Rejection.INSUFFICIENT_WITHDRAWABLE);
    assertEquals(1, run(r -> new AccountEntity.Withdraw("w-2", 7_475 * USDT, r)).events().size());
    assertEquals(0, summary().withdrawable());
  }

  @Test
  void tradingStateRecoversExactly() {
    deposit(10_000 * USDT);
    run(r -> new AccountEntity.ReserveMargin("o-9", PERP, 200, P50K, r));
    trade(ONE_BTC, P50K, true);
    trade(-300, 505_000L, false);
    run(r -> new AccountEntity.SetLeverage(PERP, 10, r));
    State before = account.getState();
    account.restart();
    assertEquals(before, account.getState());
  }

  @Test
  void anAccountAtMaintenanceStartsItsLiquidationOnceAndTurnsReduceOnly() {
    deposit(10_000 * USDT);
    trade(ONE_BTC, P50K, true); // cash 9,975
    run(r -> new AccountEntity.ReserveMargin("o-open", PERP, 100, P50K, r));
    // At 41,000: equity 9,975 - 9,000 = 975 > MM 164: the monitor was wrong, nothing happens.
    marks.accept(new io.clearinghouse.price.Mark(PERP, 410_000, 1, 0));
    assertTrue(account.runCommand(new AccountEntity.StartLiquidation(1)).hasNoEvents());
    // A stale instrument is never acted on, whatever the mark says.
    marks.accept(new io.clearinghouse.price.FeedStatus(PERP, true, 2, 0));
    marks.accept(new io.clearinghouse.price.Mark(PERP, 300_000, 2, 0));
    assertTrue(account.runCommand(new AccountEntity.StartLiquidation(2)).hasNoEvents());
    marks.accept(new io.clearinghouse.price.FeedStatus(PERP, false, 3, 0));
    // At 40,000: equity 9,975 - 10,000 = -25 <= MM 160.
    marks.accept(new io.clearinghouse.price.Mark(PERP, 400_000, 3, 7));
    var started = account.runCommand(new AccountEntity.StartLiquidation(3));
    AccountEntity.LiquidationStarted event = (AccountEntity.LiquidationStarted) started.events().get(0);
    assertEquals(3, event.markSequence());
    assertEquals(java.util.Map.of(PERP, 400_000L), event.marks());
    assertEquals(-25 * USDT, event.equity());
    assertEquals(160 * USDT, event.maintenanceMargin());
    assertEquals(new AccountEntity.ReservationReleased("o-open", 252_500_000L), started.events().get(1));
    assertTrue(state().liquidating());
    assertEquals(event.liquidationId(), summary().liquidationId());

    assertTrue(account.runCommand(new AccountEntity.StartLiquidation(4)).hasNoEvents());
    assertRejected(run(r -> new AccountEntity.Withdraw("w-liq", 1, r)), Rejection.ACCOUNT_LIQUIDATING);
    assertRejected(run(r -> new AccountEntity.ReserveMargin("o-more", PERP, 10, 400_000L, r)),
        Rejection.ACCOUNT_LIQUIDATING);
    // Orders that reduce the position are still accepted.
    assertEquals(1, run(r -> new AccountEntity.ReserveMargin("o-reduce", PERP, -10, 400_000L, r)).events().size());
  }

  @Test
  void aLateTradeCannotMakeAForgottenOneLookNew() {
    deposit(1_000_000 * USDT);
    // The account remembers 5 trades (test settings); 25 arrives late, after 10..50.
    for (long seq : new long[] {10, 20, 30, 40, 50, 25, 60, 70}) {
      assertEquals(1, trade(seq, "t-" + seq, 1, P50K, true, null).events().size(), "sequence " + seq);
    }
    // 30 is still remembered: a resend is a duplicate.
    assertTrue(trade(30, "t-30", 1, P50K, true, null).hasNoEvents());
    trade(80, "t-80", 1, P50K, true, null);
    trade(90, "t-90", 1, P50K, true, null);
    // Now 30 is forgotten, and so is everything below it: refused, never applied twice.
    assertRejected(trade(30, "t-30", 1, P50K, true, null), Rejection.TRADE_TOO_OLD);
    assertRejected(trade(25, "t-25", 1, P50K, true, null), Rejection.TRADE_TOO_OLD);
    assertEquals(10, state().holding(PERP).lots());
  }

  @Test
  void aResendIsMatchedOnEveryFieldAndAnsweredWithTheFirstFee() {
    deposit(100_000 * USDT);
    trade(501, "t-501", ONE_BTC, P50K, true, null); // taker: 25 USDT
    assertEquals(new AccountEntity.TradeSideApplied(25 * USDT, true), trade(501, "t-501", ONE_BTC, P50K, true, null).reply());
    assertRejected(trade(501, "t-501", ONE_BTC, P50K, false, null), Rejection.TRADE_CONFLICT);
    assertRejected(trade(501, "t-501", 2 * ONE_BTC, P50K, true, null), Rejection.TRADE_CONFLICT);
    assertRejected(trade(501, "t-501", ONE_BTC, P50K + 1, true, null), Rejection.TRADE_CONFLICT);
    assertRejected(trade(501, "t-502", ONE_BTC, P50K, true, null), Rejection.TRADE_CONFLICT);
    assertRejected(trade(501, "t-501", ONE_BTC, P50K, true, "o-9"), Rejection.TRADE_CONFLICT);
    assertRejected(run(r -> new AccountEntity.ApplyTrade("t-501", 501, PERP, ONE_BTC, P50K, true, null, "someone-else",
        r)), Rejection.TRADE_CONFLICT);
    assertRejected(run(r -> new AccountEntity.ApplyTrade("t-501", 501, "BTCUSDT-271231", ONE_BTC, P50K, true, null,
        "counterparty", r)), Rejection.TRADE_CONFLICT);
  }

  /** What a reversal must restore: everything but the trade memory and the reservations. */
  private record Books(long cash, java.util.Map<String, Holding> holdings) {}

  private Books books() {
    return new Books(state().cash(), state().holdings());
  }

  private AccountEntity.Reply reverse(long seq, String tradeId) {
    return run(r -> new AccountEntity.ReverseTradeSide(tradeId, seq, r)).reply();
  }

  @Test
  void aReversalUndoesExactlyTheMovementsOfItsSideOnce() {
    deposit(100_000 * USDT);
    trade(601, "t-601", ONE_BTC, P50K, true, null);
    // A partial close at a profit: realized PnL, cost removed, maker fee.
    Books beforeClose = books();
    trade(602, "t-602", -400, 510_000L, false, null);
    assertEquals(new AccountEntity.TradeSideReverted(false), reverse(602, "t-602"));
    assertEquals(beforeClose, books());
    // Idempotent: a second reversal moves nothing.
    var again = run(r -> new AccountEntity.ReverseTradeSide("t-602", 602, r));
    assertEquals(new AccountEntity.TradeSideReverted(true), again.reply());
    assertTrue(again.hasNoEvents());
    // A reversed side is never applied again, whatever comes.
    assertRejected(trade(602, "t-602", -400, 510_000L, false, null), Rejection.TRADE_CONFLICT);
    assertEquals(beforeClose, books());
    // Another trade id under that sequence is not this side: refused.
    assertRejected(run(r -> new AccountEntity.ReverseTradeSide("t-other", 601, r)), Rejection.TRADE_CONFLICT);
    // The opening trade reversed too: back to the deposit alone.
    assertEquals(new AccountEntity.TradeSideReverted(false), reverse(601, "t-601"));
    assertEquals(new Books(100_000 * USDT, java.util.Map.of()), books());
    assertTrue(summary().positions().isEmpty());
  }

  @Test
  void aReversalGivesIsolatedMarginBackAndRestoresAFlippedPosition() {
    deposit(100_000 * USDT);
    run(r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r));
    trade(701, "t-701", ONE_BTC, P50K, true, null);
    Books before = books();
    // Flips the long into a short: releases all the margin, allocates the short's, realizes a loss.
    AccountEntity.TradeCleared flip = (AccountEntity.TradeCleared) trade(702, "t-702", -3 * ONE_BTC, 490_000L, false,
        null).event();
    assertTrue(flip.isolatedMarginDelta() != 0 && flip.realizedPnl() != 0, flip.toString());
    var reversal = run(r -> new AccountEntity.ReverseTradeSide("t-702", 702, r));
    AccountEntity.TradeSideReversed event = (AccountEntity.TradeSideReversed) reversal.event();
    assertEquals(new AccountEntity.TradeSideReversed("t-702", 702, PERP, 3 * ONE_BTC, 490_000L, flip.fee(),
        -flip.realizedPnl(), -flip.costDelta(), -flip.isolatedMarginDelta(), P50K), event);
    assertEquals(before, books());
  }

  @Test
  void aSideReversedBeforeItArrivesIsNeverApplied() {
    deposit(100_000 * USDT);
    Books before = books();
    var marked = run(r -> new AccountEntity.ReverseTradeSide("t-801", 801, r));
    assertEquals(new AccountEntity.TradeSideReverted(false), marked.reply());
    assertEquals(before, books());
    // A late copy of the apply (from an older register incarnation) is refused.
    assertRejected(trade(801, "t-801", ONE_BTC, P50K, true, null), Rejection.TRADE_CONFLICT);
    assertEquals(before, books());
  }

  @Test
  void isolatedMarginCannotBeTakenOutOfALosingPosition() {
    deposit(10_000 * USDT);
    run(r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r));
    run(r -> new AccountEntity.SetLeverage(PERP, 10, r));
    trade(ONE_BTC, P50K, true); // isolated margin 5,000 at 10x
    // At 45,500: loss 4,500; IM 4,550; 5,000 - 450 - 4,500 = 50 < 4,550.
    marks.accept(new io.clearinghouse.price.Mark(PERP, 455_000, 1, 0));
    assertRejected(run(r -> new AccountEntity.AdjustIsolatedMargin(PERP, -450 * USDT, r)),
        Rejection.INSUFFICIENT_ISOLATED_MARGIN);
    assertEquals(5_000 * USDT, state().holding(PERP).isolatedMargin());
  }

  @Test
  void noMoneyLeavesWhileAPositionsIndexIsStale() {
    deposit(10_000 * USDT);
    trade(ONE_BTC, P50K, true);
    // No mark at all is stale too.
    assertRejected(run(r -> new AccountEntity.Withdraw("w-no-mark", USDT, r)), Rejection.MARK_STALE);
    marks.accept(new io.clearinghouse.price.Mark(PERP, P50K, 1, 0));
    marks.accept(new io.clearinghouse.price.FeedStatus(PERP, true, 1, 0));
    assertRejected(run(r -> new AccountEntity.Withdraw("w-stale", USDT, r)), Rejection.MARK_STALE);
    // Fresh again, but the mark that comes with it is not here yet: still stale.
    marks.accept(new io.clearinghouse.price.FeedStatus(PERP, false, 2, 0));
    assertRejected(run(r -> new AccountEntity.Withdraw("w-early", USDT, r)), Rejection.MARK_STALE);
    marks.accept(new io.clearinghouse.price.Mark(PERP, P50K, 2, 0));
    assertEquals(1, run(r -> new AccountEntity.Withdraw("w-fresh", USDT, r)).events().size());
  }

  @Test
  void aStaleInstrumentWithoutAPositionDoesNotBlockALiquidation() {
    deposit(1_000 * USDT);
    run(r -> new AccountEntity.SetLeverage("BTCUSDT-271231", 10, r)); // a setting, no position
    run(r -> new AccountEntity.SetLeverage(PERP, 100, r)); // 1 BTC at 50,000 on 1,000: initial margin 500
    trade(ONE_BTC, P50K, true);
    marks.accept(new io.clearinghouse.price.FeedStatus("BTCUSDT-271231", true, 1, 0));
    marks.accept(new io.clearinghouse.price.Mark(PERP, 490_000, 1, 0));
    assertEquals(AccountEntity.LiquidationStarted.class,
        account.runCommand(new AccountEntity.StartLiquidation(1)).events().get(0).getClass());
  }
}
