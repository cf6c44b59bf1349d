package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.clearinghouse.MutableClock;
import io.clearinghouse.NodeSettings;
import io.clearinghouse.liquidation.AdlCandidates;
import io.clearinghouse.liquidation.BackstopProviders;
import io.clearinghouse.liquidation.InsuranceFund;
import io.clearinghouse.liquidation.LiquidationSaga;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Review 9, finding 1. A funding payment that leaves an account with no position in deficit
 * persists a LiquidationStarted with nothing to close (FundingHandlers.apply: marks {@code Map.of()},
 * no instrument), so that "the saga's waterfall covers it". The saga plans (nothing: ClosingFinished),
 * then assesses the deficit: SettlementAssessed names the cover fund, coverFund → coverInstrument,
 * which with no closes falls back to the trigger's first valued instrument,
 * {@code state.trigger().marks().keySet().stream()...findFirst().orElseThrow()}: the trigger has
 * none, so the step throws, the saga stops, the account's ResendBegin starts it again, and it
 * throws again, for ever. The account stays liquidating (reduce-only, reservations released), its
 * deficit neither covered by the fund nor recorded as debt.
 *
 * <p>Real accounts and the real saga on one cluster node (in-memory journal). BTCUSDT-PERP, 1 BTC =
 * 1,000 lots, 50,000 USDT = 500,000 ticks, 1 USDT = 1,000,000.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Review9NoPositionLiquidationTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long H = 3_600_000L;
  private static final long T = Instant.parse("2026-03-02T08:00:00Z").toEpochMilli();
  private final MutableClock clock = new MutableClock(Instant.ofEpochMilli(T - 2 * H));
  private ActorTestKit testKit;
  private ClusterSharding sharding;
  private String fund;
  private NodeSettings settings;

  @BeforeAll
  void start() {
    testKit = io.clearinghouse.TestKits.oneNodeCluster("Review9NoPosition");
    Config config = testKit.system().settings().config();
    sharding = ClusterSharding.get(testKit.system());
    settings = NodeSettings.fromConfig(config);
    fund = settings.instruments().spec(PERP).liquidation().insuranceFund();
    InsuranceFund.init(testKit.system(), 100, Duration.ofDays(8), new Metrics(), clock);
    InsuranceFund.initReserves(testKit.system(), 100, Duration.ofDays(8), new Metrics(), clock);
    sharding.init(Entity.of(BackstopProviders.TYPE_KEY, ctx -> Behaviors.<BackstopProviders.Command>receiveMessage(m -> {
      if (m instanceof BackstopProviders.ListProviders list) {
        list.replyTo().tell(new BackstopProviders.Providers(PERP, List.of()));
      }
      return Behaviors.same();
    })));
    AccountEntity.init(testKit.system(), new AccountEntity.Environment(AccountEntityTest.SETTINGS,
        AccountEntityTest.INSTRUMENTS, MarkPrices.local(), RiskRegistry.NONE, clock,
        (accountId, liquidation) -> sharding.entityRefFor(LiquidationSaga.TYPE_KEY, liquidation.liquidationId())
            .tell(new LiquidationSaga.Begin(accountId, liquidation))));
    AdlCandidates none = (instrument, sign, excluded) -> CompletableFuture.completedFuture(List.of());
    LiquidationSaga.init(testKit.system(), new LiquidationSaga.Environment(settings.liquidation(),
        settings.instruments(), none, new Metrics(), clock));
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
    clock.advance(Duration.ofMillis(epochMillis - clock.millis()));
  }

  @Test
  void aFundingDeficitOnAnAccountWithNoPositionIsCoveredOrRecordedAndTheLiquidationEnds() {
    assertInstanceOf(InsuranceFund.Moved.class, sharding.entityRefFor(InsuranceFund.TYPE_KEY, fund)
        .ask((ActorRef<InsuranceFund.Reply> r) -> new InsuranceFund.TopUp("seed", 10_000 * USDT, "ops", r),
            Duration.ofSeconds(10)).toCompletableFuture().join());
    String alice = "alice";
    ask(alice, AccountEntity.Open::unattributed);
    ask(alice, r -> new AccountEntity.Deposit("d-alice", 1_000 * USDT, r));
    ask(alice, r -> new AccountEntity.SetLeverage(PERP, 100, r));
    // Long 1 BTC at 50,000 from 06:00, sold at 49,100 at 08:00:01 (after the funding time).
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(alice, r -> new AccountEntity.ApplyTrade("t-1", 1,
        PERP, 1_000, 500_000, true, null, "bob", r, T - 2 * H)));
    at(T + 1_000);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(alice, r -> new AccountEntity.ApplyTrade("t-2", 2,
        PERP, -1_000, 491_000, true, null, "carol", r, T + 1_000)));
    long cash = state(alice).cash();
    assertTrue(cash > 0 && cash < 100 * USDT, "a little cash left, was " + cash);
    // The clock's payment for 08:00 on the 1 BTC held then: 0.2% of 49,100 = 98.2 USDT.
    at(T + 10_000);
    AccountEntity.FundingPaid paid = assertInstanceOf(AccountEntity.FundingPaid.class,
        ask(alice, r -> new AccountEntity.ApplyFunding(PERP, T, 200_000, 491_000, r)));
    assertEquals(1_000, paid.lots());
    assertTrue(state(alice).liquidationId() != null, "the deficit starts a liquidation with nothing to close");
    // The saga must plan nothing, assess the deficit, have the fund cover it, and end.
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(200), () -> {
      AccountSummary after = state(alice);
      assertEquals(null, after.liquidationId(), "the liquidation with nothing to close never ended: cash " + after.cash()
          + ", debt " + after.debt());
      assertTrue(after.cash() >= 0 || after.debt() > 0, "cash " + after.cash() + " uncovered");
      return null;
    });
  }

  /**
   * Review 12 (medium), with the real saga: an isolated long on the quarterly settled at expiry
   * beyond its margin leaves the account owing the shortfall (its cash untouched); the liquidation
   * with nothing to close that starts counts what is owed (Settlement.unrecordedOwed), has the
   * quarterly's fund cover it, and ends: nothing owed, no debt, the cash as it was.
   */
  @Test
  void anIsolatedShortfallAtExpiryIsCoveredByTheFundAndTheLiquidationEnds() {
    String future = "BTCUSDT-271231";
    var spec = settings.instruments().spec(future);
    String futureFund = spec.liquidation().insuranceFund();
    long expiry = spec.expiry().expiryMillis();
    assertInstanceOf(InsuranceFund.Moved.class, sharding.entityRefFor(InsuranceFund.TYPE_KEY, futureFund)
        .ask((ActorRef<InsuranceFund.Reply> r) -> new InsuranceFund.TopUp("seed-future", 10_000 * USDT, "ops", r),
            Duration.ofSeconds(10)).toCompletableFuture().join());
    at(expiry - H);
    String dora = "dora";
    ask(dora, AccountEntity.Open::unattributed);
    ask(dora, r -> new AccountEntity.Deposit("d-dora", 3_000 * USDT, r));
    ask(dora, r -> new AccountEntity.SetMarginMode(future, io.clearinghouse.margin.MarginMode.ISOLATED, r));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(dora, r -> new AccountEntity.ApplyTrade("t-f1", 11,
        future, 1_000, 500_000, false, null, "erin", r, expiry - H)));
    long cashBefore = state(dora).cash();
    at(expiry + 1_000);
    AccountEntity.SettlementDone done = assertInstanceOf(AccountEntity.SettlementDone.class,
        ask(dora, r -> new AccountEntity.ApplySettlement(future, expiry, 470_000, r)));
    assertTrue(done.settlement().shortfall() > 0, "settled beyond the margin: " + done.settlement());
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(200), () -> {
      AccountSummary after = state(dora);
      assertEquals(null, after.liquidationId(), "the shortfall's liquidation never ended: owed " + after.owed());
      assertEquals(0, after.owed());
      assertEquals(0, after.debt());
      assertEquals(cashBefore, after.cash());
      return null;
    });
  }
}
