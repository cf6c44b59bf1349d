// Over 450 lines: one scenario per liquidation outcome, each a whole story on a real node.
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

import io.clearinghouse.api.PrivateViews;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.protocol.v1.AccountUpdate;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.InsuranceFundView;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationClose;
import io.clearinghouse.protocol.v1.MarginAlert;
import io.clearinghouse.protocol.v1.SetMarginModeRequest;
import io.clearinghouse.protocol.v1.SetLeverageRequest;
import io.clearinghouse.protocol.v1.StreamAccountRequest;
import io.clearinghouse.protocol.v1.WithdrawRequest;
import io.clearinghouse.protocol.v1.ReserveMarginRequest;
import io.clearinghouse.protocol.v1.MarginMode;
import io.grpc.Status.Code;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;

/**
 * The liquidation waterfall end to end on a real node over gRPC, one branch per test, with the
 * exact amounts worked out in the comments (BTCUSDT-PERP and BTCUSDT-271231: tick 0.1, lot 0.001
 * BTC; taker fee 0.05%, maker 0.02%, liquidation fee 1%; backstop spread 0.2%; tiers of Binance's
 * 2021 BTCUSDT table: 0.4% below 50,000, 0.5% (cum 50) to 250,000, 1% (cum 1,300) to 1,000,000,
 * 2.5% (cum 16,300) to 10,000,000). Every test ends with the ledger audit.
 *
 * <p>The common start: the trader buys 1 BTC at 50,000 as taker from a maker: fee 25, so 1,000
 * deposited leaves cash 975; the bankruptcy price of that long is 50,000 - 975 = 49,025.
 */
class LiquidationIntegrationTest {

  @Test
  void closeBetterThanBankruptcyPaysTheRestToTheFundAsPenalty() {
    try (LiquidationHarness h = new LiquidationHarness("liq_surplus", "")) {
      h.open("alice-1", "1000");
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      h.buy("alice-1", "maker", PERP, "1", "50000");
      // Mark 49,221.8: equity 975 - 778.2 = 196.8 <= MM ceil(0.4% * 49,221.8) = 196.887200.
      h.mark(PERP, "49221.8");
      Liquidation l = h.onlyLiquidation("alice-1");
      // The provider buys at floor(49,221.8 * 0.998) = 49,123.3: realized -876.7 leaves 98.3, and the
      // penalty, min(1% of 49,123.3 = 491.233, 98.3), takes all of it to the fund.
      assertEquals(1, l.getClosesCount());
      LiquidationClose close = l.getCloses(0);
      assertEquals(List.of("BACKSTOP", "prov", "-1.000", "49123.3", "49221.8", "49025.0", "-876.700000", "98.300000"),
          List.of(close.getVenue(), close.getCounterparty(), close.getQuantity(), close.getPrice(), close.getMarkPrice(),
              close.getBankruptcyPrice(), close.getRealizedPnl(), close.getPenalty()));
      assertEquals("covered", l.getOutcome());
      assertEquals("196.800000", l.getEquityAtTrigger());
      assertEquals("196.887200", l.getMaintenanceMarginAtTrigger());
      assertEquals("49221.8", l.getTriggerMarksOrThrow(PERP));
      assertEquals(List.of("98.300000", "98.300000", "0.000000", "0.000000", "0.000000", "0.000000"),
          List.of(l.getPenalty(), l.getInsuranceFundIn(), l.getInsuranceFundOut(), l.getLeftToTrader(), l.getDebt(),
              l.getTradingFees()));
      assertEquals(PERP, l.getInsuranceFund());
      balanced(l);
      AccountView alice = h.view("alice-1");
      assertEquals("0.000000", alice.getCash());
      assertEquals(0, alice.getPositionsCount());
      AccountView prov = h.view("prov");
      assertEquals("1.000", prov.getPositions(0).getSize());
      assertEquals("49123.3", prov.getPositions(0).getEntryPrice());
      assertEquals("1000000.000000", prov.getCash());
      InsuranceFundView fund = h.fund(PERP);
      assertEquals("98.300000", fund.getBalance());
      assertEquals("PENALTY", fund.getHistory(0).getKind());
      assertEquals(l.getLiquidationId(), fund.getHistory(0).getLiquidationId());
      // The trader reads its own side of it, the other client not even that it exists.
      Liquidation own = call(h.accounts.getLiquidation(), ALICE_TOKEN,
          io.clearinghouse.protocol.v1.GetLiquidationRequest.newBuilder().setLiquidationId(l.getLiquidationId()).build());
      assertEquals(PrivateViews.ownSide(l), own);
      assertEquals(List.of("prov", ""), List.of(l.getCloses(0).getCounterparty(), own.getCloses(0).getCounterparty()));
      assertEquals(List.of("alice-1"), own.getMovementsList().stream().map(m -> m.getParty()).distinct().toList());
      assertEquals(List.of(PrivateViews.ownSide(l)), call(h.accounts.listLiquidations(), ALICE_TOKEN,
          io.clearinghouse.protocol.v1.ListLiquidationsRequest.newBuilder().setAccountId("alice-1").build())
          .getLiquidationsList());
      refused(h.accounts.getLiquidation(), BOB_TOKEN, io.clearinghouse.protocol.v1.GetLiquidationRequest.newBuilder()
          .setLiquidationId(l.getLiquidationId()).build(), Code.NOT_FOUND, Rejection.LIQUIDATION_NOT_FOUND);
      refused(h.accounts.listLiquidations(), BOB_TOKEN, io.clearinghouse.protocol.v1.ListLiquidationsRequest
          .newBuilder().setAccountId("alice-1").build(), Code.PERMISSION_DENIED, Rejection.NOT_ACCOUNT_OWNER);
      h.auditClean();
    }
  }

