package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.clearinghouse.NodeSettings;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Review 5 of FundUnwind.endRound (7b322d5): a round that ends without a close now first asks the
 * fund to forget the round (its hold goes), and only then persists RoundEnded. A crash (or a failed
 * journal write) between the two leaves a round that its own journal says is open and held, while
 * the fund holds nothing for it. The recovered round goes on (a provider is there again) as if its
 * loss were held: the fund has meanwhile promised that money to any other liquidation that asks.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Review5UnwindCrashTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private ActorTestKit testKit;
  private ClusterSharding sharding;
  private String fund;
  private final MarkPrices marks = MarkPrices.local();
  /** ListProviders answers: the first (the plan) names the provider, the second (the choice) none, then it again. */
  private final AtomicInteger lists = new AtomicInteger();

  @BeforeAll
  void start() {
    testKit = io.clearinghouse.TestKits.oneNodeCluster("Review5Unwind");
    Config config = testKit.system().settings().config();
    sharding = ClusterSharding.get(testKit.system());
    NodeSettings settings = NodeSettings.fromConfig(config);
    fund = settings.instruments().spec(PERP).liquidation().insuranceFund();
    InsuranceFund.init(testKit.system(), 100, Duration.ofDays(8), new Metrics(), Clock.systemUTC());
    sharding.init(Entity.of(BackstopProviders.TYPE_KEY, ctx -> Behaviors.<BackstopProviders.Command>receiveMessage(m -> {
      if (m instanceof BackstopProviders.ListProviders list) {
        // The provider deregisters for a moment (the round's choice finds nobody), then is back.
        List<BackstopProviders.Provider> providers = lists.incrementAndGet() == 2 ? List.of()
            : List.of(new BackstopProviders.Provider("prov", 1_000_000_000 * USDT));
        list.replyTo().tell(new BackstopProviders.Providers(PERP, providers));
      }
      return Behaviors.same();
    })));
    // The provider is slow to answer the close offered to it: the round stays open meanwhile.
    sharding.init(Entity.of(AccountEntity.TYPE_KEY, ctx -> Behaviors.<AccountEntity.Command>receiveMessage(m -> {
      if (m instanceof AccountEntity.ForgetLiquidation f) {
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

  private static boolean endsARound(Object op) {
    return op instanceof WriteEvents write && write.getBatch().stream()
        .anyMatch(e -> e instanceof FundUnwind.RoundEnded || String.valueOf(e).contains("RoundEnded["));
  }

  @Test
  void aRoundRecoveredAfterTheFundForgotItsHoldIsNeverCarriedOnAsHeld() {
    long multiplier = NodeSettings.fromConfig(testKit.system().settings().config()).instruments().require(PERP)
        .notionalMultiplier();
    assertInstanceOf(InsuranceFund.Moved.class, askFund(r -> new InsuranceFund.TopUp("seed", 10_000 * USDT, r)));
    assertInstanceOf(InsuranceFund.PositionMoved.class, askFund(r -> new InsuranceFund.TakeOver("liq-1/close-0",
        "liq-1", PERP, 1_000, 500_000, multiplier, 0, false, r)));
    marks.accept(new Mark(PERP, 490_000, 1, System.currentTimeMillis()));
    // The round's RoundEnded write fails (the node dies right after the fund forgot the round's hold).
    PersistenceTestKit journal = PersistenceTestKit.create(testKit.system());
    AtomicInteger failedWrites = new AtomicInteger();
    journal.failNextNOpsCond((persistenceId, op) -> {
      boolean hit = endsARound(op);
      if (hit) {
        failedWrites.incrementAndGet();
      }
      return hit;
    }, 1);
    var unwind = sharding.entityRefFor(FundUnwind.TYPE_KEY, FundUnwind.entityId(fund, PERP));
    unwind.tell(FundUnwind.Wake.INSTANCE);
    TestProbe<FundUnwind.View> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(100), () -> {
      assertEquals(1, failedWrites.get(), "the round tried to end");
      return null;
    });
    // The unwind starts again (the next Wake, or the next node): its journal has the round open and held.
    probe.awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(200), () -> {
      unwind.tell(FundUnwind.Wake.INSTANCE);
      unwind.tell(new FundUnwind.Get(10, probe.getRef()));
      FundUnwind.View view = probe.receiveMessage(Duration.ofSeconds(5));
      FundUnwind.Round round = view.rounds().get(0);
      assertTrue(!round.ended() && round.held() && "prov".equals(round.provider()),
          "the recovered round goes on with the provider: " + view.rounds());
      return null;
    });
    unwind.tell(new FundUnwind.Get(10, probe.getRef()));
    FundUnwind.Round round = probe.receiveMessage(Duration.ofSeconds(5)).rounds().get(0);
    long loss = -round.expectedPnl();
    assertTrue(loss > 0, "the round closes at a loss: " + round);
    InsuranceFund.View fundView = (InsuranceFund.View) askFund(r -> new InsuranceFund.Get(0, 0, r));
    // Another liquidation may now be promised the money this round will lose.
    long free = fundView.balance() - fundView.reserved();
    assertTrue(fundView.reserved() >= loss, "the round (held in its own record, offering its close to a provider)"
        + " expects to lose " + loss + " but the fund holds " + fundView.reserved() + " for it: " + free
        + " of its balance " + fundView.balance() + " can be promised to another liquidation");
  }
}
