package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.MutableClock;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.liquidation.InsuranceFund.Command;
import io.clearinghouse.liquidation.InsuranceFund.Event;
import io.clearinghouse.liquidation.InsuranceFund.Kind;
import io.clearinghouse.liquidation.InsuranceFund.Moved;
import io.clearinghouse.liquidation.InsuranceFund.PositionMoved;
import io.clearinghouse.liquidation.InsuranceFund.Rejected;
import io.clearinghouse.liquidation.InsuranceFund.Reply;
import io.clearinghouse.liquidation.InsuranceFund.State;
import io.clearinghouse.margin.Position;
import io.clearinghouse.money.Bucket;
import io.clearinghouse.money.Ledger;
import io.clearinghouse.metrics.Metrics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The reserve ledgers (issue 14, item 1) on the in-memory journal: operator withdrawals never
 * below what is held, the operator capital's daily amount, replenishment moves through transit,
 * an insurance fund's positions within its takeover limit, and every event's transfers matching
 * the balance it derives.
 */
class ReserveLedgerTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final AtomicInteger ids = new AtomicInteger();
  private static final String PERP = "BTCUSDT-PERP";
  /** BTCUSDT-PERP: tick 0.1, lot 0.001, 6 decimals: 100 minor units per tick and lot. */
  private static final long MULTIPLIER = 100;
  private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T23:00:00Z"));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private EventSourcedBehaviorTestKit<Command, Event, State> fund() {
    return EventSourcedBehaviorTestKit.create(testKit.system(),
        InsuranceFund.create("fund-" + ids.incrementAndGet(), 10, Duration.ofDays(8), new Metrics(), clock),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
  }

  private EventSourcedBehaviorTestKit<Command, Event, State> reserve(PlatformReserve which) {
    return EventSourcedBehaviorTestKit.create(testKit.system(),
        InsuranceFund.createReserve(which.id() + "-" + ids.incrementAndGet(), 10, Duration.ofDays(8), new Metrics(), clock),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
  }

  /** Every event each ledger persisted, in order, for the transfer checks. */
  private static final java.util.Map<Object, List<Event>> PERSISTED = new java.util.IdentityHashMap<>();

  private static Reply run(EventSourcedBehaviorTestKit<Command, Event, State> ledger,
      Function<ActorRef<Reply>, Command> command) {
    var result = ledger.<Reply>runCommand(command::apply);
    PERSISTED.computeIfAbsent(ledger, k -> new java.util.ArrayList<>()).addAll(result.events());
    return result.reply();
  }

  private static void assertRejected(Reply reply, Rejection reason) {
    assertEquals(reason, assertInstanceOf(Rejected.class, reply).reason());
  }

  @Test
  void anAccountsFeeSweepIsTakenInOnceWhateverTheRetriesAndABadOneMovesNothing() {
    var revenue = reserve(PlatformReserve.PLATFORM_REVENUE);
    Moved first = (Moved) run(revenue, r -> new InsuranceFund.CollectFees("alice", 1, 25_000_000, r));
    assertEquals(List.of(Kind.FEES, "fees/alice/1", 25_000_000L, false), List.of(first.entry().kind(),
        first.entry().key(), first.entry().balanceAfter(), first.replayed()));
    // The answer was lost: the account sends the same sweep again.
    Moved again = (Moved) run(revenue, r -> new InsuranceFund.CollectFees("alice", 1, 25_000_000, r));
    assertTrue(again.replayed());
    assertEquals(25_000_000, revenue.getState().balance());
    assertRejected(run(revenue, r -> new InsuranceFund.CollectFees("alice", 2, 0, r)), Rejection.AMOUNT_NOT_POSITIVE);
    assertRejected(run(revenue, r -> new InsuranceFund.CollectFees("alice", 2, Long.MIN_VALUE, r)),
        Rejection.AMOUNT_NOT_POSITIVE);
    // A net rebate is paid out of what the reserve holds free, never beyond it.
    run(revenue, r -> new InsuranceFund.Reserve("l1/reserve", "l1", 5_000_000, r));
    assertRejected(run(revenue, r -> new InsuranceFund.CollectFees("carol", 1, -20_000_001, r)),
        Rejection.INSUFFICIENT_RESERVE);
    // That number is void for good: sent again (its refusal lost), refused again, whatever the amount.
    assertRejected(run(revenue, r -> new InsuranceFund.CollectFees("carol", 1, -1, r)),
        Rejection.INSUFFICIENT_RESERVE);
    Moved rebate = (Moved) run(revenue, r -> new InsuranceFund.CollectFees("carol", 2, -20_000_000, r));
    assertEquals(List.of(Kind.REBATES, 20_000_000L, 5_000_000L), List.of(rebate.entry().kind(),
        rebate.entry().amount(), rebate.entry().balanceAfter()));
    run(revenue, r -> new InsuranceFund.CollectFees("alice", 2, 20_000_000, r));
    // Everything that came in so far: 25 + 20 (alice) and the top-up, up to the largest total.
    run(revenue, r -> new InsuranceFund.TopUp("big", Long.MAX_VALUE - 45_000_000, r));
    assertRejected(run(revenue, r -> new InsuranceFund.CollectFees("bob", 1, 1, r)), Rejection.BALANCE_OVERFLOW);
    assertEquals(Long.MAX_VALUE - 20_000_000, revenue.getState().balance());
    // Every account has its own numbering.
    var other = reserve(PlatformReserve.PLATFORM_REVENUE);
    run(other, r -> new InsuranceFund.CollectFees("alice", 1, 5, r));
    assertTrue(!((Moved) run(other, r -> new InsuranceFund.CollectFees("bob", 1, 7, r))).replayed());
    assertTrue(!((Moved) run(other, r -> new InsuranceFund.CollectFees("alice", 2, 1, r))).replayed());
    assertEquals(java.util.Map.of("alice", 2L, "bob", 1L), other.getState().feeSweeps());
    assertEquals(13, other.getState().balance());
  }

  @Test
  void aTopUpThatWouldOverflowTheTotalInIsRefusedInsteadOfBreakingTheLedger() {
    var ledger = reserve(PlatformReserve.OPERATOR_CAPITAL);
    run(ledger, r -> new InsuranceFund.TopUp("t1", Long.MAX_VALUE - 1, r));
    run(ledger, r -> new InsuranceFund.Withdraw("w1", 10, r));
    // The balance has room; the running total of money in has not. Before, the event was persisted
    // and its handler overflowed: the ledger failed on every recovery after that.
    assertRejected(run(ledger, r -> new InsuranceFund.TopUp("t2", 5, r)), Rejection.BALANCE_OVERFLOW);
    assertEquals(Long.MAX_VALUE - 11, ledger.getState().balance());
  }

  @Test
  void aWithdrawalTakesAtMostWhatIsNotHeldAndEachKeyOnce() {
    var ledger = reserve(PlatformReserve.INVESTOR_PROTECTION);
    run(ledger, r -> new InsuranceFund.TopUp("t1", 1_000, r));
    run(ledger, r -> new InsuranceFund.Reserve("l1/reserve", "l1", 300, r));
    assertRejected(run(ledger, r -> new InsuranceFund.Withdraw("w1", 701, r)), Rejection.INSUFFICIENT_RESERVE);
    assertRejected(run(ledger, r -> new InsuranceFund.Withdraw("w1", 0, r)), Rejection.AMOUNT_NOT_POSITIVE);
    assertRejected(run(ledger, r -> new InsuranceFund.Withdraw("w1", -5, r)), Rejection.AMOUNT_NOT_POSITIVE);
    assertRejected(run(ledger, r -> new InsuranceFund.Withdraw("t1", 1_000, r)), Rejection.IDEMPOTENCY_KEY_REUSED);
    assertEquals(1_000, ledger.getState().balance());
    Moved out = (Moved) run(ledger, r -> new InsuranceFund.Withdraw("w1", 700, r));
    assertEquals(List.of(Kind.WITHDRAWAL, 700L, 300L), List.of(out.entry().kind(), out.entry().amount(),
        out.entry().balanceAfter()));
    assertTrue(((Moved) run(ledger, r -> new InsuranceFund.Withdraw("w1", 700, r))).replayed());
    assertRejected(run(ledger, r -> new InsuranceFund.Withdraw("w1", 600, r)), Rejection.IDEMPOTENCY_KEY_REUSED);
    assertEquals(List.of(300L, 1_000L, 700L), List.of(ledger.getState().balance(), ledger.getState().totalIn(),
        ledger.getState().totalOut()));
    ledger.restart();
    assertEquals(300, ledger.getState().balance());
    assertTrue(((Moved) run(ledger, r -> new InsuranceFund.Withdraw("w1", 700, r))).replayed());
  }

  @Test
  void operatorCapitalPaysAtMostItsDailyAmountPerInstrument() {
    var capital = reserve(PlatformReserve.OPERATOR_CAPITAL);
    run(capital, r -> new InsuranceFund.TopUp("seed", 10_000, r));
    // 23:00 UTC: a daily amount of 300 for the perpetual.
    assertEquals(200, paid(capital, "a/capital", "a", 200, PERP, 300));
    assertEquals(100, paid(capital, "b/capital", "b", 250, PERP, 300));
    assertEquals(0, paid(capital, "c/capital", "c", 50, PERP, 300));
    // Another instrument's amount is its own.
    assertEquals(50, paid(capital, "d/capital", "d", 50, "BTCUSDT-271231", 300));
    // A retry is the first answer, not a new draw.
    assertEquals(100, paid(capital, "b/capital", "b", 250, PERP, 300));
    capital.restart();
    assertEquals(0, paid(capital, "e/capital", "e", 10, PERP, 300));
    // Past midnight UTC: a new day.
    clock.advance(Duration.ofHours(1));
    assertEquals(300, paid(capital, "f/capital", "f", 400, PERP, 300));
    assertEquals(10_000 - 200 - 100 - 50 - 300, capital.getState().balance());
  }

  @Test
  void underTheAdlPolicyTheFundHoldsWhatItCanAndTheCapitalTheRestWithinTheDay() {
    var fund = fund();
    run(fund, r -> new InsuranceFund.TopUp("seed", 100, r));
    run(fund, r -> new InsuranceFund.Reserve("x/reserve", "x", 30, r));
    // 123 asked, 70 free: the fund holds 70 (replacing nothing of x's 30).
    InsuranceFund.Reservation part = (InsuranceFund.Reservation) run(fund, r -> new InsuranceFund.ReserveUpTo(
        "a/reserve", "a", 123, r));
    assertEquals(List.of(true, 70L), List.of(part.granted(), part.amount()));
    assertEquals(100, fund.getState().reserved());
    var nothing = fund.<Reply>runCommand(r -> new InsuranceFund.ReserveUpTo("b/reserve", "b", 5, r));
    assertEquals(0, ((InsuranceFund.Reservation) nothing.reply()).amount());
    assertTrue(nothing.hasNoEvents());
    var capital = reserve(PlatformReserve.OPERATOR_CAPITAL);
    run(capital, r -> new InsuranceFund.TopUp("seed", 1_000, r));
    // The day's 50: a's 53 is refused; 40 is held, then b may hold only the 10 left, and a payment
    // of c (no hold) gets nothing of what a and b hold.
    assertFalse(((InsuranceFund.Reservation) run(capital, r -> new InsuranceFund.Reserve("a/capital-reserve", "a", 53,
        PERP, 50, r))).granted());
    assertTrue(((InsuranceFund.Reservation) run(capital, r -> new InsuranceFund.Reserve("a/capital-reserve", "a", 40,
        PERP, 50, r))).granted());
    assertFalse(((InsuranceFund.Reservation) run(capital, r -> new InsuranceFund.Reserve("b/capital-reserve", "b", 11,
        PERP, 50, r))).granted());
    assertTrue(((InsuranceFund.Reservation) run(capital, r -> new InsuranceFund.Reserve("b/capital-reserve", "b", 10,
        PERP, 50, r))).granted());
    assertEquals(0, paid(capital, "c/capital", "c", 25, PERP, 50));
    assertEquals(40, paid(capital, "a/capital", "a", 40, PERP, 50));
    assertEquals(10, paid(capital, "b/capital", "b", 30, PERP, 50));
    assertEquals(0, capital.getState().reserved());
  }

  private static long paid(EventSourcedBehaviorTestKit<Command, Event, State> ledger, String key, String liquidation,
      long requested, String instrument, long dailyLimit) {
    return ((Moved) run(ledger, r -> new InsuranceFund.Pay(key, liquidation, requested, instrument, dailyLimit, r)))
        .entry().amount();
  }

  @Test
  void aReplenishmentLeavesThroughTransitAndArrivesOnce() {
    var revenue = reserve(PlatformReserve.PLATFORM_REVENUE);
    var fund = fund();
    run(revenue, r -> new InsuranceFund.Receive("l1/share", "l1", 1_234, r));
    // 10% of 1,234 is 123.4: 123 moves (rounded down), at most 1,000.
    Moved out = (Moved) run(revenue, r -> new InsuranceFund.MoveOut("replenish-1", "insurance-fund:F", 100_000, 1_000, r));
    assertEquals(List.of(Kind.MOVED_OUT, 123L, 1_111L), List.of(out.entry().kind(), out.entry().amount(),
        out.entry().balanceAfter()));
    assertTrue(((Moved) run(revenue, r -> new InsuranceFund.MoveOut("replenish-1", "insurance-fund:F", 100_000, 1_000,
        r))).replayed());
    assertEquals(List.of("replenish-1"), ((InsuranceFund.Outgoing) run(revenue, InsuranceFund.ListOutgoing::new)).moves()
        .stream().map(InsuranceFund.Entry::key).toList());
    assertEquals(123, ((Moved) run(fund, r -> new InsuranceFund.MoveIn("replenish-1", "platform-revenue", 123, r)))
        .entry().amount());
    assertTrue(((Moved) run(fund, r -> new InsuranceFund.MoveIn("replenish-1", "platform-revenue", 123, r))).replayed());
    assertRejected(run(fund, r -> new InsuranceFund.MoveIn("replenish-1", "platform-revenue", 124, r)),
        Rejection.IDEMPOTENCY_KEY_REUSED);
    assertTrue(((InsuranceFund.Outgoing) run(revenue, r -> new InsuranceFund.ConfirmMove("replenish-1", r))).moves()
        .isEmpty());
    // The cap: 50% of 1,111 is 555, capped at 100.
    assertEquals(100, ((Moved) run(revenue, r -> new InsuranceFund.MoveOut("replenish-2", "insurance-fund:F", 500_000,
        100, r))).entry().amount());
    // Nothing to move records nothing.
    var empty = reserve(PlatformReserve.MARKET_MAKING);
    var none = empty.<Reply>runCommand(r -> new InsuranceFund.MoveOut("replenish-3", "x", 100_000, 100, r));
    assertEquals(0, ((Moved) none.reply()).entry().amount());
    assertTrue(none.hasNoEvents());
    // The transfers: revenue -> transit -> fund, the transit back at zero for the delivered move.
    Ledger books = new Ledger();
    revenue.restart();
    books.applyAll(transfers(Bucket.reserve(fundId(revenue)), revenue));
    books.applyAll(transfers(Bucket.insuranceFund(fundId(fund)), fund));
    assertEquals(1_011, books.balance(Bucket.reserve(fundId(revenue))));
    assertEquals(123, books.balance(Bucket.insuranceFund(fundId(fund))));
    assertEquals(0, books.balance(Bucket.transit("replenish-1")));
    assertEquals(100, books.balance(Bucket.transit("replenish-2")));
  }

  @Test
  void aFundTakesPositionsWithinItsLimitAndItsPositionRealizesIntoItsBalance() {
    var fund = fund();
    run(fund, r -> new InsuranceFund.TopUp("seed", 500_000_000_000L, r));
    // 1 BTC (1,000 lots) long at 49,025.0 (490,250 ticks): 49,025 USDT of notional.
    PositionMoved taken = (PositionMoved) run(fund, r -> new InsuranceFund.TakeOver("l1/close-0", "l1", PERP, 1_000,
        490_250, MULTIPLIER, 50_000_000_000L, true, r));
    assertEquals(List.of(49_025_000_000L, 0L), List.of(taken.taken().costDelta(), taken.taken().realizedPnl()));
    assertEquals(new Position(1_000, 49_025_000_000L), fund.getState().position(PERP));
    // A second BTC would make 98,050 of notional: beyond the 50,000 limit, declined, nothing moved.
    var refused = fund.<Reply>runCommand(r -> new InsuranceFund.TakeOver("l2/close-0", "l2", PERP, 1_000, 490_250,
        MULTIPLIER, 50_000_000_000L, true, r));
    assertRejected(refused.reply(), Rejection.BACKSTOP_DECLINED);
    assertTrue(refused.hasNoEvents());
    // The retry of the first is its first answer.
    assertTrue(((PositionMoved) run(fund, r -> new InsuranceFund.TakeOver("l1/close-0", "l1", PERP, 1_000, 490_250,
        MULTIPLIER, 50_000_000_000L, true, r))).replayed());
    // Unwound at 49,123.3: the fund realizes (49,123.3 - 49,025.0) * 1 = 98.3 USDT.
    PositionMoved unwound = (PositionMoved) run(fund, r -> new InsuranceFund.TakeOver("u1/close", "u1", PERP, -1_000,
        491_233, MULTIPLIER, 0, false, r));
    assertEquals(98_300_000, unwound.taken().realizedPnl());
    assertEquals(Position.FLAT, fund.getState().position(PERP));
    assertEquals(500_098_300_000L, fund.getState().balance());
    assertEquals(Kind.POSITION_GAIN, fund.getState().recent().get(fund.getState().recent().size() - 1).kind());
    // A platform reserve holds no positions.
    var revenue = reserve(PlatformReserve.PLATFORM_REVENUE);
    assertRejected(run(revenue, r -> new InsuranceFund.TakeOver("l3/close-0", "l3", PERP, 1, 490_250, MULTIPLIER,
        50_000_000_000L, true, r)), Rejection.BACKSTOP_DECLINED);
    // The transfers: the position's value through the close's bucket, the gain into the fund.
    Ledger books = new Ledger();
    fund.restart();
    books.applyAll(transfers(Bucket.insuranceFund(fundId(fund)), fund));
    assertEquals(0, books.balance(Bucket.fundPosition(fundId(fund), PERP)));
    assertEquals(500_098_300_000L, books.balance(Bucket.insuranceFund(fundId(fund))));
    // Each close's bucket waits for its other side: the trader's (paid the 49,025 the fund took it at)
    // and the provider's (pays the 49,123.3 it took it at).
    assertEquals(49_025_000_000L, books.balance(Bucket.close("l1/close-0")));
    assertEquals(-49_123_300_000L, books.balance(Bucket.close("u1/close")));
  }

  @Test
  void aTakeoverThatWouldRealizeALossTheFundCannotPayIsDeclined() {
    var fund = fund();
    run(fund, r -> new InsuranceFund.TopUp("seed", 1_000_000, r));
    run(fund, r -> new InsuranceFund.TakeOver("l1/close-0", "l1", PERP, -1_000, 490_250, MULTIPLIER, 100_000_000_000L,
        true, r));
    // Taking a long of 1 BTC at 49,035.1 closes the fund's short at a loss of 10.1 USDT: it has 1.
    assertRejected(run(fund, r -> new InsuranceFund.TakeOver("l2/close-0", "l2", PERP, 1_000, 490_351, MULTIPLIER,
        100_000_000_000L, true, r)), Rejection.BACKSTOP_DECLINED);
    assertFalse(fund.getState().positions().isEmpty());
    assertEquals(1_000_000, fund.getState().balance());
  }

  private static String fundId(EventSourcedBehaviorTestKit<Command, Event, State> fund) {
    return ((InsuranceFund.View) run(fund, r -> new InsuranceFund.Get(0, 0, r))).fundId();
  }

  /** Every transfer of the events the ledger persisted through {@link #run}. */
  private static List<io.clearinghouse.money.Transfer> transfers(Bucket ledger,
      EventSourcedBehaviorTestKit<Command, Event, State> entity) {
    return PERSISTED.getOrDefault(entity, List.of()).stream().flatMap(e -> FundTransfers.of(ledger, e).stream()).toList();
  }
}
