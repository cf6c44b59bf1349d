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
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The pre-trade and fill rules of the money-integrity review, each with the reviewer's numbers
 * (holes 1, 2, 3, 9 and 10). BTCUSDT-PERP and BTCUSDT-271231: tick 0.1, lot 0.001 BTC, so 50,000 USDT
 * = 500,000 ticks and 1 BTC = 1,000 lots; taker 0.05%; default leverage 20; price band 10%.
 * Every refusal is asserted to persist nothing.
 */
class OrderRulesEntityTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final AtomicInteger ids = new AtomicInteger();
  private static final String PERP = "BTCUSDT-PERP";
  private static final String FUTURE = "BTCUSDT-271231";
  private static final long USDT = 1_000_000L;
  private static final long ONE_BTC = 1_000L;

  private EventSourcedBehaviorTestKit<Command, Event, State> account;
  private MarkPrices marks;
  private final AtomicInteger sequence = new AtomicInteger(100);
  private long markSequence;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newAccount() {
    marks = MarkPrices.local();
    account = AccountEntityTest.openedAccount(testKit, "rules-" + ids.incrementAndGet(), marks);
  }

  private static long usdt(long whole) {
    return whole * USDT;
  }

  /** Price in ticks of 0.1 USDT. */
  private static long price(long wholeUsdt) {
    return wholeUsdt * 10;
  }

  private void mark(String instrument, long wholeUsdt) {
    marks.accept(new Mark(instrument, price(wholeUsdt), ++markSequence, 0));
  }

  private CommandResultWithReply<Command, Event, State, Reply> run(Function<ActorRef<Reply>, Command> command) {
    return account.runCommand(command);
  }

  private void deposit(long amount) {
    var result = run(r -> new AccountEntity.Deposit("d-" + sequence.incrementAndGet(), amount, r));
    assertInstanceOf(AccountEntity.Transferred.class, result.reply());
  }

  private CommandResultWithReply<Command, Event, State, Reply> trade(String instrument, long lots, long priceTicks) {
    int seq = sequence.incrementAndGet();
    return run(r -> new AccountEntity.ApplyTrade("t-" + seq, seq, instrument, lots, priceTicks, true, null, "counterparty", r));
  }

  private CommandResultWithReply<Command, Event, State, Reply> reserve(String orderId, String instrument, long lots,
      long priceTicks) {
    return run(r -> new AccountEntity.ReserveMargin(orderId, instrument, lots, priceTicks, r));
  }

  private AccountSummary summary() {
    return ((AccountEntity.Snapshot) run(AccountEntity.Get::new).reply()).account();
  }

  private static void assertRejected(CommandResultWithReply<Command, Event, State, Reply> result, Rejection reason) {
    AccountEntity.Rejected rejected = assertInstanceOf(AccountEntity.Rejected.class, result.reply());
    assertEquals(reason, rejected.reason(), rejected.message());
    assertTrue(result.hasNoEvents(), "a refused command must persist nothing");
  }

  private static long reservedAmount(CommandResultWithReply<Command, Event, State, Reply> result) {
    return assertInstanceOf(AccountEntity.Reserved.class, result.reply(), () -> String.valueOf(result.reply()))
        .reservation().amount();
  }

  /**
   * Cash 100 and a cross short 10,000 in profit (cash 2,625, short 1 BTC at 50,000, fee 25, mark
   * 40,000, then 2,500 withdrawn).
   */
  private void cashOf100WithCrossProfitOf10000() {
    deposit(usdt(2_625));
    assertEquals(1, trade(PERP, -ONE_BTC, price(50_000)).events().size());
    mark(PERP, 40_000);
    assertInstanceOf(AccountEntity.Transferred.class,
        run(r -> new AccountEntity.Withdraw("w-setup", usdt(2_500), r)).reply());
    assertEquals(usdt(100), summary().cash());
    assertEquals(usdt(10_100), summary().equity());
    assertEquals(1, run(r -> new AccountEntity.SetMarginMode(FUTURE, MarginMode.ISOLATED, r)).events().size());
    assertEquals(1, run(r -> new AccountEntity.SetLeverage(FUTURE, 10, r)).events().size());
  }

  @Test
  void hole1_anIsolatedOrderIsFundedFromCashNotFromUnrealizedProfit() {
    cashOf100WithCrossProfitOf10000();
    // Before: reserved against the cross available (8,100) and accepted.
    assertRejected(reserve("iso-1", FUTURE, ONE_BTC, price(50_000)), Rejection.INSUFFICIENT_MARGIN);
    assertEquals(0, summary().reserved());
  }

  @Test
  void hole1_anIsolatedFillThatCashCannotFundIsRefusedNotFundedInPart() {
    cashOf100WithCrossProfitOf10000();
    // Before: filled with 75 of margin (the cash left after the fee), liquidatable at once.
    assertRejected(trade(FUTURE, ONE_BTC, price(50_000)), Rejection.INSUFFICIENT_MARGIN);
    assertEquals(usdt(100), summary().cash());
    assertEquals(1, summary().positions().size());
  }

  @Test
  void hole1_anIsolatedFillFundedInFullStartsAtItsInitialMarginPlusTheLossItOpens() {
    deposit(usdt(10_000));
    mark(FUTURE, 50_000);
    run(r -> new AccountEntity.SetMarginMode(FUTURE, MarginMode.ISOLATED, r));
    run(r -> new AccountEntity.SetLeverage(FUTURE, 10, r));
    // Buy 1 BTC at 51,000 with the mark at 50,000: margin 5,100 + open loss 1,000 into the position.
    var fill = trade(FUTURE, ONE_BTC, price(51_000));
    var cleared = assertInstanceOf(AccountEntity.TradeCleared.class, fill.event());
    assertEquals(usdt(6_100), cleared.isolatedMarginDelta());
    // Cash: 10,000 - fee 25.5 - 6,100.
    assertEquals(usdt(10_000) - 25_500_000L - usdt(6_100), summary().cash());
  }

  @Test
  void hole2_anOrderThatOnlyReducesNeedsNoNewMarginWhateverIsAvailable() {
    // Cash 3,000 (3,025 less the fee of 25), long 1 BTC from 50,000 at 20x, mark 49,000: equity
    // 2,000, initial margin 2,450, available -450, not liquidatable (maintenance 196).
    deposit(usdt(3_025));
    trade(PERP, ONE_BTC, price(50_000));
    mark(PERP, 49_000);
    assertEquals(-usdt(450), summary().available());
    // Before: refused with INSUFFICIENT_MARGIN (it asked for a fresh initial margin of 2,450).
    var sell = reserve("close-1", PERP, -ONE_BTC, price(49_000));
    assertEquals(0, reservedAmount(sell));
    // Selling more than the position opens a short: that part needs margin, and there is none.
    assertRejected(reserve("close-2", PERP, -1, price(49_000)), Rejection.INSUFFICIENT_MARGIN);
    // The close fills: the trader is out, with what is left.
    assertEquals(1, trade(PERP, -ONE_BTC, price(49_000)).events().size());
    assertTrue(summary().positions().isEmpty());
  }

  /**
   * Review 12 (high): cash 6,000 less the fee (5,975), long 1 BTC from 50,000 at 10x, mark 47,000:
   * equity 2,975, healthy. A reduce-only sell of 1 at 42,300 (10% below the mark, inside the band)
   * was accepted: filled, it realizes -7,700 and leaves the account flat at about -4,746, its
   * counterparty 4,700 up at the mark, the insurance fund paying the difference. A closing order
   * may lose against the mark only what the equity carries; at or better than the mark it is
   * always accepted.
   */
  @Test
  void review12_aClosingOrderPricedBeyondTheBankruptcyPriceIsRefused() {
    deposit(usdt(6_000));
    run(r -> new AccountEntity.SetLeverage(PERP, 10, r));
    trade(PERP, ONE_BTC, price(50_000));
    mark(PERP, 47_000);
    assertEquals(usdt(2_975), summary().equity());
    assertRejected(reserve("dump", PERP, -ONE_BTC, price(42_300)), Rejection.INSUFFICIENT_MARGIN);
    // Loss 2,953 against the mark + fee 22.0235 = 2,975.0235: just beyond the equity.
    assertRejected(reserve("edge-out", PERP, -ONE_BTC, price(44_047)), Rejection.INSUFFICIENT_MARGIN);
    // Loss 2,952 + fee 22.024 = 2,974.024: within it.
    assertEquals(0, reservedAmount(reserve("edge-in", PERP, -ONE_BTC, price(44_048))));
    // Two closing orders share the equity: half the position at 42,300 would lose 2,350 against
    // the mark, which with the other order's 2,952 is more than there is.
    run(r -> new AccountEntity.ReleaseReservation("edge-in", r));
    assertEquals(0, reservedAmount(reserve("half-1", PERP, -ONE_BTC / 2, price(44_000))));
    assertRejected(reserve("half-2", PERP, -ONE_BTC / 2, price(42_300)), Rejection.INSUFFICIENT_MARGIN);
    // At the mark, always.
    assertEquals(0, reservedAmount(reserve("at-mark", PERP, -ONE_BTC / 2, price(47_000))));
  }

  @Test
  void review12_anIsolatedClosingOrderIsHeldToThePositionsOwnEquity() {
    deposit(usdt(20_000));
    run(r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r));
    run(r -> new AccountEntity.SetLeverage(PERP, 10, r));
    mark(PERP, 50_000);
    trade(PERP, ONE_BTC, price(50_000));
    mark(PERP, 48_000);
    // The position carries its margin (5,000) less 2,000 at the mark: 3,000, however much cross cash there is.
    assertRejected(reserve("iso-dump", PERP, -ONE_BTC, price(44_000)), Rejection.INSUFFICIENT_MARGIN);
    assertEquals(0, reservedAmount(reserve("iso-ok", PERP, -ONE_BTC, price(46_000))));
  }

  /**
   * Review 12 (high), the backstop: a trader already under water (the mark at 43,000: equity
   * -1,025, its liquidation not yet begun) closes at the mark, which is always allowed; the fill
   * leaves the cash short and no monitor watches a flat account, so the deficit is settled at once
   * by a liquidation with nothing to close (the fund covers it or it is recorded as debt).
   */
  @Test
  void review12_aFillThatLeavesTheAccountFlatAndShortSettlesTheDeficit() {
    deposit(usdt(6_000));
    run(r -> new AccountEntity.SetLeverage(PERP, 10, r));
    trade(PERP, ONE_BTC, price(50_000));
    mark(PERP, 43_000);
    // Beyond the mark it is refused at the fill too; at the mark it goes through.
    assertRejected(trade(PERP, -ONE_BTC, price(42_300)), Rejection.INSUFFICIENT_MARGIN);
    var closed = trade(PERP, -ONE_BTC, price(43_000));
    assertTrue(closed.events().stream().anyMatch(e -> e instanceof AccountEntity.LiquidationStarted),
        "events " + closed.events());
    AccountSummary after = summary();
    assertTrue(after.cash() < 0, "cash " + after.cash());
    assertTrue(after.positions().isEmpty());
    assertTrue(after.liquidationId() != null, "the deficit is being settled");
  }

  /**
   * Review 13 (high 1): cash 2,600 after the entry fee, long 1 BTC from 50,000 at 20x (margin
   * 2,500, 100 available), mark 50,000. Selling 1.001 at 45,000 closes the long 5,000 below the
   * mark and opens 0.001 short: it used to be judged on its opening lot only (about 30) and
   * accepted; its closing lots' loss counts now.
   */
  @Test
  void review13_anOrderThatClosesAndOpensCountsTheLossOfItsClosingLots() {
    deposit(usdt(2_625));
    mark(PERP, 50_000);
    trade(PERP, ONE_BTC, price(50_000));
    assertEquals(usdt(100), summary().available());
    assertRejected(reserve("flip-far", PERP, -(ONE_BTC + 1), price(45_000)), Rejection.INSUFFICIENT_MARGIN);
    // At the mark its closing lots lose nothing: margin 2.50 for the lot it opens and the fee 25.025.
    assertEquals(27_525_000L, reservedAmount(reserve("flip-at-mark", PERP, -(ONE_BTC + 1), price(50_000))));
  }

  /**
   * Review 13 (high 2): a closing order accepted on the equity of its moment (cash 9,975, a sell
   * of the 1 BTC long at 46,000 loses 4,000 against the mark 50,000), then 7,000 withdrawn: its fill
   * would now leave the account short, so the fill is judged again and refused, changing nothing;
   * a fill the equity still carries goes through.
   */
  @Test
  void review13_aClosingFillIsJudgedOnTheEquityAtTheFill() {
    deposit(usdt(10_000));
    mark(PERP, 50_000);
    trade(PERP, ONE_BTC, price(50_000));
    assertEquals(0, reservedAmount(reserve("close", PERP, -ONE_BTC, price(46_000))));
    assertInstanceOf(AccountEntity.Transferred.class,
        run(r -> new AccountEntity.Withdraw("w-after-order", usdt(7_000), r)).reply());
    assertEquals(usdt(2_975), summary().equity());
    int seq = sequence.incrementAndGet();
    assertRejected(run(r -> new AccountEntity.ApplyTrade("t-" + seq, seq, PERP, -ONE_BTC, price(46_000), true,
        "close", "counterparty", r)), Rejection.INSUFFICIENT_MARGIN);
    int seq2 = sequence.incrementAndGet();
    assertRejected(run(r -> new AccountEntity.ApplyTrade("t-" + seq2, seq2, PERP, -ONE_BTC, price(47_000), true,
        "close", "counterparty", r)), Rejection.INSUFFICIENT_MARGIN);
    assertEquals(1, summary().positions().size());
    // 2,000 below the mark and the fee 24: carried.
    int seq3 = sequence.incrementAndGet();
    assertInstanceOf(AccountEntity.TradeSideApplied.class, run(r -> new AccountEntity.ApplyTrade("t-" + seq3, seq3,
        PERP, -ONE_BTC, price(48_000), true, "close", "counterparty", r)).reply());
    assertTrue(summary().positions().isEmpty());
    assertTrue(summary().cash() >= 0);
  }

  /**
   * Review 14 (high): an isolated long 1 BTC from 50,000 at 20x (margin 2,500) with no cash left
   * beside it. Each closing lot frees only its share of the margin (2.50) while its whole loss
   * leaves the cash, so judging each lot on the whole position's 2,500 let it be sold a lot at a
   * time 10% below the mark, the cash sinking, the fund paying at the end. Each close is judged
   * on its share now, at the order and at the fill.
   */
  @Test
  void review14_anIsolatedCloseIsJudgedOnItsShareOfThePosition() {
    deposit(usdt(2_525));
    mark(PERP, 50_000);
    run(r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r));
    trade(PERP, ONE_BTC, price(50_000));
    assertEquals(0, summary().cash());
    // 1 lot at 45,000: 5 below the mark (with fee 0.0225) against its share of 2.50.
    assertRejected(reserve("lot-far", PERP, -1, price(45_000)), Rejection.INSUFFICIENT_MARGIN);
    assertRejected(trade(PERP, -1, price(45_000)), Rejection.INSUFFICIENT_MARGIN);
    // 2.40 below with fee 0.0238: within the share.
    assertEquals(0, reservedAmount(reserve("lot-near", PERP, -1, price(47_600))));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, trade(PERP, -1, price(47_600)).reply());
    assertTrue(summary().cash() >= 0, "cash " + summary().cash());
    // The rest (less the lot still on order) at the mark, always.
    assertEquals(0, reservedAmount(reserve("rest-at-mark", PERP, -(ONE_BTC - 2), price(50_000))));
  }

  /**
   * Review 15 (high): cash 3,000, cross long 1 BTC perpetual at 50x, an opening order on the
   * quarterly holding 505 for its own fill. A close of the perpetual 2,900 below the mark (fee
   * 23.55) fit the equity of 3,000 but spent the 505 the order holds, and that order's fill is not
   * judged again: the close may spend only what the orders do not hold.
   */
  @Test
  void review15_aCrossCloseMayNotSpendWhatAnOpeningOrderHolds() {
    deposit(usdt(3_025));
    mark(PERP, 50_000);
    mark(FUTURE, 50_000);
    run(r -> new AccountEntity.SetLeverage(PERP, 50, r));
    trade(PERP, ONE_BTC, price(50_000));
    assertEquals(usdt(505), reservedAmount(reserve("open-future", FUTURE, ONE_BTC / 5, price(50_000))));
    assertRejected(reserve("close-far", PERP, -ONE_BTC, price(47_100)), Rejection.INSUFFICIENT_MARGIN);
    assertRejected(trade(PERP, -ONE_BTC, price(47_100)), Rejection.INSUFFICIENT_MARGIN);
    // 2,400 below with fee 23.80: within the 2,495 the order leaves.
    assertEquals(0, reservedAmount(reserve("close-near", PERP, -ONE_BTC, price(47_600))));
  }

  /**
   * Review 15 (medium): cash 3,000, cross longs of 1 BTC on the perpetual and on the quarterly (its
   * maintenance 200). Closing the perpetual 2,900 below the mark would leave the quarterly with no
   * buffer, liquidated at once at the fund's cost: the close may spend the equity less the
   * maintenance margin of the positions that stay.
   */
  @Test
  void review15_aCrossCloseLeavesTheMaintenanceMarginOfThePositionsThatStay() {
    deposit(usdt(3_050));
    mark(PERP, 50_000);
    mark(FUTURE, 50_000);
    run(r -> new AccountEntity.SetLeverage(PERP, 50, r));
    run(r -> new AccountEntity.SetLeverage(FUTURE, 50, r));
    trade(PERP, ONE_BTC, price(50_000));
    trade(FUTURE, ONE_BTC, price(50_000));
    assertEquals(usdt(3_000), summary().cash());
    assertRejected(reserve("close-far", PERP, -ONE_BTC, price(47_100)), Rejection.INSUFFICIENT_MARGIN);
    // 2,700 below with fee 23.65: within the 2,800 left above the quarterly's 200.
    assertEquals(0, reservedAmount(reserve("close-near", PERP, -ONE_BTC, price(47_300))));
  }

  /**
   * Review 16 (high): cross longs of 1 BTC on the perpetual and the quarterly at 50,000 (50x), cash
   * 8,789.10. "Sell 2 perpetual at 47,100" reserves everything available (6,789.10: margin 942,
   * open loss 2,900, closing loss 2,900, fee 47.10). The quarterly's mark then falls to 44,336:
   * equity 3,125.10, still above maintenance. Its fill used to be judged on its closing lots only,
   * with the whole reservation given back, and left equity at -2,722 for the fund: a cross fill
   * priced worse than the mark is judged whole (closing and opening lots, the new position's
   * maintenance margin) on the equity at the fill.
   */
  @Test
  void review16_aFillThatClosesAndOpensIsJudgedWholeOnTheEquityAtTheFill() {
    deposit(8_839_100_000L);
    mark(PERP, 50_000);
    mark(FUTURE, 50_000);
    run(r -> new AccountEntity.SetLeverage(PERP, 50, r));
    run(r -> new AccountEntity.SetLeverage(FUTURE, 50, r));
    trade(PERP, ONE_BTC, price(50_000));
    trade(FUTURE, ONE_BTC, price(50_000));
    assertEquals(6_789_100_000L, reservedAmount(reserve("flip", PERP, -2 * ONE_BTC, price(47_100))));
    marks.accept(new Mark(FUTURE, 443_360, ++markSequence, 0));
    assertEquals(3_125_100_000L, summary().equity());
    int seq = sequence.incrementAndGet();
    assertRejected(run(r -> new AccountEntity.ApplyTrade("t-" + seq, seq, PERP, -2 * ONE_BTC, price(47_100), true,
        "flip", "counterparty", r)), Rejection.INSUFFICIENT_MARGIN);
    assertEquals(2, summary().positions().size());
  }

  /**
   * Review 16: an opening order reserved at the mark (sell 1 at 47,100, 50x: 965.55 with cash
   * 1,100) whose fill comes after the mark rose to 52,300 (the price still inside the band) would
   * open a short 5,200 under water: refused at the fill; at the mark it fills (its margin there,
   * 1,046 with the fee 26.15, within the cash its reservation gives back).
   */
  @Test
  void review16_anOpeningFillPricedWorseThanTheMarkIsJudgedOnTheEquityAtTheFill() {
    deposit(usdt(1_100));
    mark(PERP, 47_100);
    run(r -> new AccountEntity.SetLeverage(PERP, 50, r));
    assertEquals(965_550_000L, reservedAmount(reserve("short", PERP, -ONE_BTC, price(47_100))));
    mark(PERP, 52_300);
    int seq = sequence.incrementAndGet();
    assertRejected(run(r -> new AccountEntity.ApplyTrade("t-" + seq, seq, PERP, -ONE_BTC, price(47_100), true,
        "short", "counterparty", r)), Rejection.INSUFFICIENT_MARGIN);
    int seq2 = sequence.incrementAndGet();
    assertInstanceOf(AccountEntity.TradeSideApplied.class, run(r -> new AccountEntity.ApplyTrade("t-" + seq2, seq2,
        PERP, -ONE_BTC, price(52_300), true, "short", "counterparty", r)).reply());
  }

  /**
   * Review 17 (high): short 10 BTC at 50x. Order A buys 11 below the mark (closes 10, opens 1: it
   * reserves one lot's margin); order B buys 10 at the mark (reserves the growth from 1 to 11). B
   * fills first and closes the short, its reservation released, A's never repriced; the trader
   * withdraws 18,500 (equity 3,000 left). A's fill would open 11 BTC long on about 3,000 (183x
   * where the account chose 50x, about 0.1% from its liquidation, the fund paying the gaps): a
   * cross fill that opens lots is held at the fill to the order-cost rule with its own reservation
   * given back (review 18), and to staying above maintenance whatever its price (review 17).
   */
  @Test
  void review17_aCrossFillThatOpensMustLeaveTheAccountAboveMaintenance() {
    deposit(usdt(22_000));
    mark(PERP, 50_000);
    run(r -> new AccountEntity.SetLeverage(PERP, 50, r));
    trade(PERP, -10 * ONE_BTC, price(50_000));
    reservedAmount(reserve("A", PERP, 11 * ONE_BTC, price(49_990)));
    reservedAmount(reserve("B", PERP, 10 * ONE_BTC, price(50_000)));
    int seqB = sequence.incrementAndGet();
    assertInstanceOf(AccountEntity.TradeSideApplied.class, run(r -> new AccountEntity.ApplyTrade("t-" + seqB, seqB,
        PERP, 10 * ONE_BTC, price(50_000), true, "B", "counterparty", r)).reply());
    assertTrue(summary().positions().isEmpty());
    assertInstanceOf(AccountEntity.Transferred.class,
        run(r -> new AccountEntity.Withdraw("w-after-b", usdt(18_500), r)).reply());
    int seqA = sequence.incrementAndGet();
    assertRejected(run(r -> new AccountEntity.ApplyTrade("t-" + seqA, seqA, PERP, 11 * ONE_BTC, price(49_990), true,
        "A", "counterparty", r)), Rejection.INSUFFICIENT_MARGIN);
    // Order A cancelled, one lot the equity carries.
    assertInstanceOf(AccountEntity.Reserved.class, run(r -> new AccountEntity.ReleaseReservation("A", r)).reply());
    int seqA2 = sequence.incrementAndGet();
    assertInstanceOf(AccountEntity.TradeSideApplied.class, run(r -> new AccountEntity.ApplyTrade("t-" + seqA2, seqA2,
        PERP, ONE_BTC, price(49_990), true, null, "counterparty", r)).reply());
  }

  /** Review 13: an account in debt that still holds a position may close it (hole 2), not open. */
  @Test
  void review13_anAccountInDebtCanStillCloseItsPosition() {
    deposit(usdt(10_000));
    mark(PERP, 50_000);
    trade(PERP, ONE_BTC, price(50_000));
    assertInstanceOf(AccountEntity.StepApplied.class, run(r -> new AccountEntity.RecordDebt("old/debt", "old",
        usdt(1), r)).reply());
    assertTrue(summary().debt() > 0);
    assertRejected(reserve("grow", PERP, ONE_BTC, price(50_000)), Rejection.ACCOUNT_IN_DEBT);
    assertEquals(0, reservedAmount(reserve("out", PERP, -ONE_BTC, price(50_000))));
  }

  @Test
  void hole3_anOrderBeyondThePriceBandIsRefused() {
    deposit(usdt(100_000));
    mark(PERP, 50_000);
    // Before: reserved for 630 and, once filled, equity -9,030. (Trades are judged against the
    // band once per trade by their register: TradeRegisterTest and OrderRulesIntegrationTest.)
    assertRejected(reserve("far", PERP, ONE_BTC, price(60_000)), Rejection.PRICE_OUTSIDE_BAND);
    assertRejected(reserve("far-2", PERP, -ONE_BTC, price(44_999)), Rejection.PRICE_OUTSIDE_BAND);
    // The band's edges: exactly 10% away on either side is inside.
    assertInstanceOf(AccountEntity.Reserved.class, reserve("edge-1", PERP, 1, price(55_000)).reply());
    assertInstanceOf(AccountEntity.Reserved.class, reserve("edge-2", PERP, -1, price(45_000)).reply());
  }

  @Test
  void hole3_theOrderCostIncludesTheLossItOpensAgainstTheMark() {
    deposit(usdt(7_000));
    mark(PERP, 50_000);
    // Buy 1 BTC at 54,000 (8% above the mark): margin 2,700 + open loss 4,000 + taker fee 27.
    assertEquals(usdt(6_727), reservedAmount(reserve("o-1", PERP, ONE_BTC, price(54_000))));
    // A sell below the mark opens the same kind of loss; above it, none.
    assertRejected(reserve("o-2", PERP, -ONE_BTC, price(46_000)), Rejection.INSUFFICIENT_MARGIN);
  }

  @Test
  void hole9_thePositionLimitOfTheLastTierIsEnforced() {
    deposit(usdt(700_000_000));
    run(r -> new AccountEntity.SetLeverage(PERP, 1, r));
    // 12,000 BTC at 50,000 = 600M, above the last tier's 500M. Before: accepted at 1x.
    assertRejected(reserve("huge", PERP, 12_000 * ONE_BTC, price(50_000)), Rejection.POSITION_LIMIT);
    assertRejected(trade(PERP, 12_000 * ONE_BTC, price(50_000)), Rejection.POSITION_LIMIT);
    // Exactly at the cap is allowed.
    assertEquals(usdt(500_000_000) + usdt(250_000), reservedAmount(reserve("cap", PERP, 10_000 * ONE_BTC,
        price(50_000))));
  }

  @Test
  void hole9_anOrderIntoAHigherTierReservesTheWholePositionsMarginIncrease() {
    deposit(usdt(100_000));
    run(r -> new AccountEntity.SetLeverage(PERP, 100, r));
    trade(PERP, 4 * ONE_BTC, price(50_000));
    // Long 4 BTC = 200,000 (tier 2, 100x): margin 2,000. Buying 2 more makes 300,000 (tier 3,
    // at most 50x): margin 6,000. The order reserves the increase, 4,000, plus its fee 50.
    // Before: only the order's own margin, 2,000 + 50.
    assertEquals(usdt(4_050), reservedAmount(reserve("grow", PERP, 2 * ONE_BTC, price(50_000))));
  }

  @Test
  void aReduceOnlyOrderNeverOpensAPositionOnceThePositionHasShrunk() {
    // Review finding: reserved as reducing (nothing held), the position closed by another order,
    // everything withdrawn, then the reduce-only order filled into a short on credit.
    deposit(usdt(6_000));
    trade(PERP, ONE_BTC, price(50_000));
    assertEquals(0, reservedAmount(reserve("reduce", PERP, -ONE_BTC, price(50_000))));
    trade(PERP, -ONE_BTC, price(50_000)); // the position closes another way
    int seq = sequence.incrementAndGet();
    assertRejected(run(r -> new AccountEntity.ApplyTrade("t-" + seq, seq, PERP, -ONE_BTC, price(50_000), true,
        "reduce", "counterparty", r)), Rejection.INSUFFICIENT_MARGIN);
    assertTrue(summary().positions().isEmpty());
  }

  @Test
  void releasingAnOrderThatCarriedTheTierGrowthMovesThatGrowthToTheOrdersLeft() {
    // Review finding: reserve a throw-away order that carries the tier jump, a second one that
    // then only needs its own margin, release the first: the second must now carry the jump.
    deposit(usdt(100_000));
    run(r -> new AccountEntity.SetLeverage(PERP, 100, r));
    trade(PERP, 4 * ONE_BTC, price(50_000));
    assertEquals(usdt(4_050), reservedAmount(reserve("o1", PERP, 2 * ONE_BTC, price(50_000))));
    assertEquals(usdt(2_050), reservedAmount(reserve("o2", PERP, 2 * ONE_BTC, price(50_000))));
    var released = run(r -> new AccountEntity.ReleaseReservation("o1", r));
    assertEquals(2, released.events().size());
    assertEquals(usdt(4_050), summary().reserved());
  }

  @Test
  void anIsolatedFillIntoAHigherTierFundsTheWholePositionsMargin() {
    // Review finding: isolated at 100x, long 4 BTC (200,000, margin 2,000); buying 2 more makes
    // 300,000 in the 50x tier: the position must hold 6,000, so the fill allocates 4,000, not 2,000.
    deposit(usdt(100_000));
    run(r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r));
    run(r -> new AccountEntity.SetLeverage(PERP, 100, r));
    trade(PERP, 4 * ONE_BTC, price(50_000));
    var fill = assertInstanceOf(AccountEntity.TradeCleared.class, trade(PERP, 2 * ONE_BTC, price(50_000)).event());
    assertEquals(usdt(4_000), fill.isolatedMarginDelta());
    assertEquals(usdt(6_000), summary().positions().get(0).isolatedMargin());
  }

  @Test
  void hole10_aHugeReservationOnAnAccountWithNegativeAvailableNeverWrapsIntoAcceptance() {
    deposit(usdt(3_025));
    trade(PERP, ONE_BTC, price(50_000));
    mark(PERP, 49_000);
    assertTrue(summary().available() < 0);
    // 184,375,253,106 lots at 50,000: at the last tier's 1x, margin and fee come to 227,125,807
    // below 2^63, so "available - amount" wrapped to a positive number and the order was accepted.
    var wrapped = reserve("wrap-exact", PERP, 184_375_253_106L, price(50_000));
    assertRejected(wrapped, Rejection.POSITION_LIMIT);
    for (long lots : new long[] {Long.MAX_VALUE / 100_000, 9_000_000_000_000L, Long.MAX_VALUE}) {
      var result = reserve("wrap-" + lots, PERP, lots, price(49_000));
      assertInstanceOf(AccountEntity.Rejected.class, result.reply());
      assertTrue(result.hasNoEvents());
    }
    assertEquals(0, summary().reserved());
  }

  @Test
  void hole10_aMarginMoveOfAlmostMinusTwoToThe63OnAPositionUnderWaterIsRefused() {
    // Cash 0 after the fill (deposit = margin 2,500 + fee 25), the position 100 beyond its margin
    // (as during a halt): margin + amount + loss used to wrap past -2^63 to a large positive
    // number, pass the check, and leave cash near 2^63 and an account whose every call failed.
    deposit(usdt(2_525));
    mark(FUTURE, 50_000);
    run(r -> new AccountEntity.SetMarginMode(FUTURE, MarginMode.ISOLATED, r));
    trade(FUTURE, ONE_BTC, price(50_000));
    assertEquals(0, summary().cash());
    mark(FUTURE, 47_400);
    var result = run(r -> new AccountEntity.AdjustIsolatedMargin(FUTURE, Long.MIN_VALUE + 1, r));
    assertRejected(result, Rejection.AMOUNT_OVERFLOW);
    assertEquals(0, summary().cash());
    assertEquals(usdt(2_500), summary().positions().get(0).isolatedMargin());
  }

  @Test
  void hole10_extremeIsolatedMarginMovesAreRefusedAndTheAccountKeepsAnswering() {
    deposit(usdt(10_000));
    mark(FUTURE, 50_000);
    run(r -> new AccountEntity.SetMarginMode(FUTURE, MarginMode.ISOLATED, r));
    trade(FUTURE, ONE_BTC, price(50_000));
    mark(FUTURE, 47_600); // under water: the isolated margin of 2,500 has lost 2,400
    for (long amount : new long[] {Long.MIN_VALUE, Long.MIN_VALUE + 1, -Long.MAX_VALUE / 2, -usdt(2_500)}) {
      var result = run(r -> new AccountEntity.AdjustIsolatedMargin(FUTURE, amount, r));
      assertInstanceOf(AccountEntity.Rejected.class, result.reply(), () -> "amount " + amount);
      assertTrue(result.hasNoEvents());
    }
    for (long amount : new long[] {Long.MAX_VALUE, Long.MAX_VALUE - 1}) {
      var result = run(r -> new AccountEntity.AdjustIsolatedMargin(FUTURE, amount, r));
      assertInstanceOf(AccountEntity.Rejected.class, result.reply(), () -> "amount " + amount);
      assertTrue(result.hasNoEvents());
    }
    // The account still answers and its cash is what it was.
    assertEquals(usdt(10_000) - usdt(25) - usdt(2_500), summary().cash());
  }
}