  @Test
  void deficitIsCoveredByTheInsuranceFund() {
    try (LiquidationHarness h = new LiquidationHarness("liq_cover", "")) {
      h.open("alice-1", "1000");
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      h.topUp(PERP, "1000", "seed");
      h.buy("alice-1", "maker", PERP, "1", "50000");
      // Mark 49,000: equity -25. The provider buys at floor(49,000 * 0.998) = 48,902.0, 123 below
      // bankruptcy; the fund holds 1,000, so it can pay: cash 975 - 1,098 = -123, no penalty, the
      // fund pays 123 and the trader ends at 0.
      h.mark(PERP, "49000");
      Liquidation l = h.onlyLiquidation("alice-1");
      assertEquals("48902.0", l.getCloses(0).getPrice());
      assertEquals("BACKSTOP", l.getCloses(0).getVenue());
      assertEquals(List.of("0.000000", "0.000000", "123.000000", "0.000000", "0.000000", "covered"),
          List.of(l.getPenalty(), l.getInsuranceFundIn(), l.getInsuranceFundOut(), l.getLeftToTrader(), l.getDebt(),
              l.getOutcome()));
      balanced(l);
      assertEquals("0.000000", h.view("alice-1").getCash());
      InsuranceFundView fund = h.fund(PERP);
      assertEquals("877.000000", fund.getBalance());
      assertEquals("DEFICIT_PAID", fund.getHistory(0).getKind());
      assertEquals("123.000000", fund.getHistory(0).getAmount());
      h.auditClean();
    }
  }

