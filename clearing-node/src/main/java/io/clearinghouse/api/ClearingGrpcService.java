package io.clearinghouse.api;

import io.clearinghouse.account.Accounts;
import io.clearinghouse.clearing.MarketCheck;
import io.clearinghouse.clearing.TradeContent;
import io.clearinghouse.clearing.TradeRegister;
import io.clearinghouse.clearing.TradeRegisters;
import io.clearinghouse.common.Identifiers;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.price.LastTrades;
import io.clearinghouse.protocol.v1.ClearingServicePowerApi;
import io.clearinghouse.protocol.v1.ErrorReason;
import io.clearinghouse.protocol.v1.ReleaseReservationRequest;
import io.clearinghouse.protocol.v1.ReservationView;
import io.clearinghouse.protocol.v1.ReserveMarginRequest;

import io.clearinghouse.protocol.v1.Trade;
import io.clearinghouse.protocol.v1.TradeAck;
import io.clearinghouse.protocol.v1.TradeRejection;
import io.clearinghouse.protocol.v1.TradeResult;
import io.clearinghouse.protocol.v1.TradeUnconfirmed;
import io.grpc.Status;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * clearing.v1.ClearingService: the matching engine's trade stream and pre-trade checks.
 *
 * <p>Each trade is checked on its own (ids, instrument, tick, lot, distinct sides, overflow) so that
 * a bad trade is refused before either side moves; then it goes to the trade register of its
 * sequence, which settles it as one unit: both sides applied, or neither (a resend that differs
 * from the first in any field is refused with TRADE_CONFLICT). A trade is handed to its register
 * only once every earlier trade of the stream with an account in common has its result, so each
 * account applies its trades in sequence order. If a trade's outcome is not known in time (a
 * timeout, a node going away, a stale mark), it is answered UNCONFIRMED rather than guessed, and so
 * is every later trade of the stream with an account in common, without being started
 * ({@link AccountOrder}); the stream goes on for every other account. The engine resends the
 * unconfirmed trades in order, and the register answers those it finished with their first outcome
 * and drives the others to theirs.
 */
public final class ClearingGrpcService implements ClearingServicePowerApi {
  private static final Logger log = LoggerFactory.getLogger(ClearingGrpcService.class);

  private final Accounts accounts;
  private final TradeRegisters registers;
  private final Authenticator auth;
  private final Instruments instruments;
  private final LastTrades lastTrades;
  private final ProtoMapping mapping;
  private final int tradesInFlight;
  private final Metrics metrics;

  private final MarketCheck market;
  private final AccountOrder.Hold hold;

  public ClearingGrpcService(Accounts accounts, TradeRegisters registers, MarketCheck market, Authenticator auth,
      Instruments instruments, LastTrades lastTrades, ProtoMapping mapping, int tradesInFlight, Metrics metrics) {
    this(accounts, registers, market, auth, instruments, lastTrades, mapping, tradesInFlight, metrics, "waiting-too");
  }

  /** {@code hold}: clearinghouse.clearing.hold-after-unconfirmed, waiting-too or unconfirmed-only. */
  public ClearingGrpcService(Accounts accounts, TradeRegisters registers, MarketCheck market, Authenticator auth,
      Instruments instruments, LastTrades lastTrades, ProtoMapping mapping, int tradesInFlight, Metrics metrics,
      String hold) {
    this.hold = switch (hold) {
      case "waiting-too" -> AccountOrder.Hold.WAITING_TOO;
      case "unconfirmed-only" -> AccountOrder.Hold.UNCONFIRMED_ONLY;
      default -> throw new com.typesafe.config.ConfigException.BadValue("clearinghouse.clearing.hold-after-unconfirmed",
          "must be waiting-too or unconfirmed-only, was " + hold);
    };
    this.market = market;
    this.accounts = accounts;
    this.registers = registers;
    this.metrics = metrics;
    this.auth = auth;
    this.instruments = instruments;
    this.lastTrades = lastTrades;
    this.mapping = mapping;
    this.tradesInFlight = tradesInFlight;
  }

  @Override
  public Source<TradeResult, NotUsed> submitTrades(Source<Trade, NotUsed> in, Metadata metadata) {
    try {
      auth.require(metadata, Role.ENGINE);
    } catch (RejectedException e) {
      return Source.failed(GrpcErrors.toGrpc(e, metrics));
    }
    // One per stream: the order is the stream's sequence order.
    AccountOrder order = new AccountOrder(hold);
    // Results as they come (each names its trade): one trade waiting for an account that is away
    // never holds back the results of the others. The trades are still started in stream order.
    return ExpiringStreams.untilExpiry(in.mapAsyncUnordered(tradesInFlight, trade -> clear(trade, order)),
        auth.remaining(metadata));
  }

  private CompletionStage<TradeResult> clear(Trade trade, AccountOrder order) {
    TradeContent content;
    try {
      content = check(trade);
    } catch (RejectedException e) {
      return CompletableFuture.completedFuture(rejection(trade, e));
    }
    return order.after(content.sequence(), content.buyer(), content.seller(), () -> registers.submit(content)
        .handle((reply, failure) -> failure != null ? unconfirmed(trade, failure) : result(trade, content, reply)),
        TradeResult::hasUnconfirmed,
        blocking -> unconfirmed(trade, Rejection.EARLIER_TRADE_UNCONFIRMED, "trade sequence " + blocking
            + " of the same account is unconfirmed in this stream: resend this one after it"));
  }

