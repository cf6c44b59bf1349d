package io.clearinghouse.account;

import static io.clearinghouse.account.AccountHarness.FUTURE;
import static io.clearinghouse.account.AccountHarness.ONE_BTC;
import static io.clearinghouse.account.AccountHarness.PERP;
import static io.clearinghouse.account.AccountHarness.price;
import static io.clearinghouse.account.AccountHarness.usdt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.MutableClock;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.money.Bucket;
import io.clearinghouse.money.Transfer;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A dated future's settlement on the account (issue 17, expiry): a long and a short, cross and
 * isolated, each closed at the settlement price in one event against the settlement pool, with
 * the delivery fee (0.02% in the shipped configuration) and no penalty, isolated margin back to
 * cash, the instrument's reservations dropped; once per instrument; refused before the expiry.
 */
class SettlementEntityTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final Instant EXPIRY = Instant.parse("2027-12-31T08:00:00Z");
  private static final AtomicInteger ids = new AtomicInteger();
  private static final AtomicInteger sequence = new AtomicInteger();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static final class Future {
    final MutableClock clock = new MutableClock(EXPIRY.minusSeconds(3_600));
    final MarkPrices marks = MarkPrices.local();
    final String id = "settled-" + ids.incrementAndGet();
    final EventSourcedBehaviorTestKit<AccountEntity.Command, AccountEntity.Event, AccountEntity.State> account =
        EventSourcedBehaviorTestKit.create(testKit.system(), AccountEntity.create(id,
            AccountEntityTest.environment(marks, clock)),
            EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));

    Future(boolean isolated, long lots) {
      run(AccountEntity.Open::unattributed);
      run(r -> new AccountEntity.Deposit("d", usdt(100_000), r));
      marks.accept(new Mark(FUTURE, price(50_000), 1, 0));
      if (isolated) {
        run(r -> new AccountEntity.SetMarginMode(FUTURE, MarginMode.ISOLATED, r));
      }
      int seq = sequence.incrementAndGet();
      assertInstanceOf(AccountEntity.TradeSideApplied.class, run(r -> new AccountEntity.ApplyTrade("t-" + seq, seq,
          FUTURE, lots, price(50_000), false, null, "other", r)).reply());
    }

    CommandResultWithReply<AccountEntity.Command, AccountEntity.Event, AccountEntity.State, AccountEntity.Reply> run(
        Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command) {
      return account.runCommand(command);
    }

    AccountSummary summary() {
      return ((AccountEntity.Snapshot) run(AccountEntity.Get::new).reply()).account();
    }

    CommandResultWithReply<AccountEntity.Command, AccountEntity.Event, AccountEntity.State, AccountEntity.Reply> settle(
        long priceTicks) {
      return run(r -> new AccountEntity.ApplySettlement(FUTURE, EXPIRY.toEpochMilli(), priceTicks, r));
    }
  }

  @Test
  void aCrossLongIsClosedAtTheSettlementPriceWithTheDeliveryFee() {
    Future f = new Future(false, ONE_BTC);
    long cashBefore = f.summary().cash();
    // A reservation left on the quarterly is dropped by the settlement.
    f.run(r -> new AccountEntity.ReserveMargin("left-open", FUTURE, 200, price(50_000), r));
    assertTrue(f.summary().reserved() > 0);
    f.clock.advance(Duration.ofSeconds(3_600));
    var result = f.settle(501_234);
    AccountEntity.SettlementApplied event = (AccountEntity.SettlementApplied) result.event();
    // 1 BTC entered at 50,000 and settled at 50,123.4: +123.4; fee 0.02% of 50,123.4 = 10.02468.
    assertEquals(new AccountEntity.SettlementApplied(FUTURE, EXPIRY.toEpochMilli(), 501_234, ONE_BTC,
        usdt(50_123) + 400_000, usdt(50_000), 10_024_680, 0, EXPIRY.toEpochMilli()), event);
    assertEquals(new AccountEntity.SettlementDone(event, false), result.reply());
    assertEquals(cashBefore + 123_400_000 - 10_024_680, f.summary().cash());
    assertTrue(f.summary().positions().stream().noneMatch(p -> p.instrument().equals(FUTURE)));
    assertEquals(0, f.summary().reserved());
    String id = f.id;
    assertEquals(java.util.List.of(
        // The position bucket holds minus its cost: the pool fills it back to zero.
        new Transfer(Bucket.settlementPool(FUTURE), Bucket.position(id, FUTURE), usdt(50_000)),
        new Transfer(Bucket.settlementPool(FUTURE), Bucket.cash(id), 123_400_000),
        new Transfer(Bucket.cash(id), Bucket.FEES, 10_024_680)), AccountTransfers.of(id, event));
    // Once: a repeat answers with the first result and persists nothing.
    var again = f.settle(600_000);
    assertEquals(new AccountEntity.SettlementDone(event, true), again.reply());
    assertTrue(again.hasNoEvents());
  }

  /**
   * Review 12 (medium): an isolated long 1 BTC from 50,000 (20x: 2,500 of margin) settled at
   * 47,000 loses 3,000 and the fee 9.40. It used to take the 509.40 beyond its margin from the
   * cross cash; the isolated promise holds at expiry too: the cash is untouched, the account owes
   * the 509.40, and (holding nothing else) has it settled at once by a liquidation with nothing to
   * close (the fund covers it or it is recorded as debt).
   */
  @Test
  void anIsolatedLossBeyondItsMarginIsOwedAndSettledNeverTakenFromTheCash() {
    Future f = new Future(true, ONE_BTC);
    long cashBefore = f.summary().cash();
    f.clock.advance(Duration.ofSeconds(3_600));
    var result = f.settle(price(47_000));
    AccountEntity.SettlementApplied event = assertInstanceOf(AccountEntity.SettlementApplied.class,
        result.events().get(0));
    assertEquals(usdt(2_500), event.isolatedReleased());
    assertEquals(509_400_000L, event.shortfall());
    assertTrue(result.events().stream().anyMatch(e -> e instanceof AccountEntity.LiquidationStarted),
        "events " + result.events());
    AccountSummary after = f.summary();
    assertEquals(cashBefore, after.cash(), "the cross cash pays none of the isolated loss");
    assertEquals(509_400_000L, after.owed());
    assertTrue(after.liquidationId() != null);
    String id = f.id;
    assertTrue(AccountTransfers.of(id, event).contains(new Transfer(Bucket.owed(id), Bucket.cash(id), 509_400_000L)));
  }

  /** Review 13: the isolated shortfall is settled even while the account holds other positions. */
  @Test
  void anIsolatedShortfallIsSettledWhileOtherPositionsStayOpen() {
    Future f = new Future(true, ONE_BTC);
    int seq = sequence.incrementAndGet();
    f.marks.accept(new Mark("BTCUSDT-PERP", price(50_000), 2, 0));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, f.run(r -> new AccountEntity.ApplyTrade("t-" + seq, seq,
        "BTCUSDT-PERP", ONE_BTC / 10, price(50_000), false, null, "other", r)).reply());
    f.clock.advance(Duration.ofSeconds(3_600));
    var result = f.settle(price(47_000));
    assertTrue(result.events().stream().anyMatch(e -> e instanceof AccountEntity.LiquidationStarted),
        "events " + result.events());
    assertEquals(509_400_000L, f.summary().owed());
  }

  @Test
  void anIsolatedShortGetsItsMarginBackLessItsLossAndFee() {
    Future f = new Future(true, -ONE_BTC);
    AccountSummary before = f.summary();
    long isolated = before.positions().stream().filter(p -> p.instrument().equals(FUTURE)).findFirst().orElseThrow()
        .isolatedMargin();
    assertTrue(isolated > 0);
    f.clock.advance(Duration.ofSeconds(3_600));
    AccountEntity.SettlementApplied event = (AccountEntity.SettlementApplied) f.settle(501_000).event();
    assertEquals(-usdt(50_100), event.value());
    assertEquals(-usdt(100), event.pnl());
    assertEquals(10_020_000, event.fee());
    assertEquals(isolated, event.isolatedReleased());
    assertEquals(before.cash() + isolated - usdt(100) - 10_020_000, f.summary().cash());
    // Restarted from the journal: the same state, still settled.
    f.account.restart();
    assertEquals(new AccountEntity.SettlementDone(event, true), f.settle(501_000).reply());
  }

  @Test
  void refusedBeforeTheExpiryOnAPerpetualAndAtNoPrice() {
    Future f = new Future(false, ONE_BTC);
    AccountHarness.assertRejected(f.settle(501_000), Rejection.INSTRUMENT_NOT_EXPIRED);
    f.clock.advance(Duration.ofSeconds(3_600));
    AccountHarness.assertRejected(f.run(r -> new AccountEntity.ApplySettlement(PERP, EXPIRY.toEpochMilli(), 501_000,
        r)), Rejection.NOT_DATED_FUTURE);
    AccountHarness.assertRejected(f.settle(0), Rejection.PRICE_NOT_POSITIVE);
    AccountHarness.assertRejected(f.run(r -> new AccountEntity.ApplySettlement(FUTURE, EXPIRY.toEpochMilli() + 1,
        501_000, r)), Rejection.INSTRUMENT_NOT_EXPIRED);
    AccountHarness.assertRejected(f.run(r -> new AccountEntity.ApplySettlement("NOPE", EXPIRY.toEpochMilli(), 501_000,
        r)), Rejection.UNKNOWN_INSTRUMENT);
  }
}