  @Test
  void fundTooSmallDeleveragesTheOpposingPositionAtTheBankruptcyPrice() {
    try (LiquidationHarness h = new LiquidationHarness("liq_adl", "")) {
      h.open("alice-1", "1000");
      h.open("bob-1", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      h.topUp(PERP, "100", "seed");
      h.buy("alice-1", "bob-1", PERP, "1", "50000");
      // A second pair: alice-2 long and maker2 short from 49,900.
      h.open("alice-2", "10000");
      h.open("maker2", "1000000");
      h.buy("alice-2", "maker2", PERP, "1", "49900");
      // ADL queue at mark 50,000: longs alice-2 (+100) before alice-1 (0): quintiles 5 and
      // 5 - 1 * 5 / 2 = 3; shorts: bob (0) before maker2 (-100): bob 5.
      h.mark(PERP, "50000");
      h.probe.awaitAssert(LiquidationHarness.WAIT, () -> {
        assertEquals(3, quintile(h, ALICE_TOKEN, "alice-1"));
        assertEquals(5, quintile(h, ALICE_TOKEN, "alice-2"));
        assertEquals(5, quintile(h, BOB_TOKEN, "bob-1"));
        return null;
      });
      TestProbe<AccountUpdate> bob = TestProbe.create(h.clients);
      h.accounts.streamAccount().addHeader("authorization", Calls.BEARER + BOB_TOKEN)
          .invoke(StreamAccountRequest.newBuilder().setAccountId("bob-1").build())
          .runWith(Sink.foreach(bob.getRef()::tell), h.clients);
      bob.receiveMessage(LiquidationHarness.WAIT);
      // Mark 49,000: the backstop price 48,902.0 would leave 123 the fund (100) cannot pay, so the
      // first short in the queue, bob's (pnl 2.0% against maker2's 1.8%, similar leverage), is
      // deleveraged at the bankruptcy price 49,025.0: alice realizes -975 and ends at 0; bob
      // realizes +975 on his short from 50,000. The fund is untouched.
      h.mark(PERP, "49000");
      Liquidation l = h.onlyLiquidation("alice-1");
      LiquidationClose close = l.getCloses(0);
      assertEquals(List.of("ADL", "bob-1", "-1.000", "49025.0", "-975.000000", "0.000000"),
          List.of(close.getVenue(), close.getCounterparty(), close.getQuantity(), close.getPrice(),
              close.getRealizedPnl(), close.getPenalty()));
      assertEquals(List.of(close), l.getDeleveragedList());
      assertEquals("adl", l.getOutcome());
      assertEquals("0.000000", l.getInsuranceFundOut());
      balanced(l);
      assertEquals("0.000000", h.view("alice-1").getCash());
      // bob: 1,000,000 - 10 (maker fee) + 975, flat, and told so.
      AccountView bobView = h.view("bob-1");
      assertEquals("1000965.000000", bobView.getCash());
      assertEquals(0, bobView.getPositionsCount());
      bob.fishForMessage(LiquidationHarness.WAIT, u -> u.getAlertsList().stream()
          .anyMatch(a -> a.getKind() == MarginAlert.Kind.DELEVERAGED && a.getLiquidationId().isEmpty()
              && !a.getMessage().contains("alice"))
          ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore());
      assertEquals("100.000000", h.fund(PERP).getBalance());
      assertEquals(0, h.view("prov").getPositionsCount());
      h.auditClean();
    }
  }

  private static int quintile(LiquidationHarness h, String token, String accountId) {
    return call(h.accounts.getAccount(), token, io.clearinghouse.protocol.v1.GetAccountRequest.newBuilder()
        .setAccountId(accountId).build()).getPositions(0).getAdlQuintile();
  }

  @Test
  void debtPolicyLeavesWhatTheFundCannotPayAsDebt() {
    try (LiquidationHarness h = new LiquidationHarness("liq_debt", String.join("\n",
        "clearinghouse.liquidation.instruments { \"" + FUTURE + "\" { negative-balance-policy = debt, "
            + "insurance-fund = FUTURES } }")))  {
      h.open("alice-1", "1000");
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", FUTURE);
      h.topUp("FUTURES", "100", "seed");
      h.buy("alice-1", "maker", FUTURE, "1", "50000");
      // As with the fund cover, but the fund holds 100 of the 123: 23 stays as alice's debt.
      h.mark(FUTURE, "49000");
      Liquidation l = h.onlyLiquidation("alice-1");
      assertEquals("BACKSTOP", l.getCloses(0).getVenue());
      assertEquals(List.of("100.000000", "23.000000", "debt", "FUTURES"),
          List.of(l.getInsuranceFundOut(), l.getDebt(), l.getOutcome(), l.getInsuranceFund()));
      balanced(l);
      AccountView alice = h.view("alice-1");
      assertEquals("-23.000000", alice.getCash());
      assertEquals("23.000000", alice.getDebt());
      assertEquals("0.000000", h.fund("FUTURES").getBalance());
      // In debt: no withdrawal, no order; a deposit repays it first.
      refused(h.accounts.withdraw(), ALICE_TOKEN, WithdrawRequest.newBuilder().setAccountId("alice-1").setAmount("1")
          .setIdempotencyKey("w-1").build(), Code.FAILED_PRECONDITION, Rejection.ACCOUNT_IN_DEBT);
      refused(h.engine.reserveMargin(), TestNodes.ENGINE_TOKEN, ReserveMarginRequest.newBuilder()
          .setAccountId("alice-1").setOrderId("o-1").setInstrument(FUTURE).setSide(io.clearinghouse.protocol.v1.Side.BUY)
          .setLimitPrice("49000").setQuantity("0.001").build(), Code.FAILED_PRECONDITION, Rejection.ACCOUNT_IN_DEBT);
      call(h.admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("alice-1").setAmount("50")
          .setIdempotencyKey("repay").build());
      alice = h.view("alice-1");
      assertEquals("27.000000", alice.getCash());
      assertEquals("0.000000", alice.getDebt());
      h.auditClean();
    }
  }

  @Test
  void partialLiquidationStepsDownOneTierAndStopsWhenHealthy() {
    try (LiquidationHarness h = new LiquidationHarness("liq_partial", "")) {
      h.open("alice-1", "50000");
      h.open("maker", "10000000");
      h.open("prov", "10000000");
      h.provider("prov", "5000000", PERP);
      // 25 BTC at 50,000 (notional 1,250,000, tier 4): fee 625, cash 49,375.
      h.buy("alice-1", "maker", PERP, "25", "50000");
      // Mark 48,587.6: N = 1,214,690, MM = 30,367.25 - 16,300 = 14,067.25; equity 49,375 - 35,310
      // = 14,065. Tier 4 starts at 1,000,000: keep floor(999,999.999999 / 48.5876) = 20,581 lots,
      // close 4,419 lots (4.419 BTC) at floor(48,587.6 * 0.998) = 48,490.4: value 214,279.0776,
      // cost removed 1,250,000 * 4,419 / 25,000 = 220,950, realized -6,670.9224, penalty
      // ceil(1% * 214,279.0776) = 2,142.790776 (the remaining equity 13,635.4732 is larger).
      // Cash 40,561.286824; the rest (20.581 BTC, N = 999,981.3956, tier 3: MM 8,699.813956)
      // has equity 40,561.286824 - 29,068.6044 = 11,492.682424: healthy, the liquidation stops.
      h.mark(PERP, "48587.6");
      Liquidation l = h.onlyLiquidation("alice-1");
      assertEquals(1, l.getClosesCount());
      LiquidationClose close = l.getCloses(0);
      assertEquals(List.of("-4.419", "48490.4", "-6670.922400", "2142.790776"),
          List.of(close.getQuantity(), close.getPrice(), close.getRealizedPnl(), close.getPenalty()));
      assertEquals("covered", l.getOutcome());
      assertEquals("40561.286824", l.getLeftToTrader());
      balanced(l);
      AccountView alice = h.view("alice-1");
      assertEquals("40561.286824", alice.getCash());
      assertEquals("20.581", alice.getPositions(0).getSize());
      assertEquals("2142.790776", h.fund(PERP).getBalance());
      assertEquals("4.419", h.view("prov").getPositions(0).getSize());
      h.auditClean();
    }
  }

  @Test
  void crossAccountClosesTheLargestMarginFirstThenTheNext() {
    try (LiquidationHarness h = new LiquidationHarness("liq_cross", "")) {
      h.open("alice-1", "2000");
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      // Long 1 PERP and 0.5 FUTURE at 50,000: fees 25 + 12.5, cash 1,962.5.
      h.buy("alice-1", "maker", PERP, "1", "50000");
      h.buy("alice-1", "maker", FUTURE, "0.5", "50000");
      // The FUTURE mark alone triggers nothing: a cross account is judged with every mark.
      h.mark(FUTURE, "49000");
      // PERP 48,700: equity 1,962.5 - 1,300 - 500 = 162.5 <= MM 194.8 + 98 = 292.8.
      h.mark(PERP, "48700");
      Liquidation l = h.onlyLiquidation("alice-1");
      assertEquals(2, l.getClosesCount());
      // 1) PERP (MM 194.8 > 98): bankruptcy 50,000 - (1,962.5 - 500) = 48,537.5; the provider buys
      //    at floor(48,700 * 0.998) = 48,602.6: realized -1,397.4; the rest of the equity,
      //    1,462.5 - 1,397.4 = 65.1, is below 1% of the close (486.026) and goes as penalty; cash 500.
      LiquidationClose perp = l.getCloses(0);
      assertEquals(List.of(PERP, "BACKSTOP", "-1.000", "48602.6", "48537.5", "-1397.400000", "65.100000"),
          List.of(perp.getInstrument(), perp.getVenue(), perp.getQuantity(), perp.getPrice(), perp.getBankruptcyPrice(),
              perp.getRealizedPnl(), perp.getPenalty()));
      // 2) FUTURE: equity 500 - 500 = 0 <= MM 98. No provider for it: the maker's short is
      //    deleveraged at the bankruptcy price 49,000.0: realized -500, cash 0.
      LiquidationClose future = l.getCloses(1);
      assertEquals(List.of(FUTURE, "ADL", "maker", "-0.500", "49000.0", "-500.000000", "0.000000"),
          List.of(future.getInstrument(), future.getVenue(), future.getCounterparty(), future.getQuantity(),
              future.getPrice(), future.getRealizedPnl(), future.getPenalty()));
      assertEquals("adl", l.getOutcome());
      assertEquals("65.100000", l.getPenalty());
      balanced(l);
      AccountView alice = h.view("alice-1");
      assertEquals("0.000000", alice.getCash());
      assertEquals(0, alice.getPositionsCount());
      assertEquals("65.100000", h.fund(PERP).getBalance());
      assertEquals("0.000000", h.fund(FUTURE).getBalance());
      h.auditClean();
    }
  }

  @Test
  void isolatedPositionLosesOnlyItsOwnMargin() {
    try (LiquidationHarness h = new LiquidationHarness("liq_isolated", "")) {
      h.open("alice-1", "3000");
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      h.topUp(PERP, "1000", "seed");
      call(h.accounts.setMarginMode(), ALICE_TOKEN, SetMarginModeRequest.newBuilder().setAccountId("alice-1")
          .setInstrument(PERP).setMarginMode(MarginMode.ISOLATED).build());
      call(h.accounts.setLeverage(), ALICE_TOKEN, SetLeverageRequest.newBuilder().setAccountId("alice-1")
          .setInstrument(PERP).setLeverage(50).build());
      // 1 BTC at 50,000, 50x: 1,000 isolated margin, fee 25, cash 1,975.
      h.buy("alice-1", "maker", PERP, "1", "50000");
      assertEquals("1975.000000", h.view("alice-1").getCash());
      // Mark 49,000: margin 1,000 + U -1,000 = 0 <= MM 196. Bankruptcy 49,000.0; the provider buys
      // at 48,902.0: the loss goes 98 beyond the position's margin, which the fund covers (its
      // balance 1,000 allows the backstop), so the cash outside the position stays 1,975.
      h.mark(PERP, "49000");
      Liquidation l = h.onlyLiquidation("alice-1");
      LiquidationClose close = l.getCloses(0);
      assertEquals(List.of("48902.0", "49000.0", "-1098.000000", "0.000000", "98.000000"),
          List.of(close.getPrice(), close.getBankruptcyPrice(), close.getRealizedPnl(), close.getPenalty(),
              close.getShortfall()));
      assertEquals("98.000000", l.getInsuranceFundOut());
      assertEquals("covered", l.getOutcome());
      balanced(l);
      AccountView alice = h.view("alice-1");
      assertEquals("1975.000000", alice.getCash());
      assertEquals(0, alice.getPositionsCount());
      assertEquals("902.000000", h.fund(PERP).getBalance());
      h.auditClean();
    }
  }

  @Test
  void anIsolatedShortfallTheFundCannotCoverIsDebtOnceAndNeverTouchesTheCash() {
    try (LiquidationHarness h = new LiquidationHarness("liq_isolated_debt", String.join("\n",
        "clearinghouse.liquidation.instruments { \"" + FUTURE + "\" { negative-balance-policy = debt, "
            + "insurance-fund = FUTURES } }"))) {
      h.open("alice-1", "3000");
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", FUTURE);
      h.topUp("FUTURES", "50", "seed");
      call(h.accounts.setMarginMode(), ALICE_TOKEN, SetMarginModeRequest.newBuilder().setAccountId("alice-1")
          .setInstrument(FUTURE).setMarginMode(MarginMode.ISOLATED).build());
      call(h.accounts.setLeverage(), ALICE_TOKEN, SetLeverageRequest.newBuilder().setAccountId("alice-1")
          .setInstrument(FUTURE).setLeverage(50).build());
      // 1 BTC at 50,000, 50x: 1,000 isolated margin, fee 25, cash 1,975.
      h.buy("alice-1", "maker", FUTURE, "1", "50000");
      // Mark 49,000: the provider buys at 48,902.0; the loss goes 98 beyond the position's 1,000.
      // The fund holds 50 of it, the other 48 is the account's debt: each layer once, and the
      // cash outside the position stays 1,975 (it used to lose the 98 as well as owe the 48).
      h.mark(FUTURE, "49000");
      Liquidation l = h.onlyLiquidation("alice-1");
      assertEquals(List.of("BACKSTOP", "48902.0", "-1098.000000", "98.000000"), List.of(l.getCloses(0).getVenue(),
          l.getCloses(0).getPrice(), l.getCloses(0).getRealizedPnl(), l.getCloses(0).getShortfall()));
      assertEquals(List.of("50.000000", "48.000000", "debt", "1975.000000"),
          List.of(l.getInsuranceFundOut(), l.getDebt(), l.getOutcome(), l.getLeftToTrader()));
      balanced(l);
      AccountView alice = h.view("alice-1");
      assertEquals("1975.000000", alice.getCash());
      assertEquals("48.000000", alice.getDebt());
      assertEquals(0, alice.getPositionsCount());
      assertEquals("0.000000", h.fund("FUTURES").getBalance());
      h.auditClean();
      // In debt: no withdrawal (and nothing changes); a deposit of 100 repays the 48 first.
      refused(h.accounts.withdraw(), ALICE_TOKEN, WithdrawRequest.newBuilder().setAccountId("alice-1").setAmount("1")
          .setIdempotencyKey("w-1").build(), Code.FAILED_PRECONDITION, Rejection.ACCOUNT_IN_DEBT);
      assertEquals("1975.000000", h.view("alice-1").getCash());
      call(h.admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("alice-1").setAmount("100")
          .setIdempotencyKey("repay").build());
      alice = h.view("alice-1");
      assertEquals(List.of("2027.000000", "0.000000"), List.of(alice.getCash(), alice.getDebt()));
      call(h.accounts.withdraw(), ALICE_TOKEN, WithdrawRequest.newBuilder().setAccountId("alice-1").setAmount("27")
          .setIdempotencyKey("w-2").build());
      h.auditClean();
    }
  }

  @Test
  void aStopSettlesOnlyWhatItClosedNeverTheLossesOfWhatTheAccountKeeps() {
    // A wide backstop spread for the perpetual, so that the stop's own close goes below zero.
    try (LiquidationHarness h = new LiquidationHarness("liq_stop_own", String.join("\n",
        "clearinghouse.liquidation.instruments { \"" + PERP + "\" { backstop-spread = \"5%\" } }"))) {
      h.open("alice-1", "3100");
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      h.topUp(PERP, "5000", "seed");
      // Long 1 PERP and 1 FUTURE at 50,000: fees 25 + 25, cash 3,050.
      h.buy("alice-1", "maker", PERP, "1", "50000");
      h.buy("alice-1", "maker", FUTURE, "1", "50000");
      h.mark(PERP, "50000");
      // FUTURE 48,000: equity 3,050 - 2,000 = 1,050 above MM 200 + 192.
      h.mark(FUTURE, "48000");
      call(h.accounts.setStop(), ALICE_TOKEN, io.clearinghouse.protocol.v1.SetStopRequest.newBuilder()
          .setAccountId("alice-1").setInstrument(PERP).setStopPrice("49500").build());
      // PERP 49,400 crosses the stop while the account is healthy: equity 3,050 - 600 - 2,000 =
      // 450 above MM 197.6 + 192 = 389.6. The provider buys at floor(49,400 * 0.95) = 46,930.0:
      // realized -3,070, cash -20, equity -20 - 2,000 = -2,020. The stop settles what its close
      // lost beyond the cash, 20 (from the fund), not the 2,000 the FUTURE long still loses.
      h.mark(PERP, "49400");
      List<Liquidation> both = h.finished("alice-1", 2);
      // Its owner lists the same two from the account's own list of them, newest first; a page of
      // one is the newer.
      var own = io.clearinghouse.protocol.v1.ListLiquidationsRequest.newBuilder().setAccountId("alice-1");
      List<Liquidation> ownSides = both.stream().map(PrivateViews::ownSide).toList();
      assertEquals(ownSides, call(h.accounts.listLiquidations(), ALICE_TOKEN, own.build()).getLiquidationsList());
      assertEquals(ownSides.subList(0, 1), call(h.accounts.listLiquidations(), ALICE_TOKEN, own.setLimit(1).build())
          .getLiquidationsList());
      Liquidation stop = both.stream().filter(l -> l.getOutcome().equals("stop")).findFirst().orElseThrow();
      assertEquals(List.of("BACKSTOP", "46930.0", "-3070.000000", "0.000000"), List.of(stop.getCloses(0).getVenue(),
          stop.getCloses(0).getPrice(), stop.getCloses(0).getRealizedPnl(), stop.getCloses(0).getPenalty()));
      assertEquals(List.of("20.000000", "0.000000", "0.000000"), List.of(stop.getInsuranceFundOut(),
          stop.getDebt(), stop.getLeftToTrader()));
      balanced(stop);
      // Then, cash 0 and the FUTURE long at -2,000, the account is liquidated as any other: no
      // provider for the FUTURE, its fund is empty: the maker's short is deleveraged at the
      // bankruptcy price 50,000.0 (realized 0).
      Liquidation margin = both.stream().filter(l -> !l.getOutcome().equals("stop")).findFirst().orElseThrow();
      assertEquals("adl", margin.getOutcome());
      assertEquals(List.of(FUTURE, "ADL", "50000.0", "0.000000"), List.of(margin.getCloses(0).getInstrument(),
          margin.getCloses(0).getVenue(), margin.getCloses(0).getPrice(), margin.getCloses(0).getRealizedPnl()));
      balanced(margin);
      AccountView alice = h.view("alice-1");
      assertEquals(List.of("0.000000", "0.000000", 0), List.of(alice.getCash(), alice.getDebt(),
          alice.getPositionsCount()));
      assertEquals("4980.000000", h.fund(PERP).getBalance());
      h.auditClean();
    }
  }

  @Test
  void theNextCloseReplacesTheLiquidationsOwnFundHoldInsteadOfBeingRefusedAgainstIt() {
    // One fund for both instruments, holding 1,000.
    try (LiquidationHarness h = new LiquidationHarness("liq_one_hold",
        "clearinghouse.liquidation.insurance-fund = MAIN")) {
      h.open("alice-1", "2000");
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP, FUTURE);
      h.topUp("MAIN", "1000", "seed");
      // Long 1 PERP and 0.5 FUTURE at 50,000: fees 25 + 12.5, cash 1,962.5.
      h.buy("alice-1", "maker", PERP, "1", "50000");
      h.buy("alice-1", "maker", FUTURE, "0.5", "50000");
      h.mark(FUTURE, "49000");
      // PERP 48,000: equity 1,962.5 - 2,000 - 500 = -537.5.
      h.mark(PERP, "48000");
      Liquidation l = h.onlyLiquidation("alice-1");
      // 1) PERP: bankruptcy 50,000 - (1,962.5 - 500) = 48,537.5; the provider's price 47,904.0
      //    leaves 633.5 the fund holds for this liquidation. Realized -2,096: cash -133.5.
      // 2) FUTURE: bankruptcy 50,267.0 (where -133.5 + 0.5 * (M - 50,000) = 0); the provider's
      //    price 48,902.0 leaves 682.5, which already includes the 633.5 of the first close. The
      //    liquidation's hold becomes 682.5 (it was refused against its own 633.5, 1,000 - 633.5
      //    < 682.5, and the FUTURE went to deleveraging while the fund had the money).
      assertEquals(2, l.getClosesCount());
      assertEquals(List.of(PERP, "BACKSTOP", "47904.0", "-2096.000000"), List.of(l.getCloses(0).getInstrument(),
          l.getCloses(0).getVenue(), l.getCloses(0).getPrice(), l.getCloses(0).getRealizedPnl()));
      assertEquals(List.of(FUTURE, "BACKSTOP", "48902.0", "-549.000000"), List.of(l.getCloses(1).getInstrument(),
          l.getCloses(1).getVenue(), l.getCloses(1).getPrice(), l.getCloses(1).getRealizedPnl()));
      assertEquals(List.of("covered", "682.500000", "0.000000"), List.of(l.getOutcome(), l.getInsuranceFundOut(),
          l.getDebt()));
      assertEquals(0, l.getDeleveragedCount());
      balanced(l);
      assertEquals("0.000000", h.view("alice-1").getCash());
      InsuranceFundView fund = h.fund("MAIN");
      assertEquals(List.of("317.500000", "0.000000"), List.of(fund.getBalance(), fund.getReserved()));
      h.auditClean();
    }
  }

