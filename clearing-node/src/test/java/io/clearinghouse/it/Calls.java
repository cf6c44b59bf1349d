package io.clearinghouse.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.api.GrpcErrors;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.protocol.v1.Trade;
import io.clearinghouse.protocol.v1.TradeResult;
import io.grpc.Metadata;
import java.util.ArrayList;
import java.util.List;
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

  /**
   * The results of a trade stream (which come as each trade's outcome is known) in the order the
   * trades were sent: each matched by sequence and trade id (empty for a trade refused for its id),
   * results for the same trade sent twice in the order they came.
   */
  static List<TradeResult> inSentOrder(List<Trade> sent, List<TradeResult> results) {
    List<TradeResult> left = new ArrayList<>(results);
    List<TradeResult> ordered = new ArrayList<>(sent.size());
    for (Trade trade : sent) {
      int found = -1;
      for (int i = 0; i < left.size() && found < 0; i++) {
        TradeResult r = left.get(i);
        if (r.getSequence() == trade.getSequence()
            && (r.getTradeId().equals(trade.getTradeId()) || r.getTradeId().isEmpty())) {
          found = i;
        }
      }
      if (found < 0) {
        throw new AssertionError("no result for trade " + trade.getTradeId() + " (sequence " + trade.getSequence() + ")");
      }
      ordered.add(left.remove(found));
    }
    return ordered;
  }
}
