package io.clearinghouse.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.api.Authenticator;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 18, finding 3: the management routes may be called before Main.init has wired
 * the node (its token checks, liquidations, cascade view). Each answers 503 with a body that says
 * the node is starting, never a NullPointerException (500); the probes still answer.
 *
 * <p>In the integration phase (mvn verify), not mvn test: it binds the real management HTTP server,
 * and the node's readiness checks start the Cassandra driver, which dials the configured contact
 * point (127.0.0.1:9042) while the test runs.
 */
class NodeRoutesBeforeStartIntegrationTest {
  private static final String TOKEN = "before-start-operator";

  @Test
  void everyRouteAnswers503WhileTheNodeIsStarting() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Config config = ConfigFactory.parseString(String.join("\n",
        "pekko.remote.artery.canonical.port = 0",
        "pekko.management.http.port = " + port,
        "pekko.coordinated-shutdown.exit-jvm = off",
        "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
        "clearinghouse.auth.tokens = [{ name = operator, role = operator, sha256 = \""
            + Authenticator.sha256Hex(TOKEN) + "\" }]"))
        .withFallback(ConfigFactory.load()).resolve();
    // The management routes of a node whose Main.init has not wired anything yet.
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "ClearingHouse", config);
    try {
      String base = PekkoManagement.get(system).start().toCompletableFuture().get(30, TimeUnit.SECONDS)
          .toString().replaceAll("/$", "");
      HttpClient http = HttpClient.newHttpClient();
      for (String route : List.of("GET /insurance-funds", "GET /cascade", "GET /shards", "GET /metrics",
          "GET /liquidations/halted",
          "POST /liquidations/halt?instrument=BTCUSDT-PERP", "POST /liquidations/resume?instrument=BTCUSDT-PERP",
          "POST /cluster/leave?address=pekko://ClearingHouse@127.0.0.1:1",
          "POST /cluster/down?address=pekko://ClearingHouse@127.0.0.1:1")) {
        for (String token : new String[] {null, TOKEN}) {
          HttpResponse<String> answer = call(http, base, route, token);
          assertEquals(503, answer.statusCode(), route + " (token " + token + "): " + answer.body());
          assertTrue(answer.body().startsWith("the node is starting"), route + ": " + answer.body());
        }
      }
      // The liveness probe needs nothing of the node.
      assertEquals(200, call(http, base, "GET /alive", null).statusCode());
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static HttpResponse<String> call(HttpClient http, String base, String route, String token)
      throws IOException, InterruptedException {
    String[] parts = route.split(" ", 2);
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + parts[1])).timeout(Duration.ofSeconds(20));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    request.method(parts[0], HttpRequest.BodyPublishers.noBody());
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
