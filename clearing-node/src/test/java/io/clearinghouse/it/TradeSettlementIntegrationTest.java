package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.ENGINE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.MarginMath;
import io.clearinghouse.margin.Position;
import io.clearinghouse.margin.PositionChange;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.ClearingServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.ErrorReason;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.PositionView;
import io.clearinghouse.protocol.v1.Side;
import io.clearinghouse.protocol.v1.Trade;
import io.clearinghouse.protocol.v1.TradeResult;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A trade is settled as one unit, in sequence order per account, against a real node and the real
 * Cassandra: a resend that differs from the first in any field is refused on both sides, a trade
 * one side of which is refused moves nothing, and an unpaced stream of trades among few accounts
 * ends exactly where applying them one by one in sequence order ends.
 */
class TradeSettlementIntegrationTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final Instrument INSTRUMENT = TestNodes.INSTRUMENTS.require(PERP);
  private static final long USDT = 1_000_000L;

  private static Main.Node node;
  private static ActorSystem<Void> clients;
  private static AdminServiceClient admin;
  private static ClearingServiceClient engine;

  @BeforeAll
  static void start() {
    node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("settlement"), ""));
    clients = TestNodes.clientSystem();
    admin = AdminServiceClient.create(TestNodes.clientSettings(node, clients), clients);
    engine = ClearingServiceClient.create(TestNodes.clientSettings(node, clients), clients);
  }

  @AfterAll
  static void stop() {
    if (clients != null) {
      clients.terminate();
    }
    if (node != null) {
      TestNodes.stop(node);
    }
  }

  private static List<TradeResult> stream(List<Trade> trades) {
    return Calls.inSentOrder(trades, await(engine.submitTrades().addHeader("authorization", Calls.BEARER + ENGINE_TOKEN)
        .invoke(Source.from(trades)).runWith(Sink.seq(), clients)));
  }

  private static TradeResult one(Trade trade) {
    List<TradeResult> results = stream(List.of(trade));
    assertEquals(1, results.size());
    return results.get(0);
  }

  private static void open(String id, long depositUsdt) {
    call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId(id).build());
    call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId(id)
        .setAmount(Long.toString(depositUsdt)).setIdempotencyKey("seed-" + id).build());
  }

  private static AccountView view(String id) {
    return call(admin.getAccount(), OPERATOR_TOKEN, GetAccountRequest.newBuilder().setAccountId(id).build());
  }

  private static void assertAuditClean() {
    AuditReport audit = call(admin.audit(), OPERATOR_TOKEN, AuditRequest.getDefaultInstance());
    assertTrue(audit.getClean(), audit.getViolationsList().toString());
  }

  private static Trade trade(long sequence, String buyer, String seller, String price, String quantity, Side aggressor) {
    return Trade.newBuilder().setTradeId("t-" + sequence).setSequence(sequence).setInstrument(PERP).setPrice(price)
        .setQuantity(quantity).setBuyerAccountId(buyer).setSellerAccountId(seller).setAggressorSide(aggressor).build();
  }

  private static void assertRefused(TradeResult result, ErrorReason reason) {
    assertTrue(result.hasRejection(), "expected " + reason + ", got " + result);
    assertEquals(reason, result.getRejection().getReason(), result.getRejection().getMessage());
  }

  @Test
  void aResendThatDiffersFromTheFirstInAnyFieldIsRefusedOnBothSidesAndMovesNothing() {
    for (String id : List.of("cf-a", "cf-b", "cf-c")) {
      open(id, 100_000);
    }
    Trade first = trade(100, "cf-a", "cf-b", "50000", "0.1", Side.BUY);
    TradeResult applied = one(first);
    assertTrue(applied.hasAck(), applied.toString());
    assertFalse(applied.getAck().getDuplicate());
    Map<String, AccountView> before = new HashMap<>();
    for (String id : List.of("cf-a", "cf-b", "cf-c")) {
      before.put(id, view(id));
    }

    Map<String, Consumer<Trade.Builder>> changes = new java.util.LinkedHashMap<>();
    changes.put("another buyer", b -> b.setBuyerAccountId("cf-c"));
    changes.put("another seller", b -> b.setSellerAccountId("cf-c"));
    changes.put("another price", b -> b.setPrice("50000.1"));
    changes.put("another quantity", b -> b.setQuantity("0.2"));
    changes.put("another instrument", b -> b.setInstrument("BTCUSDT-271231"));
    changes.put("another aggressor", b -> b.setAggressorSide(Side.SELL));
    changes.put("another trade id", b -> b.setTradeId("t-other"));
    changes.put("another buyer order", b -> b.setBuyerOrderId("o-1"));
    changes.forEach((what, change) -> {
      Trade.Builder resend = first.toBuilder();
      change.accept(resend);
      TradeResult result = one(resend.build());
      assertTrue(result.hasRejection(), what + ": " + result);
      assertEquals(ErrorReason.TRADE_CONFLICT, result.getRejection().getReason(), what + ": " + result);
    });
    // Several conflicting resends in one stream, mixed with the true resend (the three share a
    // sequence and a trade id, so their results, which come as each is known, are told apart by
    // what they say): one acknowledgement as a duplicate with the first fees, two conflicts.
    List<TradeResult> mixed = stream(List.of(first.toBuilder().setBuyerAccountId("cf-c").build(), first,
        first.toBuilder().setSellerAccountId("cf-c").setBuyerAccountId("cf-b").build()));
    List<TradeResult> acks = mixed.stream().filter(TradeResult::hasAck).toList();
    assertEquals(1, acks.size(), mixed.toString());
    assertTrue(acks.get(0).getAck().getDuplicate(), acks.get(0).toString());
    assertEquals(applied.getAck().getBuyerFee(), acks.get(0).getAck().getBuyerFee());
    assertEquals(applied.getAck().getSellerFee(), acks.get(0).getAck().getSellerFee());
    mixed.stream().filter(r -> !r.hasAck()).forEach(r -> assertRefused(r, ErrorReason.TRADE_CONFLICT));

    for (String id : List.of("cf-a", "cf-b", "cf-c")) {
      assertEquals(before.get(id), view(id), id + " changed");
    }
    assertAuditClean();
  }

  @Test
  void aTradeWhoseOtherSideIsRefusedIsAppliedToNeitherSide() {
    open("os-x", 1_000_000_000L);
    open("os-s", 1_000_000_000L);
    open("os-b", 1_000_000_000L);
    // os-s sells 9,000 BTC at 50,000: a short of 450M, below the last tier's cap of 500M.
    TradeResult big = one(trade(200, "os-x", "os-s", "50000", "9000", Side.BUY));
    assertTrue(big.hasAck(), big.toString());
    AccountView buyerBefore = view("os-b");
    AccountView sellerBefore = view("os-s");

    // 2,000 BTC more to os-b: fine for os-b (100M), but os-s's short would reach 550M. The buyer
    // side is applied first, then reversed when the seller's is refused.
    TradeResult limit = one(trade(201, "os-b", "os-s", "50000", "2000", Side.BUY));
    assertRefused(limit, ErrorReason.POSITION_LIMIT);
    assertEquals(buyerBefore, view("os-b"), "the buyer side must not stay applied");
    assertEquals(sellerBefore, view("os-s"));
    // A resend gets the same refusal, and still moves nothing.
    assertRefused(one(trade(201, "os-b", "os-s", "50000", "2000", Side.BUY)), ErrorReason.POSITION_LIMIT);
    assertEquals(buyerBefore, view("os-b"));

    // A seller that does not exist (and a buyer that does not).
    AccountView b = view("os-b");
    assertRefused(one(trade(202, "os-b", "os-nobody", "50000", "0.1", Side.SELL)), ErrorReason.ACCOUNT_NOT_FOUND);
    assertRefused(one(trade(203, "os-nobody", "os-b", "50000", "0.1", Side.BUY)), ErrorReason.ACCOUNT_NOT_FOUND);
    assertEquals(b, view("os-b"));
    // A later valid trade of the same accounts still goes through.
    TradeResult later = one(trade(204, "os-b", "os-x", "50000", "0.1", Side.SELL));
    assertTrue(later.hasAck(), later.toString());
    assertAuditClean();
  }

  /** One account in the sequential reference: cash and position. */
  private static final class Expected {
    long cash;
    Position position = Position.FLAT;

    void apply(long signedLots, long priceTicks, boolean taker) {
      long fee = MarginMath.fee(INSTRUMENT.notional(priceTicks, signedLots),
          taker ? INSTRUMENT.takerFeePpm() : INSTRUMENT.makerFeePpm());
      PositionChange change = position.apply(signedLots, priceTicks, INSTRUMENT.notionalMultiplier());
      position = change.position();
      cash = cash + change.realizedPnl() - fee;
    }
  }

  @Test
  void eachAccountAppliesItsTradesInSequenceOrderWhateverTheParallelism() {
    int accounts = 20;
    List<String> ids = new ArrayList<>();
    Map<String, Expected> expected = new HashMap<>();
    for (int i = 0; i < accounts; i++) {
      String id = "ord-" + i;
      ids.add(id);
      open(id, 10_000_000);
      Expected e = new Expected();
      e.cash = 10_000_000 * USDT;
      expected.put(id, e);
    }
    Random random = new Random(42);
    List<Trade> trades = new ArrayList<>();
    for (long seq = 1_000; seq < 1_400; seq++) {
      String buyer = ids.get(random.nextInt(accounts));
      String seller;
      do {
        seller = ids.get(random.nextInt(accounts));
      } while (seller.equals(buyer));
      long priceTicks = 490_000 + random.nextInt(20_001);
      long lots = 1 + random.nextInt(3_000);
      Side aggressor = random.nextBoolean() ? Side.BUY : Side.SELL;
      trades.add(trade(seq, buyer, seller, BigDecimal.valueOf(priceTicks, 1).toPlainString(),
          BigDecimal.valueOf(lots, 3).toPlainString(), aggressor));
      expected.get(buyer).apply(lots, priceTicks, aggressor == Side.BUY);
      expected.get(seller).apply(-lots, priceTicks, aggressor == Side.SELL);
    }
    List<TradeResult> results = stream(trades);
    assertEquals(trades.size(), results.size());
    for (int i = 0; i < trades.size(); i++) {
      assertEquals(trades.get(i).getSequence(), results.get(i).getSequence(), "each result names its trade");
      assertTrue(results.get(i).hasAck(), results.get(i).toString());
    }
    List<String> wrong = new ArrayList<>();
    for (String id : ids) {
      AccountView view = view(id);
      Expected e = expected.get(id);
      long cash = new BigDecimal(view.getCash()).movePointRight(6).longValueExact();
      long lots = 0;
      String entry = "";
      for (PositionView p : view.getPositionsList()) {
        if (p.getInstrument().equals(PERP)) {
          lots = new BigDecimal(p.getSize()).movePointRight(3).longValueExact();
          entry = p.getEntryPrice();
        }
      }
      String expectedEntry = e.position.entryPriceTicks(INSTRUMENT.notionalMultiplier()).isPresent()
          ? INSTRUMENT.formatPrice(e.position.entryPriceTicks(INSTRUMENT.notionalMultiplier()).getAsLong()) : "";
      if (cash != e.cash || lots != e.position.lots() || !entry.equals(expectedEntry)) {
        wrong.add(id + ": cash " + cash + " lots " + lots + " entry " + entry + ", in sequence order: cash " + e.cash
            + " lots " + e.position.lots() + " entry " + expectedEntry);
      }
    }
    assertTrue(wrong.isEmpty(), wrong.size() + " accounts differ from the sequential reference: " + wrong);
    assertAuditClean();
  }

  @Test
  void aSellersTradesOnTwoStreamsAtOnceNeverTakeItBeyondItsLimit() {
    open("two-s", 1_000_000_000L);
    open("two-x", 1_000_000_000L);
    // A short of 9,990 BTC at 50,000: 10 BTC below the last tier's cap of 500M.
    assertTrue(one(trade(3_000, "two-x", "two-s", "50000", "9990", Side.BUY)).hasAck());
    List<List<Trade>> streams = List.of(new ArrayList<>(), new ArrayList<>());
    for (int i = 0; i < 40; i++) {
      String buyer = "two-b" + i;
      open(buyer, 1_000_000);
      streams.get(i % 2).add(trade(3_100 + i, buyer, "two-s", "50000", "1", Side.BUY));
    }
    // Both streams at once: each trade's seller check runs against the other stream's checks in flight.
    var first = engine.submitTrades().addHeader("authorization", Calls.BEARER + ENGINE_TOKEN)
        .invoke(Source.from(streams.get(0))).runWith(Sink.seq(), clients);
    var second = engine.submitTrades().addHeader("authorization", Calls.BEARER + ENGINE_TOKEN)
        .invoke(Source.from(streams.get(1))).runWith(Sink.seq(), clients);
    List<TradeResult> results = new ArrayList<>(await(first));
    results.addAll(await(second));
    long settled = results.stream().filter(TradeResult::hasAck).count();
    for (TradeResult result : results) {
      if (result.hasRejection()) {
        assertRefused(result, ErrorReason.POSITION_LIMIT);
      }
    }
    // Exactly the 10 that fit; before, the seller was made to take some beyond its limit.
    assertEquals(10, settled, results.toString());
    assertEquals(-10_000_000L, new BigDecimal(view("two-s").getPositions(0).getSize()).movePointRight(3)
        .longValueExact(), "lots");
    assertAuditClean();
  }
}
