package io.clearinghouse.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.api.GrpcErrors;
import io.clearinghouse.common.Rejection;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.grpc.javadsl.SingleResponseRequestBuilder;

/** Blocking helpers for gRPC calls in tests, and the check of a refusal's code and stable reason. */
final class Calls {
  static final String BEARER = "Bearer ";
  private static final Metadata.Key<String> REASON = Metadata.Key.of(GrpcErrors.REASON_TRAILER, Metadata.ASCII_STRING_MARSHALLER);

  private Calls() {}

  static <I, O> O call(SingleResponseRequestBuilder<I, O> rpc, String token, I request) {
    return await(withToken(rpc, token).invoke(request));
  }

  static <I, O> SingleResponseRequestBuilder<I, O> withToken(SingleResponseRequestBuilder<I, O> rpc, String token) {
    return token == null ? rpc : rpc.addHeader("authorization", BEARER + token);
  }

  static <I, O> org.apache.pekko.grpc.javadsl.StreamResponseRequestBuilder<I, O> streamWithToken(
      org.apache.pekko.grpc.javadsl.StreamResponseRequestBuilder<I, O> rpc, String token) {
    return token == null ? rpc : rpc.addHeader("authorization", BEARER + token);
  }

  static <T> T await(CompletionStage<T> stage) {
    return stage.toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
  }

  /** Calls and expects a refusal with exactly this status code and reason. */
  static <I, O> void refused(SingleResponseRequestBuilder<I, O> rpc, String token, I request,
      Status.Code code, Rejection reason) {
    CompletionException failure = assertThrows(CompletionException.class,
        () -> await(withToken(rpc, token).invoke(request)));
    StatusRuntimeException status = assertInstanceOfStatus(failure.getCause());
    assertEquals(code, status.getStatus().getCode(), status.getStatus().getDescription());
    String description = status.getStatus().getDescription();
    assertTrue(description != null && description.startsWith(reason.name() + ": "),
        "expected reason " + reason + " in '" + description + "'");
    Metadata trailers = status.getTrailers();
    assertTrue(trailers != null, "no trailers");
    assertEquals(reason.name(), trailers.get(REASON));
  }

  private static StatusRuntimeException assertInstanceOfStatus(Throwable cause) {
    if (cause instanceof StatusRuntimeException status) {
      return status;
    }
    throw new AssertionError("expected a gRPC status error, got " + cause, cause);
  }
}
