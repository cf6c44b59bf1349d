package io.clearinghouse.account;

import static io.clearinghouse.account.AccountHarness.FUTURE;
import static io.clearinghouse.account.AccountHarness.ONE_BTC;
import static io.clearinghouse.account.AccountHarness.PERP;
import static io.clearinghouse.account.AccountHarness.price;
import static io.clearinghouse.account.AccountHarness.usdt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.apache.pekko.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The expiry's known limits, closed (issue 17): (1) a reservation on an expired future of an
 * account that holds nothing in it is released by the account itself; (2) an account that held
 * nothing at the expiry is never asked to settle, so a side that can still be refused is refused
 * ({@code INSTRUMENT_EXPIRED}; a backstop's takeover {@code BACKSTOP_DECLINED}, and the saga asks
 * another venue), and a side that must not be refused settles the account itself at the
 * settlement price its node knows (a zero {@link AccountEntity.SettlementApplied}) and is closed at
 * once ({@link AccountEntity.SettledAfterExpiry}); (3) every late close is reported to the
 * instrument's settlement until it is recorded there ({@link AccountEntity.LateClosesReported}).
 */
class ExpiryKnownLimitsTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final Instant EXPIRY = Instant.parse("2027-12-31T08:00:00Z");
  private static final long SETTLEMENT = 501_234;
  private static final AtomicInteger ids = new AtomicInteger();
  private static final AtomicInteger sequence = new AtomicInteger(5_000);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** The node's settlements as the account sees them: a price once known, and the late closes reported. */
  static final class Prices implements SettlementPrices {
    volatile long price;
    final AtomicBoolean answer = new AtomicBoolean(true);
    final List<Object[]> reports = new CopyOnWriteArrayList<>();

    @Override
    public long priceTicks(String instrument) {
      return FUTURE.equals(instrument) ? price : 0;
    }

    @Override
    public CompletionStage<Void> reportLate(String instrument, String accountId, AccountEntity.SettlementApplied own,
        int from, List<AccountEntity.SettledAfterExpiry> closes) {
      reports.add(new Object[] {instrument, accountId, own, from, List.copyOf(closes)});
      return answer.get() ? CompletableFuture.completedFuture(null) : new CompletableFuture<>();
    }
  }

  private static final class Flat {
    final MutableClock clock = new MutableClock(EXPIRY.minusSeconds(3_600));
    final MarkPrices marks = MarkPrices.local();
    final Prices prices = new Prices();
    final String id = "flat-" + ids.incrementAndGet();
    final EventSourcedBehaviorTestKit<AccountEntity.Command, AccountEntity.Event, AccountEntity.State> account;

    Flat(boolean withPrices) {
      AccountEntity.Environment env = AccountEntityTest.environment(marks, clock);
      account = EventSourcedBehaviorTestKit.create(testKit.system(), AccountEntity.create(id,
          withPrices ? env.withSettlementPrices(prices) : env),
          EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
      run(AccountEntity.Open::unattributed);
      run(r -> new AccountEntity.Deposit("d", usdt(100_000), r));
      marks.accept(new Mark(FUTURE, price(50_000), 1, 0));
      marks.accept(new Mark(PERP, price(50_000), 1, 0));
    }

    CommandResultWithReply<AccountEntity.Command, AccountEntity.Event, AccountEntity.State, AccountEntity.Reply> run(
        Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command) {
      return account.runCommand(command);
    }

    AccountEntity.ApplyTrade side(int seq, long lots, ActorRef<AccountEntity.Reply> r) {
      return new AccountEntity.ApplyTrade("t-" + seq, seq, FUTURE, lots, price(50_000), false, null, "other", r);
    }

    Account state() {
      return (Account) account.getState();
    }

    List<Object> journal() {
      return PersistenceQuery.get(testKit.system())
          .getReadJournalFor(PersistenceTestKitReadJournal.class, PersistenceTestKitReadJournal.Identifier())
          .currentEventsByPersistenceId(AccountEntity.persistenceId(id).id(), 0L, Long.MAX_VALUE)
          .map(EventEnvelope::event).runWith(Sink.seq(), testKit.system()).toCompletableFuture().join();
    }

    /** A seller side checked (and so held) before the expiry, whose buyer's side the register then applied. */
    int checked() {
      int seq = sequence.incrementAndGet();
      assertInstanceOf(AccountEntity.TradeSideApplied.class,
          run(r -> new AccountEntity.CheckTrade(side(seq, -ONE_BTC, r))).reply());
      return seq;
    }

    void expire() {
      clock.advance(Duration.ofSeconds(3_601));
    }
  }

  private static void await(Runnable assertion) {
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(5), () -> {
      assertion.run();
      return null;
    });
  }

  // --- (1) reservations --------------------------------------------------------------------

  @Test
  void aReservationOnAnExpiredFutureIsReleasedWhenTheAccountStartsAfterTheExpiry() {
    Flat f = new Flat(false);
    var reserved = f.run(r -> new AccountEntity.ReserveMargin("o-fut", FUTURE, ONE_BTC, price(50_000), r));
    AccountEntity.MarginReserved future = assertInstanceOf(AccountEntity.MarginReserved.class,
        reserved.events().get(0));
    f.run(r -> new AccountEntity.ReserveMargin("o-perp", PERP, ONE_BTC, price(50_000), r));
    assertEquals(2, f.state().reservations().size());
    f.expire();
    // Passivated or on a stopped node at the expiry: started again afterwards, it releases it itself.
    f.account.restart();
    await(() -> {
      assertEquals(java.util.Set.of("o-perp"), f.state().reservations().keySet(),
          "only the perpetual's order is still reserved");
      assertTrue(f.journal().contains(new AccountEntity.ReservationReleased("o-fut", future.amount())),
          "the release is an event of the account's journal");
    });
    // Exactly once: started again, nothing more is released.
    f.account.restart();
    f.run(r -> new AccountEntity.Deposit("d2", usdt(1), r));
    await(() -> assertEquals(1, f.journal().stream().filter(e -> e instanceof AccountEntity.ReservationReleased)
        .count()));
    assertEquals(java.util.Set.of("o-perp"), f.state().reservations().keySet());
  }

  @Test
  void aReservationOnAnExpiredFutureIsReleasedOnTheAccountsNextChange() {
    Flat f = new Flat(false);
    f.run(r -> new AccountEntity.ReserveMargin("o-fut", FUTURE, -ONE_BTC, price(50_000), r));
    f.expire();
    f.run(r -> new AccountEntity.Deposit("d2", usdt(1), r));
    await(() -> assertTrue(f.state().reservations().isEmpty(), "released after the expiry"));
  }

  // --- (2) sides on an account that held nothing at the expiry ----------------------------

  @Test
  void sidesThatCanBeRefusedAreRefusedAfterTheExpiryOnAnAccountThatHeldNothing() {
    Flat f = new Flat(false);
    f.expire();
    Account before = f.state();
    int seq = sequence.incrementAndGet();
    var applied = f.run(r -> f.side(seq, ONE_BTC, r));
    AccountHarness.assertRejected(applied, Rejection.INSTRUMENT_EXPIRED);
    assertTrue(applied.hasNoEvents());
    AccountHarness.assertRejected(f.run(r -> new AccountEntity.CheckTrade(f.side(seq, ONE_BTC, r))),
        Rejection.INSTRUMENT_EXPIRED);
    var reserved = f.run(r -> new AccountEntity.ReserveMargin("o-1", FUTURE, ONE_BTC, price(50_000), r));
    AccountHarness.assertRejected(reserved, Rejection.INSTRUMENT_EXPIRED);
    // A backstop's takeover is declined before anything moved; the saga then asks another venue.
    AccountHarness.assertRejected(f.run(r -> new AccountEntity.ApplyLiquidationTransfer("liq-1/0", "liq-1",
        LiquidationRole.BACKSTOP, "trader", FUTURE, ONE_BTC, price(50_000), 0, AccountEntity.TransferMode.TAKE_CHECKED,
        r)), Rejection.BACKSTOP_DECLINED);
    assertEquals(before, f.state());
  }

  @Test
  void aForcedSideOnAnAccountThatHeldNothingAtTheExpirySettlesItAndIsClosedAtOnce() {
    Flat f = new Flat(true);
    f.prices.price = SETTLEMENT;
    // Its late close's report stays unanswered here (the settlement's side is tested below).
    f.prices.answer.set(false);
    int seq = f.checked();
    f.expire();
    long cash = f.state().cash();
    var forced = f.run(r -> new AccountEntity.ForceTradeSide(f.side(seq, -ONE_BTC, r)));
    assertEquals(3, forced.events().size(), "events " + forced.events() + " reply " + forced.reply());
    // Settled with nothing held: zero lots, zero value, no fee, at the price the node knows.
    assertEquals(new AccountEntity.SettlementApplied(FUTURE, EXPIRY.toEpochMilli(), SETTLEMENT, 0, 0, 0, 0, 0,
        f.clock.millis(), 0), forced.events().get(0));
    AccountEntity.TradeCleared side = assertInstanceOf(AccountEntity.TradeCleared.class, forced.events().get(1));
    // Short 1 BTC at 50,000 closed at 50,123.4: value -50,123.4 into the pool, a loss of 123.4, no fee.
    assertEquals(new AccountEntity.SettledAfterExpiry(FUTURE, EXPIRY.toEpochMilli(), SETTLEMENT, -ONE_BTC,
        -usdt(50_123) - 400_000, -usdt(50_000), 0, 0, f.clock.millis()), forced.events().get(2));
    assertFalse(f.state().holdings().containsKey(FUTURE) && f.state().holding(FUTURE).lots() != 0,
        "nothing is left in the expired future");
    assertEquals(cash - side.fee() - 123_400_000, f.state().cash());
    long pool = 0;
    for (AccountEntity.Event e : forced.events()) {
      pool += Transfer.netInto(AccountTransfers.of(f.id, e), Bucket.settlementPool(FUTURE));
    }
    assertEquals(usdt(50_123) + 400_000, pool, "the short's close paid its value into the pool");
    // Its reversal (the buyer's side refused after all) is closed the same way, against the one settlement.
    var again = f.run(r -> new AccountEntity.ReverseTradeSide("t-" + seq, seq, r));
    assertEquals(List.of(AccountEntity.TradeSideReversed.class, AccountEntity.SettledAfterExpiry.class),
        again.events().stream().map(Object::getClass).toList());
    assertEquals(0, f.state().holding(FUTURE).lots());
  }

  @Test
  void withoutAKnownPriceAForcedSideIsHeldForTheSettlementsRounds() {
    Flat f = new Flat(true);
    int seq = f.checked();
    f.expire();
    var forced = f.run(r -> new AccountEntity.ForceTradeSide(f.side(seq, -ONE_BTC, r)));
    assertEquals(List.of(AccountEntity.TradeCleared.class), forced.events().stream().map(Object::getClass).toList());
    // The settlement has no price yet: its rounds will name this holder once it has one.
    assertEquals(-ONE_BTC, f.state().holding(FUTURE).lots());
  }

  // --- (3) late closes reported to the settlement ------------------------------------------

  @Test
  void lateClosesAreReportedToTheSettlementUntilItRecordsThem() {
    Flat f = new Flat(true);
    f.prices.price = SETTLEMENT;
    f.prices.answer.set(false);
    int seq = f.checked();
    f.expire();
    var forced = f.run(r -> new AccountEntity.ForceTradeSide(f.side(seq, -ONE_BTC, r)));
    AccountEntity.SettledAfterExpiry close = (AccountEntity.SettledAfterExpiry) forced.events().get(2);
    await(() -> assertFalse(f.prices.reports.isEmpty()));
    Object[] first = f.prices.reports.get(0);
    assertEquals(FUTURE, first[0]);
    assertEquals(f.id, first[1]);
    assertEquals(forced.events().get(0), first[2]);
    assertEquals(0, first[3]);
    assertEquals(List.of(close), first[4]);
    assertEquals(java.util.Set.of(FUTURE), f.state().lateUnreported());
    // Not answered (the settlement's node down): after a restart it is reported again, now recorded.
    f.prices.answer.set(true);
    int before = f.prices.reports.size();
    f.account.restart();
    await(() -> {
      assertTrue(f.prices.reports.size() > before);
      assertTrue(f.state().lateUnreported().isEmpty(), "recorded by the settlement");
      assertTrue(f.journal().contains(new AccountEntity.LateClosesReported(FUTURE, 1)));
    });
    // The next late close (the side's reversal) is numbered on from the first.
    f.run(r -> new AccountEntity.ReverseTradeSide("t-" + seq, seq, r));
    await(() -> {
      Object[] last = f.prices.reports.get(f.prices.reports.size() - 1);
      assertEquals(1, last[3]);
      assertEquals(1, ((List<?>) last[4]).size());
      assertTrue(f.journal().contains(new AccountEntity.LateClosesReported(FUTURE, 2)));
    });
    List<Object> reported = new ArrayList<>(f.journal());
    reported.removeIf(e -> !(e instanceof AccountEntity.LateClosesReported));
    assertEquals(2, reported.size(), "each recorded once: " + reported);
  }
}
