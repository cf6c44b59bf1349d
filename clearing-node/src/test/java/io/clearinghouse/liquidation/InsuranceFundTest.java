package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.common.Rejection;
import io.clearinghouse.liquidation.InsuranceFund.Command;
import io.clearinghouse.liquidation.InsuranceFund.Event;
import io.clearinghouse.liquidation.InsuranceFund.Kind;
import io.clearinghouse.liquidation.InsuranceFund.Moved;
import io.clearinghouse.liquidation.InsuranceFund.Rejected;
import io.clearinghouse.liquidation.InsuranceFund.Reply;
import io.clearinghouse.liquidation.InsuranceFund.State;
import io.clearinghouse.liquidation.InsuranceFund.View;
import io.clearinghouse.metrics.Metrics;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The insurance fund's rules on the in-memory journal: once per key, never below zero, bounded history. */
class InsuranceFundTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final AtomicInteger ids = new AtomicInteger();
  private EventSourcedBehaviorTestKit<Command, Event, State> fund;
  private final io.clearinghouse.MutableClock clock =
      new io.clearinghouse.MutableClock(java.time.Instant.parse("2026-01-01T00:00:00Z"));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newFund() {
    fund = EventSourcedBehaviorTestKit.create(testKit.system(),
        InsuranceFund.create("fund-" + ids.incrementAndGet(), 3, java.time.Duration.ofDays(8), new Metrics(), clock),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
  }

  private Reply run(java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<Reply>, Command> command) {
    return fund.<Reply>runCommand(command::apply).reply();
  }

  @Test
  void theOperatorsNameIsRecordedOnTopUps() {
    var result = fund.<Reply>runCommand(r -> new InsuranceFund.TopUp("t1", 500, "treasury", r));
    assertEquals("treasury", ((InsuranceFund.ToppedUp) result.event()).by());
  }

  @Test
  void paysAtMostItsBalanceAndAppliesEachKeyOnce() {
    assertEquals(500, ((Moved) run(r -> new InsuranceFund.TopUp("t1", 500, r))).entry().balanceAfter());
    assertEquals(650, ((Moved) run(r -> new InsuranceFund.Receive("l1/penalty", "l1", 150, r))).entry().balanceAfter());
    // A deficit larger than the balance: everything there is, and not a unit more.
    Moved paid = (Moved) run(r -> new InsuranceFund.Pay("l2/cover", "l2", 1_000, r));
    assertEquals(List.of(650L, 1_000L, 0L), List.of(paid.entry().amount(), paid.entry().requested(),
        paid.entry().balanceAfter()));
    // Retries answer the first result and move nothing.
    Moved again = (Moved) run(r -> new InsuranceFund.Pay("l2/cover", "l2", 1_000, r));
    assertTrue(again.replayed());
    assertEquals(650, again.entry().amount());
    assertTrue(((Moved) run(r -> new InsuranceFund.Receive("l1/penalty", "l1", 150, r))).replayed());
    assertEquals(0, fund.getState().balance());
    // An empty fund pays nothing.
    assertEquals(0, ((Moved) run(r -> new InsuranceFund.Pay("l3/cover", "l3", 10, r))).entry().amount());
    assertEquals(List.of(650L, 650L, 4L), List.of(fund.getState().totalIn(), fund.getState().totalOut(),
        fund.getState().entries()));
  }

  @Test
  void refusesWhatWouldChangeTheBalanceWrongly() {
    run(r -> new InsuranceFund.TopUp("t1", 500, r));
    assertRejected(run(r -> new InsuranceFund.TopUp("t2", 0, r)), Rejection.AMOUNT_NOT_POSITIVE);
    assertRejected(run(r -> new InsuranceFund.TopUp("t2", -1, r)), Rejection.AMOUNT_NOT_POSITIVE);
    assertRejected(run(r -> new InsuranceFund.TopUp("t2", Long.MAX_VALUE, r)), Rejection.BALANCE_OVERFLOW);
    assertRejected(run(r -> new InsuranceFund.TopUp("t1", 501, r)), Rejection.IDEMPOTENCY_KEY_REUSED);
    assertRejected(run(r -> new InsuranceFund.Pay("t1", "l1", 5, r)), Rejection.IDEMPOTENCY_KEY_REUSED);
    assertRejected(run(r -> new InsuranceFund.Pay("l1/cover", "l1", 0, r)), Rejection.AMOUNT_NOT_POSITIVE);
    assertRejected(run(r -> new InsuranceFund.Receive("l1/penalty", "l1", -3, r)), Rejection.AMOUNT_NOT_POSITIVE);
    assertEquals(500, fund.getState().balance());
    assertEquals(1, fund.getState().entries());
  }

  @Test
  void keepsTheRecentHistoryNewestFirstAndSurvivesARestart() {
    for (int i = 1; i <= 5; i++) {
      int n = i;
      run(r -> new InsuranceFund.TopUp("t" + n, n, r));
    }
    View view = (View) run(r -> new InsuranceFund.Get(0, 10, r));
    assertEquals(15, view.balance());
    assertEquals(5, view.entries());
    // Three retained (the configured history), newest first; a page skips from the newest.
    assertEquals(List.of("t5", "t4", "t3"), view.page().stream().map(InsuranceFund.Entry::key).toList());
    assertEquals(List.of("t4"), ((View) run(r -> new InsuranceFund.Get(1, 1, r))).page().stream()
        .map(InsuranceFund.Entry::key).toList());
    assertEquals(Kind.TOP_UP, view.page().get(0).kind());
    fund.restart();
    assertEquals(15, fund.getState().balance());
    assertEquals(3, fund.getState().recent().size());
  }

  @Test
  void aTopUpKeyOutlivesTheHistoryForTheRetentionThenExpires() {
    run(r -> new InsuranceFund.TopUp("custody-1", 500, r));
    for (int i = 1; i <= 5; i++) {
      int n = i;
      run(r -> new InsuranceFund.Receive("l" + n + "/penalty", "l" + n, 1, r));
      fund.runCommand(new InsuranceFund.Forget("l" + n));
    }
    // The history (3) no longer holds the top-up, yet its retry a week later is recognised.
    clock.advance(java.time.Duration.ofDays(7));
    assertTrue(((Moved) run(r -> new InsuranceFund.TopUp("custody-1", 500, r))).replayed());
    assertRejected(run(r -> new InsuranceFund.TopUp("custody-1", 501, r)), Rejection.IDEMPOTENCY_KEY_REUSED);
    assertEquals(505, fund.getState().balance());
    fund.restart();
    assertTrue(((Moved) run(r -> new InsuranceFund.TopUp("custody-1", 500, r))).replayed());
    // After the retention (8 days) the key is forgotten with the next top-up.
    clock.advance(java.time.Duration.ofDays(1));
    run(r -> new InsuranceFund.TopUp("custody-2", 1, r));
    assertEquals(List.of("custody-2"), fund.getState().topUps().stream().map(InsuranceFund.Entry::key).toList());
  }

  @Test
  void aLiquidationsKeysOutliveTheHistoryUntilItsSagaSaysToForgetThem() {
    run(r -> new InsuranceFund.Receive("l1/penalty", "l1", 7, r));
    for (int i = 1; i <= 5; i++) {
      int n = i;
      run(r -> new InsuranceFund.TopUp("t" + n, n, r));
    }
    // The history (3) no longer holds it, yet the retry is recognised: not received twice.
    assertTrue(((Moved) run(r -> new InsuranceFund.Receive("l1/penalty", "l1", 7, r))).replayed());
    assertEquals(22, fund.getState().balance());
    // The saga asks, and is told when it is done (it stays remembered until every fund and
    // counterparty confirmed, so a lost message is sent again); asked again, it is done at once.
    var forgot = fund.<org.apache.pekko.Done>runCommand(r -> new InsuranceFund.Forget("l1", r));
    assertEquals(org.apache.pekko.Done.done(), forgot.reply());
    assertEquals(1, forgot.events().size());
    assertEquals(List.of(), fund.getState().open());
    var again = fund.<org.apache.pekko.Done>runCommand(r -> new InsuranceFund.Forget("l1", r));
    assertEquals(org.apache.pekko.Done.done(), again.reply());
    assertTrue(again.hasNoEvents());
    fund.restart();
    assertEquals(List.of(), fund.getState().open());
    assertEquals(22, fund.getState().balance());
  }

  @Test
  void aHoldKeepsItsPartOfTheBalanceForItsLiquidationOnly() {
    run(r -> new InsuranceFund.TopUp("t1", 100, r));
    assertTrue(((InsuranceFund.Reservation) run(r -> new InsuranceFund.Reserve("a/reserve-0", "a", 80, r))).granted());
    // Retried: the same hold, not a second one.
    assertTrue(((InsuranceFund.Reservation) run(r -> new InsuranceFund.Reserve("a/reserve-0", "a", 80, r))).granted());
    assertEquals(80, fund.getState().reserved());
    // 20 are left for anyone else: a hold of 30 is refused and holds nothing.
    var refused = fund.<Reply>runCommand(r -> new InsuranceFund.Reserve("b/reserve-0", "b", 30, r));
    assertTrue(!((InsuranceFund.Reservation) refused.reply()).granted() && refused.hasNoEvents());
    // b's deficit of 50 gets only what nobody holds; a's deficit of 100 gets its 80 (and nothing of b's).
    assertEquals(20, ((Moved) run(r -> new InsuranceFund.Pay("b/cover", "b", 50, r))).entry().amount());
    assertEquals(80, ((Moved) run(r -> new InsuranceFund.Pay("a/cover", "a", 100, r))).entry().amount());
    assertEquals(List.of(0L, 0L), List.of(fund.getState().balance(), fund.getState().reserved()));
    // A hold that was never paid out goes with the liquidation.
    run(r -> new InsuranceFund.TopUp("t2", 50, r));
    run(r -> new InsuranceFund.Reserve("c/reserve-0", "c", 40, r));
    fund.runCommand(new InsuranceFund.Forget("c"));
    assertEquals(0, fund.getState().reserved());
    assertEquals(50, ((View) run(r -> new InsuranceFund.Get(0, 1, r))).balance());
  }

  @Test
  void aReplanReplacesTheLiquidationsOwnHoldInsteadOfBeingRefusedAgainstIt() {
    run(r -> new InsuranceFund.TopUp("t1", 100, r));
    assertTrue(((InsuranceFund.Reservation) run(r -> new InsuranceFund.Reserve("a/reserve", "a", 80, r))).granted());
    // The mark moved and the saga planned again: the deficit is now 95. Only a's own 80 is held,
    // so the 100 of the balance can hold it: granted, and a holds 95 (not 80 + 95).
    assertTrue(((InsuranceFund.Reservation) run(r -> new InsuranceFund.Reserve("a/reserve", "a", 95, r))).granted());
    assertEquals(95, fund.getState().reserved());
    assertEquals(1, fund.getState().holds().size());
    // Down again to 60: replaced, which frees 40 for b; b may not take a's 60.
    assertTrue(((InsuranceFund.Reservation) run(r -> new InsuranceFund.Reserve("a/reserve", "a", 60, r))).granted());
    var tooMuch = fund.<Reply>runCommand(r -> new InsuranceFund.Reserve("b/reserve", "b", 41, r));
    assertTrue(!((InsuranceFund.Reservation) tooMuch.reply()).granted() && tooMuch.hasNoEvents());
    assertTrue(((InsuranceFund.Reservation) run(r -> new InsuranceFund.Reserve("b/reserve", "b", 40, r))).granted());
    // a now asks for more than b leaves: refused, and a keeps its 60 (a refusal changes nothing).
    var refused = fund.<Reply>runCommand(r -> new InsuranceFund.Reserve("a/reserve", "a", 61, r));
    assertTrue(!((InsuranceFund.Reservation) refused.reply()).granted() && refused.hasNoEvents());
    assertEquals(100, fund.getState().reserved());
    fund.restart();
    assertEquals(100, fund.getState().reserved());
    // The holds still go with the saga's Forget.
    fund.runCommand(new InsuranceFund.Forget("a"));
    fund.runCommand(new InsuranceFund.Forget("b"));
    assertEquals(List.of(0L, 100L), List.of(fund.getState().reserved(), fund.getState().balance()));
  }

  private static void assertRejected(Reply reply, Rejection reason) {
    assertEquals(reason, assertInstanceOf(Rejected.class, reply).reason());
  }
}
