package io.clearinghouse.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clearinghouse.api.Authenticator;
import io.clearinghouse.persistence.LocalCassandra;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.ClearingServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.FundingInterval;
import io.clearinghouse.protocol.v1.FundingIntervalList;
import io.clearinghouse.protocol.v1.ListFundingIntervalsRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import io.clearinghouse.protocol.v1.Side;
import io.clearinghouse.protocol.v1.Trade;
import io.clearinghouse.protocol.v1.TradeResult;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;

/**
 * Funding across a node kill (issue 17): three node processes, twelve accounts with positions
 * spread over them, a 30 s funding interval. At a funding time a node that is not the oldest is
 * killed with SIGKILL; its accounts (and the funding clock, if it ran there) restart on the
 * survivors. Every account is paid exactly once for every interval, with the exact amounts (0.00075%
 * of 50,000.3 per BTC, 0.72% per 8 h over 30 s: the long pays 0.375003, the short receives 0.375002), and the audit, read
 * on a survivor, is clean with the pool holding exactly the residues.
 */
class FundingNodeKillIntegrationTest {
  /** Only for waiting on conditions (its probes' awaitAssert). */
  private static final ActorTestKit WAITS = ActorTestKit.create("funding-node-kill-waits");

  @AfterAll
  static void stopWaits() {
    WAITS.shutdownTestKit();
  }

  private static final String PERP = "BTCUSDT-PERP";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PAIRS = 6;
  private static final long INTERVAL_MS = 30_000;

