package io.clearinghouse.api;

import io.clearinghouse.protocol.v1.FundFlowSummaryView;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationClose;

/**
 * What a client may see of the liquidation records: its own side. Operators see the whole
 * record; a client sees neither its counterparties' names nor their amounts.
 */
public final class PrivateViews {
  private PrivateViews() {}

  /**
   * A client's view of its own liquidation: its own side only. Counterparties (providers, the
   * fund's takeovers, deleveraged accounts) are neither named nor their gains shown, and only the
   * account's own bucket movements are listed; the trader's figures are unchanged.
   */
  public static Liquidation ownSide(Liquidation full) {
    Liquidation.Builder out = full.toBuilder()
        .clearToProviders().clearToFundTakeovers().clearToDeleveraged().clearSocialized().clearPenaltyToLiquidators()
        .clearCloses().clearDeleveraged().clearMovements();
    full.getClosesList().forEach(c -> out.addCloses(ownSide(c)));
    full.getDeleveragedList().forEach(c -> out.addDeleveraged(ownSide(c)));
    full.getMovementsList().stream().filter(m -> m.getParty().equals(full.getAccountId())).forEach(out::addMovements);
    return out.build();
  }

  private static LiquidationClose ownSide(LiquidationClose close) {
    return close.toBuilder().clearCounterparty().clearCounterpartyGain().build();
  }

  /** A client's summary of its own liquidations: what its counterparties gained is left out, as in {@link #ownSide(Liquidation)}. */
  public static FundFlowSummaryView ownSide(FundFlowSummaryView full) {
    return full.toBuilder().clearToProviders().clearToFundTakeovers().clearToDeleveraged().clearSocialized()
        .clearToLiquidators().build();
  }
}
