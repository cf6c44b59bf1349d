package io.clearinghouse.instrument;

import io.clearinghouse.margin.Instrument;
import java.util.Objects;

/**
 * Everything configured about one instrument, in one place and read by one parser
 * ({@link Instruments#fromConfig}): the contract (tick, lot, fees, risk tiers), the price band
 * orders and trades must keep to, and how its positions are liquidated.
 *
 * @param contract units, fees and tiers
 * @param priceBandPpm how far from the mark (ppm) an order's limit price or a trade's price may lie
 * @param liquidation fund, negative-balance policy, backstop spread
 * @param limits concentration and open-interest limits (issue 16)
 */
public record InstrumentSpec(Instrument contract, long priceBandPpm, LiquidationTerms liquidation,
    io.clearinghouse.margin.ConcentrationRules.Limits limits) {
  /** Without concentration or open-interest limits. */
  public InstrumentSpec(Instrument contract, long priceBandPpm, LiquidationTerms liquidation) {
    this(contract, priceBandPpm, liquidation, io.clearinghouse.margin.ConcentrationRules.Limits.NONE);
  }

  public InstrumentSpec {
    java.util.Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(contract, "contract");
    Objects.requireNonNull(liquidation, "liquidation terms");
    if (priceBandPpm <= 0 || priceBandPpm >= 1_000_000) {
      throw new IllegalArgumentException(contract.symbol() + ": price band must be above 0% and below 100%");
    }
  }

  public String symbol() {
    return contract.symbol();
  }
}
