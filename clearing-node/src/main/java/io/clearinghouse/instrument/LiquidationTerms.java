package io.clearinghouse.instrument;

import io.clearinghouse.margin.PenaltySplit;
import java.util.Objects;

/**
 * How an instrument's positions are liquidated (DESIGN section 6), part of its
 * {@link InstrumentSpec}: the insurance fund that takes its penalties and covers its deficits,
 * what happens beyond that fund, and the spread a backstop provider takes a position at.
 *
 * @param insuranceFund the fund's name (several instruments may share one)
 * @param policy what is left of a deficit that the fund cannot cover
 * @param backstopSpreadPpm how far from the mark, against the trader, a provider takes a close (ppm)
 * @param penaltySplit how the penalty is shared among the reserves and the taking provider
 * @param fundTakeoverLimit the largest net notional (minor units) of the fund's position in the
 *     instrument that takeovers may build; 0: the fund takes no position over
 * @param operatorCapitalPerDay what the operator's capital pays at most per UTC day for the
 *     instrument's deficits, after the fund; 0: not a layer of its waterfall
 */
public record LiquidationTerms(String insuranceFund, NegativeBalancePolicy policy, long backstopSpreadPpm,
    PenaltySplit penaltySplit, long fundTakeoverLimit, long operatorCapitalPerDay) {

  /** What is left of a deficit when the insurance fund cannot cover it. */
  public enum NegativeBalancePolicy { ADL, DEBT }

  /** A fund name: 1-64 characters of {@code [A-Za-z0-9._:-]}. */
  public static final String FUND_NAME = "[A-Za-z0-9._:-]{1,64}";

  public LiquidationTerms {
    Objects.requireNonNull(insuranceFund, "insurance fund");
    Objects.requireNonNull(policy, "negative-balance policy");
    if (!insuranceFund.matches(FUND_NAME)) {
      throw new IllegalArgumentException("the insurance fund must be 1-64 characters [A-Za-z0-9._:-], was "
          + insuranceFund);
    }
    Objects.requireNonNull(penaltySplit, "penalty split");
    if (fundTakeoverLimit < 0 || operatorCapitalPerDay < 0) {
      throw new IllegalArgumentException("the fund's takeover limit and the operator capital's daily amount must not"
          + " be negative");
    }
    if (backstopSpreadPpm < 0 || backstopSpreadPpm >= 1_000_000) {
      throw new IllegalArgumentException("the backstop spread must be from 0% to below 100%, was " + backstopSpreadPpm
          + " ppm");
    }
  }

  /** Terms with the whole penalty to the fund, no fund takeover and no operator capital layer. */
  public LiquidationTerms(String insuranceFund, NegativeBalancePolicy policy, long backstopSpreadPpm) {
    this(insuranceFund, policy, backstopSpreadPpm, PenaltySplit.ALL_TO_FUND, 0, 0);
  }

  /** What an instrument built without configuration (tests) gets: its own fund, ADL, 0.2%. */
  public static LiquidationTerms defaults(String symbol) {
    return new LiquidationTerms(symbol, NegativeBalancePolicy.ADL, 2_000);
  }
}
