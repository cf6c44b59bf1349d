package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.ENGINE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.price.PriceFeed;
import io.clearinghouse.protocol.v1.AdminListLiquidationsRequest;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.ClearingServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.MarkPriceUpdate;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import io.clearinghouse.protocol.v1.Side;
import io.clearinghouse.protocol.v1.StreamMarkPricesRequest;
import io.clearinghouse.protocol.v1.Trade;
import io.clearinghouse.protocol.v1.TradeResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;

/**
 * Two real nodes in one cluster: accounts spread over both are watched by their own node's
 * monitor and liquidated from either; the price feed moves to the other node when its node
 * leaves, and carries on with the next sequence number.
 */
class ClusterIntegrationTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final Duration WAIT = Duration.ofSeconds(45);

  @Test
  void accountsOnBothNodesAreMonitoredAndTheFeedFailsOver() {
    String keyspace = TestNodes.newKeyspace("cluster");
    // The longs trade on little margin (taken as executed): the mark then liquidates some of them.
    String onCredit = "clearinghouse.account.check-unreserved-fills = off\n";
    Main.Node first = TestNodes.start(TestNodes.nodeConfig(keyspace, onCredit));
    String seed = first.system().address().toString();
    Main.Node second = TestNodes.start(TestNodes.nodeConfig(keyspace,
        onCredit + "pekko.cluster.seed-nodes = [\"" + seed + "\"]"));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    TestProbe<Object> probe = TestProbe.create(clients);
    boolean firstStopped = false;
    try {
      probe.awaitAssert(WAIT, () -> {
        assertEquals(2, Cluster.get(first.system()).state().members().size());
        return null;
      });
      // Both nodes' account regions have registered, so new shards go to both.
      probe.awaitAssert(WAIT, () -> {
        TestProbe<ShardRegion.ClusterShardingStats> stats = TestProbe.create(first.system());
        ClusterSharding.get(first.system()).shardState().tell(new GetClusterShardingStats(AccountEntity.TYPE_KEY,
            Duration.ofSeconds(3), stats.getRef()));
        assertEquals(2, stats.receiveMessage(Duration.ofSeconds(5)).getRegions().size());
        return null;
      });
      var settings = TestNodes.clientSettings(first, clients);
      AdminServiceClient admin = AdminServiceClient.create(settings, clients);
      ClearingServiceClient engine = ClearingServiceClient.create(settings, clients);

      // 16 longs with 1,000, 1,500, ... USDT each against one well-funded short.
      call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("maker").build());
      call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("maker").setAmount("10000000")
          .setIdempotencyKey("seed").build());
      List<Trade> trades = new ArrayList<>();
      Map<String, Long> cash = new HashMap<>();
      for (int i = 0; i < 16; i++) {
        String id = "long-" + i;
        long usdt = 1_000 + 500L * i;
        cash.put(id, usdt);
        call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId(id).build());
        call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId(id).setAmount(Long.toString(usdt))
            .setIdempotencyKey("seed").build());
        trades.add(Trade.newBuilder().setTradeId("t-" + i).setSequence(i + 1).setInstrument(PERP).setPrice("50000")
            .setQuantity("1").setBuyerAccountId(id).setSellerAccountId("maker").setAggressorSide(Side.SELL).build());
      }
      List<TradeResult> results = await(engine.submitTrades().addHeader("authorization", Calls.BEARER + ENGINE_TOKEN)
          .invoke(Source.from(trades)).runWith(Sink.seq(), clients));
      results.forEach(r -> assertTrue(r.hasAck(), r.toString()));

      // Both nodes host some of the accounts.
      Set<String> onFirst = accountsHostedBy(first, probe);
      Set<String> onSecond = accountsHostedBy(second, probe);
      assertTrue(onFirst.stream().anyMatch(id -> id.startsWith("long-")), "first node hosts " + onFirst);
      assertTrue(onSecond.stream().anyMatch(id -> id.startsWith("long-")), "second node hosts " + onSecond);

      // 47,000: a long breaches when cash - 10 (maker fee) - 3,000 <= 0.4% * 47,000 = 188,
      // i.e. cash <= 3,198: the accounts with 1,000 ... 3,000 USDT, and no others.
      PriceServiceClient prices = PriceServiceClient.create(TestNodes.clientSettings(second, clients), clients);
      publish(prices, "47000");
      // Each breached long is liquidated to the end (deleveraging the maker, the only short);
      // the others are left alone.
      for (Map.Entry<String, Long> account : cash.entrySet()) {
        boolean breached = account.getValue() <= 3_198;
        probe.awaitAssert(WAIT, () -> {
          var liquidations = call(admin.listLiquidations(), OPERATOR_TOKEN, AdminListLiquidationsRequest.newBuilder()
              .setAccountId(account.getKey()).build()).getLiquidationsList();
          assertEquals(breached ? 1 : 0, liquidations.size(), account.getKey() + " with " + account.getValue());
          if (breached) {
            assertEquals("adl", liquidations.get(0).getOutcome(), liquidations.toString());
          }
          return null;
        });
      }

      // The feed lives on one node; stop that node and the other carries on publishing.
      Main.Node feedHost = accountsHostedBy(first, probe, PriceFeed.TYPE_KEY.name()).contains(PERP) ? first : second;
      Main.Node survivor = feedHost == first ? second : first;
      long before = status(survivor).sequence();
      PriceServiceClient survivorPrices = PriceServiceClient.create(TestNodes.clientSettings(survivor, clients), clients);
      List<MarkPriceUpdate> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
      survivorPrices.streamMarkPrices().addHeader("authorization", Calls.BEARER + OPERATOR_TOKEN)
          .invoke(StreamMarkPricesRequest.newBuilder().addInstruments(PERP).build())
          .runWith(Sink.foreach(seen::add), clients);
      probe.awaitAssert(WAIT, () -> {
        assertFalse(seen.isEmpty());
        assertFalse(seen.get(seen.size() - 1).getStale(), seen.toString());
        return null;
      });
      TestNodes.stop(feedHost);
      firstStopped = feedHost == first;
      // While the feed fails over and no feeder publishes, the survivor does not keep treating the
      // last mark as fresh: its stream says stale (the mark ages, or the moved feed has no source yet).
      probe.awaitAssert(WAIT, () -> {
        assertTrue(seen.get(seen.size() - 1).getStale(), seen.toString());
        return null;
      });
      probe.awaitAssert(WAIT, () -> {
        publish(survivorPrices, "46900");
        PriceFeed.Status status = status(survivor);
        assertTrue(status.sequence() > before, "sequence " + status.sequence() + " after " + before);
        assertEquals(469_000, status.markTicks());
        return null;
      });
      AdminServiceClient survivorAdmin = AdminServiceClient.create(TestNodes.clientSettings(survivor, clients), clients);
      // Fresh again on the new node, and the survivor's stream says so.
      probe.awaitAssert(WAIT, () -> {
        assertEquals("46900.0", seen.get(seen.size() - 1).getMarkPrice(), seen.toString());
        return null;
      });
      // Nobody was liquidated at another mark than the one both sources published.
      for (String accountId : cash.keySet()) {
        for (var liquidation : call(survivorAdmin.listLiquidations(), OPERATOR_TOKEN, AdminListLiquidationsRequest
            .newBuilder().setAccountId(accountId).build()).getLiquidationsList()) {
          assertEquals("47000.0", liquidation.getTriggerMarksOrThrow(PERP), liquidation.toString());
        }
      }
      AuditReport audit = call(survivorAdmin.audit(), OPERATOR_TOKEN, AuditRequest.getDefaultInstance());
      assertTrue(audit.getClean(), audit.getViolationsList().toString());
    } finally {
      clients.terminate();
      if (!firstStopped) {
        TestNodes.stop(first);
      }
      if (!second.system().whenTerminated().isCompleted()) {
        TestNodes.stop(second);
      }
    }
  }

  @Test
  void aNodeWithAnotherJournalCannotJoin() {
    Main.Node first = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("compat_a"), ""));
    // Started without waiting for its servers: the refusal may stop it before they are bound.
    ActorSystem<Void> stranger = ActorSystem.create(org.apache.pekko.actor.typed.javadsl.Behaviors.empty(),
        Main.SYSTEM_NAME, TestNodes.nodeConfig(TestNodes.newKeyspace("compat_b"),
            "pekko.cluster.seed-nodes = [\"" + first.system().address() + "\"]\nclearinghouse.cluster.join-self = false"));
    Main.init(stranger);
    try {
      // The first node's configuration check refuses the join, and the stranger shuts itself down.
      stranger.getWhenTerminated().toCompletableFuture().orTimeout(60, java.util.concurrent.TimeUnit.SECONDS).join();
      assertEquals(1, Cluster.get(first.system()).state().members().size());
      assertTrue(await(new io.clearinghouse.audit.LedgerAudit(first.system(),
          new io.clearinghouse.account.Accounts(first.system(), Duration.ofSeconds(10)), TestNodes.INSTRUMENTS).run())
          .clean());
    } finally {
      stranger.terminate();
      TestNodes.stop(first);
    }
  }

  private static void publish(PriceServiceClient prices, String price) {
    long now = System.currentTimeMillis();
    Feeders.publish(prices, Feeders.tick("binance", PERP, price, now), Feeders.tick("okx", PERP, price, now));
  }

  private static PriceFeed.Status status(Main.Node node) {
    return await(ClusterSharding.get(node.system()).entityRefFor(PriceFeed.TYPE_KEY, PERP)
        .<PriceFeed.Status>ask(PriceFeed.GetStatus::new, Duration.ofSeconds(10)));
  }

  private static Set<String> accountsHostedBy(Main.Node node, TestProbe<Object> probe) {
    return accountsHostedBy(node, probe, AccountEntity.TYPE_KEY.name());
  }

  /** The entity ids of {@code typeName} running on {@code node}, from its shard region. */
  private static Set<String> accountsHostedBy(Main.Node node, TestProbe<Object> probe, String typeName) {
    TestProbe<ShardRegion.CurrentShardRegionState> replies = TestProbe.create(node.system());
    var key = typeName.equals(PriceFeed.TYPE_KEY.name()) ? PriceFeed.TYPE_KEY : AccountEntity.TYPE_KEY;
    ClusterSharding.get(node.system()).shardState().tell(new GetShardRegionState(key, replies.getRef()));
    Set<String> ids = new java.util.TreeSet<>();
    replies.receiveMessage(Duration.ofSeconds(10)).getShards()
        .forEach(shard -> ids.addAll(shard.getEntityIds()));
    return ids;
  }
}
