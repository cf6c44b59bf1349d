package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.Calls.refused;
import static io.clearinghouse.it.LiquidationHarness.FUTURE;
import static io.clearinghouse.it.LiquidationHarness.PERP;
import static io.clearinghouse.it.LiquidationHarness.balanced;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.BOB_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.api.PrivateViews;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.protocol.v1.AdminListLiquidationsRequest;
import io.clearinghouse.protocol.v1.FundFlowSummaryRequest;
import io.clearinghouse.protocol.v1.FundFlowSummaryView;
import io.clearinghouse.protocol.v1.FundUnwindClose;
import io.clearinghouse.protocol.v1.FundUnwindView;
import io.clearinghouse.protocol.v1.GetFundUnwindRequest;
import io.clearinghouse.protocol.v1.GetReservesRequest;
import io.clearinghouse.protocol.v1.InsuranceFundEntry;
import io.clearinghouse.protocol.v1.InsuranceFundView;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationClose;
import io.clearinghouse.protocol.v1.ListReserveMovementsRequest;
import io.clearinghouse.protocol.v1.ReserveTransferRequest;
import io.grpc.Status.Code;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Where the liquidated money goes (issue 14), end to end on a real node over gRPC, with the exact
 * amounts worked out in the comments (BTCUSDT-PERP: tick 0.1, lot 0.001 BTC; taker fee 0.05%,
 * liquidation fee 1%, backstop spread 0.2%, maintenance 0.4% below 50,000 of notional). Each test
 * ends with the ledger audit.
 */
class FundFlowIntegrationTest {

  /** 40% fund, 25% market-making, 15% platform revenue, 12.5% investor protection, 7.5% the provider. */
  private static final String FIVE_WAYS = "penalty-split { insurance-fund = \"40%\", market-making = \"25%\", "
      + "platform-revenue = \"15%\", investor-protection = \"12.5%\", liquidator = \"7.5%\" }";

