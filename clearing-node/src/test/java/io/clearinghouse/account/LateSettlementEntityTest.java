package io.clearinghouse.account;

import static io.clearinghouse.account.AccountHarness.FUTURE;
import static io.clearinghouse.account.AccountHarness.ONE_BTC;
import static io.clearinghouse.account.AccountHarness.price;
import static io.clearinghouse.account.AccountHarness.usdt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.MutableClock;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.money.Bucket;
import io.clearinghouse.money.Transfer;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 17 review (high): a side in a dated future the account has already settled. Sides that can
 * still be refused before anything moved (a trade side, its check, a reservation, a backstop's
 * takeover) are refused with INSTRUMENT_SETTLED (BACKSTOP_DECLINED for the takeover); sides that
 * must not be refused (a forced seller side, a reversal, a liquidation give-back) are applied and
 * what they leave is closed at once, in the same batch, at the recorded settlement price against
 * the settlement pool, so the pool nets to zero to the unit. Before the fix every one of them was
 * applied and left lots no settlement would ever close.
 *
 * <p>The numbers: 1 BTC long from 50,000, settled at 50,123.4 (+123.4 from the pool, a delivery
 * fee of 10.02468).
 */
class LateSettlementEntityTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final Instant EXPIRY = Instant.parse("2027-12-31T08:00:00Z");
  private static final long SETTLEMENT = 501_234;
  private static final AtomicInteger ids = new AtomicInteger();
  private static final AtomicInteger sequence = new AtomicInteger(1_000);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static final class Settled {
    final MutableClock clock = new MutableClock(EXPIRY.minusSeconds(3_600));
    final MarkPrices marks = MarkPrices.local();
    final String id = "late-" + ids.incrementAndGet();
    final EventSourcedBehaviorTestKit<AccountEntity.Command, AccountEntity.Event, AccountEntity.State> account =
        EventSourcedBehaviorTestKit.create(testKit.system(), AccountEntity.create(id,
            AccountEntityTest.environment(marks, clock)),
            EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
    final List<AccountEntity.Event> journal = new ArrayList<>();
    final int longSequence = sequence.incrementAndGet();

    Settled() {
      run(AccountEntity.Open::unattributed);
      run(r -> new AccountEntity.Deposit("d", usdt(100_000), r));
      marks.accept(new Mark(FUTURE, price(50_000), 1, 0));
      assertInstanceOf(AccountEntity.TradeSideApplied.class, run(r -> side(longSequence, ONE_BTC, r)).reply());
    }

    AccountEntity.ApplyTrade side(int seq, long lots, ActorRef<AccountEntity.Reply> r) {
      return new AccountEntity.ApplyTrade("t-" + seq, seq, FUTURE, lots, price(50_000), false, null, "other", r);
    }

    CommandResultWithReply<AccountEntity.Command, AccountEntity.Event, AccountEntity.State, AccountEntity.Reply> run(
        Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command) {
      var result = account.runCommand(command);
      journal.addAll(result.events());
      return result;
    }

    AccountSummary summary() {
      return ((AccountEntity.Snapshot) run(AccountEntity.Get::new).reply()).account();
    }

    AccountEntity.SettlementApplied settle() {
      clock.advance(Duration.ofSeconds(3_600));
      return assertInstanceOf(AccountEntity.SettlementApplied.class,
          run(r -> new AccountEntity.ApplySettlement(FUTURE, EXPIRY.toEpochMilli(), SETTLEMENT, r)).events().get(0));
    }

    /** What the account's events put into (negative: took from) the settlement pool. */
    long pool() {
      long pool = 0;
      for (AccountEntity.Event e : journal) {
        pool += Transfer.netInto(AccountTransfers.of(id, e), Bucket.settlementPool(FUTURE));
      }
      return pool;
    }

    boolean holdsFuture() {
      return summary().positions().stream().anyMatch(p -> p.instrument().equals(FUTURE));
    }
  }

  @Test
  void aFreshSideItsCheckAndAReservationAreRefusedAndNothingMoves() {
    Settled s = new Settled();
    s.settle();
    AccountSummary before = s.summary();
    int seq = sequence.incrementAndGet();
    var applied = s.run(r -> s.side(seq, -ONE_BTC, r));
    AccountHarness.assertRejected(applied, Rejection.INSTRUMENT_SETTLED);
    assertTrue(applied.hasNoEvents());
    AccountHarness.assertRejected(s.run(r -> new AccountEntity.CheckTrade(s.side(seq, -ONE_BTC, r))),
        Rejection.INSTRUMENT_SETTLED);
    var reserved = s.run(r -> new AccountEntity.ReserveMargin("o-1", FUTURE, ONE_BTC, price(50_000), r));
    AccountHarness.assertRejected(reserved, Rejection.INSTRUMENT_SETTLED);
    assertTrue(reserved.hasNoEvents());
    // A backstop provider's takeover is declined before anything moved: the saga asks another venue.
    AccountHarness.assertRejected(s.run(r -> new AccountEntity.ApplyLiquidationTransfer("liq-1/0", "liq-1",
        LiquidationRole.BACKSTOP, "trader", FUTURE, ONE_BTC, price(50_000), 0, AccountEntity.TransferMode.TAKE_CHECKED,
        r)), Rejection.BACKSTOP_DECLINED);
    assertEquals(before, s.summary());
  }

  @Test
  void aForcedSellerSideIsAppliedAndClosedAtOnceAtTheSettlementPrice() {
    Settled s = new Settled();
    int seq = sequence.incrementAndGet();
    // Checked (and so held) before the expiry; the buyer's side applied; forced after the settlement.
    assertInstanceOf(AccountEntity.TradeSideApplied.class,
        s.run(r -> new AccountEntity.CheckTrade(s.side(seq, -ONE_BTC, r))).reply());
    s.settle();
    long cashAfterSettlement = s.summary().cash();
    var forced = s.run(r -> new AccountEntity.ForceTradeSide(s.side(seq, -ONE_BTC, r)));
    assertEquals(2, forced.events().size(), "events " + forced.events());
    AccountEntity.TradeCleared side = assertInstanceOf(AccountEntity.TradeCleared.class, forced.events().get(0));
    // A short of 1 BTC at 50,000 closed at 50,123.4: value -50,123.4 into the pool, a loss of 123.4, no fee.
    assertEquals(new AccountEntity.SettledAfterExpiry(FUTURE, EXPIRY.toEpochMilli(), SETTLEMENT, -ONE_BTC,
        -usdt(50_123) - 400_000, -usdt(50_000), 0, 0, s.clock.millis()), forced.events().get(1));
    assertEquals(cashAfterSettlement - side.fee() - 123_400_000, s.summary().cash());
    assertTrue(!s.holdsFuture(), "nothing is left in the settled future");
    // The long's settlement took 50,123.4 from the pool, the forced short's close paid it back.
    assertEquals(0, s.pool());
    // A repeat of the side is answered as applied and moves nothing more.
    var again = s.run(r -> new AccountEntity.ForceTradeSide(s.side(seq, -ONE_BTC, r)));
    assertTrue(again.hasNoEvents());
  }

  @Test
  void aReversalAfterTheSettlementIsClosedAtOnceSoTheSettledSideIsUndoneAtItsPrice() {
    Settled s = new Settled();
    long cashBefore = s.summary().cash();
    AccountEntity.SettlementApplied settled = s.settle();
    var reversed = s.run(r -> new AccountEntity.ReverseTradeSide("t-" + s.longSequence, s.longSequence, r));
    assertInstanceOf(AccountEntity.TradeSideReversed.class, reversed.events().get(0));
    AccountEntity.SettledAfterExpiry close = reversed.events().stream()
        .filter(e -> e instanceof AccountEntity.SettledAfterExpiry).map(e -> (AccountEntity.SettledAfterExpiry) e)
        .findFirst().orElseThrow(() -> new AssertionError("no late close in " + reversed.events()));
    assertEquals(-ONE_BTC, close.lots());
    assertEquals(-123_400_000, close.pnl());
    assertTrue(!s.holdsFuture());
    assertEquals(0, s.pool());
    // The trade never was: its fee came back, its settlement gain went back; the delivery fee stays.
    assertEquals(cashBefore + s.journal.stream().filter(e -> e instanceof AccountEntity.TradeCleared)
        .mapToLong(e -> ((AccountEntity.TradeCleared) e).fee()).sum() - settled.fee(), s.summary().cash());
  }

  @Test
  void aLiquidationGiveBackAfterTheSettlementIsClosedAtOnce() {
    Settled s = new Settled();
    s.settle();
    long cashAfterSettlement = s.summary().cash();
    // The counterparty took 1 BTC short at 49,000 before; the give-back forces it to buy it back.
    var given = s.run(r -> new AccountEntity.ApplyLiquidationTransfer("liq-2/0/undo", "liq-2",
        LiquidationRole.DELEVERAGED, "trader", FUTURE, -ONE_BTC, price(49_000), 0, AccountEntity.TransferMode.FORCED,
        r));
    assertInstanceOf(AccountEntity.LiquidationTransfer.class, given.events().get(0));
    AccountEntity.SettledAfterExpiry close = assertInstanceOf(AccountEntity.SettledAfterExpiry.class,
        given.events().get(1));
    // Short 1 BTC at 49,000 closed at 50,123.4: a loss of 1,123.4.
    assertEquals(-usdt(1_123) - 400_000, close.pnl());
    assertEquals(cashAfterSettlement - usdt(1_123) - 400_000, s.summary().cash());
    assertTrue(!s.holdsFuture());
    assertEquals(0, s.pool());
  }
}
