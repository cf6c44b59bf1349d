package io.clearinghouse.cli;

import static io.clearinghouse.cli.Session.ACCOUNTS;
import static io.clearinghouse.cli.Session.ADMIN;

import io.clearinghouse.protocol.v1.Cover2;
import io.clearinghouse.protocol.v1.FundStress;
import io.clearinghouse.protocol.v1.PriceShock;
import io.clearinghouse.protocol.v1.ShockedMark;
import io.clearinghouse.protocol.v1.StressScenarioResult;
import io.clearinghouse.protocol.v1.StressTestReport;
import io.clearinghouse.protocol.v1.StressTestRequest;
import io.clearinghouse.protocol.v1.StressedAccount;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Risk signals and the stress test (issue 16). */
final class RiskCommands {
  private RiskCommands() {}

  @Command(name = "stress", description = {"What if prices moved now: every node evaluates its accounts under the "
      + "shocked marks, writing nothing (operator).",
      "  chctl stress BTCUSDT-PERP -20%                 one shock (several pairs: one scenario)",
      "  chctl stress --ladder BTCUSDT-PERP             the configured ladder (-5% to -50%), one line a step",
      "  chctl stress --scenario 2020-03-12             a configured scenario"})
  static int stress(@Mixin Call call,
      @Parameters(paramLabel = "INSTRUMENT MOVE", arity = "0..*", description = "pairs of an instrument and a move "
          + "within -99% and +99%") List<String> shocks,
      @Option(names = "--ladder", paramLabel = "INSTRUMENT", description = "run the configured ladder") String ladder,
      @Option(names = "--scenario", paramLabel = "NAME", description = "run a configured scenario (repeatable)")
          List<String> scenarios,
      @Option(names = "--accounts", paramLabel = "N", defaultValue = "10",
          description = "liquidated accounts listed per scenario (${DEFAULT-VALUE})") int accounts) {
    List<String> pairs = shocks == null ? List.of() : shocks;
    if (pairs.size() % 2 != 0) {
      throw new IllegalArgumentException("shocks come in pairs of an instrument and a move, such as BTCUSDT-PERP -20%");
    }
    StressTestRequest.Builder request = StressTestRequest.newBuilder().setAccountsLimit(accounts);
    for (int i = 0; i < pairs.size(); i += 2) {
      request.addShocks(PriceShock.newBuilder().setInstrument(pairs.get(i)).setMove(pairs.get(i + 1)));
    }
    if (ladder != null) {
      request.setLadderInstrument(ladder);
    }
    if (scenarios != null) {
      request.addAllScenarios(scenarios);
    }
    Session s = call.session();
    return s.show(s.call(ADMIN, "StressTest", request.build(), StressTestReport.getDefaultInstance()),
        RiskCommands::report);
  }

  @Command(name = "risk", description = "Your account's risk review: each position's distance to liquidation, in "
      + "percent and in daily moves, its leverage, and a suggested protective stop (client).")
  static int risk(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account) {
    Session s = call.session();
    return s.show(s.call(ACCOUNTS, "GetRiskReport", io.clearinghouse.protocol.v1.GetRiskReportRequest.newBuilder()
        .setAccountId(account).build(), io.clearinghouse.protocol.v1.RiskReport.getDefaultInstance()),
        RiskCommands::riskReport);
  }

