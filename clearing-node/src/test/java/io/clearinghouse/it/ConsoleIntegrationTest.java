package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.LiquidationHarness.PERP;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import io.clearinghouse.protocol.v1.FundFlowSummaryRequest;
import io.clearinghouse.protocol.v1.FundFlowSummaryView;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.PriceShock;
import io.clearinghouse.protocol.v1.StressTestReport;
import io.clearinghouse.protocol.v1.StressTestRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The operator console in a real headless Chromium against a real node: refused with a client
 * token and signed in with the operator's; a mark arrives live; a liquidation made through the API
 * appears in the feed and its flow diagram shows exactly the gRPC record's amounts (and the
 * window's summary the gRPC summary's); a stress shock and ladder run; an instrument is halted and
 * resumed through the confirmed switch. The console's API refuses what it must (401, 403, 400).
 * A screenshot of each panel is saved. Ends with the ledger audit.
 */
class ConsoleIntegrationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The amounts drawn in a liquidation's flow diagram, by their names in the API's JSON. */
  private static final List<String> FLOW_FIELDS = List.of("tradersLoss", "insuranceFundOut", "operatorCapitalPaid",
      "toProviders", "toFundTakeovers", "toDeleveraged", "penaltyToInsuranceFund", "penaltyToMarketMaking",
      "penaltyToPlatformRevenue", "penaltyToInvestorProtection", "penaltyToLiquidators", "tradingFees");
  private static final List<String> FLOW_OTHER = List.of("debt", "socialized", "penaltyCut", "penaltyApplied",
      "leftToTrader");

  @Test
  void anOperatorWatchesAMarkALiquidationAStressTestAndTheHaltSwitch() throws Exception {
    // PERP's market is thin under 2,000,000 on a side within the band (off by default).
    try (LiquidationHarness h = new LiquidationHarness("console", "clearinghouse.instrument-overrides.\"" + PERP
            + "\".thin-market-depth = \"2000000\"");
        Browser browser = new Browser()) {
      h.open("alice-1", "1000");
      h.open("maker", "1000000");
      h.mark(PERP, "50000");
      h.buy("alice-1", "maker", PERP, "1", "50000");
      String base = h.node.managementUri().replaceAll("/$", "");
      HttpClient http = HttpClient.newHttpClient();
      refusals(http, base);

      // A client token is refused (403) and a wrong one (401); the sign-in form stays.
      browser.driver.get(base + "/console/");
      signIn(browser, ALICE_TOKEN);
      browser.until(d -> d.findElement(By.id("sign-in-error")).getText().contains("403"));
      assertTrue(browser.driver.findElement(By.id("sign-in-error")).getText().contains("WRONG_ROLE"));
      signIn(browser, "not-a-token");
      browser.until(d -> d.findElement(By.id("sign-in-error")).getText().contains("401"));
      browser.screenshot("sign-in");
      assertFalse(browser.driver.findElement(By.id("tabs")).isDisplayed());

      signIn(browser, OPERATOR_TOKEN);
      browser.text("#operator-name", "operator");
      String mark = "#markets-table tr[data-instrument='" + PERP + "'] td[data-field='mark']";
      browser.text(mark, "50000.0");
      browser.find("#live.on");
      // Depth within the band per side (issue 16's signal): no feeder reported any here.
      browser.text("#markets-table tr[data-instrument='" + PERP + "'] td[data-field='depth']", "- / -");
      // A new mark arrives without a reload (server-sent events).
      h.mark(PERP, "50100");
      browser.text(mark, "50100.0");
      // Each source's own price, once the page next refreshes the markets (every 5 s).
      browser.until(d -> d.findElement(By.cssSelector("#markets-table tr[data-instrument='" + PERP
          + "'] div[data-source='okx']")).getText().startsWith("okx 50100.0 ("));
      browser.until(d -> d.findElements(By.cssSelector("#mark-chart .u-over")).size() == 1);
      // A feeder's depth report shows on the next refresh, in the asset's exact digits.
      h.prices.publishMarketDepth().addHeader("authorization", Calls.BEARER + Feeders.token("okx"))
          .invoke(org.apache.pekko.stream.javadsl.Source.single(io.clearinghouse.protocol.v1.MarketDepthTick.newBuilder()
              .setSource("okx").setInstrument(PERP).setBidNotional("1000000").setAskNotional("2500000.5")
              .setTimestampMs(System.currentTimeMillis()).build()))
          .toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
      browser.text("#markets-table tr[data-instrument='" + PERP + "'] td[data-field='depth']",
          "1,000,000.000000 / 2,500,000.500000");
      browser.text("#markets-table tr[data-instrument='" + PERP + "'] span[data-field='thin']", "thin bids");
      // The bids turning thin is an alert as it happens; turning back another.
      alert(browser, "thin market on " + PERP + ": the bids within the band are under the thin-market threshold");
      browser.screenshot("markets");
      h.prices.publishMarketDepth().addHeader("authorization", Calls.BEARER + Feeders.token("okx"))
          .invoke(org.apache.pekko.stream.javadsl.Source.single(io.clearinghouse.protocol.v1.MarketDepthTick.newBuilder()
              .setSource("okx").setInstrument(PERP).setBidNotional("3000000").setAskNotional("2500000.5")
              .setTimestampMs(System.currentTimeMillis()).build()))
          .toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
      alert(browser, PERP + " bids no longer thin");
      browser.text("#markets-table tr[data-instrument='" + PERP + "'] td[data-field='depth']",
          "3,000,000.000000 / 2,500,000.500000");


      browser.click("#tabs button[data-panel='risk']");
      browser.until(d -> d.findElements(By.cssSelector("#closest-table tbody tr")).stream()
          .anyMatch(r -> r.getText().startsWith("alice-1")));
      // The histogram counts every position, as GetRiskHistogram does.
      var histogram = call(h.admin.getRiskHistogram(), OPERATOR_TOKEN,
          io.clearinghouse.protocol.v1.GetRiskHistogramRequest.newBuilder().setInstrument(PERP).build());
      assertTrue(histogram.getPositions() >= 2, histogram.toString());
      for (var bucket : histogram.getBucketsList()) {
        assertEquals(String.valueOf(bucket.getPositions()), browser.find("#risk-histogram div[data-bucket='"
            + bucket.getLabel() + "']").getAttribute("data-positions"), bucket.getLabel());
      }
      browser.screenshot("risk");

      // A liquidation through the API: the feed shows it, its flow the record's exact amounts. A second
      // console (an events stream) is open meanwhile: the node's one reader reads the journal for both,
      // at most once a poll, and not at all while nothing starts or settles.
      browser.click("#tabs button[data-panel='liquidations']");
      var feed = io.clearinghouse.ops.NodeContext.get(h.node.system()).console().feed();
      HttpResponse<java.io.InputStream> second = http.send(HttpRequest.newBuilder(URI.create(base
          + "/console/api/events")).header("Authorization", "Bearer " + OPERATOR_TOKEN).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      assertEquals(200, second.statusCode());
      h.probe.awaitAssert(LiquidationHarness.WAIT, () -> {
        assertEquals(2, feed.consoles());
        return null;
      });
      long quietReads = feed.journalReads();
      long quietPolls = feed.polls();
      h.probe.awaitAssert(LiquidationHarness.WAIT, () -> {
        assertTrue(feed.polls() >= quietPolls + 3);
        return null;
      });
      assertEquals(quietReads, feed.journalReads(), "nothing started or settled, two consoles open: no journal read");
      long reads = feed.journalReads();
      long polls = feed.polls();
      h.mark(PERP, "49000");
      Liquidation record = h.onlyLiquidation("alice-1");
      JsonNode expected = JSON.readTree(JsonFormat.printer().includingDefaultValueFields().print(record));
      String row = "#liquidations-table tr[data-liquidation='" + record.getLiquidationId() + "']";
      browser.until(d -> {
        var rows = d.findElements(By.cssSelector(row));
        return !rows.isEmpty() && rows.get(0).getText().contains(record.getOutcome());
      });
      browser.click(row);
      browser.find("#flow svg");
      long readsDuring = feed.journalReads() - reads;
      long pollsDuring = feed.polls() - polls + 1;
      assertTrue(readsDuring >= 1 && readsDuring <= pollsDuring, "two consoles open: " + readsDuring
          + " journal reads in " + pollsDuring + " polls");
      second.body().close();
      for (String field : FLOW_FIELDS) {
        String amount = expected.get(field).asText();
        List<WebElement> drawn = browser.driver.findElements(By.cssSelector("#flow g[data-field='" + field + "']"));
        if (isZero(amount) && !field.equals("tradersLoss")) {
          assertTrue(drawn.isEmpty(), field + " is zero but drawn");
          continue;
        }
        assertEquals(1, drawn.size(), field + " of " + record);
        assertEquals(amount, drawn.get(0).getAttribute("data-amount"), field);
        String shown = drawn.get(0).findElement(By.cssSelector(".flow-amount")).getText().replace(",", "");
        assertEquals(amount, shown, field + " as shown");
      }
      for (String field : FLOW_OTHER) {
        assertEquals(expected.get(field).asText(), browser.driver.findElement(
            By.cssSelector("#flow td[data-field='" + field + "']")).getAttribute("data-amount"), field);
      }
      List<WebElement> movements = browser.driver.findElements(By.cssSelector("#movements td[data-field='movement']"));
      assertEquals(record.getMovementsCount(), movements.size());
      for (int i = 0; i < movements.size(); i++) {
        assertEquals(record.getMovements(i).getAmount(), movements.get(i).getAttribute("data-amount"));
      }
      browser.driver.findElement(By.cssSelector("#summary-form button")).click();
      browser.find("#summary-flow svg");
      FundFlowSummaryView summary = call(h.admin.fundFlowSummary(), OPERATOR_TOKEN, FundFlowSummaryRequest.newBuilder()
          .setFromEpochMillis(System.currentTimeMillis() - Duration.ofHours(1).toMillis()).build());
      assertEquals(summary.getTradersLosses(), browser.driver.findElement(
          By.cssSelector("#summary-flow g[data-field='tradersLosses']")).getAttribute("data-amount"));
      browser.screenshot("liquidations");

      browser.click("#tabs button[data-panel='reserves']");
      browser.until(d -> !d.findElements(By.cssSelector("#reserves-table tbody tr")).isEmpty());
      browser.screenshot("reserves");

      // A shock: the page shows what the API answers for the same shock.
      browser.click("#tabs button[data-panel='stress']");
      browser.find("#stress-shock").clear();
      browser.find("#stress-shock").sendKeys("-30%");
      browser.click("#stress-run");
      browser.find("#stress-table");
      StressTestReport report = call(h.admin.stressTest(), OPERATOR_TOKEN, StressTestRequest.newBuilder()
          .addShocks(PriceShock.newBuilder().setInstrument(PERP).setMove("-30%")).build());
      assertEquals(String.valueOf(report.getScenarios(0).getAccountsLiquidated()), browser.driver.findElement(
          By.cssSelector("#stress-table td[data-field='accountsLiquidated']")).getText());
      assertEquals(report.getScenarios(0).getNotionalToClose(), browser.driver.findElement(
          By.cssSelector("#stress-table td[data-field='notionalToClose']")).getAttribute("data-amount"));
      browser.click("#stress-ladder");
      browser.until(d -> d.findElements(By.cssSelector("#stress-table tbody tr")).size() == 10);
      browser.find("#stress-chart .u-over");
      browser.find("#stress-shock").clear();
      browser.find("#stress-shock").sendKeys("-150%");
      browser.click("#stress-run");
      browser.until(d -> d.findElement(By.id("stress-error")).getText().contains("INVALID_SHOCK"));
      browser.screenshot("stress");

      // The halt switch acts only once confirmed.
      browser.click("#tabs button[data-panel='operations']");
      String halt = "#halt-table tr[data-instrument='" + PERP + "']";
      browser.click(halt + " button");
      // The confirmation says what the switch will do, and where.
      browser.text("#confirm-yes", "Halt liquidations on " + PERP);
      assertTrue(browser.find("#confirm-text").getText().startsWith("Halt new liquidations on " + PERP + "?"),
          browser.find("#confirm-text").getText());
      browser.click("#confirm-no");
      browser.text(halt + " td[data-field='halt-state']", "running");
      assertEquals("{\"halted\":[]}", ManagementHttp.operatorGet(http, base + "/liquidations/halted").body());
      browser.click(halt + " button");
      browser.click("#confirm-yes");
      browser.text(halt + " td[data-field='halt-state']", "halted");
      h.probe.awaitAssert(LiquidationHarness.WAIT, () -> {
        assertEquals("{\"halted\":[\"" + PERP + "\"]}", ManagementHttp.operatorGet(http, base + "/liquidations/halted").body());
        return null;
      });
      browser.until(d -> d.findElement(By.id("members-table")).getText().contains("Up"));
      // /shards needs the operator token: the page sends the one it signed in with.
      browser.until(d -> d.findElement(By.id("shards-table")).getText().contains("Account"));
      // The cascade line: the last hour's liquidations and the cluster's view (GET /cascade's counts).
      browser.until(d -> d.findElement(By.id("cascade")).getText().contains("cluster now: 0 pending"));
      browser.screenshot("operations");
      browser.click(halt + " button");
      browser.text("#confirm-yes", "Resume liquidations on " + PERP);
      assertTrue(browser.find("#confirm-text").getText().startsWith("Resume liquidations on " + PERP + "?"),
          browser.find("#confirm-text").getText());
      browser.screenshot("operations-resume");
      browser.click("#confirm-yes");
      browser.text(halt + " td[data-field='halt-state']", "running");
      h.probe.awaitAssert(LiquidationHarness.WAIT, () -> {
        assertEquals("{\"halted\":[]}", ManagementHttp.operatorGet(http, base + "/liquidations/halted").body());
        return null;
      });

      // A console too slow for its events is told how many it lost (the node's "dropped" event, OutboxTest),
      // and reads its lists again.
      browser.click("#tabs button[data-panel='markets']");
      browser.driver.executeScript("onEvent('dropped', { count: 7 })");
      assertTrue(browser.find("#dropped").getText().startsWith("7 events dropped"), browser.find("#dropped").getText());
      alert(browser, "7 live events were dropped (this console fell behind): markets and liquidations read again");

      // Signing out forgets the token: the API's next refusal would show the form again.
      browser.click("#sign-out");
      browser.find("#sign-in-form");
      assertEquals(null, browser.driver.executeScript("return sessionStorage.getItem('clearinghouse.console.token')"));
      // Every panel ran under the console's Content-Security-Policy (self only, no inline script or style).
      assertEquals(List.of(), browser.policyViolations());
      h.auditClean();
    }
  }

  /** Waits until the Markets panel's alert list has an entry ending with {@code text}. */
  private static void alert(Browser browser, String text) {
    browser.until(d -> d.findElements(By.cssSelector("#alerts li")).stream().anyMatch(li -> li.getText().endsWith(text)));
  }

  private static void signIn(Browser browser, String token) {
    WebElement field = browser.find("#token");
    field.clear();
    field.sendKeys(token);
    browser.click("#sign-in-button");
  }

  /** The console's API: the operator token only, malformed parameters 400 with a message. */
  private static void refusals(HttpClient http, String base) throws Exception {
    String api = base + "/console/api/";
    assertEquals(401, send(http, "GET", api + "markets", null, null).statusCode());
    assertEquals(401, send(http, "GET", api + "markets", "wrong", null).statusCode());
    HttpResponse<String> client = send(http, "GET", api + "admin/GetReserves", ALICE_TOKEN, null);
    assertEquals(403, client.statusCode());
    assertTrue(client.body().contains("WRONG_ROLE"), client.body());
    assertEquals(403, send(http, "GET", api + "events", ALICE_TOKEN, null).statusCode());
    assertEquals(200, send(http, "GET", api + "markets", OPERATOR_TOKEN, null).statusCode());
    HttpResponse<String> malformed = send(http, "GET", api + "admin/ListClosestToLiquidation?instrument=" + PERP
        + "&limit=many", OPERATOR_TOKEN, null);
    assertEquals(400, malformed.statusCode());
    assertTrue(JSON.readTree(malformed.body()).get("message").asText().startsWith("not a request of this call"),
        malformed.body());
    HttpResponse<String> unknownField = send(http, "GET", api + "admin/GetReserves?reserve=x", OPERATOR_TOKEN, null);
    assertEquals(400, unknownField.statusCode(), unknownField.body());
    HttpResponse<String> unknownInstrument = send(http, "GET", api + "admin/ListClosestToLiquidation?instrument=DOGE",
        OPERATOR_TOKEN, null);
    assertEquals(400, unknownInstrument.statusCode());
    assertEquals("UNKNOWN_INSTRUMENT", JSON.readTree(unknownInstrument.body()).get("reason").asText());
    assertEquals(400, send(http, "GET", api + "markets/history?instrument=DOGE", OPERATOR_TOKEN, null).statusCode());
    assertEquals(400, send(http, "POST", api + "admin/StressTest", OPERATOR_TOKEN, "[1]").statusCode());
    assertEquals(400, send(http, "POST", api + "admin/StressTest", OPERATOR_TOKEN, "{not json").statusCode());
    assertEquals(404, send(http, "GET", api + "admin/Deposit", OPERATOR_TOKEN, null).statusCode());
    // An unknown path, a method a path does not take, a body over the limit: JSON errors like the others.
    jsonError(send(http, "GET", api + "nope", OPERATOR_TOKEN, null), 404, "NOT_FOUND");
    jsonError(send(http, "PUT", api + "markets", OPERATOR_TOKEN, "{}"), 405, "METHOD_NOT_ALLOWED");
    jsonError(send(http, "DELETE", api + "admin/GetReserves", OPERATOR_TOKEN, null), 405, "METHOD_NOT_ALLOWED");
    assertEquals("the request body is over 65536 bytes", jsonError(send(http, "POST", api + "admin/StressTest",
        OPERATOR_TOKEN, "{\"scenarios\":[\"" + "x".repeat(70_000) + "\"]}"), 413, null).path("message").asText());
    // Every console answer, page and API: no framing, no sniffing, this origin only.
    for (String path : List.of("/console/", "/console/app.js", "/console/api/markets", "/console/api/nope")) {
      HttpResponse<String> answer = send(http, "GET", base + path, OPERATOR_TOKEN, null);
      assertEquals("DENY", answer.headers().firstValue("X-Frame-Options").orElse(""), path);
      assertEquals("nosniff", answer.headers().firstValue("X-Content-Type-Options").orElse(""), path);
      String policy = answer.headers().firstValue("Content-Security-Policy").orElse("");
      assertTrue(policy.startsWith("default-src 'self'; script-src 'self'; style-src 'self';")
          && policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe"), path + ": " + policy);
    }
    // The halt switch: by POST, with the operator token and the confirmation only.
    String halt = "{\"instrument\":\"" + PERP + "\",\"halted\":true}";
    assertEquals(405, send(http, "GET", api + "admin/SetLiquidationHalt?instrument=" + PERP, OPERATOR_TOKEN, null)
        .statusCode());
    assertEquals(403, send(http, "POST", api + "admin/SetLiquidationHalt", ALICE_TOKEN,
        "{\"instrument\":\"" + PERP + "\",\"halted\":true,\"confirm\":\"halt " + PERP + "\"}").statusCode());
    HttpResponse<String> unconfirmed = send(http, "POST", api + "admin/SetLiquidationHalt", OPERATOR_TOKEN, halt);
    assertEquals(400, unconfirmed.statusCode());
    assertEquals("CONFIRMATION_MISSING", JSON.readTree(unconfirmed.body()).get("reason").asText());
    // The confirmation names the direction and the instrument: the bare instrument, or a resume's, does not halt.
    for (String confirm : List.of(PERP, "resume " + PERP, "halt ETHUSDT-PERP", "HALT " + PERP)) {
      HttpResponse<String> wrong = send(http, "POST", api + "admin/SetLiquidationHalt", OPERATOR_TOKEN,
          "{\"instrument\":\"" + PERP + "\",\"halted\":true,\"confirm\":\"" + confirm + "\"}");
      assertEquals(400, wrong.statusCode(), confirm);
      assertEquals("CONFIRMATION_MISSING", JSON.readTree(wrong.body()).get("reason").asText(), confirm);
    }
    assertEquals("{\"halted\":[]}", ManagementHttp.operatorGet(http, base + "/liquidations/halted").body());
  }

  private static JsonNode jsonError(HttpResponse<String> answer, int status, String reason) throws Exception {
    assertEquals(status, answer.statusCode(), answer.body());
    assertTrue(answer.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
        answer.headers().toString());
    JsonNode body = JSON.readTree(answer.body());
    if (reason != null) {
      assertEquals(reason, body.path("reason").asText(), answer.body());
    }
    assertFalse(body.path("reason").asText().isEmpty(), answer.body());
    assertFalse(body.path("message").asText().isEmpty(), answer.body());
    return body;
  }

  private static HttpResponse<String> send(HttpClient http, String method, String uri, String token, String body)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(20))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static boolean isZero(String amount) {
    return new java.math.BigDecimal(amount).signum() == 0;
  }
}
