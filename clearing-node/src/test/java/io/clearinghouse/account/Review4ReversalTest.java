package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

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
 * Review 4: a reversed side is kept apart only until retained-trades (5) further reversals push it
 * out; then the register's repeated ReverseTradeSide (its UNWINDING step retried after a lost
 * answer or a register crash) carries the side's content, the account has forgotten the sequence,
 * and reverses it a second time as "the opposite fill".
 */
class Review4ReversalTest {
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

  private static EventSourcedBehaviorTestKit.CommandResultWithReply<Command, Event, State, Reply> run(
      EventSourcedBehaviorTestKit<Command, Event, State> a,
      java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<Reply>, Command> c) {
    return a.runCommand(c);
  }

  private static AccountSummary summary(EventSourcedBehaviorTestKit<Command, Event, State> a) {
    return ((AccountEntity.Snapshot) run(a, AccountEntity.Get::new).reply()).account();
  }

  private static long lots(EventSourcedBehaviorTestKit<Command, Event, State> a) {
    var s = summary(a);
    return s.positions().isEmpty() ? 0 : s.positions().get(0).lots();
  }

  @Test
  void aReversalRetriedAfterFiveOtherReversalsReversesTheSideASecondTime() {
    MarkPrices marks = MarkPrices.local();
    var a = AccountEntityTest.openedAccount(testKit, "r4rev-" + ids.incrementAndGet(), marks);
    run(a, r -> new AccountEntity.Deposit("d", 1_000_000 * USDT, r));
    marks.accept(new Mark(PERP, PRICE, 1, 0));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, run(a,
        r -> new AccountEntity.ApplyTrade("t-10", 10, PERP, ONE_BTC, PRICE, true, null, "cp", r)).reply());
    long fee = ((AccountEntity.TradeSideApplied) run(a,
        r -> new AccountEntity.ApplyTrade("t-10", 10, PERP, ONE_BTC, PRICE, true, null, "cp", r)).reply()).fee();
    // The register's UNWINDING step: applied, but its answer is lost (or the register crashes
    // before it records TradeRefused).
    assertInstanceOf(AccountEntity.TradeSideReverted.class, run(a,
        r -> new AccountEntity.ReverseTradeSide("t-10", 10, PERP, ONE_BTC, PRICE, fee, r)).reply());
    assertEquals(0, lots(a));
    long cashAfterFirstReversal = summary(a).cash();
    // Meanwhile five other trades of this account are refused on their other side and reversed.
    for (long seq = 100; seq < 106; seq++) {
      long s = seq;
      assertInstanceOf(AccountEntity.TradeSideApplied.class, run(a,
          r -> new AccountEntity.ApplyTrade("t-" + s, s, PERP, ONE_BTC, PRICE, true, null, "cp", r)).reply());
      assertInstanceOf(AccountEntity.TradeSideReverted.class, run(a,
          r -> new AccountEntity.ReverseTradeSide("t-" + s, s, PERP, ONE_BTC, PRICE, fee, r)).reply());
    }
    assertEquals(0, lots(a));
    // The register's retry of sequence 10's reversal, with the content it knows.
    var again = run(a, r -> new AccountEntity.ReverseTradeSide("t-10", 10, PERP, ONE_BTC, PRICE, fee, r));
    assertEquals(0, lots(a), "sequence 10 reversed twice (a short opened from nothing, fee refunded twice): "
        + again.reply() + " events " + again.events());
    assertEquals(cashAfterFirstReversal, summary(a).cash(), "the fee was refunded a second time");
  }
}
