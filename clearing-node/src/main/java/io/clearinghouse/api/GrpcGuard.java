package io.clearinghouse.api;

import com.google.protobuf.Descriptors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigUtil;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.metrics.Metrics;
import io.grpc.health.v1.Health;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.GrpcProtocol;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.ServiceDescription;
import org.apache.pekko.grpc.internal.GrpcProtocolNative;
import org.apache.pekko.grpc.internal.Identity$;
import org.apache.pekko.grpc.javadsl.GrpcExceptionHandler;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Connection;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * What every request to the gRPC port passes before pekko-grpc's handlers see it (they buffer
 * whatever length a frame declares, inflate gzip without a bound, and decode a unary request
 * before the service checks the token):
 *
 * <ul>
 *   <li>HTTP/2 only: gRPC needs it; an HTTP/1 request is answered 505 and the connection closed;
 *   <li>gRPC only ({@code application/grpc}): anything else is answered 415 (no gRPC-Web here);
 *   <li>a token the node knows, for every service but grpc.health.v1 and server reflection:
 *       missing or unknown, the call is answered UNAUTHENTICATED from its headers, and its body
 *       is never read (roles are still checked by each service);
 *   <li>no compression: {@code grpc-encoding} other than identity is answered UNIMPLEMENTED
 *       (COMPRESSION_NOT_SUPPORTED) from the headers, a compressed frame at its header;
 *   <li>each message at most {@code max-message-bytes} ({@code max-unauthenticated-message-bytes}
 *       for the services that need no token), refused RESOURCE_EXHAUSTED at its 5-byte header
 *       ({@link MessageLimit});
 *   <li>a unary call is answered within {@code unary-timeout} (or its override, e.g. for the audit):
 *       past it UNAVAILABLE (TIMEOUT), a gRPC status, never a hanging call or an HTTP error page.
 * </ul>
 */
public final class GrpcGuard {
  /** Services that answer without a token: probes and tools carry none. */
  static final Set<String> OPEN_SERVICES = Set.of(Health.name, "grpc.reflection.v1alpha.ServerReflection");
  private static final GrpcProtocol.GrpcProtocolWriter WRITER = GrpcProtocolNative.newWriter(Identity$.MODULE$);

  /** {@code clearinghouse.grpc}: the limits above. */
  public record Settings(long maxMessageBytes, long maxUnauthenticatedMessageBytes, Duration unaryTimeout,
      Map<String, Duration> unaryTimeoutOverrides, Duration refusedBodyGrace) {
    public Settings {
      unaryTimeoutOverrides = Map.copyOf(unaryTimeoutOverrides);
    }

    /** The unary timeout of a call path ({@code /package.Service/Method}). */
    public Duration unaryTimeout(String path) {
      return unaryTimeoutOverrides.getOrDefault(path.startsWith("/") ? path.substring(1) : path, unaryTimeout);
    }

    public static Settings fromConfig(Config config) {
      Config grpc = config.getConfig("clearinghouse.grpc");
      long max = positive(grpc, "max-message-bytes");
      long open = positive(grpc, "max-unauthenticated-message-bytes");
      if (max > Integer.MAX_VALUE - MessageLimit.HEADER_BYTES) {
        throw new ConfigException.BadValue("clearinghouse.grpc.max-message-bytes", "at most 2 GiB");
      }
      Duration unary = grpc.getDuration("unary-timeout");
      Duration ask = config.getDuration("clearinghouse.account.ask-timeout");
      if (unary.compareTo(ask) <= 0) {
        throw new ConfigException.BadValue("clearinghouse.grpc.unary-timeout", "must be longer than "
            + "clearinghouse.account.ask-timeout (" + ask + "), so that a slow account is answered TIMEOUT by the ask");
      }
      Map<String, Duration> overrides = new HashMap<>();
      Config slow = grpc.getConfig("unary-timeout-overrides");
      for (String method : slow.root().keySet()) {
        overrides.put(method, slow.getDuration(ConfigUtil.quoteString(method)));
      }
      return new Settings(max, Math.min(open, max), unary, overrides, grpc.getDuration("refused-body-grace"));
    }

    private static long positive(Config grpc, String key) {
      long value = grpc.getBytes(key);
      if (value <= 0) {
        throw new ConfigException.BadValue("clearinghouse.grpc." + key, "must be positive");
      }
      return value;
    }
  }

  private final Settings settings;
  private final Authenticator auth;
  private final Metrics metrics;
  private final Set<String> unaryPaths;
  private final Materializer materializer;
  private final org.apache.pekko.japi.Function<org.apache.pekko.actor.ActorSystem,
      org.apache.pekko.japi.Function<Throwable, org.apache.pekko.grpc.Trailers>> errors;
  private final ActorSystem<?> system;
  private final java.util.function.BooleanSupplier serving;

  public GrpcGuard(ActorSystem<?> system, Settings settings, Authenticator auth, Metrics metrics,
      Collection<ServiceDescription> services) {
    this(system, settings, auth, metrics, services, () -> true);
  }

