package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.Calls.refused;
import static io.clearinghouse.it.LiquidationHarness.FUTURE;
import static io.clearinghouse.it.LiquidationHarness.PERP;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.common.Rejection;
import io.clearinghouse.protocol.v1.FundStress;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationClose;
import io.clearinghouse.protocol.v1.PriceShock;
import io.clearinghouse.protocol.v1.StressScenarioResult;
import io.clearinghouse.protocol.v1.StressTestReport;
import io.clearinghouse.protocol.v1.StressTestRequest;
import io.clearinghouse.protocol.v1.StressedAccount;
import io.grpc.Status.Code;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The stress test's "done when" (issue 16 item 7): a scenario's result equals what happens when
 * its marks are then published. On a real node over gRPC: run StressTest, publish the shocked mark,
 * let the sagas finish, and compare the liquidated accounts, each one's closes, notional, penalties
 * and deficit, and each fund's penalties in, draw and debt, exactly; then the same where the fund
 * cannot hold a deficit (the close is deleveraged at bankruptcy instead). Ends with the audit.
 */
class StressTestIntegrationTest {

  @Test
  void theStressTestsResultIsWhatPublishingItsMarksThenDoes() {
    try (LiquidationHarness h = new LiquidationHarness("stress", "")) {
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP, FUTURE);
      h.topUp(PERP, "1000", "fund-seed");
      h.mark(PERP, "50000");
      // alice-1: a surplus (penalty 77 to the fund); alice-2: a deficit of 123 the fund pays;
      // carol: 5 BTC in the second tier, closed tier by tier; bob: safe.
      h.open("alice-1", "1200");
      h.buy("alice-1", "maker", PERP, "1", "50000");
      h.open("alice-2", "1000");
      h.buy("alice-2", "maker", PERP, "1", "50000");
      h.open("carol", "6200");
      h.buy("carol", "maker", PERP, "5", "50000");
      h.open("bob", "20000");
      h.buy("bob", "maker", PERP, "1", "50000");

      StressScenarioResult predicted = stress(h, shock(PERP, "-2%")).getScenarios(0);
      assertEquals("49000.0", predicted.getMarks(0).getMarkAfter());
      assertEquals("50000.0", predicted.getMarks(0).getMarkBefore());
      assertEquals(3, predicted.getAccountsLiquidated(), predicted.toString());
      // Nothing was written: no account is liquidating, the fund is as it was.
      assertEquals("", h.view("carol").getLiquidationId());
      assertEquals("1000.000000", h.fund(PERP).getBalance());

      h.mark(PERP, "49000");
      List<Liquidation> happened = List.of(h.onlyLiquidation("alice-1"), h.onlyLiquidation("alice-2"),
          h.onlyLiquidation("carol"));
      assertEquals(0, h.finished("bob", 0).size());
      sameAsHappened(predicted, happened, PERP);
      // carol: 3.98 BTC closed first (down to the first tier); its penalty took what was left above
      // bankruptcy, so the rest went too, 99.96 beyond her cash: covered by her own penalty first.
      assertEquals(List.of("-3.980", "-1.020"), happened.get(2).getClosesList().stream()
          .map(LiquidationClose::getQuantity).toList());
      assertEquals(List.of("99.960000", "0.000000"), List.of(happened.get(2).getPenaltyApplied(),
          happened.get(2).getInsuranceFundOut()));

      // The fund cannot hold a deficit: dave's 123 beyond bankruptcy on the future, whose fund holds
      // 100. The stress test says the close goes to auto-deleveraging at bankruptcy; so it does.
      h.topUp(FUTURE, "100", "future-seed");
      h.mark(FUTURE, "50000");
      h.open("dave", "1000");
      h.buy("dave", "maker", FUTURE, "1", "50000");
      StressScenarioResult refused = stress(h, shock(FUTURE, "-2%")).getScenarios(0);
      assertEquals(1, refused.getAccountsLiquidated(), refused.toString());
      FundStress futureFund = fund(refused, FUTURE);
      assertEquals(1, futureFund.getHoldsRefused());
      assertEquals("0.000000", futureFund.getFundDraw());
      assertEquals("49025.000000", refused.getAdlNotional());
      h.mark(FUTURE, "49000");
      Liquidation dave = h.onlyLiquidation("dave");
      assertEquals("ADL", dave.getCloses(0).getVenue());
      sameAsHappened(refused, List.of(dave), FUTURE);
      assertEquals(notional(List.of(dave)), new BigDecimal(refused.getAdlNotional()));
      h.auditClean();
    }
  }

  @Test
  void ladderScenariosAndBadInput() {
    try (LiquidationHarness h = new LiquidationHarness("stress_bad", "")) {
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      h.mark(PERP, "50000");
      for (int i = 1; i <= 5; i++) {
        h.open("t-" + i, String.valueOf(600 * i));
        h.buy("t-" + i, "maker", PERP, "1", "50000");
      }
      StressTestReport ladder = call(h.admin.stressTest(), OPERATOR_TOKEN, StressTestRequest.newBuilder()
          .setLadderInstrument(PERP).addScenarios("2020-03-12").build());
      assertEquals(11, ladder.getScenariosCount());
      assertEquals(1, ladder.getNodesAnswered());
      assertEquals("BTCUSDT-PERP -5%", ladder.getScenarios(0).getName());
      assertEquals("47500.0", ladder.getScenarios(0).getMarks(0).getMarkAfter());
      assertEquals("BTCUSDT-PERP -50%", ladder.getScenarios(9).getName());
      // The liquidation curve only rises as the shock deepens; at -10% every long of 1 BTC with
      // less than 5,000 of margin is gone, and the short (maker) never is.
      long previous = 0;
      for (int i = 0; i < 10; i++) {
        long liquidated = ladder.getScenarios(i).getAccountsLiquidated();
        assertTrue(liquidated >= previous, ladder.getScenarios(i).getName());
        previous = liquidated;
      }
      assertEquals(5, ladder.getScenarios(1).getAccountsLiquidated());
      assertEquals(6, ladder.getScenarios(1).getAccountsEvaluated());
      // The future has no mark: the configured scenario leaves it out.
      StressScenarioResult crash = ladder.getScenarios(10);
      assertEquals("2020-03-12", crash.getName());
      assertEquals(1, crash.getMarksCount());
      assertEquals("27000.0", crash.getMarks(0).getMarkAfter());
      // Cover-2: the two largest losses against an empty fund.
      assertEquals(2, crash.getCover2().getAccountsCount());
      assertFalse(crash.getCover2().getCovered());
      assertEquals("t-1", crash.getCover2().getAccounts(0).getAccountId());
      // Nothing was written by any of them.
      assertEquals("", h.view("t-1").getLiquidationId());

      // chctl: one scenario in full, a ladder as a curve, refusals and usage errors.
      Map<String, String> env = Map.of("CLEARINGHOUSE_GRPC", "127.0.0.1:" + h.node.grpcAddress().getPort(),
          "CLEARINGHOUSE_TOKEN", TestNodes.OPERATOR_TOKEN);
      Run one = chctl(env, "stress", PERP, "-10%");
      assertEquals(0, one.code(), one.err());
      assertTrue(one.out().contains("mark          BTCUSDT-PERP 50000.0 -> 45000.0\n"), one.out());
      assertTrue(one.out().contains("accounts      5 liquidated of 6 evaluated"), one.out());
      Run curve = chctl(env, "stress", "--ladder", PERP);
      assertEquals(0, curve.code(), curve.err());
      assertEquals(11, curve.out().lines().count(), curve.out());
      Run beyond = chctl(env, "stress", PERP, "-100%");
      assertEquals(1, beyond.code());
      assertTrue(beyond.err().contains("INVALID_ARGUMENT INVALID_SHOCK"), beyond.err());
      assertEquals(64, chctl(env, "stress", PERP).code());

      for (String move : List.of("-99.5%", "100%", "0%", "abc", "", "-20.00001%")) {
        refused(h.admin.stressTest(), OPERATOR_TOKEN, StressTestRequest.newBuilder().addShocks(shock(PERP, move)).build(),
            Code.INVALID_ARGUMENT, Rejection.INVALID_SHOCK);
      }
      refused(h.admin.stressTest(), OPERATOR_TOKEN, StressTestRequest.getDefaultInstance(), Code.INVALID_ARGUMENT,
          Rejection.INVALID_SHOCK);
      refused(h.admin.stressTest(), OPERATOR_TOKEN, StressTestRequest.newBuilder().addShocks(shock(PERP, "-1%"))
          .addShocks(shock(PERP, "-2%")).build(), Code.INVALID_ARGUMENT, Rejection.INVALID_SHOCK);
      refused(h.admin.stressTest(), OPERATOR_TOKEN, StressTestRequest.newBuilder().addShocks(shock("ETHUSDT-PERP",
          "-1%")).build(), Code.INVALID_ARGUMENT, Rejection.UNKNOWN_INSTRUMENT);
      refused(h.admin.stressTest(), OPERATOR_TOKEN, StressTestRequest.newBuilder().setLadderInstrument("nope").build(),
          Code.INVALID_ARGUMENT, Rejection.UNKNOWN_INSTRUMENT);
      refused(h.admin.stressTest(), OPERATOR_TOKEN, StressTestRequest.newBuilder().addScenarios("1987-10-19").build(),
          Code.NOT_FOUND, Rejection.UNKNOWN_SCENARIO);
      // No mark yet on the future: nothing to shock.
      refused(h.admin.stressTest(), OPERATOR_TOKEN, StressTestRequest.newBuilder().addShocks(shock(FUTURE, "-1%"))
          .build(), Code.UNAVAILABLE, Rejection.MARK_STALE);
      refused(h.admin.stressTest(), ALICE_TOKEN, StressTestRequest.newBuilder().addShocks(shock(PERP, "-1%")).build(),
          Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);
      h.auditClean();
    }
  }

  @Test
  void scheduledStressTestsKeepAHistoryAndReachTheActionLevel() {
    try (LiquidationHarness h = new LiquidationHarness("stress_schedule",
        "clearinghouse.stress.schedule { interval = 1s, scenarios = [\"2021-05-19\"] }")) {
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      h.topUp(PERP, "100", "fund-seed");
      h.mark(PERP, "50000");
      h.open("t-1", "1000");
      h.buy("t-1", "maker", PERP, "1", "50000");
      // BTC -30%: t-1 loses 15,000 against its 975; closed at 34,930.0, 14,095 beyond it against a fund of 100.
      var run = h.probe.awaitAssert(LiquidationHarness.WAIT, java.time.Duration.ofMillis(200), () -> {
        var history = call(h.admin.getStressHistory(), OPERATOR_TOKEN,
            io.clearinghouse.protocol.v1.GetStressHistoryRequest.getDefaultInstance());
        assertTrue(history.getRunsCount() > 0, history.toString());
        var newest = history.getRuns(0);
        assertEquals(1, newest.getAccountsLiquidated(), newest.toString());
        return newest;
      });
      assertEquals(List.of("2021-05-19", "ACTION"), List.of(run.getScenario(), run.getLevel()));
      var fund = run.getFundsList().stream().filter(f -> f.getFund().equals(PERP)).findFirst().orElseThrow();
      assertEquals(List.of("100.000000", "14095.000000", "14095%", "ACTION"), List.of(fund.getFreeBalance(),
          fund.getDeficit(), fund.getShare(), fund.getLevel()));
      String metrics = ManagementHttp.operatorGet(java.net.http.HttpClient.newHttpClient(),
          h.node.managementUri().replaceAll("/$", "") + "/metrics").body();
      assertTrue(metrics.contains("clearinghouse_stress_level{scenario=\"2021-05-19\",} 2.0"), metrics);
      // Nothing was written by the runs.
      assertEquals("", h.view("t-1").getLiquidationId());
      assertEquals("100.000000", h.fund(PERP).getBalance());
      h.auditClean();
    }
  }

  private record Run(int code, String out, String err) {}

  private static Run chctl(Map<String, String> env, String... args) {
    java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
    java.io.StringWriter errors = new java.io.StringWriter();
    try (io.clearinghouse.cli.Chctl chctl = new io.clearinghouse.cli.Chctl(env,
        new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8))) {
      int code = chctl.commandLine(new java.io.PrintWriter(errors, true)).execute(args);
      return new Run(code, printed.toString(java.nio.charset.StandardCharsets.UTF_8), errors.toString());
    }
  }

  static PriceShock shock(String instrument, String move) {
    return PriceShock.newBuilder().setInstrument(instrument).setMove(move).build();
  }

  static StressTestReport stress(LiquidationHarness h, PriceShock shock) {
    return call(h.admin.stressTest(), OPERATOR_TOKEN, StressTestRequest.newBuilder().addShocks(shock).build());
  }

  private static FundStress fund(StressScenarioResult result, String fund) {
    return result.getFundsList().stream().filter(f -> f.getFund().equals(fund)).findFirst().orElseThrow();
  }

  /** The prediction and what happened agree account by account, and on the fund of {@code instrument}. */
  static void sameAsHappened(StressScenarioResult predicted, List<Liquidation> happened, String instrument) {
    Map<String, StressedAccount> byAccount = predicted.getAccountsList().stream()
        .collect(Collectors.toMap(StressedAccount::getAccountId, a -> a, (a, b) -> a, TreeMap::new));
    assertEquals(happened.stream().map(Liquidation::getAccountId).sorted().toList(), List.copyOf(byAccount.keySet()));
    BigDecimal fundIn = BigDecimal.ZERO;
    BigDecimal fundOut = BigDecimal.ZERO;
    BigDecimal debt = BigDecimal.ZERO;
    BigDecimal penalties = BigDecimal.ZERO;
    BigDecimal deficits = BigDecimal.ZERO;
    for (Liquidation l : happened) {
      StressedAccount p = byAccount.get(l.getAccountId());
      BigDecimal need = new BigDecimal(l.getPenaltyApplied()).add(new BigDecimal(l.getInsuranceFundOut()))
          .add(new BigDecimal(l.getOperatorCapitalPaid())).add(new BigDecimal(l.getDebt()));
      assertEquals(List.of(l.getClosesCount(), new BigDecimal(l.getPenalty()), notional(List.of(l)), need),
          List.of((int) p.getCloses(), new BigDecimal(p.getPenalties()), new BigDecimal(p.getNotional()),
              new BigDecimal(p.getDeficit())), l.getAccountId() + ": " + l);
      fundIn = fundIn.add(new BigDecimal(l.getInsuranceFundIn()));
      fundOut = fundOut.add(new BigDecimal(l.getInsuranceFundOut()));
      debt = debt.add(new BigDecimal(l.getDebt()));
      penalties = penalties.add(new BigDecimal(l.getPenalty()));
      deficits = deficits.add(need);
    }
    FundStress fund = fund(predicted, instrument);
    assertEquals(List.of(fundIn, fundOut, debt), List.of(new BigDecimal(fund.getPenaltyIn()),
        new BigDecimal(fund.getFundDraw()), new BigDecimal(fund.getDebt())), fund.toString());
    assertEquals(List.of(penalties, deficits, notional(happened)), List.of(new BigDecimal(predicted.getPenalties()),
        new BigDecimal(predicted.getDeficits()), new BigDecimal(predicted.getNotionalToClose())));
    assertEquals(happened.stream().mapToInt(Liquidation::getClosesCount).sum(), predicted.getCloses());
  }

  /** What the closes of {@code liquidations} closed, at their prices. */
  private static BigDecimal notional(List<Liquidation> liquidations) {
    BigDecimal sum = BigDecimal.ZERO;
    for (Liquidation l : liquidations) {
      for (LiquidationClose c : l.getClosesList()) {
        sum = sum.add(new BigDecimal(c.getQuantity()).abs().multiply(new BigDecimal(c.getPrice())));
      }
    }
    return sum.setScale(6);
  }
}
