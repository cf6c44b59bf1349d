package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.Calls.refused;
import static io.clearinghouse.it.LiquidationHarness.PERP;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.ENGINE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.common.Rejection;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.AdjustIsolatedMarginRequest;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.ErrorReason;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.ReserveMarginRequest;
import io.clearinghouse.protocol.v1.Side;
import io.clearinghouse.protocol.v1.Trade;
import io.clearinghouse.protocol.v1.TradeResult;
import io.clearinghouse.protocol.v1.WithdrawRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;

/**
 * The order rules and input limits through the real gRPC API of a real node: the price band on
 * pre-trade checks and on trades, amounts above the per-request maximum, and a megabyte of input
 * that must come back as a short refusal. Each refusal changes nothing; the audit is clean.
 */
class OrderRulesIntegrationTest {
  private static final String FUTURE = "BTCUSDT-271231";
  private static final String HUGE = "X".repeat(1_000_000);

  private static ReserveMarginRequest reserve(String orderId, Side side, String quantity, String price) {
    return ReserveMarginRequest.newBuilder().setAccountId("alice-1").setOrderId(orderId).setInstrument(PERP)
        .setSide(side).setQuantity(quantity).setLimitPrice(price).build();
  }

  private final java.util.concurrent.atomic.AtomicInteger probes = new java.util.concurrent.atomic.AtomicInteger();

  /**
   * Waits until the node's mark makes a pre-trade check of {@code side} at {@code price} fall
   * outside the band: each try a new order of an account kept for it (an accepted try holds a
   * reservation; the same order id again would only be answered with it).
   */
  private void awaitBandRefuses(LiquidationHarness h, Side side, String price) {
    h.probe.awaitAssert(Duration.ofSeconds(30), () -> {
      refused(h.engine.reserveMargin(), ENGINE_TOKEN, reserve("probe-" + probes.incrementAndGet(), side, "0.001", price)
          .toBuilder().setAccountId("probe-1").build(), Status.Code.FAILED_PRECONDITION, Rejection.PRICE_OUTSIDE_BAND);
      return null;
    });
  }

