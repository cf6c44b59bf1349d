package io.clearinghouse.api;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.common.Identifiers;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.ops.Metrics;
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
import io.grpc.Status;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.NotUsed;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * clearing.v1.ClearingService: the matching engine's trade stream and pre-trade checks.
 *
 * <p>Each trade is checked on its own (ids, instrument, tick, lot, distinct sides, overflow, both
 * accounts open) so that a bad trade is refused before either side moves; then both sides are
 * applied in parallel, each exactly once (the accounts remember the sequences they applied), and
 * the trade is acknowledged when both are durable. If a side cannot be confirmed (a timeout, a
 * node going away), the stream fails with UNAVAILABLE rather than guess: the engine reconnects and
 * resends every trade without a result, and the accounts answer the sides already applied as
 * duplicates.
 */
public final class ClearingGrpcService implements ClearingServicePowerApi {
  private static final Logger log = LoggerFactory.getLogger(ClearingGrpcService.class);

  private final Accounts accounts;
  private final Authenticator auth;
  private final Instruments instruments;
  private final LastTrades lastTrades;
  private final ProtoMapping mapping;
  private final int tradesInFlight;
  /** Accounts known to be open. Accounts are never closed, so a hit never goes stale. */
  private final Set<String> openAccounts = ConcurrentHashMap.newKeySet();

  private final Metrics metrics;

  public ClearingGrpcService(Accounts accounts, Authenticator auth, Instruments instruments, LastTrades lastTrades,
      ProtoMapping mapping, int tradesInFlight, Metrics metrics) {
    this.metrics = metrics;
    this.accounts = accounts;
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
    return in.mapAsync(tradesInFlight, this::clear);
  }

  /** A trade that passed every check that needs no account. */
  private record CheckedTrade(Trade trade, Instrument instrument, long priceTicks, long lots) {}

  private CompletionStage<TradeResult> clear(Trade trade) {
    CheckedTrade checked;
    try {
      checked = check(trade);
    } catch (RejectedException e) {
      return CompletableFuture.completedFuture(rejection(trade, e));
    }
    return requireOpen(trade.getBuyerAccountId())
        .thenCompose(buyer -> requireOpen(trade.getSellerAccountId()))
        .thenCompose(open -> applyBothSides(checked))
        .exceptionally(failure -> {
          Throwable cause = failure instanceof CompletionException && failure.getCause() != null
              ? failure.getCause() : failure;
          if (cause instanceof RejectedException rejected && rejected.reason() != Rejection.TIMEOUT) {
            return rejection(trade, rejected);
          }
          if (cause instanceof GrpcServiceException) {
            throw failure instanceof CompletionException completion ? completion : new CompletionException(cause);
          }
          throw unconfirmed(trade, cause);
        });
  }

  private CheckedTrade check(Trade trade) {
    Identifiers.tradeId(trade.getTradeId());
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
    TradeInput.direction(trade.getAggressorSide());
    if (!trade.getBuyerOrderId().isEmpty()) {
      Identifiers.orderId(trade.getBuyerOrderId());
    }
    if (!trade.getSellerOrderId().isEmpty()) {
      Identifiers.orderId(trade.getSellerOrderId());
    }
    try {
      instrument.notional(priceTicks, lots);
    } catch (ArithmeticException e) {
      throw new RejectedException(Rejection.NOTIONAL_OVERFLOW, "price times quantity overflows");
    }
    return new CheckedTrade(trade, instrument, priceTicks, lots);
  }

  private CompletionStage<Void> requireOpen(String accountId) {
    if (openAccounts.contains(accountId)) {
      return CompletableFuture.completedFuture(null);
    }
    return accounts.get(accountId).thenAccept(summary -> openAccounts.add(accountId));
  }