  @Test
  void everyAccountIsPaidOncePerIntervalAcrossANodeKill() throws Exception {
    String keyspace = TestNodes.newKeyspace("fundkill");
    Path dir = Path.of("target", "funding-kill", keyspace);
    List<NodeProcess> nodes = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      nodes.add(NodeProcess.prepare("node-" + i, dir));
    }
    String seeds = nodes.stream().map(n -> "\"" + n.clusterAddress() + "\"").collect(Collectors.joining(", ", "[", "]"));
    List<String> lines = new ArrayList<>(List.of(
        "pekko.persistence.cassandra.journal.keyspace = " + keyspace,
        "pekko.persistence.cassandra.snapshot.keyspace = " + keyspace + "_snap",
        "datastax-java-driver.basic.contact-points = [\"" + LocalCassandra.shared().contactPoint() + "\"]",
        "clearinghouse.persistence.create-schema = false",
        "clearinghouse.local-cassandra.enabled = false",
        "clearinghouse.demo.enabled = false",
        "pekko.cluster.seed-nodes = " + seeds,
        "pekko.coordinated-shutdown.exit-jvm = off",
        "clearinghouse.price-feed.jump-confirm-time = 0s",
        "clearinghouse.funding { enabled = on, sample-every = 500ms, settle-window = 25s }",
        "clearinghouse.instrument-overrides { \"" + PERP + "\" { funding-interval = 30s, funding-interest = \"0.72%\" } }",
        "clearinghouse.auth.tokens = [",
        "  { name = operator, role = operator, sha256 = \"" + Authenticator.sha256Hex(TestNodes.OPERATOR_TOKEN) + "\" }",
        "  { name = engine, role = engine, sha256 = \"" + Authenticator.sha256Hex(TestNodes.ENGINE_TOKEN) + "\" }"));
    lines.addAll(Feeders.tokenEntries());
    lines.add("]");
    String overrides = String.join("\n", lines);
    List<String> jvm = List.of("-Xms64m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    ActorSystem<Void> clients = null;
    ScheduledExecutorService feeder = Executors.newSingleThreadScheduledExecutor();
    try {
      for (NodeProcess node : nodes) {
        node.start(overrides, jvm);
      }
      String oldest = awaitClusterOfThree(nodes);
      int victimIndex = 2;
      while (nodes.get(victimIndex).clusterAddress().equals(oldest)) {
        victimIndex--;
      }
      NodeProcess victim = nodes.get(victimIndex);
      NodeProcess survivor = nodes.stream().filter(n -> n.clusterAddress().equals(oldest)).findFirst().orElseThrow();
      clients = TestNodes.clientSystem();
      GrpcClientSettings settings = GrpcClientSettings.connectToServiceAt("127.0.0.1", survivor.grpcPort, clients)
          .withTls(false).withConnectionAttempts(-1);
      AdminServiceClient admin = AdminServiceClient.create(settings, clients);
      ClearingServiceClient engine = ClearingServiceClient.create(settings, clients);
      PriceServiceClient prices = PriceServiceClient.create(settings, clients);
      feeder.scheduleWithFixedDelay(() -> {
        try {
          long now = System.currentTimeMillis();
          Feeders.publish(prices, Feeders.tick("binance", PERP, "50000.3", now), Feeders.tick("okx", PERP, "50000.3",
              now));
        } catch (RuntimeException e) {
          // The next one will do.
        }
      }, 0, 1, TimeUnit.SECONDS);
      List<Trade> trades = new ArrayList<>();
      for (int i = 0; i < PAIRS; i++) {
        String buyer = "long-" + i;
        String seller = "short-" + i;
        for (String id : List.of(buyer, seller)) {
          Calls.call(admin.openAccount(), TestNodes.OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId(id)
              .build());
          Calls.call(admin.deposit(), TestNodes.OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId(id)
              .setAmount("100000").setIdempotencyKey("seed").build());
        }
        trades.add(Trade.newBuilder().setTradeId("t-" + i).setSequence(i + 1).setInstrument(PERP).setPrice("50000.3")
            .setQuantity("1").setBuyerAccountId(buyer).setSellerAccountId(seller).setAggressorSide(Side.BUY).build());
      }
      List<TradeResult> results = Calls.await(engine.submitTrades()
          .addHeader("authorization", Calls.BEARER + TestNodes.ENGINE_TOKEN).invoke(Source.from(trades))
          .runWith(Sink.seq(), clients));
      results.forEach(r -> assertTrue(r.hasAck(), r.toString()));
      long openedAt = System.currentTimeMillis();

      // The first funding time after every position was open: the victim dies just after it.
      long killAt = (openedAt / INTERVAL_MS + 1) * INTERVAL_MS;
      // The funding time itself is the condition: wait until the clock has passed it.
      CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(
          Math.max(0, killAt + 300 - System.currentTimeMillis()), TimeUnit.MILLISECONDS)).join();
      victim.kill();

      // That interval, and the next one, close with all twelve paid (the dead node's accounts once
      // they restart on the survivors, within the settle window).
      awaitCondition(Duration.ofSeconds(240), () -> {
        FundingIntervalList list = intervals(admin);
        return list.getIntervalsList().stream().filter(i -> !i.getOpen() && i.getFundingTime() >= killAt).count() >= 2;
      });
      FundingIntervalList list = intervals(admin);
      for (FundingInterval interval : list.getIntervalsList()) {
        if (interval.getFundingTime() < killAt || interval.getOpen()) {
          continue;
        }
        assertEquals(2 * PAIRS, interval.getAccounts(), interval.toString());
        // 1 BTC at 50,000.3 x 0.00075% = 0.37500225: payers 0.375003, receivers 0.375002.
        assertEquals("0.00000750", interval.getRate());
        assertEquals(units("0.375003") * PAIRS, units(interval.getPaid()), interval.toString());
        assertEquals(units("0.375002") * PAIRS, units(interval.getReceived()), interval.toString());
        assertEquals(PAIRS, units(interval.getResidue()), interval.toString());
      }
      // Each account's funding paid is a whole number of payments (the audit below also checks that no
      // account applied an interval twice): longs 0.375003 each, shorts -0.375002.
      for (int i = 0; i < PAIRS; i++) {
        for (String id : List.of("long-" + i, "short-" + i)) {
          var account = Calls.call(admin.getAccount(), TestNodes.OPERATOR_TOKEN,
              io.clearinghouse.protocol.v1.GetAccountRequest.newBuilder().setAccountId(id).build());
          long paid = units(account.getPositions(0).getFundingPaid());
          long each = id.startsWith("long") ? units("0.375003") : -units("0.375002");
          assertEquals(0, paid % each, id + " paid " + paid);
          assertTrue(paid / each >= 2, id + " paid " + paid + ": fewer than the two intervals since the kill");
        }
      }
      // Close everything; once an interval has passed with nobody to pay, the ledger is at rest.
      List<Trade> closes = new ArrayList<>();
      for (int i = 0; i < PAIRS; i++) {
        closes.add(Trade.newBuilder().setTradeId("c-" + i).setSequence(100 + i).setInstrument(PERP).setPrice("50000.3")
            .setQuantity("1").setBuyerAccountId("short-" + i).setSellerAccountId("long-" + i)
            .setAggressorSide(Side.BUY).build());
      }
      Calls.await(engine.submitTrades().addHeader("authorization", Calls.BEARER + TestNodes.ENGINE_TOKEN)
          .invoke(Source.from(closes)).runWith(Sink.seq(), clients)).forEach(r -> assertTrue(r.hasAck(), r.toString()));
      long closedAt = System.currentTimeMillis();
      awaitCondition(Duration.ofSeconds(180), () -> intervals(admin).getIntervalsList().stream()
          .anyMatch(i -> !i.getOpen() && i.getAccounts() == 0 && i.getFixedAt() > closedAt));
      AuditReport audit = Calls.call(admin.audit(), TestNodes.OPERATOR_TOKEN, AuditRequest.getDefaultInstance());
      assertTrue(audit.getClean(), audit.getViolationsList().toString());
      long residues = intervals(admin).getIntervalsList().stream().mapToLong(i -> units(i.getResidue())).sum();
      assertEquals(residues, units(audit.getFundingPools()));
    } catch (Throwable failure) {
      System.err.println("---- failed: " + failure);
      for (NodeProcess node : nodes) {
        System.err.println("---- " + node + ": end of " + node.log + "\n" + node.logTail(60));
      }
      throw failure;
    } finally {
      feeder.shutdownNow();
      if (clients != null) {
        clients.terminate();
      }
      for (NodeProcess node : nodes) {
        node.stop(Duration.ofSeconds(10));
      }
    }
  }

  private static FundingIntervalList intervals(AdminServiceClient admin) {
    return Calls.call(admin.listFundingIntervals(), TestNodes.OPERATOR_TOKEN, ListFundingIntervalsRequest.newBuilder()
        .setInstrument(PERP).setPageSize(500).build());
  }

  private static long units(String amount) {
    return new BigDecimal(amount).movePointRight(6).longValueExact();
  }

  /** Waits for {@code condition} (asked every 500 ms; an exception counts as not yet: the failover). */
  private static void awaitCondition(Duration within, BooleanSupplier condition) throws InterruptedException {
    WAITS.createTestProbe().awaitAssert(within, Duration.ofMillis(500), () -> {
      boolean met;
      try {
        met = condition.getAsBoolean();
      } catch (RuntimeException e) {
        throw new AssertionError("not answering yet: " + e, e);
      }
      if (!met) {
        throw new AssertionError("not yet, within " + within);
      }
      return null;
    });
  }

  private static String awaitClusterOfThree(List<NodeProcess> nodes) throws InterruptedException {
    String[] oldest = new String[1];
    awaitCondition(Duration.ofSeconds(180), () -> {
      for (NodeProcess node : nodes) {
        node.requireAlive();
      }
      for (NodeProcess node : nodes) {
        if (node.management("/ready").map(HttpResponse::statusCode).orElse(0) != 200) {
          return false;
        }
        Optional<JsonNode> members = node.management("/cluster/members").filter(r -> r.statusCode() == 200)
            .map(r -> {
              try {
                return JSON.readTree(r.body());
              } catch (java.io.IOException e) {
                throw new AssertionError(e);
              }
            });
        if (members.isEmpty() || members.get().path("unreachable").size() != 0) {
          return false;
        }
        int up = 0;
        for (JsonNode member : members.get().path("members")) {
          up += "Up".equals(member.path("status").asText()) ? 1 : 0;
        }
        if (up != 3) {
          return false;
        }
        oldest[0] = members.get().path("oldest").asText();
      }
      return true;
    });
    return oldest[0];
  }
}
