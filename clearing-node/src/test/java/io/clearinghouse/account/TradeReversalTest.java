package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A trade side reversed after the holding moved in between (review finding: the reversal used to
 * negate movements that no longer applied, inventing 2,500 of cash and a negative isolated margin
 * that made every later command of the account throw). It is now the opposite fill at the same
 * price against the holding as it is, with the fee refunded.
 */
class TradeReversalTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static EventSourcedBehaviorTestKit.CommandResultWithReply<AccountEntity.Command, AccountEntity.Event,
      AccountEntity.State, AccountEntity.Reply> run(
      EventSourcedBehaviorTestKit<AccountEntity.Command, AccountEntity.Event, AccountEntity.State> kit,
      java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<AccountEntity.Reply>, AccountEntity.Command> c) {
    return kit.runCommand(c);
  }

  @Test
  void aReversalAfterAnInterveningCloseCreatesNoMoneyAndLeavesAValidAccount() {
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 500_000, 1, System.currentTimeMillis()));
    EventSourcedBehaviorTestKit<AccountEntity.Command, AccountEntity.Event, AccountEntity.State> account =
        AccountEntityTest.openedAccount(testKit, "reversed-after-adl", marks);
    List<Object> events = new ArrayList<>(List.of(new AccountEntity.AccountOpened("reversed-after-adl")));
    events.addAll(run(account, r -> new AccountEntity.Deposit("d1", 10_000 * USDT, r)).events());
    events.addAll(run(account, r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r)).events());
    // The buyer side of trade 20: +1 BTC at 50,000, isolated margin 2,500, fee 25.
    events.addAll(run(account, r -> new AccountEntity.ApplyTrade("t-20", 20, PERP, 1_000, 500_000, true, null,
        "seller", r)).events());
    // While the register waits for the seller, deleveraging closes the long at 50,000.
    events.addAll(run(account, r -> new AccountEntity.ApplyLiquidationTransfer("L-1/close-0", "L-1",
        LiquidationRole.DELEVERAGED, "victim", PERP, -1_000, 500_000, 0, AccountEntity.TransferMode.REDUCE_CLIPPED, r))
        .events());
    // The seller refuses: the buyer side is taken back as a sell of 1 BTC at 50,000.
    var reversed = run(account, r -> new AccountEntity.ReverseTradeSide("t-20", 20, r));
    assertInstanceOf(AccountEntity.TradeSideReverted.class, reversed.reply());
    events.addAll(reversed.events());

    AccountSummary after = ((AccountEntity.Snapshot) run(account, AccountEntity.Get::new).reply()).account();
    // No money created: equity at the mark is still the deposit (the fee came back).
    assertEquals(10_000 * USDT, after.equity() + after.positions().stream()
        .mapToLong(PositionSummary::isolatedMargin).sum());
    assertTrue(after.positions().stream().allMatch(p -> p.isolatedMargin() >= 0), after.toString());
    assertTrue(after.cash() <= 10_000 * USDT, after.toString());
    // The journal adds up, and the account still answers after a restart.
    io.clearinghouse.audit.AccountLedgerAccess.assertClean("reversed-after-adl", events);
    account.restart();
    assertInstanceOf(AccountEntity.Transferred.class,
        run(account, r -> new AccountEntity.Withdraw("w1", 100 * USDT, r)).reply());
  }
}
