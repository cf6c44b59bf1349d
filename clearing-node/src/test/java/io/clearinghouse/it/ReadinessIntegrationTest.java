package io.clearinghouse.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthClient;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * Readiness is about the node alone (an Up member whose journal answers): a node whose every
 * mark is stale and whose instrument is halted stays ready, for {@code /ready},
 * {@code chctl ready} and grpc.health.v1 alike, and reports its markets on
 * {@code /health/markets} and {@code /metrics}; a node whose journal does not answer is not
 * ready, and each of them names the check that failed.
 */
class ReadinessIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String PERP = "BTCUSDT-PERP";

  @Test
  void staleAndHaltedMarketsLeaveTheNodeReadyAndShowOnHealthMarkets() throws Exception {
    // No feeder publishes: every instrument is stale from the start.
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("ready"), "clearinghouse.require-mark = on"));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      HttpClient http = HttpClient.newHttpClient();
      String base = node.managementUri().replaceAll("/$", "");
      TestProbe<Void> probe = TestProbe.create(clients);
      probe.awaitAssert(WAIT, () -> {
        assertEquals(200, ManagementHttp.get(http, base + "/ready").statusCode());
        return null;
      });
      HttpResponse<String> markets = ManagementHttp.get(http, base + "/health/markets");
      assertEquals(503, markets.statusCode(), markets.body());
      assertEquals("stale", ManagementHttp.market(http, base, PERP).get("state").asText());
      assertEquals("stale", ManagementHttp.market(http, base, "BTCUSDT-271231").get("state").asText());

      assertEquals(200, ManagementHttp.post(http, base + "/liquidations/halt?instrument=" + PERP,
          TestNodes.OPERATOR_TOKEN).statusCode());
      probe.awaitAssert(WAIT, () -> {
        assertEquals("stale, liquidations halted", ManagementHttp.market(http, base, PERP).get("state").asText());
        return null;
      });
      assertEquals(200, ManagementHttp.get(http, base + "/ready").statusCode());
      String metrics = ManagementHttp.operatorGet(http, base + "/metrics").body();
      assertTrue(metrics.contains("clearinghouse_liquidations_halted{instrument=\"" + PERP + "\",} 1.0"), metrics);
      assertTrue(metrics.contains("clearinghouse_mark_stale{instrument=\"" + PERP + "\",} 1.0"), metrics);

      HealthClient health = HealthClient.create(TestNodes.clientSettings(node, clients), clients);
      probe.awaitAssert(WAIT, () -> {
        assertEquals(ServingStatus.SERVING, Calls.await(health.check(HealthCheckRequest.getDefaultInstance()))
            .getStatus());
        return null;
      });
      Chctl ready = chctl(base, "ready");
      assertEquals(0, ready.exitCode, ready.output);
      assertEquals("ready", ready.output.strip());
      Chctl listed = chctl(base, "markets");
      assertEquals(1, listed.exitCode, listed.output);
      assertTrue(listed.output.contains("\"state\":\"stale, liquidations halted\""), listed.output);
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  @Test
  void aNodeWhoseJournalDoesNotAnswerIsNotReadyAndNamesTheJournalCheck() throws Exception {
    String missing = "no_such_keyspace_" + Long.toHexString(System.nanoTime());
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(missing, ""));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      HttpClient http = HttpClient.newHttpClient();
      String base = node.managementUri().replaceAll("/$", "");
      TestProbe<Void> probe = TestProbe.create(clients);
      // Once the node is Up, the journal is what fails.
      probe.awaitAssert(WAIT, () -> {
        HttpResponse<String> ready = ManagementHttp.get(http, base + "/ready");
        assertEquals(500, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("Check [io.clearinghouse.ops.JournalHealthCheck] failed: journal: "),
            ready.body());
        assertTrue(ready.body().contains(missing), ready.body());
        return null;
      });

      Chctl chctl = chctl(base, "ready");
      assertEquals(1, chctl.exitCode, chctl.output);
      assertTrue(chctl.output.contains("journal: ") && chctl.output.contains(missing), chctl.output);

      HealthClient health = HealthClient.create(TestNodes.clientSettings(node, clients), clients);
      probe.awaitAssert(WAIT, () -> {
        assertEquals(ServingStatus.NOT_SERVING, Calls.await(health.check(HealthCheckRequest.getDefaultInstance()))
            .getStatus());
        return null;
      });
      // The instruments' units cannot be checked against a journal that does not answer: calls
      // that need a token are refused, retryable, and change nothing.
      io.clearinghouse.protocol.v1.AdminServiceClient admin = io.clearinghouse.protocol.v1.AdminServiceClient.create(
          TestNodes.clientSettings(node, clients), clients);
      Calls.refused(admin.openAccount(), TestNodes.OPERATOR_TOKEN, io.clearinghouse.protocol.v1.OpenAccountRequest
          .newBuilder().setAccountId("alice-1").build(), io.grpc.Status.Code.UNAVAILABLE,
          io.clearinghouse.common.Rejection.TIMEOUT);
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  private record Chctl(int exitCode, String output) {}

  /** {@code chctl COMMAND} in a JVM of its own, as the script runs it, against this management port. */
  private static Chctl chctl(String managementUri, String command) throws Exception {
    List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.clearinghouse.cli.Chctl", command));
    ProcessBuilder builder = new ProcessBuilder(java).redirectErrorStream(true);
    builder.environment().keySet().removeIf(key -> key.startsWith("CLEARINGHOUSE_"));
    builder.environment().putAll(Map.of("CLEARINGHOUSE_MANAGEMENT", managementUri));
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("chctl " + command + " did not end: " + output);
    }
    return new Chctl(process.exitValue(), output);
  }
}