  /**
   * {@code serving}: whether this node may serve the services that need a token yet (false until
   * its instruments' units are checked against the journal); until then they are answered
   * UNAVAILABLE, retryable. Health and reflection are always served.
   */
  public GrpcGuard(ActorSystem<?> system, Settings settings, Authenticator auth, Metrics metrics,
      Collection<ServiceDescription> services, java.util.function.BooleanSupplier serving) {
    this.serving = serving;
    this.system = system;
    this.settings = settings;
    this.auth = auth;
    this.metrics = metrics;
    this.unaryPaths = unaryPaths(services);
    this.materializer = Materializer.matFromSystem(system);
    this.errors = GrpcErrors.exceptionHandler(metrics);
  }

  /** The paths ({@code /package.Service/Method}) of the calls that take and return one message. */
  static Set<String> unaryPaths(Collection<ServiceDescription> services) {
    Set<String> paths = new HashSet<>();
    for (ServiceDescription service : services) {
      for (Descriptors.ServiceDescriptor descriptor : service.descriptor().getServices()) {
        if (descriptor.getFullName().equals(service.name())) {
          descriptor.getMethods().stream().filter(m -> !m.isClientStreaming() && !m.isServerStreaming())
              .forEach(m -> paths.add("/" + descriptor.getFullName() + "/" + m.getName()));
        }
      }
    }
    return Set.copyOf(paths);
  }

  /** {@code handler} behind the guard. */
  public Function<HttpRequest, CompletionStage<HttpResponse>> wrap(
      Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
    return request -> handle(request, handler);
  }

  private CompletionStage<HttpResponse> handle(HttpRequest request,
      Function<HttpRequest, CompletionStage<HttpResponse>> handler) throws Exception {
    if (!request.protocol().value().equals("HTTP/2.0")) {
      return CompletableFuture.completedFuture(HttpResponse.create().withStatus(StatusCodes.HTTPVERSION_NOT_SUPPORTED)
          .addHeader(Connection.create("close"))
          .withEntity("gRPC needs HTTP/2 (h2c with prior knowledge on this port)\n"));
    }
    if (!isGrpc(request)) {
      return CompletableFuture.completedFuture(HttpResponse.create().withStatus(StatusCodes.UNSUPPORTED_MEDIA_TYPE));
    }
    String path = request.getUri().path();
    boolean open = OPEN_SERVICES.contains(service(path));
    if (!open) {
      try {
        auth.authenticate(header(request, "authorization"));
      } catch (RejectedException e) {
        return refuse(request, e.reason(), e.getMessage());
      }
      if (!serving.getAsBoolean()) {
        return refuse(request, Rejection.TIMEOUT, "this node has not yet checked its instruments' units against the "
            + "journal (is Cassandra answering?): retry");
      }
    }
    Optional<String> encoding = header(request, "grpc-encoding").map(value -> value.trim().toLowerCase(Locale.ROOT));
    if (encoding.isPresent() && !encoding.get().equals("identity")) {
      return refuse(request, Rejection.COMPRESSION_NOT_SUPPORTED, "grpc-encoding " + encoding.get()
          + "; send messages uncompressed (grpc-encoding identity)")
          .thenApply(response -> response.addHeader(RawHeader.create("grpc-accept-encoding", "identity")));
    }
    long limit = open ? settings.maxUnauthenticatedMessageBytes() : settings.maxMessageBytes();
    HttpRequest guarded = request.withEntity(HttpEntities.create(request.entity().getContentType(),
        request.entity().getDataBytes().via(new MessageLimit(limit, settings.refusedBodyGrace(), metrics::rejected))));
    CompletionStage<HttpResponse> response = handler.apply(guarded);
    if (!unaryPaths.contains(path)) {
      return response;
    }
    Duration timeout = settings.unaryTimeout(path);
    return response.toCompletableFuture().copy().completeOnTimeout(null, timeout.toMillis(), TimeUnit.MILLISECONDS)
        .thenApply(answer -> answer != null ? answer : status(timedOut(timeout.toSeconds())));
  }

  private GrpcServiceException timedOut(long seconds) {
    metrics.rejected(Rejection.TIMEOUT);
    return GrpcErrors.refusal(Rejection.TIMEOUT, "no answer within " + seconds + " s (clearinghouse.grpc.unary-timeout);"
        + " the outcome is unknown: retry (with the same key, where the call has one)");
  }

  /** Answers from the headers alone; the body is never read (see {@link MessageLimit.Unread}). */
  private CompletionStage<HttpResponse> refuse(HttpRequest request, Rejection reason, String message) {
    metrics.rejected(reason);
    request.entity().getDataBytes().runWith(Sink.fromGraph(new MessageLimit.Unread(settings.refusedBodyGrace())),
        materializer);
    return CompletableFuture.completedFuture(status(GrpcErrors.refusal(reason, message)));
  }

  /** A trailers-only gRPC response carrying {@code failure}'s status and reason. */
  private HttpResponse status(GrpcServiceException failure) {
    return GrpcExceptionHandler.standard(failure, errors, WRITER, system);
  }

  private static boolean isGrpc(HttpRequest request) {
    String mediaType = request.entity().getContentType().mediaType().toString().toLowerCase(Locale.ROOT);
    return mediaType.equals("application/grpc") || mediaType.startsWith("application/grpc+");
  }

  /** The service of a gRPC path: {@code /package.Service/Method} gives {@code package.Service}. */
  static String service(String path) {
    int end = path.indexOf('/', 1);
    return end < 0 ? path.substring(Math.min(1, path.length())) : path.substring(1, end);
  }

  private static Optional<String> header(HttpRequest request, String name) {
    return request.getHeader(name).map(HttpHeader::value);
  }
}
