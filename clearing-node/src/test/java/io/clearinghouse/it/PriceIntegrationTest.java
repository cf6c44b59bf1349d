package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.Calls.refused;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.ENGINE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.price.PriceFeed;
import io.clearinghouse.protocol.v1.AccountServiceClient;
import io.clearinghouse.protocol.v1.AccountUpdate;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.ClearingServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.ErrorReason;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.GetLiquidationRequest;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.IndexPriceTick;
import io.clearinghouse.protocol.v1.MarginAlert;
import io.clearinghouse.protocol.v1.MarkPriceUpdate;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import io.clearinghouse.protocol.v1.PublishSummary;
import io.clearinghouse.protocol.v1.Side;
import io.clearinghouse.protocol.v1.StreamAccountRequest;
import io.clearinghouse.protocol.v1.StreamMarkPricesRequest;
import io.clearinghouse.protocol.v1.Trade;
import io.clearinghouse.protocol.v1.TradeResult;
import io.clearinghouse.protocol.v1.WithdrawRequest;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;

/**
 * Index prices in through gRPC, marks out to a real client, the margin monitor acting on them:
 * a trader's live account stream warns at 70% and 85% and reports the liquidation, which
 * deleverages the other side; nothing is
 * liquidated while the index is stale; bad ticks are refused one by one. Ends with the audit.
 */
class PriceIntegrationTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final String FEEDER_TOKEN = Feeders.token("binance");
  private static final Duration WAIT = Duration.ofSeconds(30);

  @Test
  void marksDriveAlertsAndLiquidationButNeverWhileStale() {
    String keyspace = TestNodes.newKeyspace("prices");
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(keyspace, String.join("\n",
        "clearinghouse.price-feed.stale-after = 3s",
        "clearinghouse.price-feed.check-interval = 200ms",
        "clearinghouse.alerts.refresh = 200ms",
        // Alice trades on little margin (taken as executed): the marks then liquidate her.
        "clearinghouse.account.check-unreserved-fills = off")));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      var settings = TestNodes.clientSettings(node, clients);
      AdminServiceClient admin = AdminServiceClient.create(settings, clients);
      AccountServiceClient accounts = AccountServiceClient.create(settings, clients);
      ClearingServiceClient engine = ClearingServiceClient.create(settings, clients);
      PriceServiceClient prices = PriceServiceClient.create(settings, clients);
      for (String id : List.of("alice-1", "bob-1")) {
        call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId(id).build());
      }
      call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("alice-1").setAmount("1000")
          .setIdempotencyKey("seed").build());
      call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("bob-1").setAmount("100000")
          .setIdempotencyKey("seed").build());

      TestProbe<MarkPriceUpdate> markProbe = TestProbe.create(clients);
      prices.streamMarkPrices().addHeader("authorization", Calls.BEARER + ALICE_TOKEN)
          .invoke(StreamMarkPricesRequest.newBuilder().addInstruments(PERP).build())
          .runWith(Sink.foreach(markProbe.getRef()::tell), clients);

      // Alice goes 1 BTC long at 50,000 with 1,000 USDT: cash 975 after the taker fee.
      List<TradeResult> traded = await(engine.submitTrades().addHeader("authorization", Calls.BEARER + ENGINE_TOKEN)
          .invoke(Source.single(Trade.newBuilder().setTradeId("t-1").setSequence(1).setInstrument(PERP)
              .setPrice("50000").setQuantity("1").setBuyerAccountId("alice-1").setSellerAccountId("bob-1")
              .setAggressorSide(Side.BUY).build())).runWith(Sink.seq(), clients));
      assertTrue(traded.get(0).hasAck(), traded.toString());

      TestProbe<AccountUpdate> aliceProbe = TestProbe.create(clients);
      accounts.streamAccount().addHeader("authorization", Calls.BEARER + ALICE_TOKEN)
          .invoke(StreamAccountRequest.newBuilder().setAccountId("alice-1").build())
          .runWith(Sink.foreach(aliceProbe.getRef()::tell), clients);
      AccountUpdate first = aliceProbe.receiveMessage(WAIT);
      assertEquals("975.000000", first.getAccount().getCash());

      long now = System.currentTimeMillis();
      publish(prices, tick("binance", "50000", now), tick("okx", "50000", now));
      MarkPriceUpdate mark = markProbe.fishForMessage(WAIT, m -> m.getMarkPrice().equals("50000.0")
          ? FishingOutcomes.complete()
          : FishingOutcomes.continueAndIgnore()).get(0);
      assertFalse(mark.getStale());

      // okx goes quiet: after 3 s the index is stale, and a lone source cannot move the mark.
      markProbe.fishForMessage(WAIT, m -> m.getStale()
          ? FishingOutcomes.complete()
          : FishingOutcomes.continueAndIgnore());
      publish(prices, tick("binance", "40000", System.currentTimeMillis()));
      PriceFeed.Status status = await(ClusterSharding.get(node.system()).entityRefFor(PriceFeed.TYPE_KEY, PERP)
          .<PriceFeed.Status>ask(PriceFeed.GetStatus::new, WAIT));
      assertTrue(status.stale());
      assertEquals(mark.getSequence(), status.sequence());
      assertEquals("", operatorView(admin).getLiquidationId());
      // The SRE sees it on /health/markets; the node stays ready (a stale feed must not take every
      // node out of the load balancer).
      assertEquals("stale", marketState(node, PERP));
      assertEquals(200, readyStatus(node));

      // Fresh again at 49,300: equity 975 - 700 = 275, MM 0.4% * 49,300 = 197.2 -> ratio 0.717.
      now = System.currentTimeMillis();
      publish(prices, tick("binance", "49300", now), tick("okx", "49300", now));
      MarginAlert seventy = alert(aliceProbe, MarginAlert.Kind.MARGIN_RATIO_ABOVE);
      assertEquals("0.700000", seventy.getLevel());
      assertEquals("ok", marketState(node, PERP));
      assertEquals(200, readyStatus(node));

      // 49,100: equity 75 <= MM 196.4: the monitor triggers, the account re-checks and starts.
      now = System.currentTimeMillis();
      publish(prices, tick("binance", "49100", now), tick("okx", "49100", now));
      MarginAlert started = alert(aliceProbe, MarginAlert.Kind.LIQUIDATION_STARTED);
      assertFalse(started.getLiquidationId().isEmpty());
      // No backstop provider and an empty fund: the liquidation deleverages bob, the only short,
      // at alice's bankruptcy price 50,000 - 975 = 49,025, and ends; the stream says so.
      MarginAlert ended = alert(aliceProbe, MarginAlert.Kind.LIQUIDATION_ENDED);
      assertEquals(started.getLiquidationId(), ended.getLiquidationId());
      Liquidation liquidation = call(admin.getLiquidation(), OPERATOR_TOKEN,
          GetLiquidationRequest.newBuilder().setLiquidationId(started.getLiquidationId()).build());
      // The trigger came with the first tick: binance at 49,100 with okx still at 49,300 is an
      // index of 49,200, where equity 175 <= MM 196.8 already.
      // (At most one mark per mark-interval: when both ticks fall into one interval the first mark
      // published is already 49,100, where equity 75 <= MM 196.4.)
      assertTrue(List.of("49200.0", "49100.0").contains(liquidation.getTriggerMarksOrThrow(PERP)),
          liquidation.toString());
      // The close is planned at the mark when the saga starts: 49,200 still, or 49,100 once okx's
      // tick is in (at most one mark per mark-interval, so it may come a little later).
      assertTrue(List.of("49200.0", "49100.0").contains(liquidation.getCloses(0).getMarkPrice()), liquidation.toString());
      assertEquals(List.of("ADL", "bob-1", "49025.0"), List.of(liquidation.getCloses(0).getVenue(),
          liquidation.getCloses(0).getCounterparty(), liquidation.getCloses(0).getPrice()));
      AccountView alice = operatorView(admin);
      assertEquals("0.000000", alice.getCash());
      assertEquals(0, alice.getPositionsCount());
      assertEquals("", alice.getLiquidationId());

      AuditReport audit = call(admin.audit(), OPERATOR_TOKEN, AuditRequest.getDefaultInstance());
      assertTrue(audit.getClean(), audit.getViolationsList().toString());
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  @Test
  void badTicksAreRefusedOneByOneAndFeederTokensDoNothingElse() {
    String keyspace = TestNodes.newKeyspace("ticks");
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(keyspace, ""));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      var settings = TestNodes.clientSettings(node, clients);
      PriceServiceClient prices = PriceServiceClient.create(settings, clients);
      long now = System.currentTimeMillis();
      List<IndexPriceTick> ticks = List.of(
          tick("binance", "50000", now),
          tick("binance", "0", now),
          tick("binance", "-50000", now),
          tick("binance", "50000.05", now),
          tick("binance", "92233720368547758070", now),
          tick("binance", "fifty", now),
          tick("binance", "50000", now).toBuilder().setInstrument("DOGEUSDT-PERP").build(),
          tick("nasdaq", "50000", now),
          tick("kraken", "50000", now), // configured, but not one of this feeder's sources
          tick("binance", "50000", now + 60_000),
          tick("binance", "50000", now - 600_000),
          tick("binance", "50001", now));
      PublishSummary summary = Feeders.publishAs(prices, FEEDER_TOKEN, ticks);
      assertEquals(2, summary.getAccepted());
      assertEquals(10, summary.getRejected());
      List<ErrorReason> expected = List.of(ErrorReason.PRICE_NOT_POSITIVE, ErrorReason.PRICE_NOT_POSITIVE,
          ErrorReason.PRICE_OFF_TICK, ErrorReason.NOTIONAL_OVERFLOW, ErrorReason.MALFORMED_PRICE,
          ErrorReason.UNKNOWN_INSTRUMENT, ErrorReason.UNKNOWN_SOURCE, ErrorReason.SOURCE_NOT_OWNED,
          ErrorReason.TIMESTAMP_IN_FUTURE, ErrorReason.TIMESTAMP_TOO_OLD);
      assertEquals(expected, summary.getRejectionsList().stream().map(r -> r.getReason()).toList());
      assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L),
          summary.getRejectionsList().stream().map(r -> r.getIndex()).toList());

      // A feeder token is good for publishing prices and nothing else.
      refused(AccountServiceClient.create(settings, clients).getAccount(), FEEDER_TOKEN,
          GetAccountRequest.newBuilder().setAccountId("alice-1").build(), Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);
      refused(AdminServiceClient.create(settings, clients).getAccount(), FEEDER_TOKEN,
          GetAccountRequest.newBuilder().setAccountId("alice-1").build(), Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);
      CompletionException trades = assertThrows(CompletionException.class, () -> await(
          ClearingServiceClient.create(settings, clients).submitTrades()
              .addHeader("authorization", Calls.BEARER + FEEDER_TOKEN)
              .invoke(Source.empty()).runWith(Sink.seq(), clients)));
      assertEquals(Code.PERMISSION_DENIED, ((StatusRuntimeException) trades.getCause()).getStatus().getCode());
      // And only a feeder token publishes.
      CompletionException engine = assertThrows(CompletionException.class, () -> await(prices.publishIndexPrices()
          .addHeader("authorization", Calls.BEARER + ENGINE_TOKEN).invoke(Source.single(ticks.get(0)))));
      assertEquals(Code.PERMISSION_DENIED, ((StatusRuntimeException) engine.getCause()).getStatus().getCode());
      CompletionException none = assertThrows(CompletionException.class,
          () -> await(prices.publishIndexPrices().invoke(Source.single(ticks.get(0)))));
      assertEquals(Code.UNAUTHENTICATED, ((StatusRuntimeException) none.getCause()).getStatus().getCode());
      AuditReport audit = call(AdminServiceClient.create(settings, clients).audit(), OPERATOR_TOKEN,
          AuditRequest.getDefaultInstance());
      assertTrue(audit.getClean(), audit.getViolationsList().toString());
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  private static IndexPriceTick tick(String source, String price, long timestampMs) {
    return IndexPriceTick.newBuilder().setSource(source).setInstrument(PERP).setPrice(price)
        .setTimestampMs(timestampMs).build();
  }

  private static void publish(PriceServiceClient prices, IndexPriceTick... ticks) {
    Feeders.publish(prices, ticks).forEach(summary -> assertEquals(0, summary.getRejected(), summary.toString()));
  }

  private static int readyStatus(Main.Node node) {
    try {
      return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create(node.managementUri().replaceAll("/$", "") + "/ready")).build(),
          java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      throw new AssertionError("GET /ready failed", e);
    }
  }

  /** The instrument's state on the node's {@code /health/markets}. */
  private static String marketState(Main.Node node, String instrument) {
    return ManagementHttp.market(java.net.http.HttpClient.newHttpClient(), node.managementUri().replaceAll("/$", ""),
        instrument).get("state").asText();
  }

  private static AccountView operatorView(AdminServiceClient admin) {
    return call(admin.getAccount(), OPERATOR_TOKEN, GetAccountRequest.newBuilder().setAccountId("alice-1").build());
  }

  private static MarginAlert alert(TestProbe<AccountUpdate> probe, MarginAlert.Kind kind) {
    List<AccountUpdate> updates = probe.fishForMessage(WAIT, u ->
        u.getAlertsList().stream().anyMatch(a -> a.getKind() == kind)
            ? FishingOutcomes.complete()
            : FishingOutcomes.continueAndIgnore());
    AccountUpdate last = updates.get(updates.size() - 1);
    return last.getAlertsList().stream().filter(a -> a.getKind() == kind).findFirst().orElseThrow();
  }
}
