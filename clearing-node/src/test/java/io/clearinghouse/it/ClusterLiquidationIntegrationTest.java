package io.clearinghouse.it;

import static io.clearinghouse.it.LiquidationHarness.PERP;
import static io.clearinghouse.it.LiquidationHarness.balanced;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.liquidation.InsuranceFund;
import io.clearinghouse.liquidation.LiquidationSaga;
import io.clearinghouse.protocol.v1.Liquidation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;

/**
 * A liquidation across a three-node cluster: the trader's account, its saga and the insurance
 * fund each on a different node, the backstop provider on another node than the account, and
 * every saga crashing at every step (fault injection). The fund flow must be exactly that of the
 * single-node run ({@link LiquidationIntegrationTest#deficitIsCoveredByTheInsuranceFund}) and the
 * audit clean.
 */
class ClusterLiquidationIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(45);

  @Test
  void accountSagaFundAndProviderOnDifferentNodes() {
    String keyspace = TestNodes.newKeyspace("liq_cluster");
    String config = LiquidationHarness.config("clearinghouse.liquidation.fault-injection.crash-at-every-step = on");
    Main.Node first = TestNodes.start(TestNodes.nodeConfig(keyspace, config));
    String seeds = "\npekko.cluster.seed-nodes = [\"" + first.system().address() + "\"]";
    List<Main.Node> nodes = new ArrayList<>(List.of(first));
    try (LiquidationHarness h = new LiquidationHarness(started(nodes, keyspace, config + seeds))) {
      h.probe.awaitAssert(WAIT, () -> {
        var members = Cluster.get(first.system()).state().getMembers();
        assertEquals(3, java.util.stream.StreamSupport.stream(members.spliterator(), false)
            .filter(m -> m.status() == MemberStatus.up()).count());
        for (EntityTypeKey<?> type : List.of(AccountEntity.TYPE_KEY, LiquidationSaga.TYPE_KEY, InsuranceFund.TYPE_KEY)) {
          TestProbe<ShardRegion.ClusterShardingStats> stats = TestProbe.create(first.system());
          ClusterSharding.get(first.system()).shardState().tell(new GetClusterShardingStats(type, Duration.ofSeconds(3),
              stats.getRef()));
          assertEquals(3, stats.receiveMessage(Duration.ofSeconds(5)).getRegions().size(), type.name());
        }
        return null;
      });
      h.topUp(PERP, "1000", "seed");
      int fundNode = hostOf(h, InsuranceFund.TYPE_KEY, PERP);
      h.open("maker", "1000000");
      // A trader whose account and (future) saga sit on two nodes other than the fund's. Its
      // liquidation will be its fourth event: opened, deposited, traded, started.
      String trader = null;
      int traderNode = -1;
      int sagaNode = -1;
      List<String> seen = new ArrayList<>();
      for (int i = 0; trader == null && i < 40; i++) {
        String candidate = "t" + i;
        h.open(candidate, "1000");
        int accountAt = hostOf(h, AccountEntity.TYPE_KEY, candidate);
        // New shards go to the node with the fewest, in turn; touching i % 3 other (empty) sagas
        // first shifts the sagas' turn against the accounts', so that every pairing comes up.
        for (int j = 0; j < i % 3; j++) {
          Calls.await(ClusterSharding.get(first.system()).entityRefFor(LiquidationSaga.TYPE_KEY, "shift-" + i + "-" + j)
              .ask(LiquidationSaga.Get::new, WAIT));
        }
        String sagaId = candidate + "-4";
        Optional<?> none = Calls.await(ClusterSharding.get(first.system()).entityRefFor(LiquidationSaga.TYPE_KEY, sagaId)
            .ask(LiquidationSaga.Get::new, WAIT));
        assertTrue(none.isEmpty());
        int sagaAt = hostOf(h, LiquidationSaga.TYPE_KEY, sagaId);
        seen.add(candidate + ":" + accountAt + "/" + sagaAt);
        if (accountAt != fundNode && sagaAt != fundNode && accountAt != sagaAt) {
          trader = candidate;
          traderNode = accountAt;
          sagaNode = sagaAt;
        }
      }
      assertTrue(trader != null, "no trader found with account, saga and fund (node " + fundNode
          + ") on three nodes: " + seen);
      String provider = null;
      for (int i = 0; provider == null && i < 20; i++) {
        h.open("p" + i, "1000000");
        if (hostOf(h, AccountEntity.TYPE_KEY, "p" + i) != traderNode) {
          provider = "p" + i;
        }
      }
      assertTrue(provider != null, "no provider found on another node than the trader");
      h.provider(provider, "1000000", PERP);
      int providerNode = hostOf(h, AccountEntity.TYPE_KEY, provider);
      assertNotEquals(traderNode, providerNode);

      h.buy(trader, "maker", PERP, "1", "50000");
      h.mark(PERP, "49000");
      Liquidation l = h.onlyLiquidation(trader);
      assertEquals(trader + "-4", l.getLiquidationId());
      assertEquals(List.of("BACKSTOP", provider, "48902.0"), List.of(l.getCloses(0).getVenue(),
          l.getCloses(0).getCounterparty(), l.getCloses(0).getPrice()));
      assertEquals(List.of("0.000000", "123.000000", "0.000000", "covered"),
          List.of(l.getPenalty(), l.getInsuranceFundOut(), l.getDebt(), l.getOutcome()));
      balanced(l);
      assertEquals("0.000000", h.view(trader).getCash());
      assertEquals("877.000000", h.fund(PERP).getBalance());
      assertEquals("1.000", h.view(provider).getPositions(0).getSize());
      // Remembered until it finished: then it stops, and no node runs it any more.
      h.probe.awaitAssert(WAIT, () -> {
        assertEquals(-1, runningOn(h, LiquidationSaga.TYPE_KEY, l.getLiquidationId()));
        return null;
      });
      System.out.printf("Liquidation %s: account on node %d, saga on node %d, fund on node %d, provider on node %d%n",
          l.getLiquidationId(), traderNode, sagaNode, fundNode, providerNode);
      h.auditClean();
    }
  }

  private static List<Main.Node> started(List<Main.Node> nodes, String keyspace, String config) {
    try {
      for (int i = 0; i < 2; i++) {
        nodes.add(TestNodes.start(TestNodes.nodeConfig(keyspace, config)));
      }
      return nodes;
    } catch (RuntimeException e) {
      nodes.forEach(TestNodes::stop);
      throw e;
    }
  }

  /** The index of the node running {@code entityId} of {@code type}, waiting for it to start. */
  private static int hostOf(LiquidationHarness h, EntityTypeKey<?> type, String entityId) {
    return h.probe.awaitAssert(WAIT, () -> {
      int node = runningOn(h, type, entityId);
      if (node < 0) {
        throw new AssertionError(type.name() + " " + entityId + " runs nowhere yet");
      }
      return node;
    });
  }

  /** The index of the node running {@code entityId} of {@code type} now, or -1. */
  private static int runningOn(LiquidationHarness h, EntityTypeKey<?> type, String entityId) {
    for (int i = 0; i < h.nodes.size(); i++) {
      Main.Node node = h.nodes.get(i);
      TestProbe<ShardRegion.CurrentShardRegionState> replies = TestProbe.create(node.system());
      ClusterSharding.get(node.system()).shardState().tell(new GetShardRegionState(type, replies.getRef()));
      for (var shard : replies.receiveMessage(Duration.ofSeconds(10)).getShards()) {
        if (shard.getEntityIds().contains(entityId)) {
          return i;
        }
      }
    }
    return -1;
  }
}
