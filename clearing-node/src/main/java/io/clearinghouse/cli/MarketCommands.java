package io.clearinghouse.cli;

import static io.clearinghouse.cli.Session.CLEARING;
import static io.clearinghouse.cli.Session.PRICES;

import io.clearinghouse.protocol.v1.IndexPriceTick;
import io.clearinghouse.protocol.v1.MarkPriceUpdate;
import io.clearinghouse.protocol.v1.PublishSummary;
import io.clearinghouse.protocol.v1.ReleaseReservationRequest;
import io.clearinghouse.protocol.v1.ReservationView;
import io.clearinghouse.protocol.v1.ReserveMarginRequest;
import io.clearinghouse.protocol.v1.Side;
import io.clearinghouse.protocol.v1.StreamMarkPricesRequest;
import io.clearinghouse.protocol.v1.Trade;
import io.clearinghouse.protocol.v1.TradeResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The matching engine's and the feeders' calls, and the mark price stream. */
final class MarketCommands {
  enum Aggressor {
    buy, sell;

    Side side() {
      return this == buy ? Side.BUY : Side.SELL;
    }
  }

  private MarketCommands() {}

  @Command(name = "trade", description = "Clear one executed trade; the aggressor pays the taker fee (engine).")
  static int trade(@Mixin Call call, @Parameters(paramLabel = "SEQ", description = "the engine's sequence number") long sequence,
      @Parameters(paramLabel = "ID", description = "trade id") String tradeId,
      @Parameters(paramLabel = "INSTRUMENT") String instrument, @Parameters(paramLabel = "PRICE") String price,
      @Parameters(paramLabel = "QTY") String quantity, @Parameters(paramLabel = "BUYER") String buyer,
      @Parameters(paramLabel = "SELLER") String seller,
      @Parameters(paramLabel = "AGGRESSOR", description = "${COMPLETION-CANDIDATES}") Aggressor aggressor,
      @Parameters(paramLabel = "BUYER_ORDER", arity = "0..1", description = "the buyer's order, if it reserved") String buyerOrder,
      @Parameters(paramLabel = "SELLER_ORDER", arity = "0..1", description = "the seller's order, if it reserved") String sellerOrder) {
    Session s = call.session();
    Trade trade = Trade.newBuilder().setSequence(sequence).setTradeId(tradeId).setInstrument(instrument)
        .setPrice(price).setQuantity(quantity).setBuyerAccountId(buyer).setSellerAccountId(seller)
        .setAggressorSide(aggressor.side()).setBuyerOrderId(buyerOrder == null ? "" : buyerOrder)
        .setSellerOrderId(sellerOrder == null ? "" : sellerOrder).build();
    List<TradeResult> results = new ArrayList<>();
    s.exchange(CLEARING, "SubmitTrades", List.of(trade), TradeResult.getDefaultInstance(), true, result -> {
      results.add(result);
      return false;
    });
    if (results.isEmpty()) {
      throw io.grpc.Status.INTERNAL.withDescription("the trade stream ended without a result").asRuntimeException();
    }
    s.show(results.get(0), Views::trade);
    // Unconfirmed: not known yet (retry later), like an UNAVAILABLE answer.
    return results.get(0).hasAck() ? 0 : results.get(0).hasUnconfirmed() ? Chctl.UNAVAILABLE : Chctl.FAILED;
  }

  @Command(name = "reserve", description = "Pre-trade margin check: reserve an order's margin (engine).")
  static int reserve(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account, @Parameters(paramLabel = "ORDER") String order,
      @Parameters(paramLabel = "INSTRUMENT") String instrument,
      @Parameters(paramLabel = "SIDE", description = "${COMPLETION-CANDIDATES}") Aggressor side,
      @Parameters(paramLabel = "QTY") String quantity, @Parameters(paramLabel = "PRICE") String price) {
    Session s = call.session();
    return s.show(s.call(CLEARING, "ReserveMargin", ReserveMarginRequest.newBuilder().setAccountId(account)
        .setOrderId(order).setInstrument(instrument).setSide(side.side()).setQuantity(quantity).setLimitPrice(price)
        .build(), ReservationView.getDefaultInstance()), Views::reservation);
  }

  @Command(name = "release", description = "Release an order's reservation (engine).")
  static int release(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account, @Parameters(paramLabel = "ORDER") String order) {
    Session s = call.session();
    return s.show(s.call(CLEARING, "ReleaseReservation", ReleaseReservationRequest.newBuilder().setAccountId(account)
        .setOrderId(order).build(), ReservationView.getDefaultInstance()), Views::reservation);
  }

  @Command(name = "price", description = "Publish an index price stamped now (feeder).")
  static int price(@Mixin Call call, @Parameters(paramLabel = "SOURCE", description = "a source your token publishes for") String source,
      @Parameters(paramLabel = "INSTRUMENT") String instrument, @Parameters(paramLabel = "PRICE") String price) {
    Session s = call.session();
    PublishSummary summary = s.call(PRICES, "PublishIndexPrices", IndexPriceTick.newBuilder().setSource(source)
        .setInstrument(instrument).setPrice(price).setTimestampMs(System.currentTimeMillis()).build(),
        PublishSummary.getDefaultInstance());
    s.show(summary, Views::published);
    return summary.getRejected() == 0 ? 0 : Chctl.FAILED;
  }

  @Command(name = "marks", description = "Stream mark prices, until Ctrl-C (any token).")
  static int marks(@Mixin Call call, @Parameters(paramLabel = "INSTRUMENT", arity = "0..*", description = "all when none") List<String> instruments,
      @Option(names = "--count", paramLabel = "N", description = "stop after N updates") Long count) {
    Session s = call.session();
    AtomicLong seen = new AtomicLong();
    s.exchange(PRICES, "StreamMarkPrices", List.of(StreamMarkPricesRequest.newBuilder()
        .addAllInstruments(instruments == null ? List.of() : instruments).build()), MarkPriceUpdate.getDefaultInstance(),
        false, mark -> {
          s.showLine(mark, Views::mark);
          return count == null || seen.incrementAndGet() < count;
        });
    return 0;
  }
}
