package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.clearinghouse.protocol.v1.FundFlowSummaryView;
import io.clearinghouse.protocol.v1.FundMovement;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationClose;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrivateViewsTest {
  private static final LiquidationClose CLOSE = LiquidationClose.newBuilder().setStep(0).setVenue("ADL")
      .setCounterparty("bob-7").setCounterpartyGain("12.000000").setQuantity("-0.150").setPrice("42914.0")
      .setRealizedPnl("-1062.900000").build();

  private static final Liquidation FULL = Liquidation.newBuilder().setLiquidationId("alice-1-8").setAccountId("alice-1")
      .addCloses(CLOSE).addDeleveraged(CLOSE).setPenalty("1.000000").setTradersLoss("53.250001")
      .setToProviders("0.000000").setToFundTakeovers("0.000000").setToDeleveraged("12.000000")
      .setSocialized("3.000000").setPenaltyToLiquidators("0.500000").setInsuranceFundOut("66.150001")
      .addMovements(FundMovement.newBuilder().setParty("alice-1").setBucket("cash").setAmount("-1062.900000"))
      .addMovements(FundMovement.newBuilder().setParty("bob-7").setBucket("cash").setAmount("1062.900000"))
      .addMovements(FundMovement.newBuilder().setParty("saga").setBucket("escrow").setAmount("0"))
      .build();

  @Test
  void aClientSeesItsOwnSideOnly() {
    Liquidation own = PrivateViews.ownSide(FULL);
    assertFalse(own.toString().contains("bob-7"), own.toString());
    assertEquals(List.of("alice-1"), own.getMovementsList().stream().map(FundMovement::getParty).toList());
    assertEquals(List.of("", "", "", "", ""), List.of(own.getToProviders(), own.getToFundTakeovers(),
        own.getToDeleveraged(), own.getSocialized(), own.getPenaltyToLiquidators()));
    LiquidationClose close = own.getCloses(0);
    assertEquals(List.of("", "", "ADL", "-0.150", "42914.0", "-1062.900000"), List.of(close.getCounterparty(),
        close.getCounterpartyGain(), close.getVenue(), close.getQuantity(), close.getPrice(), close.getRealizedPnl()));
    assertEquals(close, own.getDeleveraged(0));
    // The trader's own figures are as the operator sees them.
    assertEquals(List.of("alice-1-8", "1.000000", "53.250001", "66.150001"), List.of(own.getLiquidationId(),
        own.getPenalty(), own.getTradersLoss(), own.getInsuranceFundOut()));
  }

  @Test
  void aClientsSummaryLeavesTheCounterpartiesOut() {
    FundFlowSummaryView own = PrivateViews.ownSide(FundFlowSummaryView.newBuilder().setLiquidations(2)
        .setTradersLosses("10").setToProviders("1").setToFundTakeovers("2").setToDeleveraged("3").setSocialized("4")
        .setToLiquidators("5").setToInsuranceFunds("6").build());
    assertEquals(List.of("", "", "", "", "", "10", "6"), List.of(own.getToProviders(), own.getToFundTakeovers(),
        own.getToDeleveraged(), own.getSocialized(), own.getToLiquidators(), own.getTradersLosses(),
        own.getToInsuranceFunds()));
  }
}
