package io.clearinghouse.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.liquidation.InsuranceFund;
import io.clearinghouse.margin.Position;
import io.clearinghouse.monitor.StressEvaluation.AccountFigures;
import io.clearinghouse.monitor.StressEvaluation.DeficitAccount;
import io.clearinghouse.monitor.StressEvaluation.NodeResult;
import io.clearinghouse.monitor.StressEvaluation.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The stress test's merge across nodes (issue 16 item 7): each fund drawn on once, in account
 * order whatever node answered; under the ADL policy a deficit the fund and the operator's capital
 * cannot hold goes to its bankruptcy path (a fund takeover within its capacity, else ADL); under
 * the debt policy what no layer covers is debt; cover-2; accounts beyond a node's detail folded
 * (approximate).
 */
class StressMergeTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final String FUTURE = "BTCUSDT-271231";
  private static final long USDT = 1_000_000;
  /** PERP (ADL): 50 a day of operator capital, a takeover limit of 100,000; FUTURE: debt. */
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.parseString(
      "clearinghouse.instrument-overrides { \"" + PERP + "\" { operator-capital-per-day = \"50\", "
          + "insurance-fund-takeover-limit = \"100000\" }, \"" + FUTURE + "\" { negative-balance-policy = debt } }")
      .withFallback(ConfigFactory.load()), 6);
  private static final StressTest STRESS = new StressTest(null, INSTRUMENTS, null, null,
      StressSettings.fromConfig(ConfigFactory.load(), INSTRUMENTS));

  private static Path backstop(String symbol, long need, long notional) {
    return new Path(1, 0, need, 0, need, Map.of(symbol, notional), Map.of(), Map.of());
  }

  private static Path atBankruptcy(String symbol, long notional) {
    return new Path(1, 0, 0, 0, 0, Map.of(symbol, notional), Map.of(symbol, notional), Map.of());
  }

  private static NodeResult node(List<DeficitAccount> deficits, Path folded, List<AccountFigures> largest) {
    return new NodeResult("s", 10, deficits.size(), 0, folded, deficits, 0, Map.of(), largest);
  }

  private static InsuranceFund.View fund(String name, long balance, long reserved, Map<String, Position> positions,
      boolean insuranceFund) {
    return new InsuranceFund.View(name, balance, reserved, 0, 0, 0, List.of(), positions, insuranceFund);
  }

  @Test
  void eachFundIsDrawnOnceInAccountOrderAcrossNodes() {
    // Node 2 answers "a" (120 beyond its margin), node 1 "b" (80) and "c" (30 on the future).
    NodeResult first = node(List.of(new DeficitAccount("b", PERP, backstop(PERP, 80 * USDT, 49_000 * USDT),
        atBankruptcy(PERP, 49_025 * USDT)), new DeficitAccount("c", FUTURE, backstop(FUTURE, 30 * USDT, 49_000 * USDT),
        atBankruptcy(FUTURE, 49_025 * USDT))), new Path(0, 0, 0, 0, 0, Map.of(), Map.of(), Map.of()), List.of());
    NodeResult second = node(List.of(new DeficitAccount("a", PERP, backstop(PERP, 120 * USDT, 49_000 * USDT),
        atBankruptcy(PERP, 49_025 * USDT))), new Path(1, 5 * USDT, 0, 0, 0, Map.of(PERP, 10_000 * USDT), Map.of(),
        Map.of(PERP, 5 * USDT)), List.of(new AccountFigures("z", 1, 10_000 * USDT, 5 * USDT, 0)));
    // The PERP fund has 110 of which 10 held; the future's fund 20; the operator's capital 1,000.
    List<InsuranceFund.View> views = List.of(
        fund(PERP, 110 * USDT, 10 * USDT, Map.of(PERP, new Position(1_000, 40_000 * USDT)), true),
        fund(FUTURE, 20 * USDT, 0, Map.of(), true), fund("operator-capital", 1_000 * USDT, 0, Map.of(), false));
    var report = STRESS.merge(new StressEvaluation.Scenario("s", Map.of(PERP, 490_000L, FUTURE, 490_000L)),
        List.of(), List.of(second, first), views, 10);
    var perp = report.funds().stream().filter(f -> f.fund().equals(PERP)).findFirst().orElseThrow();
    var future = report.funds().stream().filter(f -> f.fund().equals(FUTURE)).findFirst().orElseThrow();
    // "a" first: its hold of 120 fits 100 of fund and 50 of capital: the fund pays 100, the capital 20.
    // "b": 80 against nothing left in the fund and 30 of the day's capital: refused, closed at
    // bankruptcy, taken over by the fund within 100,000 less the 49,000 it holds (1 BTC at 49,000).
    assertEquals(List.of(100 * USDT, 20 * USDT, 0L, 1L, 49_025 * USDT, 51_000 * USDT, 0L, 200 * USDT, 120 * USDT,
        5 * USDT), List.of(perp.fundDraw(), perp.capitalDraw(), perp.debt(), perp.holdsRefused(),
            perp.takeoverNotional(), perp.takeoverCapacity(), perp.adlNotional(), perp.loss(), perp.deficit(),
            perp.penaltyIn()));
    // "c" on the debt policy: the future's fund pays its 20, the rest is debt (no capital layer there).
    assertEquals(List.of(20 * USDT, 0L, 10 * USDT, 0L), List.of(future.fundDraw(), future.capitalDraw(), future.debt(),
        future.holdsRefused()));
    assertEquals(10 * USDT, report.debt());
    assertEquals(List.of(20L, 3L), List.of(report.accountsEvaluated(), report.accountsLiquidated()));
    // Cover-2: "a" and "b" (200) against 100 + 20 + 1,000 free.
    assertEquals(List.of("a", "b"), report.cover2().accounts().stream().map(AccountFigures::accountId).toList());
    assertEquals(200 * USDT, report.cover2().losses());
    assertEquals(1_120 * USDT, report.cover2().resources());
    assertTrue(report.cover2().covered());
    // The accounts listed show the path each is counted on: "b" at bankruptcy, with no deficit left.
    var b = report.accounts().stream().filter(a -> a.accountId().equals("b")).findFirst().orElseThrow();
    assertEquals(List.of(49_025 * USDT, 0L), List.of(b.notional(), b.need()));
    assertEquals("a", report.accounts().get(0).accountId());
    assertFalse(report.approximate());
  }

  @Test
  void foldedDeficitsMakeTheReportApproximate() {
    NodeResult folded = new NodeResult("s", 5, 5, 0, backstop(PERP, 300 * USDT, 245_000 * USDT), List.of(), 5,
        Map.of(PERP, 300 * USDT), List.of());
    var report = STRESS.merge(new StressEvaluation.Scenario("s", Map.of(PERP, 490_000L)), List.of(),
        List.of(folded), List.of(fund(PERP, 100 * USDT, 0, Map.of(), true)), 10);
    var perp = report.funds().stream().filter(f -> f.fund().equals(PERP)).findFirst().orElseThrow();
    assertTrue(report.approximate());
    // The fund pays its 100, the day's capital (none in reserve here) nothing: 200 is left as debt.
    assertEquals(List.of(100 * USDT, 0L, 200 * USDT, 300 * USDT), List.of(perp.fundDraw(), perp.capitalDraw(),
        perp.debt(), perp.loss()));
  }

  /** Review 16: a node whose simulation of an account stopped at its 10,000-close bound makes the report approximate. */
  @Test
  void aTruncatedSimulationMakesTheReportApproximate() {
    NodeResult truncated = new NodeResult("s", 5, 1, 0, new Path(10_000, 0, 0, 0, 0, Map.of(PERP, 1_000 * USDT),
        Map.of(), Map.of()), List.of(), 0, Map.of(), List.of(), 1);
    var report = STRESS.merge(new StressEvaluation.Scenario("s", Map.of(PERP, 490_000L)), List.of(),
        List.of(truncated), List.of(fund(PERP, 100 * USDT, 0, Map.of(), true)), 10);
    assertTrue(report.approximate());
  }
}
