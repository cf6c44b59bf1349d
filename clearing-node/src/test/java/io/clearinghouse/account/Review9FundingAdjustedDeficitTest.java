package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.MutableClock;
import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review 9, finding 2. The deficit guard of c12777a (a funding payment that leaves an account with
 * no position in deficit starts a liquidation with nothing to close) is only in
 * FundingHandlers.apply. A redone payment (FundingHandlers.lateAdjustments → FundingAdjusted) moves
 * money the same way but comes from TradingHandlers (late side, reversal) and LiquidationHandlers,
 * which never look at the cash it leaves. A side reversed after its funding time was paid takes the
 * funding back from an account that may have withdrawn it meanwhile (funding received is cash;
 * with the mark's profit covering the initial margin the whole cash is withdrawable): the account
 * is left flat with negative cash, no liquidation and no debt, the pool made whole with money that
 * left the system.
 *
 * <p>BTCUSDT-PERP, 1 BTC = 1,000 lots, 50,000 USDT = 500,000 ticks, 1 USDT = 1,000,000.
 */
class Review9FundingAdjustedDeficitTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long T = Instant.parse("2026-03-02T08:00:00Z").toEpochMilli();

  private final MutableClock clock = new MutableClock(Instant.ofEpochMilli(T - 10));
  private final MarkPrices marks = MarkPrices.local();
  private long markSequence;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private void at(long epochMillis) {
    clock.advance(Duration.ofMillis(epochMillis - clock.millis()));
  }

  private void mark(long ticks) {
    marks.accept(new Mark(PERP, ticks, ++markSequence, clock.millis()));
  }

  @Test
  void aRedoneFundingPaymentNeverLeavesAFlatAccountInAnUncoveredDeficit() {
    EventSourcedBehaviorTestKit<Command, Event, State> kit = EventSourcedBehaviorTestKit.create(testKit.system(),
        AccountEntity.create("alice-r9", AccountEntityTest.environment(marks, clock)),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
    Function<Function<ActorRef<Reply>, Command>, Reply> run = c -> kit.runCommand(c).reply();
    kit.runCommand(AccountEntity.Open::unattributed);
    mark(500_000);
    run.apply(r -> new AccountEntity.Deposit("d1", 600 * USDT, r));
    run.apply(r -> new AccountEntity.SetLeverage(PERP, 100, r));
    // Buys 1 BTC at 50,000 as maker (fee 10), registered at 07:59:59.999; the seller's side is refused later.
    assertInstanceOf(AccountEntity.TradeSideApplied.class, run.apply(r -> new AccountEntity.ApplyTrade("t-1", 1, PERP,
        1_000, 500_000, false, null, "bob", r, T - 1)));
    // 08:00 at -0.3% (within the auto cap at 100x): the long receives 150.
    long cap = AccountEntityTest.INSTRUMENTS.spec(PERP).funding().cap();
    assertTrue(cap >= 300_000, "a rate the clock can fix: the cap is " + cap);
    at(T + 10_000);
    AccountEntity.FundingPaid paid = assertInstanceOf(AccountEntity.FundingPaid.class,
        run.apply(r -> new AccountEntity.ApplyFunding(PERP, T, -300_000, 500_000, r)));
    assertEquals(150 * USDT, paid.amount());
    // The mark rises 1.2%: the profit covers the initial margin, so all the cash (740) is withdrawable.
    mark(506_000);
    long cash = ((Account) kit.getState()).cash();
    assertEquals(740 * USDT, cash);
    Reply withdrawn = run.apply(r -> new AccountEntity.Withdraw("w1", cash, r));
    assertTrue(!(withdrawn instanceof AccountEntity.Rejected), "withdrawal refused: " + withdrawn);
    // The register reverses the side (its seller refused): the position and fee go back, and the
    // funding redone on 0 lots takes the 150 back.
    at(T + 20_000);
    assertInstanceOf(AccountEntity.TradeSideReverted.class, run.apply(r -> new AccountEntity.ReverseTradeSide("t-1",
        1, PERP, 1_000, 500_000, 10 * USDT, r)));
    Account after = (Account) kit.getState();
    assertEquals(0, after.holding(PERP).lots());
    assertEquals(0, after.funding().position(PERP).total(), "the funding was taken back");
    assertTrue(after.cash() >= 0 || after.debt() > 0 || after.liquidating(), "the redone payment left cash "
        + after.cash() + " with no position, no liquidation and no debt recorded");
  }
}