  private CompletionStage<TradeResult> applyBothSides(CheckedTrade c) {
    Trade t = c.trade();
    String symbol = c.instrument().symbol();
    CompletionStage<AccountEntity.TradeSideApplied> buyer = accounts.applyTrade(t.getBuyerAccountId(), t.getTradeId(),
        t.getSequence(), symbol, c.lots(), c.priceTicks(), t.getAggressorSide() == io.clearinghouse.protocol.v1.Side.BUY, orderId(t.getBuyerOrderId()));
    CompletionStage<AccountEntity.TradeSideApplied> seller = accounts.applyTrade(t.getSellerAccountId(), t.getTradeId(),
        t.getSequence(), symbol, -c.lots(), c.priceTicks(), t.getAggressorSide() == io.clearinghouse.protocol.v1.Side.SELL, orderId(t.getSellerOrderId()));
    return buyer.handle(Side::of).thenCombine(seller.handle(Side::of), (b, s) -> {
      if (b.unknown() || s.unknown()) {
        // Not known whether that side was applied: make the engine resend instead of guessing.
        throw unconfirmed(t, b.unknown() ? b.failure() : s.failure());
      }
      if (b.applied() != null && s.applied() != null) {
        boolean duplicate = b.applied().duplicate() && s.applied().duplicate();
        if (!duplicate && !auth.sameOwner(t.getBuyerAccountId(), t.getSellerAccountId())) {
          // A resent old trade must not pull the mark's last-trade input back in time, and a wash
          // trade (one owner on both sides) must not pull it at all.
          lastTrades.record(symbol, c.priceTicks());
        }
        metrics.tradeCleared(duplicate);
        return TradeResult.newBuilder()
            .setTradeId(t.getTradeId())
            .setSequence(t.getSequence())
            .setAck(TradeAck.newBuilder()
                .setDuplicate(b.applied().duplicate() && s.applied().duplicate())
                .setBuyerFee(mapping.money(b.applied().fee()))
                .setSellerFee(mapping.money(s.applied().fee())))
            .build();
      }
      RejectedException refused = b.rejected() != null ? b.rejected() : s.rejected();
      if (b.applied() != null || s.applied() != null) {
        // Only an engine reusing a sequence or sending absurd sizes gets here; the audit names it.
        log.error("Trade {} (sequence {}) applied to the {} only: {}", t.getTradeId(), t.getSequence(),
            b.applied() != null ? "buyer" : "seller", refused.getMessage());
        return rejection(t, new RejectedException(refused.reason(), refused.getMessage() + " (the "
            + (b.applied() != null ? "buyer" : "seller") + " side was applied)"));
      }
      return rejection(t, refused);
    });
  }

  /** What became of one side: applied, refused, or unknown (a timeout or any other failure). */
  private record Side(AccountEntity.TradeSideApplied applied, RejectedException rejected, Throwable failure) {
    static Side of(AccountEntity.TradeSideApplied applied, Throwable failure) {
      if (failure == null) {
        return new Side(applied, null, null);
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      if (cause instanceof RejectedException rejected && rejected.reason() != Rejection.TIMEOUT) {
        return new Side(null, rejected, null);
      }
      return new Side(null, null, cause);
    }

    boolean unknown() {
      return failure != null;
    }
  }

  private static CompletionException unconfirmed(Trade trade, Throwable cause) {
    log.warn("Trade {} (sequence {}) not confirmed, failing the stream so it is resent: {}",
        trade.getTradeId(), trade.getSequence(), cause.toString());
    return new CompletionException(new GrpcServiceException(Status.UNAVAILABLE.withDescription(
        "TIMEOUT: trade " + trade.getTradeId() + " (sequence " + trade.getSequence()
            + ") could not be confirmed; reconnect and resend every trade without a result")));
  }

  private static String orderId(String id) {
    return id.isEmpty() ? null : id;
  }

  private TradeResult rejection(Trade trade, RejectedException e) {
    metrics.rejected(e.reason());
    return TradeResult.newBuilder()
        .setTradeId(trade.getTradeId())
        .setSequence(trade.getSequence())
        .setRejection(TradeRejection.newBuilder()
            .setReason(ErrorReason.valueOf(e.reason().name()))
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