  @Test
  void stopLossClosesThroughTheVenuesWithoutPenalty() {
    try (LiquidationHarness h = new LiquidationHarness("liq_stop", "")) {
      h.open("alice-1", "10000");
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      h.provider("prov", "1000000", PERP);
      h.buy("alice-1", "maker", PERP, "1", "50000");
      h.mark(PERP, "50000");
      var stop = io.clearinghouse.protocol.v1.SetStopRequest.newBuilder().setAccountId("alice-1").setInstrument(PERP);
      // A long's stop must be below the mark; a stop needs a position; a client only stops its own.
      refused(h.accounts.setStop(), ALICE_TOKEN, stop.setStopPrice("50500").build(), Code.FAILED_PRECONDITION,
          Rejection.STOP_WRONG_SIDE);
      refused(h.accounts.setStop(), ALICE_TOKEN, stop.clone().setInstrument(FUTURE).setStopPrice("40000").build(),
          Code.NOT_FOUND, Rejection.NO_POSITION);
      refused(h.accounts.setStop(), ALICE_TOKEN, stop.setStopPrice("-1").build(), Code.INVALID_ARGUMENT,
          Rejection.PRICE_NOT_POSITIVE);
      refused(h.accounts.setStop(), BOB_TOKEN, stop.setStopPrice("49500").build(), Code.PERMISSION_DENIED,
          Rejection.NOT_ACCOUNT_OWNER);
      AccountView set = call(h.accounts.setStop(), ALICE_TOKEN, stop.setStopPrice("49500").build());
      assertEquals("49500.0", set.getPositions(0).getStopPrice());
      // 49,400 crosses it: the provider buys at floor(49,400 * 0.998) = 49,301.2, realized -698.8,
      // no penalty: cash 9,975 - 698.8 = 9,276.2.
      h.mark(PERP, "49400");
      Liquidation l = h.onlyLiquidation("alice-1");
      assertEquals(List.of("BACKSTOP", "49301.2", "-698.800000", "0.000000"), List.of(l.getCloses(0).getVenue(),
          l.getCloses(0).getPrice(), l.getCloses(0).getRealizedPnl(), l.getCloses(0).getPenalty()));
      assertEquals("stop", l.getOutcome());
      assertEquals("9276.200000", l.getLeftToTrader());
      balanced(l);
      AccountView alice = h.view("alice-1");
      assertEquals("9276.200000", alice.getCash());
      assertEquals(0, alice.getPositionsCount());
      assertEquals("0.000000", h.fund(PERP).getBalance());
      h.auditClean();
    }
  }

