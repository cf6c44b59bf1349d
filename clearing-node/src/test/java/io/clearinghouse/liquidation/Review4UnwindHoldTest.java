package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.clearinghouse.NodeSettings;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Review 4: a FundUnwind round that holds its expected loss in the fund and then ends without a
 * close (every backstop provider declined) never tells the fund to forget the round: its hold stays
 * for good. Every later round holds again under a new round id, so the holds pile up until the
 * whole balance is held: the fund can then pay no liquidation's deficit (availableTo is what nobody
 * holds), and the operator can withdraw nothing. No hostile actor is needed: a fund position
 * larger than every provider's max notional (TAKE_CHECKED refuses beyond it, it never clips) makes
 * every round end "every backstop provider declined", one round per retry (at most 30 s apart).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Review4UnwindHoldTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private ActorTestKit testKit;
  private ClusterSharding sharding;
  private String fund;
  private final MarkPrices marks = MarkPrices.local();

  @BeforeAll
  void start() {
    testKit = io.clearinghouse.TestKits.oneNodeCluster("Review4Unwind");
    Config config = testKit.system().settings().config();
    sharding = ClusterSharding.get(testKit.system());
    NodeSettings settings = NodeSettings.fromConfig(config);
    fund = settings.instruments().spec(PERP).liquidation().insuranceFund();
    InsuranceFund.init(testKit.system(), 100, Duration.ofDays(8), new Metrics(), Clock.systemUTC());
    // One registered provider...
    sharding.init(Entity.of(BackstopProviders.TYPE_KEY, ctx -> Behaviors.<BackstopProviders.Command>receiveMessage(m -> {
      if (m instanceof BackstopProviders.ListProviders list) {
        list.replyTo().tell(new BackstopProviders.Providers(PERP,
            List.of(new BackstopProviders.Provider("prov", 1_000_000_000 * USDT))));
      }
      return Behaviors.same();
    })));
    // ... which declines every close offered to it (beyond its max notional, or its own margin).
    sharding.init(Entity.of(AccountEntity.TYPE_KEY, ctx -> Behaviors.<AccountEntity.Command>receiveMessage(m -> {
      if (m instanceof AccountEntity.ApplyLiquidationTransfer t) {
        t.replyTo().tell(new AccountEntity.Rejected(Rejection.BACKSTOP_DECLINED,
            "the provider declines: beyond its max notional"));
      } else if (m instanceof AccountEntity.ForgetLiquidation f) {
        f.replyTo().tell(org.apache.pekko.Done.done());
      }
      return Behaviors.same();
    })));
    FundUnwind.init(testKit.system(), new FundUnwind.Environment(settings.liquidation(), marks, Clock.systemUTC()));
  }

  @AfterAll
  void stop() {
    testKit.shutdownTestKit();
  }

  private InsuranceFund.Reply askFund(java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<InsuranceFund.Reply>,
      InsuranceFund.Command> command) {
    return sharding.entityRefFor(InsuranceFund.TYPE_KEY, fund).ask(command::apply, Duration.ofSeconds(10))
        .toCompletableFuture().join();
  }

  @Test
  void aRoundThatEveryProviderDeclinedLeavesNoHoldBehind() {
    long multiplier = NodeSettings.fromConfig(testKit.system().settings().config()).instruments().require(PERP)
        .notionalMultiplier();
    assertInstanceOf(InsuranceFund.Moved.class, askFund(r -> new InsuranceFund.TopUp("seed", 10_000 * USDT, r)));
    // The fund took over 1 BTC long at 50,000 from a liquidation (as the saga does).
    assertInstanceOf(InsuranceFund.PositionMoved.class, askFund(r -> new InsuranceFund.TakeOver("liq-1/close-0",
        "liq-1", PERP, 1_000, 500_000, multiplier, 0, false, r)));
    marks.accept(new Mark(PERP, 490_000, 1, System.currentTimeMillis()));
    var unwind = sharding.entityRefFor(FundUnwind.TYPE_KEY, FundUnwind.entityId(fund, PERP));
    TestProbe<FundUnwind.View> probe = testKit.createTestProbe();
    // Rounds run: each plans, holds its loss, is declined by the provider and ends.
    probe.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(200), () -> {
      unwind.tell(FundUnwind.Wake.INSTANCE);
      unwind.tell(new FundUnwind.Get(100, probe.getRef()));
      FundUnwind.View view = probe.receiveMessage(Duration.ofSeconds(5));
      assertTrue(view.rounds().stream().filter(FundUnwind.Round::ended).count() >= 3,
          "rounds ended: " + view.rounds());
      return null;
    });
    FundUnwind.View view;
    unwind.tell(new FundUnwind.Get(100, probe.getRef()));
    view = probe.receiveMessage(Duration.ofSeconds(5));
    long oneRoundsLoss = -view.rounds().get(0).expectedPnl();
    InsuranceFund.View fundView = (InsuranceFund.View) askFund(r -> new InsuranceFund.Get(0, 0, r));
    // At most the round in flight holds anything; ended rounds hold nothing.
    assertTrue(fundView.reserved() <= oneRoundsLoss, "the fund holds " + fundView.reserved() + " for "
        + view.rounds().size() + " unwind rounds (one round's loss: " + oneRoundsLoss + "), of a balance of "
        + fundView.balance() + "; notes: " + view.rounds().stream().map(FundUnwind.Round::note).toList());
  }
}
