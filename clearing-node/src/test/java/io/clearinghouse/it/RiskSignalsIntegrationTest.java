package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.Calls.refused;
import static io.clearinghouse.it.LiquidationHarness.PERP;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.common.Rejection;
import io.clearinghouse.protocol.v1.AccountUpdate;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.MarginAlert;
import io.clearinghouse.protocol.v1.MarkPriceUpdate;
import io.clearinghouse.protocol.v1.SetLeverageCapRequest;
import io.clearinghouse.protocol.v1.SetLeverageRequest;
import io.clearinghouse.protocol.v1.StreamAccountRequest;
import io.clearinghouse.protocol.v1.StreamMarkPricesRequest;
import io.grpc.Status.Code;
import java.net.http.HttpClient;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;

/**
 * Risk signals on a real node over gRPC (issue 16): the beginner leverage profile (items 5) and
 * the volatility index with its UNUSUAL_VOLATILITY alert (item 1), in GetAccount, the mark stream,
 * the account stream and the metrics. Ends with the audit.
 */
class RiskSignalsIntegrationTest {

  @Test
  void beginnerProfileAndUnusualVolatility() {
    try (LiquidationHarness h = new LiquidationHarness("risk_signals", String.join("\n",
        "clearinghouse.account.beginner-leverage = 3",
        // Short windows so that a test can make a calm stretch and then a violent one.
        "clearinghouse.volatility { short-window = 2s, long-window = 60s, unusual-multiple = \"200%\", min-steps = 5 }"))) {
      // 1. The beginner profile: capped at 3x until the operator sets a cap.
      h.open("alice-1", "100000");
      assertEquals(java.util.List.of("beginner", 3), java.util.List.of(h.view("alice-1").getLeverageProfile(),
          h.view("alice-1").getLeverageCap()));
      call(h.accounts.setLeverage(), ALICE_TOKEN, SetLeverageRequest.newBuilder().setAccountId("alice-1")
          .setInstrument(PERP).setLeverage(3).build());
      refused(h.accounts.setLeverage(), ALICE_TOKEN, SetLeverageRequest.newBuilder().setAccountId("alice-1")
          .setInstrument(PERP).setLeverage(4).build(), Code.FAILED_PRECONDITION, Rejection.LEVERAGE_ABOVE_CAP);
      call(h.admin.setLeverageCap(), OPERATOR_TOKEN, SetLeverageCapRequest.newBuilder().setAccountId("alice-1")
          .setMaxLeverage(0).build());
      assertEquals(java.util.List.of("standard", 0), java.util.List.of(h.view("alice-1").getLeverageProfile(),
          h.view("alice-1").getLeverageCap()));
      call(h.accounts.setLeverage(), ALICE_TOKEN, SetLeverageRequest.newBuilder().setAccountId("alice-1")
          .setInstrument(PERP).setLeverage(20).build());

      // 2. The volatility index: a calm stretch (0.001% steps) of more than 10 s, then 3% swings.
      h.open("maker", "1000000");
      h.mark(PERP, "50000");
      h.buy("alice-1", "maker", PERP, "1", "50000");
      TestProbe<AccountUpdate> alice = TestProbe.create(h.clients);
      h.accounts.streamAccount().addHeader("authorization", Calls.BEARER + ALICE_TOKEN)
          .invoke(StreamAccountRequest.newBuilder().setAccountId("alice-1").build())
          .runWith(Sink.foreach(alice.getRef()::tell), h.clients);
      TestProbe<MarkPriceUpdate> marks = TestProbe.create(h.clients);
      h.prices.streamMarkPrices().addHeader("authorization", Calls.BEARER + ALICE_TOKEN)
          .invoke(StreamMarkPricesRequest.newBuilder().addInstruments(PERP).build())
          .runWith(Sink.foreach(marks.getRef()::tell), h.clients);
      long calmUntil = System.currentTimeMillis() + 12_000;
      boolean up = false;
      while (System.currentTimeMillis() < calmUntil) {
        up = !up;
        h.mark(PERP, up ? "50000.5" : "50000");
      }
      var calm = h.view("alice-1").getPositions(0);
      assertTrue(calm.getVolatilityShortPpm() > 0 && calm.getVolatilityLongPpm() > 0, calm.toString());
      for (String price : new String[] {"51500", "50000", "51500", "50000"}) {
        h.mark(PERP, price);
      }
      alice.fishForMessage(LiquidationHarness.WAIT, u -> u.getAlertsList().stream()
          .anyMatch(a -> a.getKind() == MarginAlert.Kind.UNUSUAL_VOLATILITY && a.getLevel().equals(PERP))
          ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore());
      marks.fishForMessage(LiquidationHarness.WAIT, u -> u.getUnusualVolatility() && u.getVolatilityShortPpm()
          > 2 * u.getVolatilityLongPpm() ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore());
      var wild = call(h.admin.getAccount(), OPERATOR_TOKEN, GetAccountRequest.newBuilder().setAccountId("alice-1")
          .build()).getPositions(0);
      assertTrue(wild.getVolatilityShortPpm() > 2 * wild.getVolatilityLongPpm(), wild.toString());
      String metrics = ManagementHttp.operatorGet(HttpClient.newHttpClient(), h.node.managementUri().replaceAll("/$", "")
          + "/metrics").body();
      assertTrue(metrics.contains("clearinghouse_volatility_unusual{instrument=\"BTCUSDT-PERP\",} 1.0"), metrics);
      assertTrue(metrics.contains("clearinghouse_volatility_ppm{instrument=\"BTCUSDT-PERP\",window=\"short\",}"),
          metrics);

      // 3. The risk review: alice-2 with 1 BTC long on 3,000 of margin, at the last mark 50,000.
      h.open("alice-2", "3000");
      h.buy("alice-2", "maker", PERP, "1", "50000");
      var report = call(h.accounts.getRiskReport(), ALICE_TOKEN, io.clearinghouse.protocol.v1.GetRiskReportRequest
          .newBuilder().setAccountId("alice-2").build());
      var position = report.getPositions(0);
      assertEquals(java.util.List.of("beginner", 3, "1.000", "50000.0"), java.util.List.of(report.getLeverageProfile(),
          report.getLeverageCap(), position.getSize(), position.getMarkPrice()));
      // Equity 2,975 against 200 of maintenance: liquidation at 47,213.8 (5.5724% below the mark);
      // the suggested stop halfway, rounded towards the mark.
      assertEquals("47213.8", position.getLiquidationPrice());
      assertEquals(55_724, position.getDistanceToLiquidationPpm());
      assertEquals("48606.9", position.getSuggestedStopPrice());
      assertTrue(position.getDailyVolatilityPpm() > 0 && !position.getDistanceInDailyMoves().isEmpty(),
          position.toString());
      refused(h.accounts.getRiskReport(), ALICE_TOKEN, io.clearinghouse.protocol.v1.GetRiskReportRequest.newBuilder()
          .setAccountId("maker").build(), Code.PERMISSION_DENIED, Rejection.NOT_ACCOUNT_OWNER);

      // 4. The accounts closest to liquidation: alice-2, then the maker's short; alice-1 has no
      // liquidation price (100,000 behind 1 BTC).
      var first = call(h.admin.listClosestToLiquidation(), OPERATOR_TOKEN,
          io.clearinghouse.protocol.v1.ListClosestToLiquidationRequest.newBuilder().setInstrument(PERP).build());
      assertEquals(java.util.List.of("alice-2", "maker"), first.getPositionsList().stream()
          .map(io.clearinghouse.protocol.v1.ClosestPosition::getAccountId).toList());
      var second = call(h.admin.listClosestToLiquidation(), OPERATOR_TOKEN,
          io.clearinghouse.protocol.v1.ListClosestToLiquidationRequest.newBuilder().setInstrument(PERP).setOffset(1)
              .setLimit(1).build());
      assertEquals("maker", second.getPositions(0).getAccountId());
      assertEquals(1, second.getPositionsCount());
      refused(h.admin.listClosestToLiquidation(), OPERATOR_TOKEN,
          io.clearinghouse.protocol.v1.ListClosestToLiquidationRequest.newBuilder().setInstrument("DOGE").build(),
          Code.INVALID_ARGUMENT, Rejection.UNKNOWN_INSTRUMENT);
      refused(h.admin.listClosestToLiquidation(), ALICE_TOKEN,
          io.clearinghouse.protocol.v1.ListClosestToLiquidationRequest.newBuilder().setInstrument(PERP).build(),
          Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);

      // 5. Every position counted by its distance: alice-2 (5.57%) and the maker's short in their
      // buckets, alice-1 apart (no liquidation price).
      var histogram = call(h.admin.getRiskHistogram(), OPERATOR_TOKEN,
          io.clearinghouse.protocol.v1.GetRiskHistogramRequest.newBuilder().setInstrument(PERP).build());
      assertEquals(3, histogram.getPositions());
      assertEquals(1, histogram.getWithoutLiquidationPrice());
      long[] expected = new long[histogram.getBucketsCount()];
      for (var p : first.getPositionsList()) {
        for (int i = 0; i < histogram.getBucketsCount(); i++) {
          var b = histogram.getBuckets(i);
          boolean in = i == 0 ? p.getDistanceToLiquidationPpm() <= 0 : p.getDistanceToLiquidationPpm() >= b.getFromPpm()
              && (b.getToPpm() < 0 || p.getDistanceToLiquidationPpm() < b.getToPpm());
          expected[i] += in ? 1 : 0;
        }
      }
      assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(histogram.getBucketsList().stream()
          .mapToLong(io.clearinghouse.protocol.v1.RiskBucket::getPositions).toArray()));
      assertEquals("5-10%", histogram.getBuckets(2).getLabel());
      assertEquals(1, histogram.getBuckets(2).getPositions(), histogram.toString());
      refused(h.admin.getRiskHistogram(), OPERATOR_TOKEN,
          io.clearinghouse.protocol.v1.GetRiskHistogramRequest.newBuilder().setInstrument("DOGE").build(),
          Code.INVALID_ARGUMENT, Rejection.UNKNOWN_INSTRUMENT);
      refused(h.admin.getRiskHistogram(), ALICE_TOKEN,
          io.clearinghouse.protocol.v1.GetRiskHistogramRequest.newBuilder().setInstrument(PERP).build(),
          Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);
      h.auditClean();
    }
  }
}
