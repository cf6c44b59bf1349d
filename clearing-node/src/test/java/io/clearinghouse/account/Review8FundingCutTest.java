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
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review 8 of the funding money paths (issue 17), on the account entity (in-memory journal, one
 * clock the test moves for every account). The rule under review (FundingLedger): each account pays
 * on the lots it held <em>at the funding time</em>, so that over all holders the lots of an interval
 * sum to zero and the payments to the rounding residue alone. Each test builds a closed set of
 * accounts (every lot has its counterparty in the set) and checks that sum.
 *
 * <p>BTCUSDT-PERP, 1 BTC = 1,000 lots, 50,000 USDT = 500,000 ticks, 1 USDT = 1,000,000.
 */
class Review8FundingCutTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final AtomicInteger ids = new AtomicInteger();
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long H = 3_600_000L;
  /** A funding time (08:00 UTC). */
  private static final long T = Instant.parse("2026-03-02T08:00:00Z").toEpochMilli();
  private static final long BP = 10_000;   // 0.01% in 10^-8

  private final MutableClock clock = new MutableClock(Instant.ofEpochMilli(T - 2 * H));
  private final MarkPrices marks = MarkPrices.local();
  private long markSequence;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private final class Acc {
    final String id;
    final EventSourcedBehaviorTestKit<Command, Event, State> kit;

    Acc(String name, long depositUsdt) {
      id = name + "-" + ids.incrementAndGet();
      kit = EventSourcedBehaviorTestKit.create(testKit.system(),
          AccountEntity.create(id, AccountEntityTest.environment(marks, clock)),
          EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
      kit.runCommand(AccountEntity.Open::unattributed);
      run(r -> new AccountEntity.Deposit("d-" + id, depositUsdt * USDT, r));
    }

    Reply run(Function<ActorRef<Reply>, Command> command) {
      return kit.runCommand(command).reply();
    }

    /** A trade side of {@code seq} with the register's cut time {@code cut}. */
    void trade(long seq, long lots, long priceTicks, String counterparty, long cut) {
      assertInstanceOf(AccountEntity.TradeSideApplied.class, run(r -> new AccountEntity.ApplyTrade("t-" + seq, seq, PERP,
          lots, priceTicks, true, null, counterparty, r, cut)));
    }

    AccountEntity.FundingPaid fund(long fundingTime, long rate, long markTicks) {
      return assertInstanceOf(AccountEntity.FundingPaid.class,
          run(r -> new AccountEntity.ApplyFunding(PERP, fundingTime, rate, markTicks, r)));
    }

    Account state() {
      return (Account) kit.getState();
    }
  }

  private long mark(long ticks) {
    marks.accept(new Mark(PERP, ticks, ++markSequence, 0));
    return markSequence;
  }

  private void at(long epochMillis) {
    clock.advance(Duration.ofMillis(epochMillis - clock.millis()));
  }

  /** A liquidated account's long 1 BTC (100x, cash 975 after its fee) taken over by {@code provider}, then closed. */
  private Acc longAt100x(String counterparty) {
    Acc trader = new Acc("trader", 1_000);
    trader.run(r -> new AccountEntity.SetLeverage(PERP, 100, r));
    trader.trade(1, 1_000, 500_000, counterparty, T - 2 * H);
    return trader;
  }

  private String startLiquidation(Acc trader) {
    long seq = mark(490_000);
    trader.kit.runCommand(new AccountEntity.StartLiquidation(seq));
    return trader.state().liquidation().liquidationId();
  }

  /** The provider's take; returns its time (the cut the saga sends with the close). */
  private static long take(Acc provider, String id, String trader) {
    return assertInstanceOf(AccountEntity.TransferApplied.class, provider.run(r -> new AccountEntity.ApplyLiquidationTransfer(
        id + "/close-0", id, LiquidationRole.BACKSTOP, trader, PERP, 1_000, 489_020, 1_000_000 * USDT,
        AccountEntity.TransferMode.TAKE_CHECKED, r))).transfer().epochMillis();
  }

  /** The trader's close, cut at {@code cut} (the take's time, as the saga sends it; 0: its own clock). */
  private static void close(Acc trader, String id, String provider, long cut) {
    assertInstanceOf(AccountEntity.TransferApplied.class, trader.run(r -> new AccountEntity.ApplyLiquidationTransfer(
        id + "/close-0", id, LiquidationRole.LIQUIDATED, provider, PERP, -1_000, 489_020, 0,
        AccountEntity.TransferMode.CLOSE_CLIPPED, cut, r)));
  }

  /**
   * Finding A1. A backstop provider that never held the perpetual takes over a liquidated long
   * after 08:00, before the clock's payments arrive (they come on the clock's next tick and round,
   * seconds later; a liquidation takes milliseconds). The liquidated account counts its long at
   * 08:00 (its trades taught its ledger the interval, so the close records the lots held then); the
   * provider's ledger never learnt the interval (a LiquidationTransfer carries none:
   * Account.apply(LiquidationTransfer) passes 0), so FundingLedger.changed records nothing and
   * lotsAtFundingTime falls back to the lots held now. Both are paid on the same 1 BTC: the lots of
   * the interval sum to +1,000, and at a negative rate (longs receive) the pool pays out 4.9 USDT
   * nobody paid in.
   */
  @Test
  void aProviderThatTookAPositionAfterTheFundingTimeIsNotPaidOnItForThatTime() {
    Acc shortSide = new Acc("short", 100_000);
    Acc provider = new Acc("provider", 100_000);
    Acc trader = longAt100x(shortSide.id);
    shortSide.trade(1, -1_000, 500_000, trader.id, T - 2 * H);
    at(T + 1_000);
    String id = startLiquidation(trader);
    long cut = take(provider, id, trader.id);
    close(trader, id, provider.id, cut);
    at(T + 10_000);
    long rate = -BP;
    AccountEntity.FundingPaid t = trader.fund(T, rate, 490_000);
    AccountEntity.FundingPaid p = provider.fund(T, rate, 490_000);
    AccountEntity.FundingPaid s = shortSide.fund(T, rate, 490_000);
    assertEquals(0, p.lots(), "the provider held nothing at 08:00 (it took the position at 08:00:01)");
    assertEquals(0, t.lots() + p.lots() + s.lots(), "the lots paid for 08:00 must sum to zero");
    long pool = -(t.amount() + p.amount() + s.amount());
    assertTrue(pool >= 0, "the funding pool went to " + pool + ": receivers got more than payers paid");
  }

  /**
   * Finding A2. The two sides of one liquidation transfer are cut on two clocks at two moments: the
   * saga applies the counterparty's side first (TAKE) and the trader's close after it, each stamped
   * with its own account's clock.millis() (LiquidationHandlers: {@code clock.millis()} in the
   * LiquidationTransfer). A takeover applied at 07:59:59.995 whose close lands at 08:00:00.005 (or
   * seconds later: the trader's node died, the saga retries) counts the same lots at 08:00 on both
   * sides. Here the provider knows the interval (it traded the perpetual before), so this is the cut,
   * not the missing interval of A1.
   */
  @Test
  void bothSidesOfALiquidationTransferCountOnTheSameSideOfTheFundingTime() {
    Acc shortSide = new Acc("short", 100_000);
    Acc provider = new Acc("provider", 100_000);
    Acc trader = longAt100x(shortSide.id);
    shortSide.trade(1, -1_000, 500_000, trader.id, T - 2 * H);
    // The provider's own earlier long of 0.001 BTC, against the short side.
    provider.trade(2, 1, 500_000, shortSide.id, T - 2 * H);
    shortSide.trade(2, -1, 500_000, provider.id, T - 2 * H);
    at(T - 10);
    String id = startLiquidation(trader);
    at(T - 5);
    long cut = take(provider, id, trader.id);
    at(T + 5);
    close(trader, id, provider.id, cut);
    at(T + 10_000);
    long rate = -BP;
    AccountEntity.FundingPaid t = trader.fund(T, rate, 490_000);
    AccountEntity.FundingPaid p = provider.fund(T, rate, 490_000);
    AccountEntity.FundingPaid s = shortSide.fund(T, rate, 490_000);
    assertEquals(0, t.lots() + p.lots() + s.lots(), "the lots paid for 08:00 must sum to zero, were trader "
        + t.lots() + ", provider " + p.lots() + ", short " + s.lots());
    long pool = -(t.amount() + p.amount() + s.amount());
    assertTrue(pool >= 0, "the funding pool went to " + pool + ": receivers got more than payers paid");
  }

  /**
   * Finding A3. A trade side cut before a funding time that reaches its account after the account
   * was paid for that time is lost for funding: FundingLedger.with dropped the lots recorded up to
   * the payment, and changed() only adjusts records after the cut that still exist. Its counterparty
   * applied the side in time and paid on it. Reachable whenever one side of a trade registered at
   * 07:59:59.999 is delayed past the clock's round (the register's retries after a node kill; the
   * register itself restarting): the buyer was already holding, so its monitor named it and the
   * clock paid it on the old position.
   */
  @Test
  void aTradeSideCutBeforeAFundingTimeThatArrivesAfterThePaymentStillCountsForIt() {
    Acc buyer = new Acc("buyer", 100_000);
    Acc seller = new Acc("seller", 100_000);
    Acc first = new Acc("first-seller", 100_000);
    buyer.trade(1, 1_000, 500_000, first.id, T - 2 * H);
    first.trade(1, -1_000, 500_000, buyer.id, T - 2 * H);
    // Trade 2, registered at 07:59:59.999: the seller applies it at once, the buyer's side is late.
    at(T - 1);
    seller.trade(2, -1_000, 500_000, buyer.id, T - 1);
    at(T + 10_000);
    AccountEntity.FundingPaid b = buyer.fund(T, BP, 500_000);
    at(T + 30_000);
    buyer.trade(2, 1_000, 500_000, seller.id, T - 1);
    AccountEntity.FundingPaid s = seller.fund(T, BP, 500_000);
    AccountEntity.FundingPaid f = first.fund(T, BP, 500_000);
    // Whatever the repair (an adjustment, or the side's funding settled with it), the interval's
    // books must balance once both sides of every trade are applied.
    long buyerFunding = buyer.state().funding().position(PERP).total();
    long net = buyerFunding + s.amount() + f.amount();
    assertTrue(net <= 0 && net >= -2, "longs 2 BTC and shorts 2 BTC at 08:00 must net to the rounding residue;"
        + " the buyer paid " + buyerFunding + " (on " + b.lots() + " lots), the shorts received " + (s.amount()
        + f.amount()) + ": the pool is " + (-net));
  }

  /**
   * Finding A4. A funding payment that reaches an account after its liquidation ended leaves it
   * with negative cash, no position, no liquidation and no debt: a deficit nothing covers (the
   * fund's cover was decided before it; the monitor watches positions, and there are none), while
   * the receivers were paid in full from the pool. The account held 1 BTC at 08:00, was liquidated
   * at 08:00:01 (the fund covered its 123 deficit, cash 0), and the clock's payment came at 08:00:10.
   */
  @Test
  void aFundingPaymentAfterTheLiquidationEndedNeverLeavesAnUncoveredDeficit() {
    Acc trader = longAt100x("other");
    at(T + 1_000);
    String id = startLiquidation(trader);
    close(trader, id, "prov", 0);
    assertEquals(-123 * USDT, trader.state().cash());
    assertInstanceOf(AccountEntity.StepApplied.class,
        trader.run(r -> new AccountEntity.CreditLiquidation(id + "/cover", id, 123 * USDT, 0, r)));
    trader.run(r -> new AccountEntity.EndLiquidation(id, r));
    assertEquals(0, trader.state().cash());
    at(T + 10_000);
    AccountEntity.FundingPaid paid = trader.fund(T, BP, 490_000);
    assertEquals(1_000, paid.lots());
    Account after = trader.state();
    assertTrue(after.cash() >= 0 || after.debt() > 0 || after.liquidating(), "funding of " + paid.amount()
        + " left cash " + after.cash() + " with no position, no liquidation and no debt recorded");
  }

  /**
   * The reversal of a side (its trade's other side refused) that comes after the account was paid
   * for a funding time the trade counted for: the payment is redone without the side, so the
   * account pays funding on nothing it held, and the audit of its journal is clean.
   */
  @Test
  void aSideReversedAfterItsFundingTimeWasPaidTakesItsFundingBack() {
    Acc buyer = new Acc("buyer", 100_000);
    at(T - 1);
    buyer.trade(1, 1_000, 500_000, "never-applied", T - 1);
    at(T + 10_000);
    AccountEntity.FundingPaid paid = buyer.fund(T, BP, 500_000);
    assertEquals(List.of(1_000L, -5 * USDT), List.of(paid.lots(), paid.amount()));
    at(T + 20_000);
    assertInstanceOf(AccountEntity.TradeSideReverted.class, buyer.run(r -> new AccountEntity.ReverseTradeSide("t-1",
        1, PERP, 1_000, 500_000, 0, r)));
    assertEquals(0, buyer.state().funding().position(PERP).total(), "the reversed side's funding taken back");
    assertEquals(100_000 * USDT, buyer.state().cash() + buyer.state().fees().unswept(), "cash and fees as before");
    io.clearinghouse.audit.AccountLedgerAccess.assertClean(buyer.id, org.apache.pekko.persistence.query.PersistenceQuery
        .get(testKit.system()).getReadJournalFor(
            org.apache.pekko.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal.class,
            org.apache.pekko.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal.Identifier())
        .currentEventsByPersistenceId(AccountEntity.persistenceId(buyer.id).id(), 0L, Long.MAX_VALUE)
        .map(org.apache.pekko.persistence.query.EventEnvelope::event)
        .runWith(org.apache.pekko.stream.javadsl.Sink.seq(), testKit.system()).toCompletableFuture().join());
  }
}
