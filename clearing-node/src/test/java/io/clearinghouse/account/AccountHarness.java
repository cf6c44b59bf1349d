package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;

/**
 * One opened account on the in-memory journal with its own mark board, for the entity tests of the
 * money rules. BTCUSDT-PERP and BTCUSDT-271231: tick 0.1, lot 0.001 BTC, so 50,000 USDT = 500,000
 * ticks and 1 BTC = 1,000 lots; taker 0.05%; default leverage 20; retained-trades 5.
 */
final class AccountHarness {
  static final String PERP = "BTCUSDT-PERP";
  static final String FUTURE = "BTCUSDT-271231";
  static final long USDT = 1_000_000L;
  static final long ONE_BTC = 1_000L;
  private static final AtomicInteger ids = new AtomicInteger();

  final EventSourcedBehaviorTestKit<Command, Event, State> account;
  final MarkPrices marks = MarkPrices.local();
  private final AtomicInteger keys = new AtomicInteger();
  private long markSequence;

  AccountHarness(ActorTestKit testKit, String prefix) {
    account = AccountEntityTest.openedAccount(testKit, prefix + "-" + ids.incrementAndGet(), marks);
  }

  static long usdt(long whole) {
    return whole * USDT;
  }

  /** Price in ticks of 0.1 USDT. */
  static long price(long wholeUsdt) {
    return wholeUsdt * 10;
  }

  long mark(String instrument, long wholeUsdt) {
    marks.accept(new Mark(instrument, price(wholeUsdt), ++markSequence, 0));
    return markSequence;
  }

  CommandResultWithReply<Command, Event, State, Reply> run(Function<ActorRef<Reply>, Command> command) {
    return account.runCommand(command);
  }

  void deposit(long amount) {
    assertInstanceOf(AccountEntity.Transferred.class,
        run(r -> new AccountEntity.Deposit("d-" + keys.incrementAndGet(), amount, r)).reply());
  }

  AccountSummary summary() {
    return ((AccountEntity.Snapshot) run(AccountEntity.Get::new).reply()).account();
  }

  static void assertRejected(CommandResultWithReply<Command, Event, State, Reply> result, Rejection reason) {
    AccountEntity.Rejected rejected = assertInstanceOf(AccountEntity.Rejected.class, result.reply(),
        () -> "expected " + reason + " but got " + result.reply());
    assertEquals(reason, rejected.reason(), rejected.message());
    assertTrue(result.hasNoEvents(), "a refused command must persist nothing");
  }
}
