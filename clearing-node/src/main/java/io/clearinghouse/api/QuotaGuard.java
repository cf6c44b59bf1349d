package io.clearinghouse.api;

import io.clearinghouse.common.RejectedException;
import io.clearinghouse.metrics.Metrics;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.javadsl.GrpcExceptionHandler;
import org.apache.pekko.grpc.javadsl.GrpcMarshalling;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ResponseEntity;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.japi.function.Function;

/**
 * The per-token quotas ({@link Quotas}) in front of the generated gRPC handlers: a clearing.v1 call
 * of a known token is counted before its request is read, and refused there (RESOURCE_EXHAUSTED,
 * with its reason) when over a quota, so a refused call costs no decoding and no entity. A unary
 * call holds its slot until its response is ready; a streaming call until its response stream
 * ends, however it ends (completed, failed, or cancelled by the client). Calls without a known
 * token pass on: the service refuses them. Health and reflection are never counted.
 */
final class QuotaGuard implements Function<HttpRequest, CompletionStage<HttpResponse>> {
  private static final String GUARDED_PREFIX = "/clearing.v1.";

  private final Function<HttpRequest, CompletionStage<HttpResponse>> handler;
  private final Authenticator auth;
  private final Quotas quotas;
  private final Set<String> streamingPaths;
  private final Metrics metrics;
  private final ActorSystem<?> system;

  /** {@code streamingPaths}: the request paths ("/clearing.v1.Service/Method") of the streaming methods. */
  QuotaGuard(Function<HttpRequest, CompletionStage<HttpResponse>> handler, Authenticator auth, Quotas quotas,
      Set<String> streamingPaths, Metrics metrics, ActorSystem<?> system) {
    this.handler = handler;
    this.auth = auth;
    this.quotas = quotas;
    this.streamingPaths = Set.copyOf(streamingPaths);
    this.metrics = metrics;
    this.system = system;
  }

  @Override
  public CompletionStage<HttpResponse> apply(HttpRequest request) throws Exception {
    String path = request.getUri().path();
    if (!path.startsWith(GUARDED_PREFIX)) {
      return handler.apply(request);
    }
    Optional<Principal> caller = auth.identify(request.getHeader("authorization").map(HttpHeader::value));
    if (caller.isEmpty()) {
      return handler.apply(request);
    }
    boolean stream = streamingPaths.contains(path);
    Quotas.Permit permit;
    try {
      permit = quotas.begin(caller.get(), stream);
    } catch (RejectedException refused) {
      metrics.rejected(refused.reason());
      return refuse(request, refused);
    }
    CompletionStage<HttpResponse> response;
    try {
      response = handler.apply(request);
    } catch (Exception | Error e) {
      permit.release();
      throw e;
    }
    return response.handle((answer, failure) -> {
      if (failure != null) {
        permit.release();
        throw failure instanceof CompletionException c ? c : new CompletionException(failure);
      }
      return stream ? releasedAtTheEnd(answer, permit) : released(answer, permit);
    });
  }

  private static HttpResponse released(HttpResponse answer, Quotas.Permit permit) {
    permit.release();
    return answer;
  }

  /** The response, with the permit released once its stream of chunks ends. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static HttpResponse releasedAtTheEnd(HttpResponse answer, Quotas.Permit permit) {
    ResponseEntity entity = answer.entity();
    if (!(entity instanceof org.apache.pekko.http.scaladsl.model.HttpEntity.Chunked chunked)) {
      // A response that is whole already (a refusal, or a client stream's single answer).
      return released(answer, permit);
    }
    var watched = chunked.chunks().asJava().watchTermination((materialized, done) -> {
      done.whenComplete((ok, failure) -> permit.release());
      return materialized;
    });
    return answer.withEntity(new org.apache.pekko.http.scaladsl.model.HttpEntity.Chunked(chunked.contentType(),
        (org.apache.pekko.stream.scaladsl.Source) watched.asScala()));
  }

  /** A gRPC error answered at once, in the encoding the client asked for; the request is never read. */
  private CompletionStage<HttpResponse> refuse(HttpRequest request, RejectedException refused) {
    return GrpcMarshalling.negotiated(request, (reader, writer) -> CompletableFuture.completedFuture(
            GrpcExceptionHandler.standard(GrpcErrors.toGrpc(refused), writer, system)))
        .orElseGet(() -> CompletableFuture.completedFuture(HttpResponse.create()
            .withStatus(StatusCodes.UNSUPPORTED_MEDIA_TYPE)));
  }
}
