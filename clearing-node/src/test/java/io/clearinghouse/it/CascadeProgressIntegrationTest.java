package io.clearinghouse.it;

import static io.clearinghouse.it.LiquidationHarness.PERP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clearinghouse.Main;
import io.clearinghouse.cli.Chctl;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The cascade progress view (issue 15) on a real node: one tick liquidates four accounts; the
 * management port's {@code GET /cascade}, {@code /metrics} and {@code chctl cascade} show them
 * started, then settled, nothing left pending, and the insurance fund's balance as the fund
 * itself reports it. Ends with the ledger audit.
 */
class CascadeProgressIntegrationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int TRADERS = 4;

  @Test
  void oneTickLiquidatesSeveralAccountsAndTheViewShowsThemStartedThenSettled() throws Exception {
    try (LiquidationHarness h = new LiquidationHarness("cascade_view", "")) {
      HttpClient http = HttpClient.newHttpClient();
      String base = h.node.managementUri().replaceAll("/$", "");
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      h.topUp(PERP, "1000", "seed");
      for (int i = 1; i <= TRADERS; i++) {
        h.open("trader-" + i, "1000");
        h.buy("trader-" + i, "maker", PERP, "1", "50000");
      }
      JsonNode before = cascade(http, base);
      assertEquals(List.of(0L, 0L, 0L), counts(before), before.toString());
      assertEquals("1000.000000", before.get("funds").get(PERP).get("balance").asText(), before.toString());
      assertEquals("cluster", before.get("scope").asText());
      assertEquals(1, before.get("nodes").size(), before.toString());

      // Mark 49,000: each trader's equity is -25 (975 cash after the fee, 1,000 lost); the
      // provider buys at 48,902.0, 123 below bankruptcy, and the fund pays 123 for each.
      h.mark(PERP, "49000");
      List<List<Long>> seen = new ArrayList<>();
      JsonNode settled = h.probe.awaitAssert(LiquidationHarness.WAIT, Duration.ofMillis(50), () -> {
        JsonNode view = cascade(http, base);
        List<Long> counts = counts(view);
        seen.add(counts);
        // Never more settled than started, whenever the view is taken.
        assertTrue(counts.get(1) <= counts.get(0), view.toString());
        assertEquals(List.of((long) TRADERS, (long) TRADERS, 0L), counts, view.toString());
        return view;
      });
      // Each liquidation was seen started before (or when) it was seen settled: the counts only grow.
      for (int i = 1; i < seen.size(); i++) {
        assertTrue(seen.get(i).get(0) >= seen.get(i - 1).get(0) && seen.get(i).get(1) >= seen.get(i - 1).get(1),
            seen.toString());
      }
      assertEquals("508.000000", settled.get("funds").get(PERP).get("balance").asText(), settled.toString());
      assertEquals(h.fund(PERP).getBalance(), settled.get("funds").get(PERP).get("balance").asText());
      assertEquals(508_000_000L, settled.get("funds").get(PERP).get("balanceMinor").asLong());
      assertEquals(TRADERS, settled.get("nodes").get(0).get("started").asLong(), settled.toString());
      for (int i = 1; i <= TRADERS; i++) {
        assertEquals("covered", h.onlyLiquidation("trader-" + i).getOutcome());
      }

      // The same counts, per node, in the Prometheus metrics.
      String metrics = ManagementHttp.operatorGet(http, base + "/metrics").body();
      assertTrue(metrics.contains("clearinghouse_liquidations_started_total " + TRADERS + ".0"), metrics);
      assertTrue(metrics.contains("clearinghouse_liquidations_total{outcome=\"covered\",} " + TRADERS + ".0"), metrics);
      assertTrue(metrics.contains("clearinghouse_liquidations_pending 0.0"), metrics);
      assertTrue(metrics.contains("clearinghouse_liquidations_per_second{phase=\"settled\",}"), metrics);

      // chctl: one line, and the JSON form.
      Map<String, String> env = Map.of("CLEARINGHOUSE_MANAGEMENT", base,
          "CLEARINGHOUSE_GRPC", "127.0.0.1:" + h.node.grpcAddress().getPort(), "CLEARINGHOUSE_TOKEN", TestNodes.OPERATOR_TOKEN);
      String[] once = chctl(env, "cascade", "--once");
      assertEquals("0", once[0], once[2]);
      assertTrue(once[1].matches("\\d\\d:\\d\\d:\\d\\d  started 4  settled 4  pending 0  started/s \\d+\\.\\d"
          + "  settled/s \\d+\\.\\d  fund BTCUSDT-271231 0\\.000000  fund BTCUSDT-PERP 508\\.000000\n"), once[1]);
      String[] json = chctl(env, "-o", "json", "cascade", "--count", "2");
      assertEquals("0", json[0], json[2]);
      List<String> lines = json[1].lines().toList();
      assertEquals(2, lines.size(), json[1]);
      assertEquals(TRADERS, JSON.readTree(lines.get(1)).get("settled").asLong());
      h.auditClean();
    }
  }

  /**
   * Two nodes: the view asked of either sums both nodes' counts (the second node's reporter is
   * asked over remoting), lists each node, and agrees with the liquidations that ran.
   */
  @Test
  void theViewIsClusterWideOverTwoNodes() {
    String keyspace = TestNodes.newKeyspace("cascade_cluster");
    String config = LiquidationHarness.config("");
    Main.Node first = TestNodes.start(TestNodes.nodeConfig(keyspace, config));
    List<Main.Node> nodes = new ArrayList<>(List.of(first));
    try {
      nodes.add(TestNodes.start(TestNodes.nodeConfig(keyspace, config + "\npekko.cluster.seed-nodes = [\""
          + first.system().address() + "\"]")));
    } catch (RuntimeException e) {
      TestNodes.stop(first);
      throw e;
    }
    try (LiquidationHarness h = new LiquidationHarness(nodes)) {
      HttpClient http = HttpClient.newHttpClient();
      String second = nodes.get(1).managementUri().replaceAll("/$", "");
      // Both members up and both reporters registered: every node answers with its counts.
      h.probe.awaitAssert(Duration.ofSeconds(45), Duration.ofMillis(200), () -> {
        JsonNode view = cascade(http, second);
        assertEquals(2, view.get("nodes").size(), view.toString());
        for (JsonNode node : view.get("nodes")) {
          assertTrue(node.has("started"), view.toString());
        }
        return null;
      });
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      h.topUp(PERP, "1000", "seed");
      int traders = 6;
      for (int i = 1; i <= traders; i++) {
        h.open("trader-" + i, "1000");
        h.buy("trader-" + i, "maker", PERP, "1", "50000");
      }
      h.mark(PERP, "49000");
      JsonNode settled = h.probe.awaitAssert(LiquidationHarness.WAIT, Duration.ofMillis(100), () -> {
        JsonNode view = cascade(http, second);
        assertEquals(List.of((long) traders, (long) traders, 0L), counts(view), view.toString());
        return view;
      });
      long startedPerNode = 0;
      for (JsonNode node : settled.get("nodes")) {
        startedPerNode += node.get("started").asLong();
      }
      assertEquals(traders, startedPerNode, settled.toString());
      assertEquals(0, settled.get("unanswered").size(), settled.toString());
      // Asked of the first node, the same totals.
      assertEquals(List.of((long) traders, (long) traders, 0L),
          counts(cascade(http, h.node.managementUri().replaceAll("/$", ""))));
      assertEquals(h.fund(PERP).getBalance(), settled.get("funds").get(PERP).get("balance").asText());
      h.auditClean();
    }
  }

  private static JsonNode cascade(HttpClient http, String base) {
    var response = ManagementHttp.operatorGet(http, base + "/cascade");
    assertEquals(200, response.statusCode(), response.body());
    try {
      return JSON.readTree(response.body());
    } catch (java.io.IOException e) {
      throw new AssertionError("not JSON: " + response.body(), e);
    }
  }

  /** Started, settled, pending. */
  private static List<Long> counts(JsonNode view) {
    return List.of(view.get("started").asLong(), view.get("settled").asLong(), view.get("pending").asLong());
  }

  /** Exit code, what was printed, what went to stderr. */
  private static String[] chctl(Map<String, String> env, String... args) {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    StringWriter errors = new StringWriter();
    try (Chctl chctl = new Chctl(env, new PrintStream(printed, true, StandardCharsets.UTF_8))) {
      int code = chctl.commandLine(new PrintWriter(errors, true)).execute(args);
      return new String[] {String.valueOf(code), printed.toString(StandardCharsets.UTF_8), errors.toString()};
    }
  }
}
