package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.account.AccountEntity.TransferApplied;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.margin.PositionRisk;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The account's side of a liquidation on the in-memory journal: the trigger, the plan, closes and
 * takeovers applied once per saga key (a retry gets the first result and persists nothing),
 * closes clipped to what is held, the fund's credit, the end, and a provider declining.
 */
class LiquidationStepsTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final AtomicInteger ids = new AtomicInteger();
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;

  private EventSourcedBehaviorTestKit<Command, Event, State> account;
  private MarkPrices marks;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newAccount() {
    marks = MarkPrices.local();
    account = AccountEntityTest.openedAccount(testKit, "trader-" + ids.incrementAndGet(), marks);
  }

  private CommandResultWithReply<Command, Event, State, Reply> run(
      java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<Reply>, Command> command) {
    return account.runCommand(command);
  }

  /** 1,000 deposited, 1 BTC bought at 50,000 as taker at 100x (initial margin 500): cash 975. */
  private void longOneBitcoin() {
    run(r -> new AccountEntity.Deposit("d-1", 1_000 * USDT, r));
    run(r -> new AccountEntity.SetLeverage(PERP, 100, r));
    run(r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, 1_000, 500_000, true, null, "other", r));
  }

  private LiquidationTransfer transfer(CommandResultWithReply<Command, Event, State, Reply> result) {
    return assertInstanceOf(TransferApplied.class, result.reply(), String.valueOf(result.reply())).transfer();
  }

  private java.util.List<String> liquidationIds(int limit) {
    return assertInstanceOf(AccountEntity.LiquidationIds.class,
        run(r -> new AccountEntity.GetLiquidationIds(limit, r)).reply()).newestFirst();
  }

  @Test
  void theAccountListsItsOwnLiquidationsNewestFirstAcrossARestart() {
    assertEquals(java.util.List.of(), liquidationIds(50));
    longOneBitcoin();
    marks.accept(new Mark(PERP, 490_000, 1, 0));
    account.runCommand(new AccountEntity.StartLiquidation(1));
    String id = ((Account) account.getState()).liquidation().liquidationId();
    assertEquals(java.util.List.of(id), liquidationIds(50));
    assertEquals(java.util.List.of(), liquidationIds(0));
    account.restart();
    assertEquals(java.util.List.of(id), liquidationIds(50));
  }

  @Test
  void theAccountKeepsTheIdsOfItsLastThousandLiquidations() {
    Account state = Account.opened("keeper", 10, 0);
    for (int i = 1; i <= 1_005; i++) {
      state = state.apply(new AccountEntity.LiquidationStarted("keeper-" + i, i, java.util.Map.of(), 0, 0, i, null));
    }
    assertEquals(Account.RETAINED_LIQUIDATION_IDS, state.liquidationIds().size());
    assertEquals(java.util.List.of("keeper-1005", "keeper-1004", "keeper-1003"), state.recentLiquidationIds(3));
    java.util.List<String> all = state.recentLiquidationIds(5_000);
    assertEquals(1_000, all.size());
    assertEquals("keeper-6", all.get(all.size() - 1));
  }

  @Test
  void stepsApplyOncePerKeyAndTheCloseIsClippedToThePosition() {
    longOneBitcoin();
    marks.accept(new Mark(PERP, 490_000, 1, 0));
    account.runCommand(new AccountEntity.StartLiquidation(1));
    Account started = (Account) account.getState();
    String id = started.liquidation().liquidationId();
    assertEquals(-25 * USDT, started.liquidation().equity());

    var plan = (AccountEntity.ClosePlan) run(r -> new AccountEntity.PlanLiquidationClose(id, r)).reply();
    assertEquals(new AccountEntity.ClosePlan(PERP, -1_000, 490_000, 490_250, false, 975 * USDT), plan);

    // Sold to a provider at 48,902.0: realized -1,098, nothing left for a penalty, no shortfall (cross).
    var closed = run(r -> new AccountEntity.ApplyLiquidationTransfer(id + "/close-0", id, LiquidationRole.LIQUIDATED,
        "prov", PERP, -1_000, 489_020, 0, AccountEntity.TransferMode.CLOSE_CLIPPED, r));
    LiquidationTransfer t = transfer(closed);
    assertEquals(java.util.List.of(-1_000L, -1_098 * USDT, -50_000 * USDT, 0L, 0L), java.util.List.of(t.signedLots(),
        t.realizedPnl(), t.costDelta(), t.penalty(), t.shortfall()));
    assertEquals(-123 * USDT, ((Account) account.getState()).cash());
    var retried = run(r -> new AccountEntity.ApplyLiquidationTransfer(id + "/close-0", id, LiquidationRole.LIQUIDATED,
        "prov", PERP, -1_000, 489_020, 0, AccountEntity.TransferMode.CLOSE_CLIPPED, r));
    assertTrue(retried.hasNoEvents());
    assertEquals(t, transfer(retried));

    // Nothing is left to close: the next plan is empty and a close under a new key moves nothing.
    assertEquals(0, ((AccountEntity.ClosePlan) run(r -> new AccountEntity.PlanLiquidationClose(id, r)).reply())
        .signedLots());
    var empty = run(r -> new AccountEntity.ApplyLiquidationTransfer(id + "/close-1", id, LiquidationRole.LIQUIDATED,
        "prov", PERP, -1_000, 489_020, 0, AccountEntity.TransferMode.CLOSE_CLIPPED, r));
    assertTrue(empty.hasNoEvents());
    assertEquals(0, transfer(empty).signedLots());

    // The fund's cover, once.
    assertEquals(new AccountEntity.StepApplied(123 * USDT),
        run(r -> new AccountEntity.CreditLiquidation(id + "/cover", id, 123 * USDT, 0, r)).reply());
    assertTrue(run(r -> new AccountEntity.CreditLiquidation(id + "/cover", id, 123 * USDT, 0, r)).hasNoEvents());
    assertEquals(Rejection.AMOUNT_NOT_POSITIVE, assertInstanceOf(AccountEntity.Rejected.class,
        run(r -> new AccountEntity.CreditLiquidation(id + "/other", id, 0, 0, r)).reply()).reason());
    assertEquals(0, ((Account) account.getState()).cash());

    // A step for another liquidation is refused; the end is applied once.
    assertEquals(Rejection.NOT_LIQUIDATING, assertInstanceOf(AccountEntity.Rejected.class,
        run(r -> new AccountEntity.ApplyLiquidationTransfer("x/close-0", "x", LiquidationRole.LIQUIDATED, "prov", PERP,
            -1_000, 489_020, 0, AccountEntity.TransferMode.CLOSE_CLIPPED, r)).reply()).reason());
    assertTrue(run(r -> new AccountEntity.EndLiquidation(id, r)).events().size() == 1);
    assertTrue(run(r -> new AccountEntity.EndLiquidation(id, r)).hasNoEvents());
    assertNull(((Account) account.getState()).liquidation());
    account.restart();
    assertEquals(0, ((Account) account.getState()).cash());
    assertNull(((Account) account.getState()).liquidation());
  }

  @Test
  void aProviderDeclinesWhatItCannotCarryOrWhatExceedsItsLimit() {
    run(r -> new AccountEntity.Deposit("d-1", 100 * USDT, r));
    marks.accept(new Mark(PERP, 490_000, 1, 0));
    // 100 USDT cannot carry 1 BTC (initial margin 2,450 at 20x).
    var poor = run(r -> take("l/close-0", 0, r));
    assertEquals(Rejection.BACKSTOP_DECLINED, assertInstanceOf(AccountEntity.Rejected.class, poor.reply()).reason());
    assertTrue(poor.hasNoEvents());
    run(r -> new AccountEntity.Deposit("d-2", 100_000 * USDT, r));
    var limited = run(r -> take("l/close-0", 10_000 * USDT, r));
    assertEquals(Rejection.BACKSTOP_DECLINED, assertInstanceOf(AccountEntity.Rejected.class, limited.reply()).reason());
    var accepted = run(r -> take("l/close-0", 100_000 * USDT, r));
    assertEquals(1_000, transfer(accepted).signedLots());
    assertEquals(1_000, ((Account) account.getState()).holding(PERP).lots());
    // Applied once: the retry gets the first result; the saga's end lets the account forget it.
    assertTrue(run(r -> take("l/close-0", 100_000 * USDT, r)).hasNoEvents());
    assertEquals(1, ((Account) account.getState()).liquidationSteps().size());
    account.runCommand(new AccountEntity.ForgetLiquidation("l"));
    assertEquals(0, ((Account) account.getState()).liquidationSteps().size());
    // A deleveraged account only ever reduces: 3 BTC asked of its 1 BTC long, 1 BTC taken.
    var reduced = run(r -> new AccountEntity.ApplyLiquidationTransfer("m/close-0", "m", LiquidationRole.DELEVERAGED,
        "x", PERP, -3_000, 490_250, 0, AccountEntity.TransferMode.REDUCE_CLIPPED, r));
    assertEquals(-1_000, transfer(reduced).signedLots());
    var nothingLeft = run(r -> new AccountEntity.ApplyLiquidationTransfer("m/close-1", "m", LiquidationRole.DELEVERAGED,
        "x", PERP, -1_000, 490_250, 0, AccountEntity.TransferMode.REDUCE_CLIPPED, r));
    assertTrue(nothingLeft.hasNoEvents());
    assertEquals(0, transfer(nothingLeft).signedLots());
  }

  private static Command take(String key, long maxNotional, org.apache.pekko.actor.typed.ActorRef<Reply> replyTo) {
    return new AccountEntity.ApplyLiquidationTransfer(key, "l", LiquidationRole.BACKSTOP, "x", PERP, 1_000, 489_020,
        maxNotional, AccountEntity.TransferMode.TAKE_CHECKED, replyTo);
  }

  @Test
  void anIsolatedShortfallIsOwedByThePositionNeverTakenFromTheCashAndCountedOnce() {
    run(r -> new AccountEntity.Deposit("d-1", 3_000 * USDT, r));
    run(r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r));
    run(r -> new AccountEntity.SetLeverage(PERP, 50, r));
    // 1 BTC at 50,000, 50x: isolated margin 1,000, fee 25, cash 1,975.
    run(r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, 1_000, 500_000, true, null, "seller-1", r));
    assertEquals(1_975 * USDT, ((Account) account.getState()).cash());
    marks.accept(new Mark(PERP, 490_000, 1, 0));
    account.runCommand(new AccountEntity.StartLiquidation(1));
    String id = ((Account) account.getState()).liquidation().liquidationId();
    // Sold at 48,902.0: realized -1,098 against the position's 1,000: 98 beyond it. The cash
    // outside the position stays 1,975; the account owes the 98.
    LiquidationTransfer t = transfer(run(r -> new AccountEntity.ApplyLiquidationTransfer(id + "/close-0", id,
        LiquidationRole.LIQUIDATED, "prov", PERP, -1_000, 489_020, 0, AccountEntity.TransferMode.CLOSE_CLIPPED, r)));
    assertEquals(java.util.List.of(-1_098 * USDT, -1_000 * USDT, 0L, 98 * USDT), java.util.List.of(t.realizedPnl(),
        t.isolatedMarginDelta(), t.penalty(), t.shortfall()));
    Account closed = (Account) account.getState();
    assertEquals(java.util.List.of(1_975 * USDT, 98 * USDT, 0L), java.util.List.of(closed.cash(), closed.owed(),
        closed.debt()));
    // The fund covers 50 of it (the credit names it as shortfall cover; never more than is owed):
    // the shortfall owed falls to 48 and the cash does not move.
    run(r -> new AccountEntity.CreditLiquidation(id + "/cover", id, 50 * USDT, 50 * USDT, r));
    assertEquals(java.util.List.of(1_975 * USDT, 48 * USDT), java.util.List.of(((Account) account.getState()).cash(),
        ((Account) account.getState()).owed()));
    // The rest is recorded as debt, once; the cash still does not move.
    run(r -> new AccountEntity.RecordDebt(id + "/debt", id, 48 * USDT, r));
    assertTrue(run(r -> new AccountEntity.RecordDebt(id + "/debt", id, 48 * USDT, r)).hasNoEvents());
    run(r -> new AccountEntity.EndLiquidation(id, r));
    Account ended = (Account) account.getState();
    assertEquals(java.util.List.of(1_975 * USDT, 48 * USDT, 48 * USDT), java.util.List.of(ended.cash(), ended.owed(),
        ended.debt()));
    // In debt: no withdrawal (refused, nothing changes); a deposit repays the debt first.
    var refused = run(r -> new AccountEntity.Withdraw("w-1", 1, r));
    assertEquals(Rejection.ACCOUNT_IN_DEBT, assertInstanceOf(AccountEntity.Rejected.class, refused.reply()).reason());
    assertTrue(refused.hasNoEvents());
    var repaid = run(r -> new AccountEntity.Deposit("d-2", 100 * USDT, r));
    assertEquals(48 * USDT, ((AccountEntity.Deposited) repaid.event()).owedRepaid());
    Account after = (Account) account.getState();
    assertEquals(java.util.List.of(2_027 * USDT, 0L, 0L), java.util.List.of(after.cash(), after.owed(), after.debt()));
    account.restart();
    assertEquals(after, account.getState());
  }

  @Test
  void aStopTriggeredOnAnAccountBelowMaintenanceLiquidatesItInstead() {
    longOneBitcoin();
    marks.accept(new Mark(PERP, 500_000, 1, 0));
    run(r -> new AccountEntity.SetStop(PERP, 495_000, r));
    // The mark gaps through the stop to 49,000: equity 975 - 1,000 = -25, below maintenance. A
    // stop would close without penalty and settle the loss from the fund: a margin liquidation starts.
    marks.accept(new Mark(PERP, 490_000, 2, 0));
    account.runCommand(new AccountEntity.TriggerStop(PERP, 2));
    Account.Liquidation started = ((Account) account.getState()).liquidation();
    assertNull(started.stopInstrument(), String.valueOf(started));
    assertEquals(-25 * USDT, started.equity());
  }

  @Test
  void aStopTriggeredOnAHealthyAccountStopsThePosition() {
    longOneBitcoin();
    marks.accept(new Mark(PERP, 500_000, 1, 0));
    run(r -> new AccountEntity.SetStop(PERP, 495_000, r));
    // 49,400: equity 975 - 600 = 375 above the maintenance margin 197.6: the stop closes it.
    marks.accept(new Mark(PERP, 494_000, 2, 0));
    account.runCommand(new AccountEntity.TriggerStop(PERP, 2));
    assertEquals(PERP, ((Account) account.getState()).liquidation().stopInstrument());
  }

  @Test
  void aPositionAboveTheFirstTierIsReducedToJustBelowItsTier() {
    var tiers = AccountEntityTest.INSTRUMENTS.require(PERP).riskTiers();
    // 25 BTC at 48,587.6 (notional 1,214,690, tier from 1,000,000): keep 20,581 lots, close 4,419.
    PositionRisk big = new PositionRisk(PERP, 25_000, 1_250_000 * USDT, 485_876, 100, tiers, 20, MarginMode.CROSS, 0);
    assertEquals(4_419, LiquidationHandlers.lotsToClose(big, 1_214_690 * USDT));
    // In the first tier: all of it.
    PositionRisk small = new PositionRisk(PERP, -900, -45_000 * USDT, 500_000, 100, tiers, 20, MarginMode.CROSS, 0);
    assertEquals(900, LiquidationHandlers.lotsToClose(small, 45_000 * USDT));
  }
}
