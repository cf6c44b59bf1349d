package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.ENGINE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.AccountModel;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.ClearingServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.IndexPriceTick;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.PositionView;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import io.clearinghouse.protocol.v1.PublishSummary;
import io.clearinghouse.protocol.v1.Side;
import io.clearinghouse.protocol.v1.Trade;
import io.clearinghouse.protocol.v1.TradeResult;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;

/**
 * A randomized trade stream through gRPC on a real node and the real Cassandra: many funded
 * accounts, a few hundred trades streamed unpaced (as many in flight as the node allows), the
 * first stream cancelled in the middle and a second one resending every trade without a result
 * with already acknowledged trades mixed in, while a feeder moves the mark in small steps. Then
 * the audit is clean, and every account's cash, position and entry price equal what the reference
 * model ({@link AccountModel}) computes from the same trades in sequence order, and the fee
 * revenue what it charged.
 *
 * <p>The seed is printed and in every failure message; rerun one with
 * {@code -Dclearinghouse.it.seed=<seed>}.
 */
class RandomizedClearingIntegrationTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final long SEED = Long.getLong("clearinghouse.it.seed", 20_261_130L);
  private static final int ACCOUNTS = 24;
  private static final int TRADES = 320;
  private static final int FIRST_STREAM_RESULTS = 140;
  private static final int FIRST_STREAM_SENT = 220;
  private static final long DEPOSIT_USDT = 1_000_000;
  private static final long USDT = 1_000_000L;

  private final Random random = new Random(SEED);

  private static String account(int i) {
    return String.format("rnd-%02d", i);
  }

  /** Prices wander around 50,000 in 0.1 steps; sizes 0.001 to 0.25 BTC. */
  private List<Trade> trades() {
    List<String> accounts = new ArrayList<>();
    for (int i = 0; i < ACCOUNTS; i++) {
      accounts.add(account(i));
    }
    SimulatedEngine engine = new SimulatedEngine(PERP, "rt-", accounts,
        new SimulatedEngine.Walk(500_000, 490_000, 510_000, 200), 250, SEED);
    List<Trade> trades = new ArrayList<>();
    for (long sequence = 1; sequence <= TRADES; sequence++) {
      trades.add(engine.trade(sequence));
    }
    return trades;
  }

  private static long ticks(String price) {
    return new BigDecimal(price).movePointRight(1).longValueExact();
  }

  private static long lots(String quantity) {
    return new BigDecimal(quantity).movePointRight(3).longValueExact();
  }

  private static long minor(String amount) {
    return new BigDecimal(amount).movePointRight(6).longValueExact();
  }

  @Test
  void unpacedTradesWithResendsAndAReconnectEndWhereTheReferenceModelDoes() {
    System.out.println("RandomizedClearingIntegrationTest seed=" + SEED);
    String context = "seed " + SEED + ": ";
    String keyspace = TestNodes.newKeyspace("randomized");
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(keyspace, ""));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      var settings = TestNodes.clientSettings(node, clients);
      AdminServiceClient admin = AdminServiceClient.create(settings, clients);
      ClearingServiceClient engine = ClearingServiceClient.create(settings, clients);
      PriceServiceClient prices = PriceServiceClient.create(settings, clients);
      Map<String, AccountModel.Acc> model = new LinkedHashMap<>();
      for (int i = 0; i < ACCOUNTS; i++) {
        call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId(account(i)).build());
        call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId(account(i))
            .setAmount(Long.toString(DEPOSIT_USDT)).setIdempotencyKey("seed").build());
        AccountModel.deposit(model.computeIfAbsent(account(i), id -> new AccountModel.Acc()), DEPOSIT_USDT * USDT);
      }
      List<Trade> trades = trades();

      // The feeder moves the mark in small steps (at most 0.3% from 50,000) while the trades stream.
      List<IndexPriceTick> ticks = new ArrayList<>();
      long mark = 500_000;
      for (int i = 0; i < 40; i++) {
        mark = Math.max(498_500, Math.min(501_500, mark + random.nextInt(301) - 150));
        for (String source : List.of("binance", "okx")) {
          ticks.add(IndexPriceTick.newBuilder().setSource(source).setInstrument(PERP)
              .setPrice(BigDecimal.valueOf(mark, 1).toPlainString()).setTimestampMs(System.currentTimeMillis()).build());
        }
      }
      // Each source from its own feeder token, as the node requires.
      CompletionStage<PublishSummary> feeding = null;
      for (String source : List.of("binance", "okx")) {
        List<IndexPriceTick> own = ticks.stream().filter(t -> t.getSource().equals(source)).toList();
        CompletionStage<PublishSummary> one = prices.publishIndexPrices()
            .addHeader("authorization", Calls.BEARER + Feeders.token(source))
            .invoke(Source.from(own).throttle(1, Duration.ofMillis(100))
                .map(t -> t.toBuilder().setTimestampMs(System.currentTimeMillis()).build()));
        feeding = feeding == null ? one : feeding.thenCombine(one, (a, b) -> a.toBuilder()
            .setAccepted(a.getAccepted() + b.getAccepted()).setRejected(a.getRejected() + b.getRejected()).build());
      }

      // First stream: unpaced; the engine stops reading after some results and cancels it, with
      // more trades sent and some of them in flight.
      Map<String, TradeResult> results = new HashMap<>();
      List<TradeResult> first = await(engine.submitTrades().addHeader("authorization", Calls.BEARER + ENGINE_TOKEN)
          .invoke(Source.from(trades.subList(0, FIRST_STREAM_SENT)))
          .take(FIRST_STREAM_RESULTS)
          .runWith(Sink.seq(), clients));
      first.forEach(r -> results.put(r.getTradeId(), r));
      assertEquals(FIRST_STREAM_RESULTS, first.size(), context + "results of the first stream");

      // Reconnect: every trade without a result, in order, with acknowledged ones resent among them
      // (results come as each is known: the first ones back are not necessarily the first sent).
      List<Trade> resend = new ArrayList<>();
      List<Trade> acknowledged = trades.stream().filter(t -> results.containsKey(t.getTradeId())).toList();
      for (Trade t : trades) {
        if (results.containsKey(t.getTradeId())) {
          continue;
        }
        if (random.nextInt(5) == 0) {
          resend.add(acknowledged.get(random.nextInt(acknowledged.size())));
        }
        resend.add(t);
      }
      List<TradeResult> second = Calls.inSentOrder(resend, await(engine.submitTrades()
          .addHeader("authorization", Calls.BEARER + ENGINE_TOKEN).invoke(Source.from(resend))
          .runWith(Sink.seq(), clients)));
      assertEquals(resend.size(), second.size(), context + "results of the second stream");
      for (int i = 0; i < resend.size(); i++) {
        TradeResult r = second.get(i);
        assertEquals(resend.get(i).getTradeId(), r.getTradeId(), context + "each result names its trade");
        assertTrue(r.hasAck(), context + "trade " + r.getTradeId() + " was refused: " + r.getRejection());
        if (acknowledged.contains(resend.get(i)) && results.containsKey(r.getTradeId())) {
          assertTrue(r.getAck().getDuplicate(), context + "acknowledged trade " + r.getTradeId() + " applied again");
        }
        results.putIfAbsent(r.getTradeId(), r);
      }
      for (TradeResult r : first) {
        assertTrue(r.hasAck(), context + "trade " + r.getTradeId() + " was refused: " + r.getRejection());
      }
      PublishSummary fed = await(feeding);
      assertEquals(ticks.size(), fed.getAccepted(), context + fed.toString());

      // The reference model, in sequence order.
      long fees = 0;
      for (Trade t : trades) {
        long lots = lots(t.getQuantity());
        long price = ticks(t.getPrice());
        boolean buyerTakes = t.getAggressorSide() == Side.BUY;
        AccountModel.Acc buyer = model.get(t.getBuyerAccountId());
        AccountModel.Acc seller = model.get(t.getSellerAccountId());
        AccountModel.Movement bought = AccountModel.movement(buyer, PERP, lots, price, buyerTakes);
        AccountModel.apply(buyer, PERP, bought, 0);
        AccountModel.Movement sold = AccountModel.movement(seller, PERP, -lots, price, !buyerTakes);
        AccountModel.apply(seller, PERP, sold, 0);
        fees = Math.addExact(fees, Math.addExact(bought.fee(), sold.fee()));
      }

      List<String> differences = new ArrayList<>();
      for (var entry : model.entrySet()) {
        AccountView view = call(admin.getAccount(), OPERATOR_TOKEN,
            GetAccountRequest.newBuilder().setAccountId(entry.getKey()).build());
        AccountModel.Acc expected = entry.getValue();
        AccountModel.Holding holding = expected.holding(PERP);
        long heldLots = 0;
        long entryTicks = 0;
        for (PositionView p : view.getPositionsList()) {
          if (p.getInstrument().equals(PERP)) {
            heldLots = lots(p.getSize());
            entryTicks = ticks(p.getEntryPrice());
          }
        }
        long expectedEntry = holding.lots == 0 ? 0 : BigDecimal.valueOf(holding.cost)
            .divide(BigDecimal.valueOf(holding.lots * AccountModel.MULTIPLIER), 0, RoundingMode.HALF_UP).longValueExact();
        if (minor(view.getCash()) != expected.cash || heldLots != holding.lots || entryTicks != expectedEntry) {
          differences.add(entry.getKey() + ": cash " + minor(view.getCash()) + " lots " + heldLots + " entry " + entryTicks
              + ", model: cash " + expected.cash + " lots " + holding.lots + " entry " + expectedEntry);
        }
      }
      AuditReport audit = call(admin.audit(), OPERATOR_TOKEN, AuditRequest.getDefaultInstance());
      assertTrue(audit.getClean(), context + audit.getViolationsList());
      assertEquals(2L * TRADES, audit.getTradesApplied(), context + audit);
      assertEquals(fees, minor(audit.getFeeRevenue()), context + "fee revenue");
      assertTrue(differences.isEmpty(), context + differences.size() + " of " + ACCOUNTS
          + " accounts differ from the model of the trades in sequence order: " + differences);
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }
}