  @Command(name = "closest", description = "The accounts closest to liquidation in an instrument, nearest first "
      + "(operator).")
  static int closest(@Mixin Call call, @Parameters(paramLabel = "INSTRUMENT") String instrument,
      @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "positions (${DEFAULT-VALUE})")
          int limit,
      @Option(names = "--offset", paramLabel = "N", defaultValue = "0", description = "nearest ones skipped") int offset) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "ListClosestToLiquidation", io.clearinghouse.protocol.v1.ListClosestToLiquidationRequest
        .newBuilder().setInstrument(instrument).setLimit(limit).setOffset(offset).build(),
        io.clearinghouse.protocol.v1.ClosestToLiquidationList.getDefaultInstance()), list -> {
          StringBuilder text = new StringBuilder();
          list.getPositionsList().forEach(p -> line(text, "%-16s %12s  mark %s, liquidation %s, %s away", p.getAccountId(),
              p.getSize(), p.getMarkPrice(), p.getLiquidationPrice(), percent(p.getDistanceToLiquidationPpm())));
          return text.toString();
        });
  }

  @Command(name = "histogram", description = "Every position in an instrument counted by its distance to "
      + "liquidation, across the cluster (operator).")
  static int histogram(@Mixin Call call, @Parameters(paramLabel = "INSTRUMENT") String instrument) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "GetRiskHistogram", io.clearinghouse.protocol.v1.GetRiskHistogramRequest.newBuilder()
        .setInstrument(instrument).build(), io.clearinghouse.protocol.v1.RiskHistogram.getDefaultInstance()), h -> {
          StringBuilder text = new StringBuilder();
          h.getBucketsList().forEach(b -> line(text, "%-12s %8d", b.getLabel(), b.getPositions()));
          line(text, "%-12s %8d", "no liq. price", h.getWithoutLiquidationPrice());
          line(text, "%-12s %8d", "positions", h.getPositions());
          return text.toString();
        });
  }

  @Command(name = "stress-history", description = "The scheduled stress tests' last runs, newest first (operator).")
  static int stressHistory(@Mixin Call call,
      @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "runs (${DEFAULT-VALUE})") int limit) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "GetStressHistory", io.clearinghouse.protocol.v1.GetStressHistoryRequest.newBuilder()
        .setLimit(limit).build(), io.clearinghouse.protocol.v1.StressHistory.getDefaultInstance()), history -> {
          StringBuilder text = new StringBuilder();
          for (var run : history.getRunsList()) {
            line(text, "%s  %-12s %-7s liquidated %d, to close %s, deficits %s%s%s", java.time.Instant.ofEpochMilli(
                run.getEpochMillis()), run.getScenario(), run.getLevel(), run.getAccountsLiquidated(),
                run.getNotionalToClose(), run.getDeficits(), run.getNodesAnswered() < run.getNodes()
                    ? ", nodes answered " + run.getNodesAnswered() + " of " + run.getNodes() : "",
                run.getApproximate() ? " (approximate)" : "");
            run.getFundsList().forEach(f -> line(text, "    fund %-16s %-7s loss %s of free %s (%s)", f.getFund(),
                f.getLevel(), f.getDeficit(), f.getFreeBalance(), f.getShare()));
          }
          return text.toString();
        });
  }

  static String riskReport(io.clearinghouse.protocol.v1.RiskReport r) {
    StringBuilder text = new StringBuilder();
    line(text, "account       %s", r.getAccountId());
    line(text, "margin ratio  %s", r.getMarginRatio().isEmpty() ? "-" : r.getMarginRatio() + " (liquidation at 1)");
    line(text, "leverage      profile %s, cap %s", r.getLeverageProfile(),
        r.getLeverageCap() == 0 ? "none" : r.getLeverageCap() + "x");
    for (var p : r.getPositionsList()) {
      line(text, "position      %s %s, mark %s, %dx%s", p.getInstrument(), p.getSize(), p.getMarkPrice(), p.getLeverage(),
          p.getAtLeverageCap() ? " (at the cap)" : "");
      if (p.getLiquidationPrice().isEmpty()) {
        line(text, "  no price liquidates it");
        continue;
      }
      line(text, "  liquidation %s, %s away%s", p.getLiquidationPrice(), percent(p.getDistanceToLiquidationPpm()),
          p.getDistanceInDailyMoves().isEmpty() ? "" : ", " + p.getDistanceInDailyMoves() + " daily moves (daily "
              + "volatility " + percent(p.getDailyVolatilityPpm()) + ")");
      if (!p.getSuggestedStopPrice().isEmpty()) {
        line(text, "  suggested stop %s%s", p.getSuggestedStopPrice(),
            p.getStopPrice().isEmpty() ? " (none set)" : " (set: " + p.getStopPrice() + ")");
      }
    }
    return text.toString();
  }

  private static String percent(long ppm) {
    return java.math.BigDecimal.valueOf(ppm, 4).setScale(2, java.math.RoundingMode.DOWN).toPlainString() + "%";
  }

  /** One scenario in full; several (a ladder) as a curve, one line each. */
  static String report(StressTestReport report) {
    StringBuilder text = new StringBuilder();
    if (report.getNodesAnswered() < report.getNodes()) {
      line(text, "WARNING: %d of %d nodes answered; the others' accounts are not counted", report.getNodesAnswered(),
          report.getNodes());
    }
    if (report.getScenariosCount() == 1) {
      scenario(text, report.getScenarios(0));
      return text.toString();
    }
    line(text, "%-24s %10s %8s %18s %16s %16s %16s %16s %7s", "scenario", "mark", "liquid.", "to close", "deficits",
        "fund draws", "ADL", "debt", "cover-2");
    for (StressScenarioResult r : report.getScenariosList()) {
      String draws = r.getFundsList().stream().map(FundStress::getFundDraw).reduce("", (a, b) -> a.isEmpty() ? b
          : new java.math.BigDecimal(a).add(new java.math.BigDecimal(b)).toPlainString());
      line(text, "%-24s %10s %8d %18s %16s %16s %16s %16s %7s", r.getName(),
          r.getMarksCount() == 1 ? r.getMarks(0).getMarkAfter() : r.getMarksCount() + " marks", r.getAccountsLiquidated(),
          r.getNotionalToClose(), r.getDeficits(), draws.isEmpty() ? "0" : draws, r.getAdlNotional(), r.getDebt(),
          r.getCover2().getCovered() ? "covered" : "SHORT");
    }
    return text.toString();
  }

  private static void scenario(StringBuilder text, StressScenarioResult r) {
    line(text, "scenario      %s%s", r.getName(), r.getApproximate() ? "  (approximate: see max-deficit-accounts-per-node"
        + ", liquidation-min-slice-share and scales-timeout)"
        : "");
    for (ShockedMark m : r.getMarksList()) {
      line(text, "mark          %s %s -> %s", m.getInstrument(), m.getMarkBefore(), m.getMarkAfter());
    }
    line(text, "accounts      %d liquidated of %d evaluated (%d would wait for a fresh mark)", r.getAccountsLiquidated(),
        r.getAccountsEvaluated(), r.getAccountsWaiting());
    List<String> per = new ArrayList<>();
    r.getNotionalByInstrumentList().forEach(n -> per.add(n.getInstrument() + " " + n.getNotional()));
    line(text, "to close      %s in %d closes%s", r.getNotionalToClose(), r.getCloses(),
        per.isEmpty() ? "" : " (" + String.join(", ", per) + ")");
    line(text, "penalties     %s", r.getPenalties());
    line(text, "deficits      %s", r.getDeficits());
    for (FundStress f : r.getFundsList()) {
      line(text, "fund %-8s free %s: penalties in %s, deficits %s (own penalties %s), pays %s, operator capital %s, "
          + "debt %s; takeover %s of capacity %s, ADL %s, holds refused %d", f.getFund(), f.getFreeBalance(),
          f.getPenaltyIn(), f.getDeficit(), f.getPenaltyApplied(), f.getFundDraw(), f.getOperatorCapitalDraw(),
          f.getDebt(), f.getTakeoverNotional(), f.getTakeoverCapacity(), f.getAdlNotional(), f.getHoldsRefused());
    }
    line(text, "fund takeover %s", r.getFundTakeoverNotional());
    line(text, "ADL           %s", r.getAdlNotional());
    line(text, "debt          %s", r.getDebt());
    Cover2 c = r.getCover2();
    line(text, "cover-2       losses %s (%s) against %s: %s", c.getLosses(),
        c.getAccountsList().stream().map(StressedAccount::getAccountId).collect(Collectors.joining(", ")),
        c.getResources(), c.getCovered() ? "covered" : "NOT covered");
    for (StressedAccount a : r.getAccountsList()) {
      line(text, "  %-12s closes %d, notional %s, penalties %s, deficit %s", a.getAccountId(), a.getCloses(),
          a.getNotional(), a.getPenalties(), a.getDeficit());
    }
  }

  private static void line(StringBuilder text, String format, Object... args) {
    text.append(String.format(format, args)).append('\n');
  }
}
