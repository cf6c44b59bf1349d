package io.clearinghouse.it;

import static io.clearinghouse.it.LiquidationHarness.PERP;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 19 (rev19): the console's API probed as an attacker and a careless operator would,
 * over plain HTTP against a real node. Every probe's status and body are printed; the test fails
 * listing every probe whose answer was not the expected one. Run once (73e4032): every probe but two
 * answered as expected; a negative limit and a negative offset are silently taken as the default
 * (200), not refused with 400 (low). Since: every error answer (404, 405 and 413 too) has a JSON
 * body with a reason and a message; the halt's confirmation must name the direction and the
 * instrument; sixteen open event streams share the node's one reader (no more journal reads).
 */
class ConsoleAdversarialIntegrationTest {
  private final List<String> failures = new ArrayList<>();
  private HttpClient http;
  private String api;

  @Test
  void theConsoleApiRefusesWhatItMust() throws Exception {
    try (LiquidationHarness h = new LiquidationHarness("consoleadv", "")) {
      h.open("alice-1", "1000");
      h.mark(PERP, "50000");
      http = HttpClient.newHttpClient();
      String base = h.node.managementUri().replaceAll("/$", "");
      api = base + "/console/api/";

      // (1) every endpoint: 401 without or with a wrong token, 403 with a client token.
      for (String path : List.of("session", "markets", "markets/history?instrument=" + PERP, "cluster",
          "admin/GetReserves", "events")) {
        probe("no token GET " + path, "GET", path, null, null, null, s -> s == 401);
        probe("wrong token GET " + path, "GET", path, "wrong", null, null, s -> s == 401);
        probe("client token GET " + path, "GET", path, ALICE_TOKEN, null, null, s -> s == 403);
      }
      probe("basic auth", "GET", "session", null, null, null, s -> s == 401, "Authorization",
          "Basic " + java.util.Base64.getEncoder().encodeToString(("x:" + OPERATOR_TOKEN).getBytes()));
      probe("token as query parameter", "GET", "session?token=" + OPERATOR_TOKEN, null, null, null, s -> s == 401);
      // A cross-site form POST carries no Authorization header.
      String confirmed = "{\"instrument\":\"" + PERP + "\",\"halted\":true,\"confirm\":\"halt " + PERP + "\"}";
      probe("csrf form POST halt", "POST", "admin/SetLiquidationHalt", null,
          "instrument=" + PERP + "&halted=true&confirm=" + PERP, "application/x-www-form-urlencoded", s -> s == 401);
      probe("csrf text/plain POST halt", "POST", "admin/SetLiquidationHalt", null, confirmed, "text/plain",
          s -> s == 401);
      probe("form body with operator token", "POST", "admin/SetLiquidationHalt", OPERATOR_TOKEN,
          "instrument=" + PERP + "&halted=true&confirm=" + PERP, "application/x-www-form-urlencoded", s -> s == 400);
      probe("GET halt", "GET", "admin/SetLiquidationHalt?instrument=" + PERP + "&halted=true&confirm=" + PERP,
          OPERATOR_TOKEN, null, null, s -> s == 405);
      probe("PUT halt", "PUT", "admin/SetLiquidationHalt", OPERATOR_TOKEN, confirmed, "application/json", s -> s == 405);
      probe("DELETE halt", "DELETE", "admin/SetLiquidationHalt", OPERATOR_TOKEN, null, null, s -> s == 405);
      for (String bad : List.of(
          "{\"instrument\":\"" + PERP + "\",\"halted\":true,\"confirm\":\"ETHUSDT-PERP\"}",
          "{\"instrument\":\"" + PERP + "\",\"halted\":true,\"confirm\":true}",
          "{\"instrument\":\"" + PERP + "\",\"halted\":true,\"confirm\":{\"x\":1}}",
          "{\"instrument\":\"" + PERP + "\",\"halted\":true,\"confirm\":\"\"}",
          "{\"instrument\":\"\",\"halted\":true,\"confirm\":\"\"}",
          "{\"instrument\":\"" + PERP + "\",\"halted\":\"maybe\",\"confirm\":\"" + PERP + "\"}",
          "{\"instrument\":[\"" + PERP + "\"],\"halted\":true,\"confirm\":[\"" + PERP + "\"]}",
          "{\"instrument\":\"" + PERP + "\",\"halted\":true,\"confirm\":\"" + PERP + "\"}",
          "{\"instrument\":\"" + PERP + "\",\"halted\":true,\"confirm\":\"resume " + PERP + "\"}",
          "{\"instrument\":\"" + PERP + "\",\"halted\":false,\"confirm\":\"halt " + PERP + "\"}",
          "{\"instrument\":\"" + PERP + "\",\"confirm\":\"resume " + PERP + "\"}",
          "{\"instrument\":\"" + PERP + "\",\"halted\":\"true\",\"confirm\":\"halt " + PERP + "\"}")) {
        probe("halt " + bad, "POST", "admin/SetLiquidationHalt", OPERATOR_TOKEN, bad, "application/json",
            s -> s == 400);
      }
      check("nothing halted", ManagementHttp.operatorGet(http, base + "/liquidations/halted").body()
          .equals("{\"halted\":[]}"), ManagementHttp.operatorGet(http, base + "/liquidations/halted").body());

      // (2) malformed parameters: 400 with a message, never 500 or a hang.
      probe("huge limit", "GET", "admin/ListLiquidations?limit=99999999999", OPERATOR_TOKEN, null, null, s -> s == 400);
      probe("negative limit", "GET", "admin/ListLiquidations?limit=-5", OPERATOR_TOKEN, null, null, s -> s == 400);
      probe("negative offset", "GET", "admin/ListClosestToLiquidation?instrument=" + PERP + "&offset=-5",
          OPERATOR_TOKEN, null, null, s -> s == 400);
      probe("non-numeric from", "GET", "admin/FundFlowSummary?fromEpochMillis=abc", OPERATOR_TOKEN, null, null,
          s -> s == 400);
      probe("fractional from", "POST", "admin/FundFlowSummary", OPERATOR_TOKEN, "{\"fromEpochMillis\":1.5}",
          "application/json", s -> s == 400);
      probe("1e400", "POST", "admin/ListLiquidations", OPERATOR_TOKEN, "{\"limit\":1e400}", "application/json",
          s -> s == 400);
      probe("bignum", "POST", "admin/ListLiquidations", OPERATOR_TOKEN,
          "{\"limit\":123456789012345678901234567890}", "application/json", s -> s == 400);
      probe("wrong type", "POST", "admin/GetRiskHistogram", OPERATOR_TOKEN, "{\"instrument\":{\"a\":1}}",
          "application/json", s -> s == 400);
      probe("null field", "POST", "admin/GetRiskHistogram", OPERATOR_TOKEN, "{\"instrument\":null}",
          "application/json", s -> s == 400);
      probe("empty history instrument", "GET", "markets/history?instrument=", OPERATOR_TOKEN, null, null,
          s -> s == 400);
      probe("no history instrument", "GET", "markets/history", OPERATOR_TOKEN, null, null, s -> s == 400);
      probe("unknown api path", "GET", "nope", OPERATOR_TOKEN, null, null, s -> s == 404);
      probe("unknown method", "POST", "admin/OpenAccount", OPERATOR_TOKEN, "{}", "application/json", s -> s == 404);
      probe("oversized body", "POST", "admin/StressTest", OPERATOR_TOKEN,
          "{\"scenarios\":[\"" + "x".repeat(70_000) + "\"]}", "application/json", s -> s == 413);
      probe("nested 900", "POST", "admin/StressTest", OPERATOR_TOKEN,
          "{\"shocks\":" + "[".repeat(900) + "]".repeat(900) + "}", "application/json", s -> s == 400);
      probe("nested 20000", "POST", "admin/StressTest", OPERATOR_TOKEN,
          "{\"shocks\":" + "[".repeat(20_000) + "]".repeat(20_000) + "}", "application/json", s -> s == 400);
      probe("nested messages 200", "POST", "admin/StressTest", OPERATOR_TOKEN,
          "{\"shocks\":[" + "{\"instrument\":".repeat(200) + "\"x\"" + "}".repeat(200) + "]}", "application/json",
          s -> s == 400);
      probe("not utf-8", "POST", "admin/GetRiskHistogram", OPERATOR_TOKEN, "{\"instrument\":\"\u00ff\u00fe\"}",
          "application/json", s -> s == 400);

      // (4) HEAD on the events stream neither streams nor holds one of the token's stream places.
      for (int i = 0; i < 20; i++) {
        probe("HEAD events " + i, "HEAD", "events", OPERATOR_TOKEN, null, null, s -> s == 405 || s == 200);
      }
      var feed = io.clearinghouse.ops.NodeContext.get(h.node.system()).console().feed();
      List<InputStream> open = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        HttpResponse<InputStream> stream = http.send(request("GET", "events", OPERATOR_TOKEN, null, null),
            HttpResponse.BodyHandlers.ofInputStream());
        check("stream " + i + " opens", stream.statusCode() == 200, "status " + stream.statusCode());
        open.add(stream.body());
      }
      // The first stream's events: hello, then the cascade line.
      BufferedReader reader = new BufferedReader(new InputStreamReader(open.get(0), StandardCharsets.UTF_8));
      List<String> lines = new ArrayList<>();
      for (String line; (line = reader.readLine()) != null && lines.size() < 8; ) {
        lines.add(line);
      }
      System.out.println("rev19 events: " + lines);
      check("hello first", lines.subList(0, 2).contains("event:hello"), lines.toString());
      // Sixteen consoles, one reader: while nothing starts or settles, no journal read at all after the first.
      h.probe.awaitAssert(LiquidationHarness.WAIT, () -> {
        org.junit.jupiter.api.Assertions.assertEquals(16, feed.consoles());
        return null;
      });
      long reads = feed.journalReads();
      long polls = feed.polls();
      h.probe.awaitAssert(LiquidationHarness.WAIT, () -> {
        assertTrue(feed.polls() >= polls + 3);
        return null;
      });
      check("16 consoles, one reader", feed.journalReads() - reads <= 1,
          (feed.journalReads() - reads) + " journal reads in " + (feed.polls() - polls) + " polls");
      for (InputStream s : open) {
        s.close();
      }
      System.out.println("rev19 probes done; failures: " + failures.size());
      failures.forEach(f -> System.out.println("rev19 FAIL " + f));
      assertTrue(failures.isEmpty(), String.join("\n", failures));
    }
  }

  private void probe(String name, String method, String path, String token, String body, String type,
      IntPredicate expected, String... headers) {
    try {
      HttpRequest.Builder r = HttpRequest.newBuilder(request(method, path, token, body, type), (n, v) -> true);
      for (int i = 0; i + 1 < headers.length; i += 2) {
        r.header(headers[i], headers[i + 1]);
      }
      HttpResponse<String> answer = path.equals("events") && method.equals("GET")
          ? asStatusOnly(r.build()) : http.send(r.build(), HttpResponse.BodyHandlers.ofString());
      String shown = answer.body() == null ? "" : answer.body().length() > 200 ? answer.body().substring(0, 200)
          : answer.body();
      System.out.println("rev19 " + name + " -> " + answer.statusCode() + " " + answer.headers()
          .firstValue("content-type").orElse("") + " " + shown);
      check(name, expected.test(answer.statusCode()), answer.statusCode() + " " + shown);
      if (answer.statusCode() >= 400 && !method.equals("HEAD") && !jsonError(answer.body())) {
        failures.add(name + ": " + answer.statusCode() + " without a JSON reason and message: " + shown);
      }
    } catch (Exception e) {
      failures.add(name + ": " + e);
    }
  }

  /** Whether {@code body} is the console's error shape: a JSON object with a reason and a message. */
  private static boolean jsonError(String body) {
    try {
      var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body == null ? "" : body);
      return node != null && !node.path("reason").asText().isEmpty() && !node.path("message").asText().isEmpty();
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private HttpResponse<String> asStatusOnly(HttpRequest request) throws Exception {
    HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    String body = r.statusCode() == 200 ? "(stream)" : new String(r.body().readAllBytes(), StandardCharsets.UTF_8);
    r.body().close();
    return new HttpResponse<>() {
      public int statusCode() { return r.statusCode(); }
      public HttpRequest request() { return r.request(); }
      public java.util.Optional<HttpResponse<String>> previousResponse() { return java.util.Optional.empty(); }
      public java.net.http.HttpHeaders headers() { return r.headers(); }
      public String body() { return body; }
      public java.util.Optional<javax.net.ssl.SSLSession> sslSession() { return java.util.Optional.empty(); }
      public URI uri() { return r.uri(); }
      public HttpClient.Version version() { return r.version(); }
    };
  }

  private HttpRequest request(String method, String path, String token, String body, String type) {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(20))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    if (type != null) {
      r.header("Content-Type", type);
    }
    return r.build();
  }

  private void check(String name, boolean ok, String detail) {
    if (!ok) {
      failures.add(name + ": " + detail);
    }
  }
}
