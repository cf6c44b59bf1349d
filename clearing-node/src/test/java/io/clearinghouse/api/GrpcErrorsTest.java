package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.protocol.v1.ErrorReason;
import io.grpc.Status;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.Trailers;
import org.junit.jupiter.api.Test;

/**
 * The one place where failures become gRPC statuses: every reason reaches the client with its
 * code, its name and the reason trailer; an ask timeout is UNAVAILABLE (TIMEOUT), a request that
 * is not protobuf INVALID_ARGUMENT (MALFORMED_MESSAGE), and no description starts or ends with
 * whitespace (strict HTTP/2 peers drop such a grpc-message header).
 */
class GrpcErrorsTest {
  private final Metrics metrics = new Metrics();

  @Test
  void everyRejectionIsAnErrorReasonOfTheApi() {
    for (Rejection reason : Rejection.values()) {
      assertEquals(reason.name(), ErrorReason.valueOf(reason.name()).name());
      GrpcServiceException grpc = GrpcErrors.toGrpc(new RejectedException(reason, "why"));
      assertEquals(GrpcErrors.statusCode(reason), grpc.getStatus().getCode());
      assertEquals(reason.name() + ": why", grpc.getStatus().getDescription());
      assertEquals(Optional.of(reason.name()), grpc.getMetadata().getText(GrpcErrors.REASON_TRAILER));
    }
  }

  /** Liquidations, funds and the halt switch ask entities with a timeout; pekko fails such an ask so. */
  @Test
  void anAskThatTimedOutIsUnavailableWithTheTimeoutReason() {
    var failed = GrpcErrors.call(metrics, () -> CompletableFuture.failedFuture(new CompletionException(
        new TimeoutException("Ask timed out on [EntityRef(EntityTypeKey[PriceFeed], BTCUSDT-PERP)] after [10000 ms]"))));
    GrpcServiceException grpc = failure(failed.toCompletableFuture());
    assertEquals(Status.Code.UNAVAILABLE, grpc.getStatus().getCode());
    assertTrue(grpc.getStatus().getDescription().startsWith("TIMEOUT: "), grpc.getStatus().getDescription());
    assertEquals(Optional.of("TIMEOUT"), grpc.getMetadata().getText(GrpcErrors.REASON_TRAILER));
  }

  @Test
  void aRequestThatIsNotProtobufIsAnInvalidArgumentWithAMessage() {
    Trailers trailers = handle(new InvalidProtocolBufferException("While parsing a protocol message, the input ended"
        + " unexpectedly in the middle of a field."));
    assertEquals(Status.Code.INVALID_ARGUMENT, trailers.getStatus().getCode());
    assertTrue(trailers.getStatus().getDescription().startsWith("MALFORMED_MESSAGE: the request is not a valid"),
        trailers.getStatus().getDescription());
    assertEquals(Optional.of("MALFORMED_MESSAGE"), trailers.getMetadata().getText(GrpcErrors.REASON_TRAILER));
  }

  @Test
  void descriptionsNeverStartOrEndWithWhitespace() {
    Trailers made = handle(new GrpcServiceException(Status.NOT_FOUND.withDescription("unknown service foo ")));
    assertEquals("unknown service foo", made.getStatus().getDescription());
    Trailers refused = handle(new RejectedException(Rejection.UNKNOWN_INSTRUMENT, "unknown instrument "));
    assertEquals("UNKNOWN_INSTRUMENT: unknown instrument", refused.getStatus().getDescription());
    assertEquals("(no description)", GrpcErrors.description("  "));
  }

  @Test
  void anythingElseIsInternalWithoutDetails() {
    Trailers trailers = handle(new IllegalStateException("secret detail"));
    assertEquals(Status.Code.INTERNAL, trailers.getStatus().getCode());
    assertEquals("internal error", trailers.getStatus().getDescription());
  }

  private Trailers handle(Throwable failure) {
    try {
      return GrpcErrors.exceptionHandler(metrics).apply(null).apply(new CompletionException(failure));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static GrpcServiceException failure(CompletableFuture<?> future) {
    try {
      future.join();
      throw new AssertionError("expected a failure");
    } catch (CompletionException e) {
      return (GrpcServiceException) e.getCause();
    }
  }
}