  @Test
  void theBandTheAmountCapAndHugeInputsAreRefusedAndChangeNothing() {
    try (LiquidationHarness h = new LiquidationHarness("orderrules", "clearinghouse.require-mark = on")) {
      h.open("alice-1", "1000");
      h.open("bob-1", "100000");
      h.open("probe-1", "100000");
      // Before any mark: nothing bounds the price, so nothing opens (retryable).
      refused(h.engine.reserveMargin(), ENGINE_TOKEN, reserve("early", Side.BUY, "0.001", "50000"),
          Status.Code.UNAVAILABLE, Rejection.MARK_STALE);
      // A trade is answered UNCONFIRMED (MARK_STALE): the engine resends it, and the stream goes on.
      TradeResult early = trade(h, "early-1", 1, "1000000", "alice-1", "bob-1", PERP);
      assertTrue(early.hasUnconfirmed(), early.toString());
      assertEquals(ErrorReason.MARK_STALE, early.getUnconfirmed().getReason());
      h.mark(PERP, "50000");
      // The mark reaches the node's board asynchronously: wait until an order 20% above it is refused.
      h.probe.awaitAssert(Duration.ofSeconds(30), () -> {
        refused(h.engine.reserveMargin(), ENGINE_TOKEN, reserve("far", Side.BUY, "1", "60000"),
            Status.Code.FAILED_PRECONDITION, Rejection.PRICE_OUTSIDE_BAND);
        return null;
      });
      AccountView aliceBefore = view(h, "alice-1");
      AccountView bobBefore = view(h, "bob-1");

      // The reviewer's colluding trade: alice buys 1 BTC at 60,000 from bob with the mark at 50,000.
      TradeResult result = trade(h, "collude-1", 3, "60000", "alice-1", "bob-1", PERP);
      assertTrue(result.hasRejection(), result.toString());
      assertEquals(ErrorReason.PRICE_OUTSIDE_BAND, result.getRejection().getReason());
      TradeResult near = trade(h, "collude-2", 6, "56000", "alice-1", "bob-1", PERP);
      assertEquals(ErrorReason.PRICE_OUTSIDE_BAND, near.getRejection().getReason(), near.toString());
      // The refusal is final: resent once the mark (52,000) has come within 10% of 56,000, the
      // answer is the same. A sell at 46,700 is in the band of 50,000 and out of that of 52,000.
      h.mark(PERP, "52000");
      h.mark(PERP, "52000");
      awaitBandRefuses(h, Side.SELL, "46700");
      TradeResult again = trade(h, "collude-2", 6, "56000", "alice-1", "bob-1", PERP);
      assertEquals(ErrorReason.PRICE_OUTSIDE_BAND, again.getRejection().getReason(), again.toString());
      h.mark(PERP, "50000");
      h.mark(PERP, "50000");
      awaitBandRefuses(h, Side.BUY, "55500");
      // The open loss counts in the order cost: 1 BTC at 54,000 needs 2,700 + 4,000 + 27; alice has 1,000.
      refused(h.engine.reserveMargin(), ENGINE_TOKEN, reserve("o-1", Side.BUY, "1", "54000"),
          Status.Code.FAILED_PRECONDITION, Rejection.INSUFFICIENT_MARGIN);

      // Amounts above the per-request maximum (1,000,000,000 USDT) are refused before any account sees them.
      refused(h.admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("alice-1")
          .setAmount("1000000000.000001").setIdempotencyKey("big").build(),
          Status.Code.INVALID_ARGUMENT, Rejection.AMOUNT_ABOVE_MAXIMUM);
      refused(h.accounts.withdraw(), ALICE_TOKEN, WithdrawRequest.newBuilder().setAccountId("alice-1")
          .setAmount("9223372036854.775807").setIdempotencyKey("big").build(),
          Status.Code.INVALID_ARGUMENT, Rejection.AMOUNT_ABOVE_MAXIMUM);
      refused(h.accounts.adjustIsolatedMargin(), ALICE_TOKEN, AdjustIsolatedMarginRequest.newBuilder()
          .setAccountId("alice-1").setInstrument(PERP).setAmount("-9223372036854.775807").build(),
          Status.Code.INVALID_ARGUMENT, Rejection.AMOUNT_ABOVE_MAXIMUM);

      // A megabyte-long instrument name comes back as a short refusal, not echoed whole.
      String description = refusal(() -> call(h.engine.reserveMargin(), ENGINE_TOKEN,
          reserve("o-2", Side.BUY, "1", "50000").toBuilder().setInstrument(HUGE).build()));
      assertTrue(description.startsWith("UNKNOWN_INSTRUMENT"), description);
      assertFalse(description.contains("X".repeat(65)), "more than 64 characters of the input came back");
      TradeResult huge = trade(h, "huge-1", 4, "50000", "alice-1", "bob-1", HUGE);
      assertEquals(ErrorReason.UNKNOWN_INSTRUMENT, huge.getRejection().getReason());
      assertFalse(huge.getRejection().getMessage().contains("X".repeat(65)));
      TradeResult hugeId = trade(h, HUGE, 5, "50000", "alice-1", "bob-1", PERP);
      assertEquals(ErrorReason.INVALID_TRADE_ID, hugeId.getRejection().getReason());
      assertTrue(hugeId.getTradeId().isEmpty() && hugeId.getRejection().getMessage().length() < 200);

      assertEquals(aliceBefore, view(h, "alice-1"));
      assertEquals(bobBefore, view(h, "bob-1"));

      // One trade without a fresh mark (the future has none) holds back only the later trades of
      // its accounts; the stream goes on for the others (before: the whole stream ended UNAVAILABLE).
      for (String id : List.of("un-a", "un-b", "un-c", "un-d", "un-e")) {
        h.open(id, "100000");
      }
      List<Trade> stream = List.of(
          Trade.newBuilder().setTradeId("un-1").setSequence(10).setInstrument(FUTURE).setPrice("50000")
              .setQuantity("0.1").setBuyerAccountId("un-a").setSellerAccountId("un-b").setAggressorSide(Side.BUY).build(),
          Trade.newBuilder().setTradeId("un-2").setSequence(11).setInstrument(PERP).setPrice("50000")
              .setQuantity("0.1").setBuyerAccountId("un-b").setSellerAccountId("un-c").setAggressorSide(Side.BUY).build(),
          Trade.newBuilder().setTradeId("un-3").setSequence(12).setInstrument(PERP).setPrice("50000")
              .setQuantity("0.1").setBuyerAccountId("un-d").setSellerAccountId("un-e").setAggressorSide(Side.BUY).build());
      List<TradeResult> results = Calls.inSentOrder(stream, await(h.engine.submitTrades()
          .addHeader("authorization", Calls.BEARER + ENGINE_TOKEN).invoke(Source.from(stream))
          .runWith(Sink.seq(), h.clients)));
      assertEquals(ErrorReason.MARK_STALE, results.get(0).getUnconfirmed().getReason(), results.toString());
      assertEquals(ErrorReason.EARLIER_TRADE_UNCONFIRMED, results.get(1).getUnconfirmed().getReason(),
          results.toString());
      assertTrue(results.get(2).hasAck(), results.toString());
      assertEquals(0, view(h, "un-b").getPositionsCount(), "nothing of the unconfirmed trades was applied");
      assertEquals(0, view(h, "un-c").getPositionsCount());
      // Resent in order on a new stream with the first left out (the engine gave it up): 11 runs.
      TradeResult resent = await(h.engine.submitTrades().addHeader("authorization", Calls.BEARER + ENGINE_TOKEN)
          .invoke(Source.single(stream.get(1))).runWith(Sink.seq(), h.clients)).get(0);
      assertTrue(resent.hasAck(), resent.toString());
      h.auditClean();
    }
  }

  private static AccountView view(LiquidationHarness h, String accountId) {
    return call(h.admin.getAccount(), OPERATOR_TOKEN, GetAccountRequest.newBuilder().setAccountId(accountId).build());
  }

  private static TradeResult trade(LiquidationHarness h, String tradeId, long sequence, String price, String buyer,
      String seller, String instrument) {
    List<TradeResult> results = await(h.engine.submitTrades().addHeader("authorization", Calls.BEARER + ENGINE_TOKEN)
        .invoke(Source.single(Trade.newBuilder().setTradeId(tradeId).setSequence(sequence).setInstrument(instrument)
            .setPrice(price).setQuantity("1").setBuyerAccountId(buyer).setSellerAccountId(seller)
            .setAggressorSide(Side.BUY).build()))
        .runWith(Sink.seq(), h.clients));
    assertEquals(1, results.size());
    return results.get(0);
  }

  private static String refusal(Runnable call) {
    CompletionException failure = assertThrows(CompletionException.class, call::run);
    StatusRuntimeException status = (StatusRuntimeException) failure.getCause();
    return status.getStatus().getDescription();
  }
}
