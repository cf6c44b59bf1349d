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
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import static io.clearinghouse.account.AccountHarness.FUTURE;
import static io.clearinghouse.account.AccountHarness.ONE_BTC;
import static io.clearinghouse.account.AccountHarness.PERP;
import static io.clearinghouse.account.AccountHarness.USDT;
import static io.clearinghouse.account.AccountHarness.assertRejected;
import static io.clearinghouse.account.AccountHarness.price;
import static io.clearinghouse.account.AccountHarness.usdt;

/**
 * A side passed in a check is promised: until the trade register applies it, no other decision of
 * the account (a second trade's check, a withdrawal, an order, a margin move, a leverage change)
 * may use what it needs, so the register never has to force it beyond the account's rules. And a
 * fill of a reserved order cannot go beyond what was reserved; margin mode and leverage cannot be
 * changed under open orders. BTCUSDT-PERP / -271231: tick 0.1, lot 0.001 BTC, taker 0.05%.
 */
class PendingSidesEntityTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();


  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private AccountHarness h;

  @BeforeEach
  void newAccount() {
    h = new AccountHarness(testKit, "pending");
  }

  private CommandResultWithReply<Command, Event, State, Reply> run(Function<ActorRef<Reply>, Command> command) {
    return h.run(command);
  }

  private void deposit(long amount) {
    h.deposit(amount);
  }

  private void mark(String instrument, long wholeUsdt) {
    h.mark(instrument, wholeUsdt);
  }

  private AccountSummary summary() {
    return h.summary();
  }

  private AccountEntity.ApplyTrade side(int seq, String instrument, long lots, long priceTicks, String orderId,
      ActorRef<Reply> replyTo) {
    return new AccountEntity.ApplyTrade("t-" + seq, seq, instrument, lots, priceTicks, true, orderId, "counterparty",
        replyTo);
  }

  private CommandResultWithReply<Command, Event, State, Reply> check(int seq, String instrument, long lots,
      long priceTicks) {
    return run(r -> new AccountEntity.CheckTrade(side(seq, instrument, lots, priceTicks, null, r)));
  }

  private CommandResultWithReply<Command, Event, State, Reply> apply(int seq, String instrument, long lots,
      long priceTicks, String orderId) {
    return run(r -> side(seq, instrument, lots, priceTicks, orderId, r));
  }

  private static void assertPassed(CommandResultWithReply<Command, Event, State, Reply> result) {
    assertInstanceOf(AccountEntity.TradeSideApplied.class, result.reply(), () -> String.valueOf(result.reply()));
  }

  @Test
  void aSecondCheckCannotUseThePositionRoomTheFirstOneNeeds() {
    deposit(usdt(700_000_000));
    run(r -> new AccountEntity.SetLeverage(PERP, 1, r));
    mark(PERP, 50_000);
    // The last tier ends at 500M: 10,000 BTC at 50,000. Two sells of 6,000 BTC each fit alone, not together.
    assertPassed(check(1, PERP, -6_000 * ONE_BTC, price(50_000)));
    assertTrue(check(1, PERP, -6_000 * ONE_BTC, price(50_000)).hasNoEvents(), "a check persists nothing");
    // Before: passed too, and the register then forced one of the two beyond the limit.
    assertRejected(check(2, PERP, -6_000 * ONE_BTC, price(50_000)), Rejection.POSITION_LIMIT);
    // The first is applied by its own rules (not forced); then the second is refused on the real position.
    assertEquals(1, apply(1, PERP, -6_000 * ONE_BTC, price(50_000), null).events().size());
    assertRejected(apply(2, PERP, -6_000 * ONE_BTC, price(50_000), null), Rejection.POSITION_LIMIT);
  }

  @Test
  void aCheckedSideHoldsTheRoomAgainstTheAccountsOwnSettlingSidesToo() {
    deposit(usdt(700_000_000));
    run(r -> new AccountEntity.SetLeverage(PERP, 1, r));
    mark(PERP, 50_000);
    assertPassed(check(1, PERP, 6_000 * ONE_BTC, price(50_000)));
    // Another trade where this account is the buyer, applied while the first waits: refused.
    assertRejected(apply(2, PERP, 6_000 * ONE_BTC, price(50_000), null), Rejection.POSITION_LIMIT);
    assertEquals(1, apply(1, PERP, 6_000 * ONE_BTC, price(50_000), null).events().size());
  }

  @Test
  void aWithdrawalCannotTakeTheCashACheckedIsolatedSideWillFundItsMarginFrom() {
    deposit(usdt(10_000));
    mark(FUTURE, 50_000);
    run(r -> new AccountEntity.SetMarginMode(FUTURE, MarginMode.ISOLATED, r));
    run(r -> new AccountEntity.SetLeverage(FUTURE, 10, r));
    // Sell 1 BTC at 50,000, isolated 10x: 5,000 of margin from cash and a fee of 25.
    assertPassed(check(1, FUTURE, -ONE_BTC, price(50_000)));
    assertEquals(usdt(10_000), summary().cash(), "a check moves nothing");
    // Before: 9,000 could be withdrawn, and the side was then forced with 975 of margin.
    assertRejected(run(r -> new AccountEntity.Withdraw("w-1", usdt(5_000), r)), Rejection.INSUFFICIENT_WITHDRAWABLE);
    assertRejected(run(r -> new AccountEntity.ReserveMargin("o-1", FUTURE, -ONE_BTC, price(50_000), r)),
        Rejection.INSUFFICIENT_MARGIN);
    assertInstanceOf(AccountEntity.Transferred.class,
        run(r -> new AccountEntity.Withdraw("w-2", usdt(4_975), r)).reply());
    var applied = apply(1, FUTURE, -ONE_BTC, price(50_000), null);
    var cleared = assertInstanceOf(AccountEntity.TradeCleared.class, applied.event());
    assertEquals(usdt(5_000), cleared.isolatedMarginDelta(), "funded in full, by its own rules");
    assertEquals(0, summary().cash());
  }

  @Test
  void aReleasedOrExpiredCheckHoldsNothing() {
    deposit(usdt(10_000));
    mark(FUTURE, 50_000);
    run(r -> new AccountEntity.SetMarginMode(FUTURE, MarginMode.ISOLATED, r));
    run(r -> new AccountEntity.SetLeverage(FUTURE, 10, r));
    assertPassed(check(1, FUTURE, -ONE_BTC, price(50_000)));
    assertRejected(run(r -> new AccountEntity.Withdraw("w-1", usdt(9_000), r)), Rejection.INSUFFICIENT_WITHDRAWABLE);
    // The buyer refused the trade: the register lets the seller go.
    assertInstanceOf(AccountEntity.CheckReleased.class, run(r -> new AccountEntity.ReleaseCheck(1, r)).reply());
    assertInstanceOf(AccountEntity.Transferred.class, run(r -> new AccountEntity.Withdraw("w-2", usdt(9_000), r)).reply());
  }

  @Test
  void aMarginModeOrLeverageChangeCannotUndercutASideCheckedOrAnOrderOpen() {
    deposit(usdt(10_000));
    mark(PERP, 50_000);
    assertPassed(check(1, PERP, ONE_BTC, price(50_000)));
    // The position the check promised is as good as open.
    assertRejected(run(r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r)), Rejection.POSITION_OPEN);
    assertInstanceOf(AccountEntity.CheckReleased.class, run(r -> new AccountEntity.ReleaseCheck(1, r)).reply());
    assertInstanceOf(AccountEntity.Reserved.class,
        run(r -> new AccountEntity.ReserveMargin("o-1", PERP, ONE_BTC, price(50_000), r)).reply());
    // Before: both accepted, and the order then filled with the margin of the old mode and leverage.
    assertRejected(run(r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r)), Rejection.ORDERS_OPEN);
    assertRejected(run(r -> new AccountEntity.SetLeverage(PERP, 5, r)), Rejection.ORDERS_OPEN);
    // Raising it holds more than needed: allowed.
    assertEquals(1, run(r -> new AccountEntity.SetLeverage(PERP, 25, r)).events().size());
    assertEquals(1, run(r -> new AccountEntity.ReleaseReservation("o-1", r)).events().size());
    assertEquals(1, run(r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r)).events().size());
  }

  @Test
  void aFillOfAReservedOrderCannotGoBeyondItsLimitPriceOrItsQuantity() {
    deposit(usdt(10_000));
    mark(PERP, 50_000);
    assertInstanceOf(AccountEntity.Reserved.class,
        run(r -> new AccountEntity.ReserveMargin("buy-1", PERP, ONE_BTC, price(50_000), r)).reply());
    // Before: applied, with the margin held for a buy at 50,000.
    assertRejected(apply(1, PERP, ONE_BTC, price(50_100), "buy-1"), Rejection.FILL_BEYOND_ORDER);
    assertRejected(apply(2, PERP, 2 * ONE_BTC, price(50_000), "buy-1"), Rejection.FILL_BEYOND_ORDER);
    assertRejected(apply(3, PERP, -ONE_BTC, price(50_000), "buy-1"), Rejection.FILL_BEYOND_ORDER);
    assertRejected(apply(4, FUTURE, ONE_BTC, price(50_000), "buy-1"), Rejection.FILL_BEYOND_ORDER);
    // Better than the limit, in part: applied, the rest of the order stays reserved.
    assertEquals(1, apply(5, PERP, ONE_BTC / 2, price(49_900), "buy-1").events().size());
    assertEquals(ONE_BTC / 2, summary().positions().get(0).lots());
    assertTrue(summary().reserved() > 0);
  }
}
