package io.clearinghouse.it;

import static io.clearinghouse.it.LiquidationHarness.PERP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.StressScenarioResult;
import io.clearinghouse.protocol.v1.StressTestReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;

/**
 * The stress test across a three-node cluster (issue 16 item 7): every node's margin monitor
 * evaluates the accounts it hosts, the answers are merged, and the prediction equals what
 * publishing the mark then does, account by account and for the fund, with the accounts spread
 * over the nodes. Ends with the audit.
 */
class ClusterStressIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(45);

  @Test
  void everyNodesMonitorAnswersAndThePredictionHolds() {
    String keyspace = TestNodes.newKeyspace("stress_cluster");
    String config = LiquidationHarness.config("");
    Main.Node first = TestNodes.start(TestNodes.nodeConfig(keyspace, config));
    String seeds = "\npekko.cluster.seed-nodes = [\"" + first.system().address() + "\"]";
    List<Main.Node> nodes = new ArrayList<>(List.of(first));
    try {
      for (int i = 0; i < 2; i++) {
        nodes.add(TestNodes.start(TestNodes.nodeConfig(keyspace, config + seeds)));
      }
    } catch (RuntimeException e) {
      nodes.forEach(TestNodes::stop);
      throw e;
    }
    try (LiquidationHarness h = new LiquidationHarness(nodes)) {
      h.probe.awaitAssert(WAIT, () -> {
        var members = Cluster.get(first.system()).state().getMembers();
        assertEquals(3, java.util.stream.StreamSupport.stream(members.spliterator(), false)
            .filter(m -> m.status() == MemberStatus.up()).count());
        return null;
      });
      h.open("maker", "10000000");
      h.open("prov", "10000000");
      h.provider("prov", "10000000", PERP);
      h.topUp(PERP, "10000", "fund-seed");
      h.mark(PERP, "50000");
      // Longs of 1 BTC with 900 to 1,150 deposited: at 49,000 each is liquidated (closed at 48,902.0),
      // five of six with a deficit the fund pays (223 down to 23), one with a penalty of 27 for it.
      // Opened until they sit on every node.
      Set<Integer> hosts = new TreeSet<>();
      List<String> traders = new ArrayList<>();
      for (int i = 0; i < 30 && (hosts.size() < 3 || traders.size() < 6); i++) {
        String trader = "c" + i;
        h.open(trader, String.valueOf(900 + 50 * (i % 6)));
        h.buy(trader, "maker", PERP, "1", "50000");
        traders.add(trader);
        hosts.add(hostOf(h, trader));
      }
      assertEquals(3, hosts.size(), "the traders sit on every node");

      StressTestReport report = StressTestIntegrationTest.stress(h, StressTestIntegrationTest.shock(PERP, "-2%"));
      assertEquals(List.of(3, 3), List.of(report.getNodes(), report.getNodesAnswered()));
      StressScenarioResult predicted = report.getScenarios(0);
      // Every trader, the maker and the provider (flat: not watched) evaluated; the traders liquidated.
      assertEquals(traders.size() + 1, predicted.getAccountsEvaluated());
      assertEquals(traders.size(), predicted.getAccountsLiquidated(), predicted.toString());

      h.mark(PERP, "49000");
      List<Liquidation> happened = new ArrayList<>();
      for (String trader : traders) {
        happened.add(h.onlyLiquidation(trader));
      }
      StressTestIntegrationTest.sameAsHappened(predicted, happened, PERP);
      assertTrue(happened.stream().anyMatch(l -> !l.getInsuranceFundOut().equals("0.000000")), "a deficit paid");
      assertTrue(happened.stream().anyMatch(l -> !l.getInsuranceFundIn().equals("0.000000")), "a penalty received");
      h.auditClean();
    }
  }

  /** The index of the node running the account, waiting for it to start. */
  private static int hostOf(LiquidationHarness h, String accountId) {
    return h.probe.awaitAssert(WAIT, () -> {
      for (int i = 0; i < h.nodes.size(); i++) {
        TestProbe<ShardRegion.CurrentShardRegionState> replies = TestProbe.create(h.nodes.get(i).system());
        ClusterSharding.get(h.nodes.get(i).system()).shardState().tell(new GetShardRegionState(AccountEntity.TYPE_KEY,
            replies.getRef()));
        for (var shard : replies.receiveMessage(Duration.ofSeconds(10)).getShards()) {
          if (shard.getEntityIds().contains(accountId)) {
            return i;
          }
        }
      }
      throw new AssertionError(accountId + " runs nowhere yet");
    });
  }
}