  private TradeContent check(Trade trade) {
    String tradeId = Identifiers.tradeId(trade.getTradeId());
    if (trade.getSequence() <= 0) {
      throw new RejectedException(Rejection.INVALID_SEQUENCE, "sequence must be positive");
    }
    Instrument instrument = instruments.require(trade.getInstrument());
    long priceTicks = TradeInput.priceTicks(instrument, trade.getPrice());
    long lots = TradeInput.quantityLots(instrument, trade.getQuantity());
    String buyer = Identifiers.accountId(trade.getBuyerAccountId());
    String seller = Identifiers.accountId(trade.getSellerAccountId());
    if (buyer.equals(seller)) {
      throw new RejectedException(Rejection.SAME_ACCOUNT_BOTH_SIDES, "buyer and seller are both " + buyer);
    }
    boolean buyerAggressor = TradeInput.direction(trade.getAggressorSide()) > 0;
    String buyerOrder = trade.getBuyerOrderId().isEmpty() ? null : Identifiers.orderId(trade.getBuyerOrderId());
    String sellerOrder = trade.getSellerOrderId().isEmpty() ? null : Identifiers.orderId(trade.getSellerOrderId());
    try {
      instrument.notional(priceTicks, lots);
    } catch (ArithmeticException e) {
      throw new RejectedException(Rejection.NOTIONAL_OVERFLOW, "price times quantity overflows");
    }
    return new TradeContent(trade.getSequence(), tradeId, instrument.symbol(), buyer, seller, priceTicks, lots,
        buyerAggressor, buyerOrder, sellerOrder);
  }

  private TradeResult result(Trade trade, TradeContent content, TradeRegister.Reply reply) {
    if (reply instanceof TradeRegister.Refused refused) {
      if (refused.reason() == Rejection.MARK_STALE) {
        // Not a refusal of this trade but of now: resent once the index is fresh, with every later
        // trade of the same accounts (which wait for it).
        return unconfirmed(trade, Rejection.MARK_STALE, refused.message() + "; resend it when the mark is fresh");
      }
      return rejection(trade, new RejectedException(refused.reason(), refused.message()));
    }
    TradeRegister.Settled settled = (TradeRegister.Settled) reply;
    if (!settled.duplicate() && !auth.sameOwner(content.buyer(), content.seller())) {
      // A resent old trade must not pull the mark's last-trade input back in time, and a wash
      // trade (one owner on both sides) must not pull it at all.
      lastTrades.record(content.instrument(), content.priceTicks());
    }
    metrics.tradeCleared(settled.duplicate());
    return TradeResult.newBuilder()
        .setTradeId(trade.getTradeId())
        .setSequence(trade.getSequence())
        .setAck(TradeAck.newBuilder()
            .setDuplicate(settled.duplicate())
            .setBuyerFee(mapping.money(settled.buyerFee()))
            .setSellerFee(mapping.money(settled.sellerFee())))
        .build();
  }

  private TradeResult unconfirmed(Trade trade, Throwable failure) {
    Throwable cause = io.clearinghouse.common.Failures.unwrap(failure);
    log.warn("Trade {} (sequence {}) not confirmed in time, answered UNCONFIRMED: {}",
        trade.getTradeId(), trade.getSequence(), cause.toString());
    return unconfirmed(trade, Rejection.TIMEOUT, "trade " + trade.getTradeId() + " (sequence " + trade.getSequence()
        + ") could not be confirmed in time: resend it");
  }

  private TradeResult unconfirmed(Trade trade, Rejection reason, String message) {
    metrics.rejected(reason);
    return TradeResult.newBuilder()
        .setTradeId(trade.getTradeId())
        .setSequence(trade.getSequence())
        .setUnconfirmed(TradeUnconfirmed.newBuilder()
            .setReason(GrpcErrors.errorReason(reason))
            .setMessage(message))
        .build();
  }

  private TradeResult rejection(Trade trade, RejectedException e) {
    metrics.rejected(e.reason());
    // A trade id that failed its own check may be of any length: never echoed whole.
    String tradeId = trade.getTradeId().length() <= Identifiers.MAX_LENGTH ? trade.getTradeId() : "";
    return TradeResult.newBuilder()
        .setTradeId(tradeId)
        .setSequence(trade.getSequence())
        .setRejection(TradeRejection.newBuilder()
            .setReason(GrpcErrors.errorReason(e.reason()))
            .setMessage(e.getMessage()))
        .build();
  }

  @Override
  public CompletionStage<ReservationView> reserveMargin(ReserveMarginRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.ENGINE);
      String accountId = Identifiers.accountId(in.getAccountId());
      String orderId = Identifiers.orderId(in.getOrderId());
      Instrument instrument = instruments.require(in.getInstrument());
      long direction = TradeInput.direction(in.getSide());
      long lots = TradeInput.quantityLots(instrument, in.getQuantity());
      long priceTicks = TradeInput.priceTicks(instrument, in.getLimitPrice());
      market.order(instrument.symbol()).ifPresent(refusal -> {
        throw refusal;
      });
      return accounts.reserve(accountId, orderId, instrument.symbol(), direction * lots, priceTicks)
          .thenApply(reserved -> mapping.reservation(accountId, reserved));
    });
  }

  @Override
  public CompletionStage<ReservationView> releaseReservation(ReleaseReservationRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.ENGINE);
      String accountId = Identifiers.accountId(in.getAccountId());
      String orderId = Identifiers.orderId(in.getOrderId());
      return accounts.release(accountId, orderId).thenApply(released -> mapping.reservation(accountId, released));
    });
  }
}
