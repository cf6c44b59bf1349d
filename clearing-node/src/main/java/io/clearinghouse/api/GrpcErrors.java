package io.clearinghouse.api;

import com.google.protobuf.InvalidProtocolBufferException;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.Trailers;
import org.apache.pekko.grpc.internal.MissingParameterException;
import org.apache.pekko.http.scaladsl.model.http2.PeerClosedStreamException;
import org.apache.pekko.grpc.javadsl.MetadataBuilder;
import io.clearinghouse.metrics.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where refusals become gRPC statuses. Each {@link Rejection} has one status code;
 * its name travels in the status message and in the {@code clearing-error-reason} trailer. An
 * ask that timed out is UNAVAILABLE (TIMEOUT), a request that is not protobuf INVALID_ARGUMENT
 * (MALFORMED_MESSAGE); anything else unexpected becomes INTERNAL without details: a caller never
 * sees a stack trace.
 */
public final class GrpcErrors {
  public static final String REASON_TRAILER = "clearing-error-reason";
  private static final Logger log = LoggerFactory.getLogger(GrpcErrors.class);

  private GrpcErrors() {}

  public static Status.Code statusCode(Rejection reason) {
    return switch (reason) {
      case INVALID_PAGE, NOT_PERPETUAL -> Status.Code.INVALID_ARGUMENT;
      case MALFORMED_AMOUNT, AMOUNT_NOT_POSITIVE, AMOUNT_TOO_PRECISE, AMOUNT_OVERFLOW,
          INVALID_ACCOUNT_ID, INVALID_IDEMPOTENCY_KEY, UNKNOWN_INSTRUMENT, MALFORMED_PRICE, PRICE_NOT_POSITIVE,
          PRICE_OFF_TICK, MALFORMED_QUANTITY, QUANTITY_NOT_POSITIVE, QUANTITY_OFF_LOT, NOTIONAL_OVERFLOW,
          INVALID_TRADE_ID, INVALID_SEQUENCE, SAME_ACCOUNT_BOTH_SIDES, INVALID_SIDE, INVALID_ORDER_ID,
          INVALID_LEVERAGE, INVALID_MARGIN_MODE, UNKNOWN_SOURCE, TIMESTAMP_IN_FUTURE, TIMESTAMP_TOO_OLD,
          UNKNOWN_LIQUIDATION_ID, AMOUNT_ABOVE_MAXIMUM, MALFORMED_MESSAGE, INVALID_SHOCK, NOT_DATED_FUTURE,
          INVALID_FORCE_REASON ->
          Status.Code.INVALID_ARGUMENT;
      case ACCOUNT_NOT_FOUND, RESERVATION_NOT_FOUND, NO_POSITION, UNKNOWN_FUND, LIQUIDATION_NOT_FOUND, UNKNOWN_RESERVE,
          UNKNOWN_SCENARIO ->
          Status.Code.NOT_FOUND;
      case IDEMPOTENCY_KEY_REUSED, TRADE_CONFLICT, RESERVATION_CONFLICT -> Status.Code.ALREADY_EXISTS;
      case INSUFFICIENT_WITHDRAWABLE, BALANCE_OVERFLOW, TRADE_TOO_OLD, INSUFFICIENT_MARGIN, LEVERAGE_ABOVE_CAP,
          LEVERAGE_ABOVE_TIER_MAXIMUM, POSITION_OPEN, NOT_ISOLATED, INSUFFICIENT_ISOLATED_MARGIN, ACCOUNT_LIQUIDATING,
          NOT_LIQUIDATING, BACKSTOP_DECLINED, ACCOUNT_IN_DEBT, STOP_WRONG_SIDE, PRICE_OUTSIDE_BAND,
          POSITION_LIMIT, ORDERS_OPEN, FILL_BEYOND_ORDER, INSUFFICIENT_RESERVE, ACCOUNT_POSITION_LIMIT,
          OPEN_INTEREST_LIMIT, CONCENTRATION_LIMIT, INSTRUMENT_EXPIRED, INSTRUMENT_SETTLED, INSTRUMENT_NOT_EXPIRED,
          INSTRUMENT_NOT_LISTED, SETTLEMENT_PRICE_OFF_INDEX ->
          Status.Code.FAILED_PRECONDITION;
      case MISSING_TOKEN, UNKNOWN_TOKEN, TOKEN_EXPIRED -> Status.Code.UNAUTHENTICATED;
      case WRONG_ROLE, NOT_ACCOUNT_OWNER, SOURCE_NOT_OWNED -> Status.Code.PERMISSION_DENIED;
      case TIMEOUT, MARK_STALE, EARLIER_TRADE_UNCONFIRMED, TRADE_SETTLING -> Status.Code.UNAVAILABLE;
      case IDEMPOTENCY_WINDOW_FULL, MESSAGE_TOO_LARGE, RATE_LIMITED, TOO_MANY_CONCURRENT_CALLS, TOO_MANY_STREAMS,
          TOO_MANY_ACCOUNT_STREAMS -> Status.Code.RESOURCE_EXHAUSTED;
      case COMPRESSION_NOT_SUPPORTED -> Status.Code.UNIMPLEMENTED;
      case JOURNAL_UNREADABLE -> Status.Code.DATA_LOSS;
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
    // A status made earlier was counted where it was made.
    boolean counted = unwrap(failure) instanceof StatusRuntimeException;
    GrpcServiceException grpc = toGrpc(failure);
    if (!counted) {
      grpc.getMetadata().getText(REASON_TRAILER).ifPresent(reason -> metrics.rejected(Rejection.valueOf(reason)));
    }
    return grpc;
  }

  static GrpcServiceException toGrpc(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof GrpcServiceException grpc) {
      return grpc;
    }
    if (cause instanceof StatusRuntimeException status) {
      return new GrpcServiceException(status.getStatus());
    }
    if (cause instanceof RejectedException rejected) {
      return refusal(rejected.reason(), rejected.getMessage());
    }
    if (cause instanceof TimeoutException) {
      // An ask that found no answer in time (an account, a fund, a price feed, a saga, a monitor):
      // retryable, as every call that moves money carries a key that makes a retry safe.
      return refusal(Rejection.TIMEOUT, "no answer in time; retrying is safe (with the same key, where the call has one)");
    }
    if (cause instanceof InvalidProtocolBufferException malformed) {
      return refusal(Rejection.MALFORMED_MESSAGE, "the request is not a valid protobuf message of this call: "
          + malformed.getMessage());
    }
    if (cause instanceof MissingParameterException) {
      return refusal(Rejection.MALFORMED_MESSAGE, "a unary call carries exactly one request message");
    }
    log.error("Unexpected failure in a gRPC call", cause);
    return new GrpcServiceException(Status.INTERNAL.withDescription("internal error"));
  }

