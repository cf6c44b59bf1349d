package io.clearinghouse.api;

import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.grpc.Status;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.javadsl.MetadataBuilder;
import io.clearinghouse.ops.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where refusals become gRPC statuses. Each {@link Rejection} has one status code;
 * its name travels in the status message and in the {@code clearing-error-reason} trailer.
 * Anything unexpected becomes INTERNAL without details: a caller never sees a stack trace.
 */
public final class GrpcErrors {
  public static final String REASON_TRAILER = "clearing-error-reason";
  private static final Logger log = LoggerFactory.getLogger(GrpcErrors.class);

  private GrpcErrors() {}

  public static Status.Code statusCode(Rejection reason) {
    return switch (reason) {
      case MALFORMED_AMOUNT, AMOUNT_NOT_POSITIVE, AMOUNT_TOO_PRECISE, AMOUNT_OVERFLOW,
          INVALID_ACCOUNT_ID, INVALID_IDEMPOTENCY_KEY, UNKNOWN_INSTRUMENT, MALFORMED_PRICE, PRICE_NOT_POSITIVE,
          PRICE_OFF_TICK, MALFORMED_QUANTITY, QUANTITY_NOT_POSITIVE, QUANTITY_OFF_LOT, NOTIONAL_OVERFLOW,
          INVALID_TRADE_ID, INVALID_SEQUENCE, SAME_ACCOUNT_BOTH_SIDES, INVALID_SIDE, INVALID_ORDER_ID,
          INVALID_LEVERAGE, INVALID_MARGIN_MODE, UNKNOWN_SOURCE, TIMESTAMP_IN_FUTURE, TIMESTAMP_TOO_OLD,
          UNKNOWN_LIQUIDATION_ID, AMOUNT_ABOVE_MAXIMUM ->
          Status.Code.INVALID_ARGUMENT;
      case ACCOUNT_NOT_FOUND, RESERVATION_NOT_FOUND, NO_POSITION, UNKNOWN_FUND, LIQUIDATION_NOT_FOUND, UNKNOWN_RESERVE ->
          Status.Code.NOT_FOUND;
      case IDEMPOTENCY_KEY_REUSED, TRADE_CONFLICT, RESERVATION_CONFLICT -> Status.Code.ALREADY_EXISTS;
      case INSUFFICIENT_WITHDRAWABLE, BALANCE_OVERFLOW, TRADE_TOO_OLD, INSUFFICIENT_MARGIN, LEVERAGE_ABOVE_CAP,
          LEVERAGE_ABOVE_TIER_MAXIMUM, POSITION_OPEN, NOT_ISOLATED, INSUFFICIENT_ISOLATED_MARGIN, ACCOUNT_LIQUIDATING,
          NOT_LIQUIDATING, BACKSTOP_DECLINED, ACCOUNT_IN_DEBT, STOP_WRONG_SIDE, PRICE_OUTSIDE_BAND,
          POSITION_LIMIT, ORDERS_OPEN, FILL_BEYOND_ORDER, INSUFFICIENT_RESERVE ->
          Status.Code.FAILED_PRECONDITION;
      case MISSING_TOKEN, UNKNOWN_TOKEN -> Status.Code.UNAUTHENTICATED;
      case WRONG_ROLE, NOT_ACCOUNT_OWNER, SOURCE_NOT_OWNED -> Status.Code.PERMISSION_DENIED;
      case TIMEOUT, MARK_STALE, EARLIER_TRADE_UNCONFIRMED -> Status.Code.UNAVAILABLE;
      case IDEMPOTENCY_WINDOW_FULL -> Status.Code.RESOURCE_EXHAUSTED;
    };
  }

  /** Runs a call, turning both thrown and asynchronous failures into gRPC errors, counted by reason. */
  public static <T> CompletionStage<T> call(Metrics metrics, Supplier<CompletionStage<T>> body) {
    CompletionStage<T> result;
    try {
      result = body.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(toGrpc(e, metrics));
    }
    return result.exceptionallyCompose(e -> CompletableFuture.failedFuture(toGrpc(e, metrics)));
  }

  static GrpcServiceException toGrpc(Throwable failure, Metrics metrics) {
    if (unwrap(failure) instanceof RejectedException rejected) {
      metrics.rejected(rejected.reason());
    }
    return toGrpc(failure);
  }

  static GrpcServiceException toGrpc(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof GrpcServiceException grpc) {
      return grpc;
    }
    if (cause instanceof RejectedException rejected) {
      Status status = Status.fromCode(statusCode(rejected.reason()))
          .withDescription(rejected.reason().name() + ": " + rejected.getMessage());
      return new GrpcServiceException(status,
          new MetadataBuilder().addText(REASON_TRAILER, rejected.reason().name()).build());
    }
    log.error("Unexpected failure in a gRPC call", cause);
    return new GrpcServiceException(Status.INTERNAL.withDescription("internal error"));
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable current = failure;
    while ((current instanceof CompletionException || current instanceof ExecutionException)
        && current.getCause() != null) {
      current = current.getCause();
    }
    return current;
  }
}