  @Test
  void aStopNoProviderTakesEndsUnfilledAndIsNeverDeleveraged() {
    try (LiquidationHarness h = new LiquidationHarness("liq_stop_unfilled", "")) {
      h.open("alice-1", "10000");
      h.open("maker", "1000000");
      h.buy("alice-1", "maker", PERP, "1", "50000");
      h.mark(PERP, "50000");
      call(h.accounts.setStop(), ALICE_TOKEN, io.clearinghouse.protocol.v1.SetStopRequest.newBuilder()
          .setAccountId("alice-1").setInstrument(PERP).setStopPrice("49500").build());
      // Crossed, but nobody to take it: the maker's short is not deleveraged for a stop.
      h.mark(PERP, "49400");
      Liquidation l = h.onlyLiquidation("alice-1");
      assertEquals("stop-unfilled", l.getOutcome());
      assertEquals(0, l.getClosesCount());
      assertEquals("stop not filled: no backstop provider for " + PERP, l.getNote());
      balanced(l);
      AccountView alice = h.view("alice-1");
      assertEquals("1.000", alice.getPositions(0).getSize());
      assertEquals("", alice.getPositions(0).getStopPrice());
      assertEquals("9975.000000", alice.getCash());
      assertEquals("-1.000", h.view("maker").getPositions(0).getSize());
      h.auditClean();
    }
  }
}