  @Test
  void penaltySplitFiveWaysTheOperatorsCapitalLayerReplenishmentAndTheSummary() {
    long from = System.currentTimeMillis();
    try (LiquidationHarness h = new LiquidationHarness("flows_split", String.join("\n",
        "clearinghouse.instrument-overrides { \"" + PERP + "\" { negative-balance-policy = debt, "
            + "operator-capital-per-day = \"50\", " + FIVE_WAYS + " } }",
        "clearinghouse.reserves { schedule-interval = 2s, replenishment = [ { from = platform-revenue, "
            + "to = \"insurance-fund:" + FUTURE + "\", share = \"50%\", max-per-run = \"5\" } ] }"))) {
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      call(h.admin.topUpReserve(), OPERATOR_TOKEN, ReserveTransferRequest.newBuilder().setReserve("operator-capital")
          .setAmount("1000").setIdempotencyKey("capital-seed").build());

      // 1. A surplus split five ways. alice-1 buys 1 BTC at 50,000 (taker fee 25: cash 975). Mark
      // 49,221.8: equity 196.8 <= maintenance 196.8872. prov takes it at 49,123.3, gaining 98.5
      // against the mark; the penalty is what is left above bankruptcy, 98.3 (1% would be
      // 491.233: cut by 392.933), split 39.32 / 24.575 / 14.745 / 12.2875 / 7.3725 (the reward).
      h.open("alice-1", "1000");
      h.buy("alice-1", "maker", PERP, "1", "50000");
      h.mark(PERP, "49221.8");
      Liquidation surplus = h.onlyLiquidation("alice-1");
      LiquidationClose close = surplus.getCloses(0);
      assertEquals(List.of("BACKSTOP", "prov", "49123.3", "98.300000", "392.933000", "98.500000"),
          List.of(close.getVenue(), close.getCounterparty(), close.getPrice(), close.getPenalty(),
              close.getPenaltyCut(), close.getCounterpartyGain()));
      assertEquals(List.of("39.320000", "24.575000", "14.745000", "12.287500", "7.372500", "0.000000", "196.800000"),
          List.of(surplus.getPenaltyToInsuranceFund(), surplus.getPenaltyToMarketMaking(),
              surplus.getPenaltyToPlatformRevenue(), surplus.getPenaltyToInvestorProtection(),
              surplus.getPenaltyToLiquidators(), surplus.getPenaltyApplied(), surplus.getTradersLoss()));
      assertEquals("39.320000", surplus.getInsuranceFundIn());
      balanced(surplus);
      // The provider's reward is in its cash (it realized nothing taking the position over).
      assertEquals("1000007.372500", h.view("prov").getCash());
      Map<String, InsuranceFundView> reserves = reserves(h);
      assertEquals("39.320000", reserves.get("insurance-fund:" + PERP).getBalance());
      assertEquals("24.575000", reserves.get("market-making").getBalance());
      assertEquals("12.287500", reserves.get("investor-protection").getBalance());
      assertEquals("PENALTY 14.745000", line(movements(h, "platform-revenue", 100).get(0)));

      // 2. The operator's capital layer used: alice-2 as alice-1 at mark 50,000, then mark 49,000:
      // prov takes it at 48,902.0, 123 beyond the trader's 975. No penalty to apply; the fund pays
      // its 39.32, the operator's capital its daily 50, and 33.68 is debt (the debt policy).
      h.mark(PERP, "50000");
      h.open("alice-2", "1000");
      h.buy("alice-2", "maker", PERP, "1", "50000");
      h.mark(PERP, "49000");
      Liquidation used = h.onlyLiquidation("alice-2");
      assertEquals(List.of("48902.0", "0.000000", "489.020000", "98.000000"), List.of(used.getCloses(0).getPrice(),
          used.getCloses(0).getPenalty(), used.getCloses(0).getPenaltyCut(), used.getCloses(0).getCounterpartyGain()));
      assertEquals(List.of("39.320000", "50.000000", "33.680000", "debt", "8.680000"), List.of(
          used.getInsuranceFundOut(), used.getOperatorCapitalPaid(), used.getDebt(), used.getOutcome(),
          used.getTradersLoss()));
      balanced(used);
      assertEquals("33.680000", h.view("alice-2").getDebt());

      // 3. ... and exhausted: carol the same the same day: the fund is empty, the capital has paid
      // its 50 today: all 123 is debt.
      h.mark(PERP, "50000");
      h.open("carol", "1000");
      h.buy("carol", "maker", PERP, "1", "50000");
      h.mark(PERP, "49000");
      Liquidation exhausted = h.onlyLiquidation("carol");
      assertEquals(List.of("0.000000", "0.000000", "123.000000", "98.000000"), List.of(exhausted.getInsuranceFundOut(),
          exhausted.getOperatorCapitalPaid(), exhausted.getDebt(), exhausted.getTradersLoss()));
      balanced(exhausted);
      reserves = reserves(h);
      assertEquals("950.000000", reserves.get("operator-capital").getBalance());
      assertEquals("0.000000", reserves.get("insurance-fund:" + PERP).getBalance());

      // 4. The summary of the window: the sums of the three records, and the destinations add up
      // to the traders' losses: 294.5 to the provider + 98.3 of penalty shares - 39.32 - 50 = 303.48.
      FundFlowSummaryRequest window = FundFlowSummaryRequest.newBuilder().setInstrument(PERP)
          .setFromEpochMillis(from).setToEpochMillis(System.currentTimeMillis() + 1).build();
      FundFlowSummaryView summary = call(h.admin.fundFlowSummary(), OPERATOR_TOKEN, window);
      assertEquals(3, summary.getLiquidations());
      assertEquals(List.of("303.480000", "294.500000", "39.320000", "24.575000", "14.745000", "12.287500", "7.372500",
          "39.320000", "50.000000", "156.680000", "1370.973000", "98.300000"), List.of(summary.getTradersLosses(),
          summary.getToProviders(), summary.getToInsuranceFunds(), summary.getToMarketMaking(),
          summary.getToPlatformRevenue(), summary.getToInvestorProtection(), summary.getToLiquidators(),
          summary.getInsuranceFundPaid(), summary.getOperatorCapitalPaid(), summary.getDebt(), summary.getPenaltyCut(),
          summary.getPenalties()));
      List<Liquidation> records = call(h.admin.listLiquidations(), OPERATOR_TOKEN,
          AdminListLiquidationsRequest.newBuilder().setInstrument(PERP).build()).getLiquidationsList();
      assertSumOfRecords(summary, records);
      assertBalances(summary);
      // A trader reads the same for their own liquidations only.
      FundFlowSummaryView own = call(h.accounts.fundFlowSummary(), ALICE_TOKEN, window.toBuilder()
          .setAccountId("alice-1").build());
      assertEquals(List.of(1, "196.800000"), List.of(own.getLiquidations(), own.getTradersLosses()));
      assertSumOfRecords(own, List.of(PrivateViews.ownSide(surplus)));
      assertEquals(List.of("", "", "", ""), List.of(own.getToProviders(), own.getToDeleveraged(),
          own.getToLiquidators(), own.getSocialized()));
      refused(h.accounts.fundFlowSummary(), BOB_TOKEN, window.toBuilder().setAccountId("alice-1").build(),
          Code.PERMISSION_DENIED, Rejection.NOT_ACCOUNT_OWNER);
      refused(h.admin.fundFlowSummary(), ALICE_TOKEN, window, Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);

      // 5. Replenishment: each run moves half of platform revenue's balance, at most 5, into the
      // quarterly's fund: 5 of the 14.745 (capped), then 4.8725 of the 9.745 left.
      List<InsuranceFundEntry> arrived = h.probe.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(200), () -> {
        List<InsuranceFundEntry> in = movements(h, "insurance-fund:" + FUTURE, 100);
        assertTrue(in.size() >= 2, in.toString());
        return in;
      });
      assertEquals(List.of("MOVED_IN 5.000000", "MOVED_IN 4.872500"), arrived.subList(0, 2).stream()
          .map(FundFlowIntegrationTest::line).toList());
      List<InsuranceFundEntry> left = movements(h, "platform-revenue", 100);
      assertEquals(List.of("PENALTY 14.745000", "MOVED_OUT 5.000000", "MOVED_OUT 4.872500"), left.subList(0, 3).stream()
          .map(FundFlowIntegrationTest::line).toList());
      h.auditClean();
    }
  }

  @Test
  void theFundTakesOverWhatNoProviderTakesUnwindsItAtAProfitAndALossAndBeyondItsLimitDeleveraging() {
    try (LiquidationHarness h = new LiquidationHarness("flows_takeover", String.join("\n",
        "clearinghouse.instrument-overrides { \"" + PERP + "\" { insurance-fund-takeover-limit = \"60000\" } }",
        "clearinghouse.reserves.schedule-interval = 1s"))) {
      h.open("maker", "1000000");
      h.open("bob-1", "1000000");
      h.open("prov", "1000000");
      String fund = "insurance-fund:" + PERP;

      // 1. No provider: alice-1 (1 BTC long from 50,000, cash 975, bankruptcy 49,025.0) is taken
      // over by the fund at 49,025.0 at mark 49,221.8: no penalty is left to take (1% would be
      // 490.25), the fund gains 196.8 against the mark.
      h.open("alice-1", "1000");
      h.buy("alice-1", "maker", PERP, "1", "50000");
      h.mark(PERP, "49221.8");
      Liquidation first = h.onlyLiquidation("alice-1");
      LiquidationClose taken = first.getCloses(0);
      assertEquals(List.of("FUND", PERP, "49025.0", "0.000000", "490.250000", "196.800000"), List.of(taken.getVenue(),
          taken.getCounterparty(), taken.getPrice(), taken.getPenalty(), taken.getPenaltyCut(),
          taken.getCounterpartyGain()));
      assertEquals(List.of("196.800000", "196.800000", "covered"), List.of(first.getToFundTakeovers(),
          first.getTradersLoss(), first.getOutcome()));
      balanced(first);
      assertEquals("1.000 49025.0", position(reserves(h).get(fund)));

      // ... unwound at a profit once a provider is there: at 49,123.3 (the mark less 0.2%), 98.3 to the fund.
      h.provider("prov", "1000000", PERP);
      FundUnwindClose profit = unwound(h, 1).get(0);
      assertEquals(List.of("prov", "-1.000", "49123.3", "49221.8", "98.300000"), List.of(profit.getProvider(),
          profit.getQuantity(), profit.getPrice(), profit.getMarkPrice(), profit.getFundRealizedPnl()));
      assertEquals("98.300000", h.fund(PERP).getBalance());

      // 2. Unwound at a loss: the provider withdraws; alice-2 buys 1 BTC at 49,221.8 (fee 24.6109:
      // cash 975.3891, bankruptcy 48,246.5); mark 48,400.0: the fund takes it at 48,246.5; the 0.0891
      // left above bankruptcy is the penalty, to the fund. Mark 48,000.0: closing at 47,904.0 loses
      // 342.5, more than the fund's 98.3891: it waits for a top-up of 1,000, then unwinds.
      h.provider("prov", "0", PERP);
      h.open("alice-2", "1000");
      h.buy("alice-2", "maker", PERP, "1", "49221.8");
      h.mark(PERP, "48400");
      Liquidation second = h.onlyLiquidation("alice-2");
      assertEquals(List.of("FUND", "48246.5", "0.089100", "482.375900", "153.500000", "153.589100"), List.of(
          second.getCloses(0).getVenue(), second.getCloses(0).getPrice(), second.getPenalty(),
          second.getCloses(0).getPenaltyCut(), second.getToFundTakeovers(), second.getTradersLoss()));
      balanced(second);
      assertEquals("98.389100", h.fund(PERP).getBalance());
      h.mark(PERP, "48000");
      h.topUp(PERP, "1000", "seed-b");
      h.provider("prov", "1000000", PERP);
      FundUnwindClose loss = unwound(h, 2).get(0);
      assertEquals(List.of("-1.000", "47904.0", "48000.0", "-342.500000"), List.of(loss.getQuantity(), loss.getPrice(),
          loss.getMarkPrice(), loss.getFundRealizedPnl()));
      assertEquals("755.889100", h.fund(PERP).getBalance());
      assertEquals("POSITION_LOSS 342.500000", line(h.fund(PERP).getHistory(0)));

      // 3. The takeover limit: without a provider, carol's and dave's longs (from 48,000, cash 976,
      // bankruptcy 47,024.0) go at mark 47,200.0; the fund takes the first (47,024 of notional, within
      // 60,000) but not the second (94,048): that one is deleveraged at 47,024.0.
      h.provider("prov", "0", PERP);
      h.open("carol", "1000");
      h.open("dave", "1000");
      h.buy("carol", "maker", PERP, "1", "48000");
      h.buy("dave", "bob-1", PERP, "1", "48000");
      h.mark(PERP, "47200");
      Liquidation carol = h.onlyLiquidation("carol");
      Liquidation dave = h.onlyLiquidation("dave");
      assertEquals(Set.of("FUND", "ADL"), Set.of(carol.getCloses(0).getVenue(), dave.getCloses(0).getVenue()));
      Liquidation adl = carol.getCloses(0).getVenue().equals("ADL") ? carol : dave;
      assertTrue(Set.of("maker", "bob-1").contains(adl.getCloses(0).getCounterparty()), adl.toString());
      assertEquals(List.of("47024.0", "176.000000", "176.000000", "0.000000"), List.of(adl.getCloses(0).getPrice(),
          adl.getToDeleveraged(), adl.getTradersLoss(), adl.getSocialized()));
      balanced(carol);
      balanced(dave);
      assertEquals("1.000 47024.0", position(reserves(h).get(fund)));

      FundFlowSummaryView summary = call(h.admin.fundFlowSummary(), OPERATOR_TOKEN,
          FundFlowSummaryRequest.newBuilder().setInstrument(PERP).build());
      assertEquals(List.of(4, "526.300000", "176.000000"), List.of(summary.getLiquidations(),
          summary.getToFundTakeovers(), summary.getToDeleveraged()));
      assertBalances(summary);
      assertSumOfRecords(summary, List.of(first, second, carol, dave));
      h.auditClean();
    }
  }

  @Test
  void underTheAdlPolicyTheOperatorsCapitalHoldsWhatTheFundCannotBeforeDeleveraging() {
    try (LiquidationHarness h = new LiquidationHarness("flows_capital_adl",
        "clearinghouse.instrument-overrides { \"" + PERP + "\" { operator-capital-per-day = \"50\" } }")) {
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      h.topUp(PERP, "100", "seed");
      call(h.admin.topUpReserve(), OPERATOR_TOKEN, ReserveTransferRequest.newBuilder().setReserve("operator-capital")
          .setAmount("1000").setIdempotencyKey("capital-seed").build());
      // alice-1 (1 BTC from 50,000, cash 975) at mark 49,000: the provider's price 48,902.0 leaves
      // 123 to cover. The fund holds its 100, the capital the other 23 (within its 50 a day): the
      // provider closes it, the fund pays 100, the capital 23, nothing is deleveraged or owed.
      h.open("alice-1", "1000");
      h.buy("alice-1", "maker", PERP, "1", "50000");
      h.mark(PERP, "49000");
      Liquidation covered = h.onlyLiquidation("alice-1");
      assertEquals(List.of("BACKSTOP", "48902.0", "100.000000", "23.000000", "0.000000", "covered"), List.of(
          covered.getCloses(0).getVenue(), covered.getCloses(0).getPrice(), covered.getInsuranceFundOut(),
          covered.getOperatorCapitalPaid(), covered.getDebt(), covered.getOutcome()));
      balanced(covered);
      assertEquals("0.000000", h.view("alice-1").getCash());
      // alice-2 the same: the fund is empty and the capital has 27 left today, not 123: deleveraged
      // at the bankruptcy price 49,025.0 against maker's short, nothing paid.
      h.mark(PERP, "50000");
      h.open("alice-2", "1000");
      h.buy("alice-2", "maker", PERP, "1", "50000");
      h.mark(PERP, "49000");
      Liquidation deleveraged = h.onlyLiquidation("alice-2");
      assertEquals(List.of("ADL", "maker", "49025.0", "0.000000", "0.000000", "adl"), List.of(
          deleveraged.getCloses(0).getVenue(), deleveraged.getCloses(0).getCounterparty(),
          deleveraged.getCloses(0).getPrice(), deleveraged.getInsuranceFundOut(),
          deleveraged.getOperatorCapitalPaid(), deleveraged.getOutcome()));
      balanced(deleveraged);
      Map<String, InsuranceFundView> reserves = reserves(h);
      assertEquals(List.of("977.000000", "0.000000"), List.of(reserves.get("operator-capital").getBalance(),
          reserves.get("operator-capital").getReserved()));
      h.auditClean();
    }
  }

  private static List<FundUnwindClose> unwound(LiquidationHarness h, int rounds) {
    return h.probe.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(200), () -> {
      FundUnwindView view = call(h.admin.getFundUnwind(), OPERATOR_TOKEN, GetFundUnwindRequest.newBuilder()
          .setFund(PERP).setInstrument(PERP).build());
      assertEquals(rounds, view.getClosesCount(), view.toString());
      assertEquals("0.000", view.getPosition());
      return view.getClosesList();
    });
  }

  private static Map<String, InsuranceFundView> reserves(LiquidationHarness h) {
    return call(h.admin.getReserves(), OPERATOR_TOKEN, GetReservesRequest.getDefaultInstance()).getReservesList()
        .stream().collect(Collectors.toMap(InsuranceFundView::getFund, Function.identity()));
  }

  /** A reserve's movements, oldest first. */
  private static List<InsuranceFundEntry> movements(LiquidationHarness h, String reserve, int limit) {
    List<InsuranceFundEntry> newestFirst = call(h.admin.listReserveMovements(), OPERATOR_TOKEN,
        ListReserveMovementsRequest.newBuilder().setReserve(reserve).setLimit(limit).build()).getHistoryList();
    List<InsuranceFundEntry> oldestFirst = new java.util.ArrayList<>(newestFirst);
    java.util.Collections.reverse(oldestFirst);
    return oldestFirst;
  }

  private static String line(InsuranceFundEntry e) {
    return e.getKind() + " " + e.getAmount();
  }

  private static String position(InsuranceFundView fund) {
    return fund.getPositionsCount() == 0 ? "none" : fund.getPositions(0).getSize() + " "
        + fund.getPositions(0).getEntryPrice();
  }

  /** Every figure of the summary is the sum of the records' figures. */
  private static void assertSumOfRecords(FundFlowSummaryView summary, List<Liquidation> records) {
    Map<String, BigDecimal> sums = new TreeMap<>();
    for (Liquidation l : records) {
      add(sums, "traders losses", l.getTradersLoss());
      add(sums, "providers", l.getToProviders());
      add(sums, "fund takeovers", l.getToFundTakeovers());
      add(sums, "deleveraged", l.getToDeleveraged());
      add(sums, "funds", l.getPenaltyToInsuranceFund());
      add(sums, "market making", l.getPenaltyToMarketMaking());
      add(sums, "revenue", l.getPenaltyToPlatformRevenue());
      add(sums, "protection", l.getPenaltyToInvestorProtection());
      add(sums, "liquidators", l.getPenaltyToLiquidators());
      add(sums, "fund paid", l.getInsuranceFundOut());
      add(sums, "capital", l.getOperatorCapitalPaid());
      add(sums, "debt", l.getDebt());
      add(sums, "kept", l.getLeftToTrader());
      add(sums, "cut", l.getPenaltyCut());
      add(sums, "penalties", l.getPenalty());
    }
    Map<String, BigDecimal> reported = new TreeMap<>();
    add(reported, "traders losses", summary.getTradersLosses());
    add(reported, "providers", summary.getToProviders());
    add(reported, "fund takeovers", summary.getToFundTakeovers());
    add(reported, "deleveraged", summary.getToDeleveraged());
    add(reported, "funds", summary.getToInsuranceFunds());
    add(reported, "market making", summary.getToMarketMaking());
    add(reported, "revenue", summary.getToPlatformRevenue());
    add(reported, "protection", summary.getToInvestorProtection());
    add(reported, "liquidators", summary.getToLiquidators());
    add(reported, "fund paid", summary.getInsuranceFundPaid());
    add(reported, "capital", summary.getOperatorCapitalPaid());
    add(reported, "debt", summary.getDebt());
    add(reported, "kept", summary.getTradersKept());
    add(reported, "cut", summary.getPenaltyCut());
    add(reported, "penalties", summary.getPenalties());
    assertEquals(sums, reported);
    assertEquals(records.size(), summary.getLiquidations());
  }

  /** The destinations add up to the traders' losses, exactly. */
  private static void assertBalances(FundFlowSummaryView s) {
    BigDecimal destinations = new BigDecimal(s.getToProviders()).add(new BigDecimal(s.getToFundTakeovers()))
        .add(new BigDecimal(s.getToDeleveraged())).add(new BigDecimal(s.getToInsuranceFunds()))
        .add(new BigDecimal(s.getToMarketMaking())).add(new BigDecimal(s.getToPlatformRevenue()))
        .add(new BigDecimal(s.getToInvestorProtection())).add(new BigDecimal(s.getToLiquidators()))
        .add(new BigDecimal(s.getTradingFees())).subtract(new BigDecimal(s.getInsuranceFundPaid()))
        .subtract(new BigDecimal(s.getOperatorCapitalPaid()));
    assertEquals(0, destinations.compareTo(new BigDecimal(s.getTradersLosses())), s.toString());
  }

  private static void add(Map<String, BigDecimal> sums, String key, String amount) {
    // A client's own-side view leaves the counterparties' lines empty: they count as nothing.
    sums.merge(key, amount.isEmpty() ? BigDecimal.ZERO : new BigDecimal(amount), BigDecimal::add);
  }
}
