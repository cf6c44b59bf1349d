package io.clearinghouse.it;

import static io.clearinghouse.it.LiquidationHarness.FUTURE;
import static io.clearinghouse.it.LiquidationHarness.PERP;
import static io.clearinghouse.it.LiquidationHarness.balanced;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.liquidation.LiquidationSaga;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationClose;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Sagas that crash at every step: with fault injection on, each saga fails once right after
 * every event it persists and once on every answer before recording it (the other entity has
 * applied the step, the saga has not). The shard restarts it, it recovers from its journal and
 * re-sends with the same keys, and every liquidation must end with exactly the amounts of the
 * crash-free runs in {@link LiquidationIntegrationTest}; the audit must be clean.
 */
class LiquidationCrashIntegrationTest {

  @Test
  void sagasCrashingAtEveryStepEndExactlyAsWithoutCrashes() {
    int crashesBefore = LiquidationSaga.injectedCrashes();
    try (LiquidationHarness h = new LiquidationHarness("liq_crash", String.join("\n",
        "clearinghouse.liquidation.fault-injection.crash-at-every-step = on",
        "clearinghouse.liquidation.instruments { \"" + FUTURE + "\" { negative-balance-policy = debt, "
            + "insurance-fund = FUTURES } }"))) {
      h.open("alice-1", "2000");
      h.open("alice-2", "1000");
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      h.topUp("FUTURES", "100", "seed");

      // 1) Two closes (backstop, then deleveraging), a penalty, no cover: the cross case.
      h.buy("alice-1", "maker", PERP, "1", "50000");
      h.buy("alice-1", "maker", FUTURE, "0.5", "50000");
      h.mark(FUTURE, "49000");
      h.mark(PERP, "48700");
      Liquidation cross = h.onlyLiquidation("alice-1");
      List<LiquidationClose> closes = cross.getClosesList();
      assertEquals(List.of("BACKSTOP", "48602.6", "-1397.400000", "65.100000", "ADL", "49000.0", "-500.000000"),
          List.of(closes.get(0).getVenue(), closes.get(0).getPrice(), closes.get(0).getRealizedPnl(),
              closes.get(0).getPenalty(), closes.get(1).getVenue(), closes.get(1).getPrice(),
              closes.get(1).getRealizedPnl()));
      assertEquals("adl", cross.getOutcome());
      balanced(cross);

      // 2) The fund pays part of a deficit and the rest is debt: the settlement steps. The
      //    provider now takes the FUTURE too; the mark goes back to 50,000 before the trade.
      h.provider("prov", "1000000", PERP, FUTURE);
      h.mark(FUTURE, "50000");
      h.buy("alice-2", "maker", FUTURE, "1", "50000");
      h.mark(FUTURE, "48990");
      // Bankruptcy 49,025; the provider buys at floor(48,990 * 0.998) = 48,892.0: realized
      // -1,108, cash -133; the fund pays its 100, 33 stays as debt.
      Liquidation debt = h.onlyLiquidation("alice-2");
      assertEquals(List.of("BACKSTOP", "48892.0", "-1108.000000"), List.of(debt.getCloses(0).getVenue(),
          debt.getCloses(0).getPrice(), debt.getCloses(0).getRealizedPnl()));
      assertEquals(List.of("100.000000", "33.000000", "debt"),
          List.of(debt.getInsuranceFundOut(), debt.getDebt(), debt.getOutcome()));
      balanced(debt);
      assertEquals("-33.000000", h.view("alice-2").getCash());
      assertEquals("0.000000", h.fund("FUTURES").getBalance());
      assertEquals("65.100000", h.fund(PERP).getBalance());

      // Every step crashed (two per event, most of them): the test is not vacuous.
      int crashes = LiquidationSaga.injectedCrashes() - crashesBefore;
      assertTrue(crashes >= 20, "only " + crashes + " crashes were injected");
      h.auditClean();
    }
  }

  /**
   * The same with the fund-flow steps of issue 14: a penalty split five ways with the provider's
   * reward, a deficit covered by the fund and the operator's capital with the rest as debt, and a
   * takeover by the fund; the amounts of {@link FundFlowIntegrationTest}.
   */
  @Test
  void theFundFlowStepsCrashingAtEveryStepEndExactlyAsWithoutCrashes() {
    int crashesBefore = LiquidationSaga.injectedCrashes();
    try (LiquidationHarness h = new LiquidationHarness("liq_crash_flows", String.join("\n",
        "clearinghouse.liquidation.fault-injection.crash-at-every-step = on",
        "clearinghouse.instrument-overrides { \"" + PERP + "\" { negative-balance-policy = debt, "
            + "operator-capital-per-day = \"50\", insurance-fund-takeover-limit = \"60000\", penalty-split { "
            + "insurance-fund = \"40%\", market-making = \"25%\", platform-revenue = \"15%\", "
            + "investor-protection = \"12.5%\", liquidator = \"7.5%\" } } }"))) {
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      io.clearinghouse.it.Calls.call(h.admin.topUpReserve(), TestNodes.OPERATOR_TOKEN,
          io.clearinghouse.protocol.v1.ReserveTransferRequest.newBuilder().setReserve("operator-capital")
              .setAmount("1000").setIdempotencyKey("capital-seed").build());
      h.open("alice-1", "1000");
      h.buy("alice-1", "maker", PERP, "1", "50000");
      h.mark(PERP, "49221.8");
      Liquidation surplus = h.onlyLiquidation("alice-1");
      assertEquals(List.of("98.300000", "39.320000", "24.575000", "14.745000", "12.287500", "7.372500"), List.of(
          surplus.getPenalty(), surplus.getPenaltyToInsuranceFund(), surplus.getPenaltyToMarketMaking(),
          surplus.getPenaltyToPlatformRevenue(), surplus.getPenaltyToInvestorProtection(),
          surplus.getPenaltyToLiquidators()));
      balanced(surplus);
      assertEquals("1000007.372500", h.view("prov").getCash());

      h.mark(PERP, "50000");
      h.open("alice-2", "1000");
      h.buy("alice-2", "maker", PERP, "1", "50000");
      h.mark(PERP, "49000");
      Liquidation deficit = h.onlyLiquidation("alice-2");
      assertEquals(List.of("39.320000", "50.000000", "33.680000", "debt"), List.of(deficit.getInsuranceFundOut(),
          deficit.getOperatorCapitalPaid(), deficit.getDebt(), deficit.getOutcome()));
      balanced(deficit);

      h.provider("prov", "0", PERP);
      h.mark(PERP, "50000");
      h.open("carol", "1000");
      h.buy("carol", "maker", PERP, "1", "50000");
      h.mark(PERP, "49221.8");
      Liquidation takeover = h.onlyLiquidation("carol");
      assertEquals(List.of("FUND", "49025.0", "0.000000", "196.800000"), List.of(takeover.getCloses(0).getVenue(),
          takeover.getCloses(0).getPrice(), takeover.getPenalty(), takeover.getToFundTakeovers()));
      balanced(takeover);

      int crashes = LiquidationSaga.injectedCrashes() - crashesBefore;
      assertTrue(crashes >= 30, "only " + crashes + " crashes were injected");
      h.auditClean();
    }
  }
}
