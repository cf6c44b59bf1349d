package io.clearinghouse.it;

import static io.clearinghouse.it.LiquidationHarness.PERP;
import static io.clearinghouse.it.TestNodes.ENGINE_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.protocol.v1.MarketDepthTick;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;

/**
 * Market depth reaches every node (issue 16 item 3): a report the engine publishes to one node of
 * a two-node cluster is on the other node's board (its topic carries it across, serialized), so a
 * liquidation saga or an account stream there sees it. Ends with the audit.
 */
class MarketDepthClusterIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(45);

  @Test
  void aReportPublishedOnOneNodeIsOnEveryNode() throws Exception {
    String keyspace = TestNodes.newKeyspace("depth_cluster");
    String config = LiquidationHarness.config("clearinghouse.instrument-overrides.\"" + PERP
        + "\".thin-market-depth = \"100000\"");
    Main.Node first = TestNodes.start(TestNodes.nodeConfig(keyspace, config));
    List<Main.Node> nodes = new ArrayList<>(List.of(first));
    try {
      nodes.add(TestNodes.start(TestNodes.nodeConfig(keyspace, config + "\npekko.cluster.seed-nodes = [\""
          + first.system().address() + "\"]")));
    } catch (RuntimeException e) {
      TestNodes.stop(first);
      throw e;
    }
    try (LiquidationHarness h = new LiquidationHarness(nodes)) {
      h.probe.awaitAssert(WAIT, () -> {
        assertEquals(2, java.util.stream.StreamSupport.stream(Cluster.get(first.system()).state().getMembers()
            .spliterator(), false).filter(m -> m.status() == MemberStatus.up()).count());
        return null;
      });
      Main.Node second = nodes.get(1);
      // Published to the first node, until the second has subscribed to the topic (the topic's
      // registry is eventually consistent across the cluster): a later report replaces an earlier one.
      h.probe.awaitAssert(WAIT, Duration.ofMillis(500), () -> {
        var summary = h.prices.publishMarketDepth().addHeader("authorization", Calls.BEARER + ENGINE_TOKEN)
            .invoke(Source.single(MarketDepthTick.newBuilder().setInstrument(PERP).setBidNotional("40000")
                .setAskNotional("2500000.5").setTimestampMs(System.currentTimeMillis()).build()))
            .toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertEquals(1, summary.getAccepted(), summary.toString());
        String metrics = ManagementHttp.operatorGet(HttpClient.newHttpClient(), second.managementUri().replaceAll("/$", "")
            + "/metrics").body();
        assertTrue(metrics.contains("clearinghouse_market_depth{instrument=\"" + PERP + "\",side=\"ask\",} 2.5000005E12"),
            metrics);
        assertTrue(metrics.contains("clearinghouse_market_thin{instrument=\"" + PERP + "\",} 1.0"), metrics);
        return null;
      });
      h.auditClean();
    }
  }
}
