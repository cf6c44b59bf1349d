package io.clearinghouse.it;

import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The console's API counts against the operator token's quotas as its gRPC calls do (it used to
 * bypass them): with one stream and a burst of 30 calls a second allowed, a second events stream
 * is refused (429, TOO_MANY_STREAMS) until the first is closed; a burst of calls beyond the rate
 * is refused (429, RATE_LIMITED). Real node, plain HTTP on the management port; ends with the
 * ledger audit.
 */
class ConsoleQuotaIntegrationTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void theConsoleIsHeldToTheOperatorTokensStreamAndRateQuotas() throws Exception {
    try (LiquidationHarness h = new LiquidationHarness("consolequota", String.join("\n",
        "clearinghouse.quotas.operator.requests-per-second = 1",
        "clearinghouse.quotas.operator.burst = 30",
        "clearinghouse.quotas.operator.streams = 1"))) {
      h.open("alice-1", "1000");
      String api = h.node.managementUri().replaceAll("/$", "") + "/console/api/";
      HttpClient http = HttpClient.newHttpClient();

      // One events stream at a time for the token.
      HttpResponse<InputStream> first = http.send(request("GET", api + "events", null), HttpResponse.BodyHandlers
          .ofInputStream());
      assertEquals(200, first.statusCode());
      HttpResponse<String> second = http.send(request("GET", api + "events", null), HttpResponse.BodyHandlers.ofString());
      assertEquals(429, second.statusCode(), second.body());
      assertEquals("TOO_MANY_STREAMS", JSON.readTree(second.body()).get("reason").asText());
      // Unary calls are not streams: still answered while the stream is open.
      assertEquals(200, http.send(request("GET", api + "session", null), HttpResponse.BodyHandlers.ofString())
          .statusCode());
      // Closing the first frees its place (once the node sees the connection go).
      first.body().close();
      h.probe.awaitAssert(Duration.ofSeconds(15), Duration.ofMillis(500), () -> {
        try {
          HttpResponse<InputStream> again = http.send(request("GET", api + "events", null),
              HttpResponse.BodyHandlers.ofInputStream());
          again.body().close();
          assertEquals(200, again.statusCode());
        } catch (Exception e) {
          throw new AssertionError(e);
        }
        return null;
      });

      // Beyond the burst: refused with the reason (before the call is looked at).
      List<Integer> statuses = new ArrayList<>();
      String limited = null;
      for (int i = 0; i < 45 && limited == null; i++) {
        HttpResponse<String> answer = http.send(request("GET", api + "session", null),
            HttpResponse.BodyHandlers.ofString());
        statuses.add(answer.statusCode());
        if (answer.statusCode() == 429) {
          limited = JSON.readTree(answer.body()).get("reason").asText();
        }
      }
      assertEquals("RATE_LIMITED", limited, "statuses " + statuses);
      // Once the rate allows calls again, the books are as they were.
      h.probe.awaitAssert(Duration.ofSeconds(30), Duration.ofSeconds(1), () -> {
        h.auditClean();
        return null;
      });
    }
  }

  private static HttpRequest request(String method, String uri, String body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(20))
        .header("Authorization", "Bearer " + OPERATOR_TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    return request.build();
  }
}
