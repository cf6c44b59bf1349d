package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.clearinghouse.MutableClock;
import io.clearinghouse.NodeSettings;
import io.clearinghouse.liquidation.AdlCandidates;
import io.clearinghouse.liquidation.BackstopProviders;
import io.clearinghouse.liquidation.FundTransfers;
import io.clearinghouse.liquidation.InsuranceFund;
import io.clearinghouse.liquidation.LiquidationSaga;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.money.Bucket;
import io.clearinghouse.money.Transfer;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Review rev10g, end to end with the real LiquidationSaga (one cluster node, in-memory journal):
 * the narrowed waits of 74b0f53. An isolated liquidation closes while a cross side in another
 * instrument is still settling (its close does not wait for it), the saga's settlement waits for
 * that side (AssessLiquidation refused TRADE_SETTLING, asked again), the side is reversed, and the
 * fund covers exactly what the account needs after the reversal. (Checked also against a variant
 * of the code whose last plan, with nothing left to close, waits instead: it passes there too.) Every movement is between two
 * buckets: re-derived from the journals, the buckets between two sides (trades, closes, the
 * liquidation's escrow) are empty, each balance is what its entity says, and all of them sum to
 * what came in from outside.
 *
 * <p>The accounts' register asker (AccountEntity.Environment's last argument but one) is a fake
 * that says which sides still settle; the reversal is sent to the account as its register would.
 * BTCUSDT-PERP (isolated) and the quarterly BTCUSDT-271231 (cross): 1 BTC = 1,000 lots,
 * 50,000 USDT = 500,000 ticks, 1 USDT = 1,000,000.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Rev10gSagaLevelTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final String FUTURE = "BTCUSDT-271231";
  private static final long USDT = 1_000_000L;
  private static final long FUND_SEED = 10_000 * USDT;
  /** Frozen: the settling wait (measured on this clock from the side's cut) never runs out by itself. */
  private final MutableClock clock = new MutableClock(Instant.parse("2026-12-02T08:00:00Z"));
  private final MarkPrices marks = MarkPrices.local();
  /** The sequences whose registers are still settling them (the fake register asker's answer). */
  private final Set<Long> stillSettling = ConcurrentHashMap.newKeySet();
  private ActorTestKit testKit;
  private ClusterSharding sharding;
  private PersistenceTestKit journal;
  private String fund;
  private TestProbe<AccountEntity.Command> seenByAccounts;

  @BeforeAll
  void start() {
    testKit = io.clearinghouse.TestKits.oneNodeCluster("Rev10gSagaLevel");
    Config config = testKit.system().settings().config();
    sharding = ClusterSharding.get(testKit.system());
    journal = PersistenceTestKit.create(testKit.system());
    NodeSettings settings = NodeSettings.fromConfig(config);
    fund = settings.instruments().spec(PERP).liquidation().insuranceFund();
    InsuranceFund.init(testKit.system(), 100, Duration.ofDays(8), new Metrics(), clock);
    InsuranceFund.initReserves(testKit.system(), 100, Duration.ofDays(8), new Metrics(), clock);
    sharding.init(Entity.of(BackstopProviders.TYPE_KEY, ctx -> Behaviors.<BackstopProviders.Command>receiveMessage(m -> {
      if (m instanceof BackstopProviders.ListProviders list) {
        list.replyTo().tell(new BackstopProviders.Providers(ctx.getEntityId(),
            List.of(new BackstopProviders.Provider("prov", 1_000_000 * USDT))));
      }
      return Behaviors.same();
    })));
    AccountEntity.Environment environment = new AccountEntity.Environment(new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 100,
        Duration.ofDays(8), 1000, Duration.ofSeconds(3), 5, 20),
        settings.instruments(), marks, RiskRegistry.NONE, clock,
        (accountId, liquidation) -> sharding.entityRefFor(LiquidationSaga.TYPE_KEY, liquidation.liquidationId())
            .tell(new LiquidationSaga.Begin(accountId, liquidation)),
        FeeCollector.NONE, instrument -> 0L,
        sequences -> CompletableFuture.completedFuture(sequences.stream().filter(stillSettling::contains).toList()));
    assertEquals(Duration.ofSeconds(10), environment.settings().settlingWait(), "the shipped settling wait");
    // Every command an account gets is also seen here (the saga's AssessLiquidation among them).
    seenByAccounts = testKit.createTestProbe();
    sharding.init(Entity.of(AccountEntity.TYPE_KEY, ctx -> Behaviors.monitor(AccountEntity.Command.class,
        seenByAccounts.getRef(), AccountEntity.create(ctx.getEntityId(), environment))));
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

  private InsuranceFund.View fundView() {
    return (InsuranceFund.View) sharding.entityRefFor(InsuranceFund.TYPE_KEY, fund)
        .ask((ActorRef<InsuranceFund.Reply> r) -> new InsuranceFund.Get(0, 0, r), Duration.ofSeconds(10))
        .toCompletableFuture().join();
  }

  private long side(String account, String tradeId, long sequence, String instrument, long lots, boolean taker,
      String counterparty) {
    return assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account, r -> new AccountEntity.ApplyTrade(
        tradeId, sequence, instrument, lots, 500_000, taker, null, counterparty, r))).fee();
  }

  private void open(String account, long deposit) {
    ask(account, AccountEntity.Open::unattributed);
    ask(account, r -> new AccountEntity.Deposit("d-" + account, deposit, r));
  }

  /**
   * Trader: 10,000. Isolated long 1 BTC-PERP at 50,000 from the maker (20x: 2,500 of margin; fees
   * 25 taker, 10 maker), settled. Then the trader's cross buy of 1 of the quarterly at 50,000
   * (fee 25), whose register is still settling it (its seller's side never comes). The PERP mark
   * falls to 47,000: the isolated long (3,000 lost on 2,500) is liquidated. Its bankruptcy price
   * is 47,500, the provider's price 46,906 (0.2% under the mark): the fund holds the 594 the close
   * loses beyond the margin, the provider takes the long, the trader's close owes 594. The next
   * plan has nothing due (the cross quarterly long is healthy), and the settlement's assessment
   * waits for the quarterly buy. It is reversed (the seller refused): its fee back, the position
   * gone. The saga then assesses 594, the fund pays it, the liquidation ends: the trader has
   * 10,000 - 25 - 2,500 = 7,475 of cash, owes nothing, holds nothing.
   */
  @Test
  void anIsolatedCloseGoesOnWhileACrossSideSettlesAndTheCoverWaitsForItsReversal() {
    assertInstanceOf(InsuranceFund.Moved.class, sharding.entityRefFor(InsuranceFund.TYPE_KEY, fund)
        .ask((ActorRef<InsuranceFund.Reply> r) -> new InsuranceFund.TopUp("seed", FUND_SEED, "ops", r),
            Duration.ofSeconds(10)).toCompletableFuture().join());
    marks.accept(new Mark(PERP, 500_000, 1, 0));
    marks.accept(new Mark(FUTURE, 500_000, 1, 0));
    String trader = "trader";
    String maker = "maker";
    String provider = "prov";
    open(trader, 10_000 * USDT);
    open(maker, 100_000 * USDT);
    open(provider, 1_000_000 * USDT);
    assertInstanceOf(AccountEntity.Snapshot.class, ask(trader,
        r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r)));
    assertEquals(25 * USDT, side(trader, "t-1", 1, PERP, 1_000, true, maker));
    assertEquals(10 * USDT, side(maker, "t-1", 1, PERP, -1_000, false, trader));
    sharding.entityRefFor(AccountEntity.TYPE_KEY, trader).tell(new AccountEntity.SideSettled(1));
    sharding.entityRefFor(AccountEntity.TYPE_KEY, maker).tell(new AccountEntity.SideSettled(1));
    assertEquals(2_500 * USDT, state(trader).positions().get(0).isolatedMargin(), "20x: 2,500 of isolated margin");
    // The quarterly buy: applied to the trader, its register still settling it.
    stillSettling.add(2L);
    assertEquals(25 * USDT, side(trader, "t-2", 2, FUTURE, 1_000, true, "away"));
    long cashBefore = state(trader).cash();
    assertEquals(10_000 * USDT - 25 * USDT - 2_500 * USDT - 25 * USDT, cashBefore);

    marks.accept(new Mark(PERP, 470_000, 2, 0));
    sharding.entityRefFor(AccountEntity.TYPE_KEY, trader).tell(new AccountEntity.StartLiquidation(2));
    TestProbe<Object> probe = testKit.createTestProbe();
    String id = probe.awaitAssert(Duration.ofSeconds(10), Duration.ofMillis(50), () -> {
      String started = state(trader).liquidationId();
      assertNotNull(started, "the isolated long is liquidated");
      return started;
    });

    // The isolated close does not wait for the quarterly side: the provider has the long.
    probe.awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(100), () -> {
      AccountSummary now = state(trader);
      assertTrue(now.positions().stream().noneMatch(p -> p.instrument().equals(PERP)), "PERP closed: " + now);
      assertEquals(594 * USDT, now.owed(), "the close lost 594 beyond its margin");
      assertEquals(1_000, state(provider).positions().get(0).lots(), "the provider took the long");
      return null;
    });
    // The settlement waits: after the trader's close the saga asks again and again (for the
    // assessment, refused TRADE_SETTLING; a design whose last plan waits would ask for plans: the
    // same here), and meanwhile nothing is covered, the quarterly buy is still there and the
    // liquidation goes on. Without a wait there would be one plan (nothing more to close) and one
    // assessment, then the cover and the end: never a third ask.
    fish(m -> m instanceof AccountEntity.ApplyLiquidationTransfer t && t.liquidationId().equals(id)
        && t.role() == LiquidationRole.LIQUIDATED);
    for (int asked = 0; asked < 3; asked++) {
      fish(m -> (m instanceof AccountEntity.AssessLiquidation a && a.liquidationId().equals(id))
          || (m instanceof AccountEntity.PlanLiquidationClose p && p.liquidationId().equals(id)));
    }
    AccountSummary waiting = state(trader);
    assertEquals(id, waiting.liquidationId(), "still liquidating while the side settles");
    assertEquals(594 * USDT, waiting.owed(), "nothing covered while the side settles");
    assertEquals(1_000, waiting.positions().get(0).lots(), "the quarterly buy still stands");
    assertEquals(FUND_SEED, fundView().balance(), "the fund has paid nothing yet");

    // The register reverses the quarterly buy (its seller refused): the fee back, the position gone.
    stillSettling.remove(2L);
    assertInstanceOf(AccountEntity.TradeSideReverted.class, ask(trader,
        r -> new AccountEntity.ReverseTradeSide("t-2", 2, FUTURE, 1_000, 500_000, 25 * USDT, r)));

    probe.awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(100), () -> {
      AccountSummary after = state(trader);
      assertNull(after.liquidationId(), "the liquidation ended");
      assertEquals(List.of(), after.positions());
      assertEquals(0, after.owed(), "the shortfall is covered");
      assertEquals(0, after.debt());
      assertEquals(cashBefore + 25 * USDT, after.cash(), "the cash as before the liquidation, the fee given back");
      return null;
    });
    assertEquals(FUND_SEED - 594 * USDT, fundView().balance(), "the fund paid exactly the 594 the close owed");

    // The ledger, re-derived from the journals.
    Map<Bucket, Long> balances = new HashMap<>();
    for (String account : List.of(trader, maker, provider)) {
      for (Object event : journal.persistedInStorage(AccountEntity.persistenceId(account).id())) {
        if (event instanceof AccountEntity.Event e) {
          add(balances, AccountTransfers.of(account, e));
        }
      }
    }
    for (Object event : journal.persistedInStorage(InsuranceFund.persistenceId(fund).id())) {
      if (event instanceof InsuranceFund.Event e) {
        add(balances, FundTransfers.of(fund, e));
      }
    }
    List<String> unbalanced = new ArrayList<>();
    long total = 0;
    for (var entry : balances.entrySet()) {
      Bucket.Kind kind = entry.getKey().kind();
      boolean between = kind == Bucket.Kind.TRADE || kind == Bucket.Kind.CLOSE || kind == Bucket.Kind.ESCROW
          || kind == Bucket.Kind.TRANSIT;
      if (between && entry.getValue() != 0) {
        unbalanced.add(entry.getKey() + " = " + entry.getValue());
      }
      total += entry.getValue();
    }
    assertEquals(List.of(), unbalanced, "money left between two sides");
    assertEquals(0, total, "every transfer is between two buckets");
    long deposits = (10_000 + 100_000 + 1_000_000) * USDT;
    assertEquals(-(deposits + FUND_SEED), balances.get(Bucket.EXTERNAL), "what came in from outside");
    assertEquals(state(trader).cash(), balances.get(Bucket.cash(trader)));
    assertEquals(0L, balances.getOrDefault(Bucket.owed(trader), 0L));
    assertEquals(fundView().balance(), balances.get(Bucket.insuranceFund(fund)));
    assertEquals(0L, balances.getOrDefault(Bucket.position(trader, FUTURE), 0L), "the reversed side left no cost");
    // Fees: 10 of the maker and 25 of the trader's PERP buy; the quarterly buy's fee was given back.
    assertEquals(35 * USDT, balances.get(Bucket.FEES));
  }

  /** The next command an account got that {@code wanted} says is the one (those before it are passed over). */
  private void fish(java.util.function.Predicate<AccountEntity.Command> wanted) {
    seenByAccounts.fishForMessage(Duration.ofSeconds(15), m -> wanted.test(m)
        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
  }

  private static void add(Map<Bucket, Long> balances, List<Transfer> transfers) {
    for (Transfer t : transfers) {
      balances.merge(t.from(), -t.amount(), Math::addExact);
      balances.merge(t.to(), t.amount(), Math::addExact);
    }
  }
}
