package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.metrics.Metrics;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.Health;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthClient;
import io.grpc.health.v1.HealthHandlerFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The guard in front of the gRPC handlers, bound on a real HTTP/2 port with a service that never
 * answers (pekko-http 1.1.0 has no request timeout on HTTP/2 at all, and on HTTP/1 its timeout
 * answers a 503 page that no gRPC client understands): a unary call ends with UNAVAILABLE
 * (TIMEOUT) after the unary timeout, a stream is left alone, and gRPC over HTTP/1 is refused.
 *
 * <p>In the integration phase (mvn verify), not mvn test: it binds a real server and calls it over
 * TCP, and waits out real timeouts (some 5 s).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GrpcGuardIntegrationTest {
  private static final Duration UNARY_TIMEOUT = Duration.ofSeconds(1);

  private ActorTestKit testKit;
  private ServerBinding binding;
  private HealthClient client;

  /** A health service that never answers a check and never ends a watch. */
  private static final class Silent implements Health {
    @Override
    public CompletionStage<HealthCheckResponse> check(HealthCheckRequest in) {
      return new CompletableFuture<>();
    }

    @Override
    public Source<HealthCheckResponse, NotUsed> watch(HealthCheckRequest in) {
      return Source.<HealthCheckResponse>never().mapMaterializedValue(m -> NotUsed.getInstance());
    }
  }

  @BeforeAll
  void bind() throws Exception {
    testKit = ActorTestKit.create(ConfigFactory.parseString(String.join("\n",
            "pekko.actor.provider = local",
            // pekko-http's own request timeout, shorter than ours: on HTTP/1 it would answer first.
            "pekko.http.server.request-timeout = 500ms"))
        .withFallback(ConfigFactory.load()));
    Metrics metrics = new Metrics();
    GrpcGuard guard = new GrpcGuard(testKit.system(), new GrpcGuard.Settings(1 << 20, 16 << 10, UNARY_TIMEOUT,
        Map.of(), Duration.ofSeconds(1)), new Authenticator(Map.of()), metrics, List.of(Health.description));
    binding = Http.get(testKit.system()).newServerAt("127.0.0.1", 0)
        .bind(guard.wrap(HealthHandlerFactory.create(new Silent(), GrpcErrors.exceptionHandler(metrics), testKit.system())))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    client = HealthClient.create(GrpcClientSettings.connectToServiceAt("127.0.0.1", binding.localAddress().getPort(),
        testKit.system()).withTls(false), testKit.system());
  }

  @AfterAll
  void unbind() {
    testKit.shutdownTestKit();
  }

  @Test
  void aUnaryCallWithoutAnAnswerEndsWithUnavailableTimeout() throws Exception {
    long start = System.nanoTime();
    // Generous: the first call also connects, on a machine that may be busy. Without the guard
    // it never ends at all.
    ExecutionException failure = assertThrows(ExecutionException.class,
        () -> client.check(HealthCheckRequest.getDefaultInstance()).toCompletableFuture().get(60, TimeUnit.SECONDS));
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    Status status = assertInstanceOf(StatusRuntimeException.class, failure.getCause()).getStatus();
    assertEquals(Status.Code.UNAVAILABLE, status.getCode());
    assertTrue(status.getDescription().startsWith("TIMEOUT: no answer within 1 s"), status.getDescription());
    assertTrue(millis >= UNARY_TIMEOUT.toMillis(), "answered after " + millis + " ms");
  }

  @Test
  void aStreamIsNotCutByTheUnaryTimeout() throws Exception {
    CompletableFuture<?> watch = client.watch(HealthCheckRequest.getDefaultInstance())
        .runForeach(update -> { }, testKit.system()).toCompletableFuture();
    // Three unary timeouts later the watch is still open.
    assertThrows(TimeoutException.class, () -> watch.get(3 * UNARY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
    watch.cancel(true);
  }

  @Test
  void grpcOverHttp1IsRefusedAtOnceNotWithAnHttpTimeoutPage() throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + binding.localAddress().getPort() + "/grpc.health.v1.Health/Check"))
        .header("content-type", "application/grpc").timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[5])).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(505, response.statusCode(), response.body());
  }
}
