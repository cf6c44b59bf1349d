package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.MutableClock;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Review 11, finding 2. Funding paid while an account is being liquidated, after its saga assessed
 * the deficit, was in no assessment: the saga covered (or recorded as debt) what the account was
 * short when it looked, ended the liquidation, and the account stayed flat with its cash below
 * zero, seen by no monitor (it holds no position) and settled by nobody. Ending a liquidation now
 * settles that rest at once with a liquidation that has nothing to close.
 *
 * <p>The saga's steps are sent by hand here (no saga runs; the hand-overs are recorded), so that
 * the payment lands exactly between the assessment and the end. BTCUSDT-PERP, 1 BTC = 1,000 lots,
 * 50,000 USDT = 500,000 ticks, 1 USDT = 1,000,000.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Review11FundingDuringLiquidationTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long H = 3_600_000L;
  private static final long DAY = 24 * H;
  private final MutableClock clock = new MutableClock(Instant.parse("2026-03-02T00:00:00Z"));
  /** Each test's 08:00 funding time, on a day of its own (the tests share the clock). */
  private long t;
  private final List<String> handedOver = new CopyOnWriteArrayList<>();
  private ActorTestKit testKit;
  private ClusterSharding sharding;

  @BeforeAll
  void start() {
    testKit = io.clearinghouse.TestKits.oneNodeCluster("Review11FundingDuringLiquidation");
    sharding = ClusterSharding.get(testKit.system());
    AccountEntity.init(testKit.system(), new AccountEntity.Environment(AccountEntityTest.SETTINGS,
        AccountEntityTest.INSTRUMENTS, MarkPrices.local(), RiskRegistry.NONE, clock,
        (accountId, liquidation) -> {
          if (!handedOver.contains(liquidation.liquidationId())) {
            handedOver.add(liquidation.liquidationId());
          }
        }));
  }

  @AfterAll
  void stop() {
    testKit.shutdownTestKit();
  }

  private AccountEntity.Reply ask(String account, Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> c) {
    return sharding.entityRefFor(AccountEntity.TYPE_KEY, account).ask(c::apply, Duration.ofSeconds(10))
        .toCompletableFuture().join();
  }

  private AccountSummary state(String account) {
    return ((AccountEntity.Snapshot) ask(account, AccountEntity.Get::new)).account();
  }

  private void at(long epochMillis) {
    clock.advance(Duration.ofMillis(Math.max(0, epochMillis - clock.millis())));
  }

  /**
   * Long 1 BTC at 50,000 from 06:00 (cash 1,000, 100x), sold at 49,100 after the 16:00 funding time,
   * then paid 0.2% of 49,100 (98.2) for 08:00: the flat account falls below zero and a liquidation
   * with nothing to close starts. Returns that liquidation's id; the 16:00 payment is still due.
   */
  private String flatInDeficit(String account) {
    t = (clock.millis() / DAY + 1) * DAY + 8 * H;
    long T = t;
    at(T - 2 * H);
    ask(account, AccountEntity.Open::unattributed);
    ask(account, r -> new AccountEntity.Deposit("d-" + account, 1_000 * USDT, r));
    ask(account, r -> new AccountEntity.SetLeverage(PERP, 100, r));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account, r -> new AccountEntity.ApplyTrade(
        account + "-t1", 1, PERP, 1_000, 500_000, true, null, "bob", r, T - 2 * H)));
    at(T + 8 * H + 1_000);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account, r -> new AccountEntity.ApplyTrade(
        account + "-t2", 2, PERP, -1_000, 491_000, true, null, "carol", r, T + 8 * H + 1_000)));
    long cash = state(account).cash();
    assertTrue(cash > 0 && cash < 98 * USDT, "a little cash left, was " + cash);
    at(T + 8 * H + 10_000);
    assertInstanceOf(AccountEntity.FundingPaid.class, ask(account, r -> new AccountEntity.ApplyFunding(PERP, T,
        200_000, 491_000, r)));
    AccountSummary liquidating = state(account);
    assertTrue(liquidating.cash() < 0, "the 08:00 payment leaves the account short, cash " + liquidating.cash());
    assertTrue(liquidating.liquidationId() != null, "a liquidation with nothing to close starts");
    return liquidating.liquidationId();
  }

  /** The 16:00 payment, applied while the first liquidation is open (after its assessment). */
  private long payDuringLiquidation(String account) {
    long T = t;
    long before = state(account).cash();
    AccountEntity.FundingPaid paid = assertInstanceOf(AccountEntity.FundingPaid.class, ask(account,
        r -> new AccountEntity.ApplyFunding(PERP, T + 8 * H, 200_000, 491_000, r)));
    assertEquals(1_000, paid.lots(), "held at 16:00");
    assertEquals(before - 98_200_000, state(account).cash(), "0.2% of 49,100 paid");
    return 98_200_000;
  }

  @Test
  void fundingPaidAfterTheFundCoveredTheAssessedDeficitIsSettledWhenTheLiquidationEnds() {
    String alice = "alice";
    String first = flatInDeficit(alice);
    long assessed = -state(alice).cash();
    long late = payDuringLiquidation(alice);
    // The saga's cover of what it assessed, then its end.
    assertInstanceOf(AccountEntity.StepApplied.class, ask(alice, r -> new AccountEntity.CreditLiquidation(
        first + "/credit", first, assessed, 0, r)));
    assertInstanceOf(AccountEntity.StepApplied.class, ask(alice, r -> new AccountEntity.EndLiquidation(first, r)));
    AccountSummary after = state(alice);
    assertEquals(-late, after.cash(), "only the late payment is short");
    assertTrue(after.liquidationId() != null && !after.liquidationId().equals(first),
        "the late payment's deficit is settled by a liquidation of its own, was " + after.liquidationId());
    String second = after.liquidationId();
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(10), () -> {
      assertTrue(handedOver.contains(second), "handed to its saga: " + handedOver);
      return null;
    });
    // Its saga covers it; ending it leaves the account settled, with no third liquidation.
    assertInstanceOf(AccountEntity.StepApplied.class, ask(alice, r -> new AccountEntity.CreditLiquidation(
        second + "/credit", second, late, 0, r)));
    assertInstanceOf(AccountEntity.StepApplied.class, ask(alice, r -> new AccountEntity.EndLiquidation(second, r)));
    AccountSummary settled = state(alice);
    assertEquals(0, settled.cash());
    assertNull(settled.liquidationId());
  }

  @Test
  void fundingPaidAfterTheDeficitWasRecordedAsDebtIsSettledOnItsOwnAndTheDebtIsNotCountedTwice() {
    String dave = "dave";
    String first = flatInDeficit(dave);
    long assessed = -state(dave).cash();
    long late = payDuringLiquidation(dave);
    assertInstanceOf(AccountEntity.StepApplied.class, ask(dave, r -> new AccountEntity.RecordDebt(
        first + "/debt", first, assessed, r)));
    assertInstanceOf(AccountEntity.StepApplied.class, ask(dave, r -> new AccountEntity.EndLiquidation(first, r)));
    AccountSummary after = state(dave);
    assertEquals(assessed, after.debt());
    String second = after.liquidationId();
    assertTrue(second != null && !second.equals(first), "the late payment is settled on its own, was " + second);
    // Recorded as debt too: the account then owes both, and ending starts nothing more.
    assertInstanceOf(AccountEntity.StepApplied.class, ask(dave, r -> new AccountEntity.RecordDebt(
        second + "/debt", second, late, r)));
    assertInstanceOf(AccountEntity.StepApplied.class, ask(dave, r -> new AccountEntity.EndLiquidation(second, r)));
    AccountSummary settled = state(dave);
    assertEquals(assessed + late, settled.debt());
    assertEquals(-(assessed + late), settled.cash());
    assertNull(settled.liquidationId(), "a deficit recorded in full as debt starts no further liquidation");
  }

  @Test
  void aLiquidationThatEndsWithNothingPaidLateStartsNoOther() {
    String erin = "erin";
    String first = flatInDeficit(erin);
    long assessed = -state(erin).cash();
    assertInstanceOf(AccountEntity.StepApplied.class, ask(erin, r -> new AccountEntity.CreditLiquidation(
        first + "/credit", first, assessed, 0, r)));
    assertInstanceOf(AccountEntity.StepApplied.class, ask(erin, r -> new AccountEntity.EndLiquidation(first, r)));
    AccountSummary after = state(erin);
    assertEquals(0, after.cash());
    assertNull(after.liquidationId());
  }
}
