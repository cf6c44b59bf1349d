package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.ENGINE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.price.PriceFeed;
import io.clearinghouse.protocol.v1.AdminListLiquidationsRequest;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.ClearingServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.ErrorReason;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.MarkPriceUpdate;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import io.clearinghouse.protocol.v1.PublishSummary;
import io.clearinghouse.protocol.v1.SetLiquidationHaltRequest;
import io.clearinghouse.protocol.v1.Side;
import io.clearinghouse.protocol.v1.StreamMarkPricesRequest;
import io.clearinghouse.protocol.v1.Trade;
import io.clearinghouse.protocol.v1.TradeResult;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The price-integrity suite of the "mark price integrity" issue, against a real node over gRPC,
 * with feeders ticking like real ones (every 200 ms, one token per source). In each case: the
 * marks published, and that nobody was liquidated at a mark no majority of fresh sources
 * supported. Alice is 1 BTC long from 50,000 with 4,975 USDT: liquidated at a mark of 45,205 or
 * less, so an outlier at 35,000 (or the 42,500 midpoint a 2-source median makes of it) would
 * liquidate her. The jump hold is the default 3 s; sources go stale after 6 s.
 */
class PriceIntegrityIntegrationTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final Duration WAIT = Duration.ofSeconds(45);
  private static final BigDecimal P = new BigDecimal("50000");

  private Main.Node node;
  private ActorSystem<Void> clients;
  private PriceServiceClient prices;
  private AdminServiceClient admin;
  private TestProbe<Object> probe;
  private ScheduledExecutorService feeders;
  /** What each feeder ticks every 200 ms; a source not here is silent. */
  private final Map<String, String> ticking = new ConcurrentHashMap<>();
  private final List<MarkPriceUpdate> marks = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("integrity"), String.join("\n",
        "clearinghouse.price-feed.stale-after = 6s",
        "clearinghouse.price-feed.jump-confirm-time = 3s",
        "clearinghouse.price-feed.check-interval = 200ms",
        // The mark is then exactly the index: the trades below never reach the feed.
        "clearinghouse.price-feed.last-trade-interval = 1h")));
    clients = TestNodes.clientSystem();
    var settings = TestNodes.clientSettings(node, clients);
    prices = PriceServiceClient.create(settings, clients);
    admin = AdminServiceClient.create(settings, clients);
    probe = TestProbe.create(clients);
    call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("alice-1").build());
    call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("bob-1").build());
    call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("alice-1").setAmount("5000")
        .setIdempotencyKey("seed").build());
    call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("bob-1").setAmount("1000000")
        .setIdempotencyKey("seed").build());
    List<TradeResult> traded = await(ClearingServiceClient.create(settings, clients).submitTrades()
        .addHeader("authorization", Calls.BEARER + ENGINE_TOKEN)
        .invoke(Source.single(Trade.newBuilder().setTradeId("t-1").setSequence(1).setInstrument(PERP)
            .setPrice("50000").setQuantity("1").setBuyerAccountId("alice-1").setSellerAccountId("bob-1")
            .setAggressorSide(Side.BUY).build())).runWith(Sink.seq(), clients));
    assertTrue(traded.get(0).hasAck(), traded.toString());
    feeders = Executors.newSingleThreadScheduledExecutor();
    feeders.scheduleAtFixedRate(() -> {
      long now = System.currentTimeMillis();
      ticking.forEach((source, price) -> {
        try {
          Feeders.publishAs(prices, Feeders.token(source), List.of(Feeders.tick(source, PERP, price, now)));
        } catch (AssertionError e) {
          // The node is stopping: the test is over.
        }
      });
    }, 0, 200, TimeUnit.MILLISECONDS);
  }

  @AfterEach
  void stop() {
    feeders.shutdownNow();
    clients.terminate();
    TestNodes.stop(node);
  }

  /** Opens a mark stream: every update is kept, and the ones {@code bad} says no majority backed go to the returned probe. */
  private TestProbe<MarkPriceUpdate> stream(List<MarkPriceUpdate> into, Predicate<MarkPriceUpdate> bad) {
    TestProbe<MarkPriceUpdate> badMarks = TestProbe.create(clients);
    prices.streamMarkPrices().addHeader("authorization", Calls.BEARER + ALICE_TOKEN)
        .invoke(StreamMarkPricesRequest.newBuilder().addInstruments(PERP).build())
        .runWith(Sink.foreach(update -> {
          into.add(update);
          if (bad.test(update)) {
            badMarks.getRef().tell(update);
          }
        }), clients);
    return badMarks;
  }

  private static boolean within5Percent(MarkPriceUpdate update, String level) {
    if (update.getMarkPrice().isEmpty()) {
      return true;
    }
    BigDecimal mark = new BigDecimal(update.getMarkPrice());
    BigDecimal center = new BigDecimal(level);
    return mark.subtract(center).abs().compareTo(center.multiply(new BigDecimal("0.05"))) <= 0;
  }

  private void awaitMark(List<MarkPriceUpdate> seen, String price) {
    probe.awaitAssert(WAIT, () -> {
      assertTrue(seen.stream().anyMatch(u -> u.getMarkPrice().equals(price)), "no mark " + price + " in " + seen);
      return null;
    });
  }

  private PriceFeed.Status status() {
    return await(ClusterSharding.get(node.system()).entityRefFor(PriceFeed.TYPE_KEY, PERP)
        .<PriceFeed.Status>ask(PriceFeed.GetStatus::new, Duration.ofSeconds(10)));
  }

  private void awaitFreshSources(int count) {
    probe.awaitAssert(WAIT, () -> {
      assertEquals(count, status().freshSources());
      return null;
    });
  }

  private List<Liquidation> liquidationsOfAlice() {
    return call(admin.listLiquidations(), OPERATOR_TOKEN, AdminListLiquidationsRequest.newBuilder()
        .setAccountId("alice-1").build()).getLiquidationsList();
  }

  private void auditIsClean() {
    AuditReport audit = call(admin.audit(), OPERATOR_TOKEN, AuditRequest.getDefaultInstance());
    assertTrue(audit.getClean(), audit.getViolationsList().toString());
  }

  /** One source at 0.7 P for 4 s (longer than the jump hold) while the others tick P. */
  private void outlierFromOkx(TestProbe<MarkPriceUpdate> badMarks) {
    ticking.put("okx", "35000");
    badMarks.expectNoMessage(Duration.ofSeconds(4));
    ticking.put("okx", "50000");
  }

  @Test
  void aSingleSourceOutlierNeverBecomesTheMarkWithTwoThreeOrFiveSourcesFresh() {
    TestProbe<MarkPriceUpdate> badMarks = stream(marks, u -> !within5Percent(u, "50000"));
    ticking.put("binance", "50000");
    ticking.put("okx", "50000");
    ticking.put("coinbase", "50000");
    awaitMark(marks, "50000.0");

    // The case: the third source goes stale, then one of the two left sends 0.7 P once;
    // the other's ordinary ticks must not confirm it.
    ticking.remove("coinbase");
    awaitFreshSources(2);
    Feeders.publish(prices, Feeders.tick("okx", PERP, "35000", System.currentTimeMillis()));
    badMarks.expectNoMessage(Duration.ofSeconds(4));
    // And for longer than the hold: one against one, nobody can tell, nothing is published.
    outlierFromOkx(badMarks);

    ticking.put("coinbase", "50000");
    awaitFreshSources(3);
    outlierFromOkx(badMarks);

    for (String source : List.of("kraken", "bybit")) {
      ticking.put(source, "50000");
    }
    awaitFreshSources(5);
    outlierFromOkx(badMarks);

    // A feeder trying a source it does not own: refused, nothing changes.
    PublishSummary stolen = Feeders.publishAs(prices, Feeders.token("binance"),
        List.of(Feeders.tick("okx", PERP, "35000", System.currentTimeMillis())));
    assertEquals(0, stolen.getAccepted());
    assertEquals(ErrorReason.SOURCE_NOT_OWNED, stolen.getRejections(0).getReason());
    badMarks.expectNoMessage(Duration.ofSeconds(1));

    assertTrue(marks.stream().noneMatch(u -> !within5Percent(u, "50000")), marks.toString());
    assertEquals(List.of(), liquidationsOfAlice());
    auditIsClean();
  }

  @Test
  void aRealMoveIsPublishedOnceAMajorityHeldItForTheHoldAndOnlyThenLiquidates() {
    TestProbe<MarkPriceUpdate> early = stream(marks, u -> !within5Percent(u, "50000"));
    ticking.put("binance", "50000");
    ticking.put("okx", "50000");
    ticking.put("coinbase", "50000");
    awaitMark(marks, "50000.0");
    awaitFreshSources(3);

    // Two of three move 20% down and stay there: a majority, from two feeder tokens.
    long movedAt = System.currentTimeMillis();
    ticking.put("binance", "40000");
    ticking.put("okx", "40000");
    early.expectNoMessage(Duration.ofMillis(2_500));
    awaitMark(marks, "40000.0");
    MarkPriceUpdate moved = marks.stream().filter(u -> u.getMarkPrice().equals("40000.0")).findFirst().orElseThrow();
    assertTrue(moved.getTimestampMs() - movedAt >= 3_000, "published " + (moved.getTimestampMs() - movedAt)
        + " ms after the move");
    // Every mark is one a majority held: about 50,000, then 40,000; nothing in between.
    assertTrue(marks.stream().allMatch(u -> within5Percent(u, "50000") || within5Percent(u, "40000")),
        marks.toString());

    // Only now is alice liquidated, and at the confirmed mark.
    probe.awaitAssert(WAIT, () -> {
      List<Liquidation> liquidations = liquidationsOfAlice();
      assertEquals(1, liquidations.size(), liquidations.toString());
      assertEquals("40000.0", liquidations.get(0).getTriggerMarksOrThrow(PERP));
      assertFalse(liquidations.get(0).getOutcome().isEmpty(), liquidations.toString());
      return null;
    });
    auditIsClean();
  }

  @Test
  void haltAndResumeKeepMarkStreamsOpenAndAllStaleIsToldToEveryStream() {
    List<MarkPriceUpdate> second = new CopyOnWriteArrayList<>();
    stream(marks, u -> false);
    ticking.put("binance", "50000");
    ticking.put("okx", "50000");
    awaitMark(marks, "50000.0");
    stream(second, u -> false);
    awaitMark(second, "50000.0");

    call(admin.setLiquidationHalt(), OPERATOR_TOKEN, SetLiquidationHaltRequest.newBuilder().setInstrument(PERP)
        .setHalted(true).build());
    ticking.put("binance", "50100");
    ticking.put("okx", "50100");
    awaitMark(marks, "50100.0");
    awaitMark(second, "50100.0");
    call(admin.setLiquidationHalt(), OPERATOR_TOKEN, SetLiquidationHaltRequest.newBuilder().setInstrument(PERP)
        .setHalted(false).build());
    ticking.put("binance", "50200");
    ticking.put("okx", "50200");
    awaitMark(marks, "50200.0");
    awaitMark(second, "50200.0");

    // Every feeder stops: both streams hear that the mark is stale, and a new subscriber is told
    // so first, not the last mark as if it were fresh.
    ticking.clear();
    probe.awaitAssert(WAIT, () -> {
      assertTrue(marks.get(marks.size() - 1).getStale(), marks.get(marks.size() - 1).toString());
      assertTrue(second.get(second.size() - 1).getStale(), second.get(second.size() - 1).toString());
      return null;
    });
    List<MarkPriceUpdate> late = new CopyOnWriteArrayList<>();
    stream(late, u -> false);
    probe.awaitAssert(WAIT, () -> {
      assertFalse(late.isEmpty());
      assertTrue(late.get(0).getStale(), late.get(0).toString());
      assertEquals("", late.get(0).getMarkPrice());
      return null;
    });
    // Fresh again: every stream, the late one too, gets the mark.
    ticking.put("binance", "50300");
    ticking.put("okx", "50300");
    for (List<MarkPriceUpdate> seen : List.of(marks, second, late)) {
      awaitMark(seen, "50300.0");
      assertFalse(seen.get(seen.size() - 1).getStale());
    }
    assertEquals(List.of(), liquidationsOfAlice());
    auditIsClean();
  }
}
