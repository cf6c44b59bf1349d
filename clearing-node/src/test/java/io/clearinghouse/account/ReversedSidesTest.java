package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Reversed sides are remembered apart from the window of recent trades (retained-trades is 5 in
 * the test settings): a repeated reversal finds one done however many trades came since, and
 * remembered reversals never push out a trade just applied. Both failed at 3876efc (second review).
 */
class ReversedSidesTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final AtomicInteger ids = new AtomicInteger();
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long ONE_BTC = 1_000L;
  private static final long PRICE = 500_000;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private EventSourcedBehaviorTestKit<Command, Event, State> fresh() {
    MarkPrices marks = MarkPrices.local();
    var account = AccountEntityTest.openedAccount(testKit, "reversed-" + ids.incrementAndGet(), marks);
    run(account, r -> new AccountEntity.Deposit("d", 1_000_000 * USDT, r));
    marks.accept(new Mark(PERP, PRICE, 1, 0));
    return account;
  }

  private static EventSourcedBehaviorTestKit.CommandResultWithReply<Command, Event, State, Reply> run(
      EventSourcedBehaviorTestKit<Command, Event, State> a,
      java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<Reply>, Command> c) {
    return a.runCommand(c);
  }

  private static Reply apply(EventSourcedBehaviorTestKit<Command, Event, State> a, long seq, long lots) {
    return run(a, r -> new AccountEntity.ApplyTrade("t-" + seq, seq, PERP, lots, PRICE, true, null, "cp", r))
        .reply();
  }

  private static long lots(EventSourcedBehaviorTestKit<Command, Event, State> a) {
    var s = ((AccountEntity.Snapshot) run(a, AccountEntity.Get::new).reply()).account();
    return s.positions().isEmpty() ? 0 : s.positions().get(0).lots();
  }

  /** A side reversed normally (reply lost), then forgotten, then the register's retry with content reverses it again. */
  @Test
  void aSideReversedThenForgottenIsNeverReversedAgainFromTheRegistersCopy() {
    var a = fresh();
    assertInstanceOf(AccountEntity.TradeSideApplied.class, apply(a, 10, ONE_BTC));
    var first = run(a, r -> new AccountEntity.ReverseTradeSide("t-10", 10, PERP, ONE_BTC, PRICE, 25 * USDT, r));
    assertInstanceOf(AccountEntity.TradeSideReverted.class, first.reply());
    assertEquals(0, lots(a));
    for (long seq = 100; seq < 106; seq++) {
      assertInstanceOf(AccountEntity.TradeSideApplied.class, apply(a, seq, seq % 2 == 0 ? ONE_BTC : -ONE_BTC));
    }
    long before = lots(a);
    var again = run(a, r -> new AccountEntity.ReverseTradeSide("t-10", 10, PERP, ONE_BTC, PRICE, 25 * USDT, r));
        assertEquals(before, lots(a), "reversed twice");
  }

  /** Keep markers fill the window: every new trade is forgotten at once. */
  @Test
  void rememberedReversalsNeverCrowdOutTheTradesJustApplied() {
    var a = fresh();
    for (long seq = 1; seq <= 5; seq++) {
      apply(a, seq, ONE_BTC);
    }
    for (long seq = 100; seq < 105; seq++) {
      apply(a, seq, ONE_BTC);
    }
    for (long seq = 1; seq <= 5; seq++) {
      long s = seq;
      // Forgotten: reversed on the register's word (it read the journal).
      assertInstanceOf(AccountEntity.TradeSideReverted.class,
          run(a, r -> new AccountEntity.ReverseTradeSide("t-" + s, s, PERP, ONE_BTC, PRICE, 25 * USDT, true, r)).reply());
    }
    assertInstanceOf(AccountEntity.TradeSideApplied.class, apply(a, 200, ONE_BTC));
    Reply resend = apply(a, 200, ONE_BTC);
        assertInstanceOf(AccountEntity.TradeSideApplied.class, resend, "a just-applied sequence is already forgotten");
  }

  /** Third review: the reversed sides are kept first in, first out, so the one just reversed stays. */
  @Test
  void aLateReversalOfALowerSequenceIsRememberedWhenTheReversedAreAtTheirLimit() {
    var a = fresh();
    for (long seq = 100; seq < 105; seq++) {
      apply(a, seq, ONE_BTC);
    }
    for (long seq = 100; seq < 105; seq++) {
      long s = seq;
      assertInstanceOf(AccountEntity.TradeSideReverted.class,
          run(a, r -> new AccountEntity.ReverseTradeSide("t-" + s, s, PERP, ONE_BTC, PRICE, 25 * USDT, r)).reply());
    }
    assertEquals(0, lots(a));
    // Sequence 50 from a slower register: applied now, then unwound, and the reversal asked again.
    assertInstanceOf(AccountEntity.TradeSideApplied.class, apply(a, 50, ONE_BTC));
    assertInstanceOf(AccountEntity.TradeSideReverted.class,
        run(a, r -> new AccountEntity.ReverseTradeSide("t-50", 50, PERP, ONE_BTC, PRICE, 25 * USDT, r)).reply());
    var again = run(a, r -> new AccountEntity.ReverseTradeSide("t-50", 50, PERP, ONE_BTC, PRICE, 25 * USDT, r));
    assertTrue(again.hasNoEvents(), "reversed twice: " + again.events());
    assertEquals(0, lots(a));
  }

  /** Third review: a held side that closes at a profit lends nothing to a withdrawal before it is applied. */
  @Test
  void aWithdrawalCannotTakeTheProfitOfAHeldCloseThatIsThenRefused() {
    MarkPrices marks = MarkPrices.local();
    var a = AccountEntityTest.openedAccount(testKit, "reversed-" + ids.incrementAndGet(), marks);
    run(a, r -> new AccountEntity.Deposit("d", 10_000 * USDT, r));
    marks.accept(new Mark(PERP, PRICE, 1, 0));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, apply(a, 1, ONE_BTC));
    marks.accept(new Mark(PERP, 550_000, 2, 0));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, run(a, r -> new AccountEntity.CheckTrade(
        new AccountEntity.ApplyTrade("t-2", 2, PERP, -ONE_BTC, 550_000, true, null, "cp", r))).reply());
    // Before: 14,900 accepted, and once the trade was refused the account was left liquidatable.
    var w = run(a, r -> new AccountEntity.Withdraw("w", 14_900 * USDT, r));
    assertInstanceOf(AccountEntity.Rejected.class, w.reply(), String.valueOf(w.reply()));
    assertTrue(w.hasNoEvents());
  }
}