  /** The status of a refusal: its code, a description led by the reason, and the reason trailer. */
  public static GrpcServiceException refusal(Rejection reason, String message) {
    Status status = Status.fromCode(statusCode(reason)).withDescription(description(reason.name() + ": " + message));
    return new GrpcServiceException(status, new MetadataBuilder().addText(REASON_TRAILER, reason.name()).build());
  }

  /**
   * A status description fit for the {@code grpc-message} header. pekko-grpc percent-encodes
   * control characters but not spaces, and a header value must not start or end with whitespace
   * (RFC 9113 section 8.2.1): strict HTTP/2 stacks (nghttp2, under grpc-js, curl and most of the
   * C-core clients) drop such a field, and the message comes back empty. So it is trimmed here,
   * and an empty one is named.
   */
  static String description(String text) {
    if (text == null) {
      return null;
    }
    String trimmed = text.strip();
    return trimmed.isEmpty() ? "(no description)" : trimmed;
  }

  /**
   * The exception handler of every generated gRPC handler: whatever fails a call, before or
   * inside a service (a request that is not protobuf, a frame refused by the transport guard,
   * an ask timeout), ends as a status with a reason and a description; statuses built elsewhere
   * get their description trimmed (see {@link #description}).
   */
  public static org.apache.pekko.japi.Function<ActorSystem, org.apache.pekko.japi.Function<Throwable, Trailers>>
      exceptionHandler(Metrics metrics) {
    return system -> failure -> {
      Throwable cause = unwrap(failure);
      if (cause instanceof PeerClosedStreamException) {
        // The caller went away (RST_STREAM): nobody reads this status.
        return new Trailers(Status.CANCELLED.withDescription("the caller cancelled the stream"));
      }
      GrpcServiceException grpc = toGrpc(cause, metrics);
      Status status = grpc.getStatus();
      return new Trailers(status.withDescription(description(status.getDescription())), grpc.getMetadata());
    };
  }

  private static Throwable unwrap(Throwable failure) {
    return io.clearinghouse.common.Failures.unwrap(failure);
  }

  /** The API's reason for {@code reason} (the same name: every Rejection has one, see GrpcErrorsTest). */
  public static io.clearinghouse.protocol.v1.ErrorReason errorReason(Rejection reason) {
    return io.clearinghouse.protocol.v1.ErrorReason.valueOf(reason.name());
  }

  /** The HTTP status of a refusal on the management port, by the kind of its gRPC status. */
  public static int httpStatus(Rejection reason) {
    return switch (statusCode(reason)) {
      case INVALID_ARGUMENT -> 400;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, FAILED_PRECONDITION -> 409;
      case UNAUTHENTICATED -> 401;
      case PERMISSION_DENIED -> 403;
      case RESOURCE_EXHAUSTED -> 429;
      // A journal that does not read: that one resource cannot be served until it is repaired.
      case UNAVAILABLE, DATA_LOSS -> 503;
      case UNIMPLEMENTED -> 415;
      default -> 500;
    };
  }
}
