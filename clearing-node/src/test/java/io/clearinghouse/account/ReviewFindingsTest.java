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
 * The findings of the adversarial review of the money-integrity work, one test each (every one
 * failed on main at fb55be3): fills without a reservation, trades into a liquidation, a hold lost
 * on restart, a forgotten side reversed. Test settings: retained-trades 5, default leverage 20.
 */
class ReviewFindingsTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();


  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private AccountHarness h;

  @BeforeEach
  void newAccount() {
    h = new AccountHarness(testKit, "review");
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

  private static AccountEntity.ApplyTrade side(long seq, String instrument, long lots, long priceTicks, String orderId,
      ActorRef<Reply> replyTo) {
    return new AccountEntity.ApplyTrade("t-" + seq, seq, instrument, lots, priceTicks, true, orderId, "counterparty",
        replyTo);
  }

  private CommandResultWithReply<Command, Event, State, Reply> apply(long seq, String instrument, long lots,
      long priceTicks, String orderId) {
    return run(r -> side(seq, instrument, lots, priceTicks, orderId, r));
  }

  /**
   * Finding: FILL_BEYOND_ORDER is judged only while the order still has a reservation. Once the
   * order is filled (or released), a further fill naming it passes with no check at all (and a
   * cross fill has no margin check of its own): an engine overfill opens 9 BTC on 10,000 USDT.
   */
  @Test
  void aFillOfAnOrderWhoseReservationIsUsedUpIsNotLetThroughUnchecked() {
    deposit(usdt(10_000));
    mark(PERP, 50_000);
    assertInstanceOf(AccountEntity.Reserved.class,
        run(r -> new AccountEntity.ReserveMargin("buy-1", PERP, ONE_BTC, price(50_000), r)).reply());
    assertEquals(1, apply(1, PERP, ONE_BTC, price(50_000), "buy-1").events().size());
    assertTrue(summary().reserved() == 0, "the order is filled: its reservation is gone");
    // The same order filled again, 9 times its size: nothing reserved for it any more, so the
    // order-cost rule judges it (before: applied unchecked).
    assertRejected(apply(2, PERP, 9 * ONE_BTC, price(50_000), "buy-1"), Rejection.INSUFFICIENT_MARGIN);
  }

  /**
   * Finding (hostile trader, honest engine): the engine matches a fill, then the trader's cancel
   * reaches ReleaseReservation (a unary call) before the fill reaches the trade stream. The whole
   * reservation is released, the trader withdraws all cash, and the fill is applied to a cross
   * account with no margin at all: a free option on the insurance fund.
   */
  @Test
  void aFillThatRacedItsOrdersCancelStillNeedsMargin() {
    deposit(usdt(10_000));
    mark(PERP, 50_000);
    assertInstanceOf(AccountEntity.Reserved.class,
        run(r -> new AccountEntity.ReserveMargin("buy-3", PERP, 3 * ONE_BTC, price(50_000), r)).reply());
    assertEquals(1, run(r -> new AccountEntity.ReleaseReservation("buy-3", r)).events().size());
    assertInstanceOf(AccountEntity.Transferred.class,
        run(r -> new AccountEntity.Withdraw("w-all", usdt(10_000), r)).reply());
    assertRejected(apply(1, PERP, 3 * ONE_BTC, price(50_000), "buy-3"), Rejection.INSUFFICIENT_MARGIN);
  }

  /**
   * Finding: a trade side is never refused for an account in liquidation. LiquidationStarted
   * releases every reservation (the engine's resting orders stay on its book), and a later fill
   * of such an order (or an orderless trade) grows the position being liquidated.
   */
  @Test
  void anAccountInLiquidationCannotGrowItsPositionThroughATrade() {
    deposit(usdt(10_000));
    mark(PERP, 50_000);
    assertInstanceOf(AccountEntity.Reserved.class,
        run(r -> new AccountEntity.ReserveMargin("buy-2", PERP, ONE_BTC / 10, price(50_000), r)).reply());
    assertEquals(1, apply(1, PERP, ONE_BTC, price(50_000), null).events().size());
    long markSequence = h.mark(PERP, 40_000);
    var started = h.account.runCommand(new AccountEntity.StartLiquidation(markSequence));
    assertInstanceOf(AccountEntity.LiquidationStarted.class, started.events().get(0));
    // The resting order buy-2 fills at 40,000 (its reservation was released at the start).
    assertRejected(apply(2, PERP, ONE_BTC / 10, price(40_000), "buy-2"), Rejection.ACCOUNT_LIQUIDATING);
    assertRejected(apply(3, PERP, 5 * ONE_BTC, price(40_000), null), Rejection.ACCOUNT_LIQUIDATING);
  }

  /**
   * Finding: the hold of a checked side is in memory; an account restart (rebalance, node crash,
   * passivation) drops it while the trade register still has sellerChecked = true for its drive
   * and will force the side. After the restart the cash the isolated side needs can be withdrawn,
   * and the forced side then opens the isolated position on almost no margin (hole 1 again).
   */
  @Test
  void aCheckedSideStillHoldsItsCashAfterTheAccountRestarts() {
    deposit(usdt(10_000));
    mark(FUTURE, 50_000);
    run(r -> new AccountEntity.SetMarginMode(FUTURE, MarginMode.ISOLATED, r));
    run(r -> new AccountEntity.SetLeverage(FUTURE, 10, r));
    assertInstanceOf(AccountEntity.TradeSideApplied.class,
        run(r -> new AccountEntity.CheckTrade(side(1, FUTURE, -ONE_BTC, price(50_000), null, r))).reply());
    assertRejected(run(r -> new AccountEntity.Withdraw("w-1", usdt(9_000), r)), Rejection.INSUFFICIENT_WITHDRAWABLE);
    h.account.restart();
    // The hold is in memory: after a restart it is gone, and the cash may be withdrawn...
    assertInstanceOf(AccountEntity.Transferred.class, run(r -> new AccountEntity.Withdraw("w-2", usdt(9_000), r)).reply());
    // ...but then the side is no longer forced (it is not held): judged as any other and refused,
    // so the register reverses the buyer's side. Before: forced with 975 of margin instead of 5,000.
    assertRejected(apply(1, FUTURE, -ONE_BTC, price(50_000), null), Rejection.INSUFFICIENT_MARGIN);
    assertRejected(run(r -> new AccountEntity.ForceTradeSide(side(1, FUTURE, -ONE_BTC, price(50_000), null, r))),
        Rejection.INSUFFICIENT_MARGIN);
  }

  /**
   * Finding: a buyer side can become impossible to reverse. If the seller's step is refused by a
   * non-forcible rule after the buyer side was applied, the register persists TradeUnwinding and
   * asks the buyer to reverse; if the buyer has meanwhile applied more than retained-trades newer
   * trades (other streams, a reconnect, a busy market maker while the seller's node was away), the
   * account answers TRADE_TOO_OLD and the register retries for ever: the trade stays applied to
   * one side only.
   */
  @Test
  void aBuyerSideCanStillBeReversedAfterTheAccountAppliedManyNewerTrades() {
    deposit(usdt(1_000_000));
    mark(PERP, 50_000);
    assertEquals(1, apply(10, PERP, ONE_BTC, price(50_000), null).events().size());
    for (long seq = 100; seq < 106; seq++) { // retained-trades is 5 in the test settings
      assertEquals(1, apply(seq, PERP, seq % 2 == 0 ? ONE_BTC : -ONE_BTC, price(50_000), null).events().size());
    }
    long lotsBefore = summary().positions().get(0).lots();
    long cashBefore = summary().cash();
    // Without the register's word the account cannot tell whether it reversed it already (fourth
    // review): too old, nothing moves, and the register reads its journal.
    var unverified = run(r -> new AccountEntity.ReverseTradeSide("t-10", 10, PERP, ONE_BTC, price(50_000), usdt(25),
        r));
    assertRejected(unverified, Rejection.TRADE_TOO_OLD);
    // The register sends the side as it applied it (fee 25), its journal read: undone as the opposite fill.
    var reversed = run(r -> new AccountEntity.ReverseTradeSide("t-10", 10, PERP, ONE_BTC, price(50_000), usdt(25),
        true, r));
    assertInstanceOf(AccountEntity.TradeSideReverted.class, reversed.reply(),
        () -> "the register retries this for ever: " + reversed.reply());
    assertEquals(lotsBefore - ONE_BTC, summary().positions().isEmpty() ? 0 : summary().positions().get(0).lots());
    assertEquals(cashBefore + usdt(25), summary().cash(), "the fee refunded; no PnL at the same price");
    // Asked again: answered as done, nothing moves.
    var again = run(r -> new AccountEntity.ReverseTradeSide("t-10", 10, PERP, ONE_BTC, price(50_000), usdt(25),
        true, r));
    assertTrue(again.hasNoEvents());
    assertTrue(((AccountEntity.TradeSideReverted) again.reply()).duplicate());
  }
}
