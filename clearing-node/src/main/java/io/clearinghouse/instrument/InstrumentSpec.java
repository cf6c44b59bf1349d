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
 * @param funding how a perpetual's funding is computed; null for a dated future
 * @param limits concentration and open-interest limits (issue 16)
 * @param volatilityMargin volatility-scaled margin (issue 16 item 2), off by default
 * @param openInterestMargin open-interest-scaled initial margin (issue 16 item 4), off by default
 * @param depth the thin-market threshold and the liquidation's share of the depth (issue 16 item 3)
 */
public record InstrumentSpec(Instrument contract, long priceBandPpm, LiquidationTerms liquidation,
    FundingTerms funding, io.clearinghouse.margin.ConcentrationRules.Limits limits,
    io.clearinghouse.margin.MarginScaling.VolatilityTerms volatilityMargin,
    io.clearinghouse.margin.MarginScaling.OpenInterestTerms openInterestMargin, DepthTerms depth) {
  /** Without scaled margins or depth terms. */
  public InstrumentSpec(Instrument contract, long priceBandPpm, LiquidationTerms liquidation, FundingTerms funding,
      io.clearinghouse.margin.ConcentrationRules.Limits limits) {
    this(contract, priceBandPpm, liquidation, funding, limits,
        io.clearinghouse.margin.MarginScaling.VolatilityTerms.NONE,
        io.clearinghouse.margin.MarginScaling.OpenInterestTerms.NONE, DepthTerms.NONE);
  }

  /** With the default funding terms for a perpetual (8h, 0.01% interest, 0.05% clamp, the tier's cap), no limits. */
  public InstrumentSpec(Instrument contract, long priceBandPpm, LiquidationTerms liquidation) {
    this(contract, priceBandPpm, liquidation, defaultFunding(contract));
  }

  /** Without concentration or open-interest limits. */
  public InstrumentSpec(Instrument contract, long priceBandPpm, LiquidationTerms liquidation, FundingTerms funding) {
    this(contract, priceBandPpm, liquidation, funding, io.clearinghouse.margin.ConcentrationRules.Limits.NONE);
  }

  /** With the default funding terms and these limits. */
  public InstrumentSpec(Instrument contract, long priceBandPpm, LiquidationTerms liquidation,
      io.clearinghouse.margin.ConcentrationRules.Limits limits) {
    this(contract, priceBandPpm, liquidation, defaultFunding(contract), limits);
  }

  public static FundingTerms defaultFunding(Instrument contract) {
    return contract.kind() == io.clearinghouse.margin.InstrumentKind.PERPETUAL
        ? new FundingTerms(java.time.Duration.ofHours(8), 10_000, 50_000,
            Math.max(1, io.clearinghouse.margin.FundingMath.defaultCap(contract.riskTiers())))
        : null;
  }

  public InstrumentSpec {
    java.util.Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(volatilityMargin, "volatility margin");
    Objects.requireNonNull(openInterestMargin, "open-interest margin");
    Objects.requireNonNull(depth, "depth terms");
    if ((funding != null) != (contract.kind() == io.clearinghouse.margin.InstrumentKind.PERPETUAL)) {
      throw new IllegalArgumentException(contract.symbol() + ": funding terms are for perpetuals only, and every "
          + "perpetual has them");
    }
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
