package io.clearinghouse.margin;

import java.util.ArrayList;
import java.util.List;

/**
 * A risk-limit table: contiguous brackets starting at notional 0, with increasing maintenance
 * margin rates and non-increasing max leverage. The maintenance amounts ("cum") are derived as
 * {@code cum_k = cum_(k-1) + ceil(L_k * mmr_k / 1e6) - ceil(L_k * mmr_(k-1) / 1e6)}, which makes
 * the integer maintenance margin exactly continuous at every lower bound {@code L_k}.
 */
public record RiskTiers(List<RiskTier> tiers, long initialScalePpm, long initialBlendPpm) {
  /** A table at its configured rates: no volatility or open-interest scaling (issue 16). */
  public RiskTiers(List<RiskTier> tiers) {
    this(tiers, MarginMath.PPM, 0);
  }

  /** One configured bracket: everything up to {@code upperBound} minor units. */
  public record Bracket(long upperBound, long maintenanceMarginRatePpm, int maxLeverage) {}

  public RiskTiers {
    tiers = List.copyOf(tiers);
    if (initialScalePpm < MarginMath.PPM || initialScalePpm > MarginScaling.MAX_SCALE_PPM) {
      throw new IllegalArgumentException("the initial margin scale must be from 100% to "
          + MarginScaling.MAX_SCALE_PPM / 10_000 + "%, was " + initialScalePpm + " ppm");
    }
    if (initialBlendPpm < 0 || initialBlendPpm > MarginMath.PPM) {
      throw new IllegalArgumentException("the open-interest blend must be from 0 to 1000000 ppm, was "
          + initialBlendPpm);
    }
    if (tiers.isEmpty()) {
      throw new IllegalArgumentException("risk tiers must not be empty");
    }
    if (tiers.get(0).lowerBound() != 0) {
      throw new IllegalArgumentException("tier 1 must start at notional 0, starts at " + tiers.get(0).lowerBound());
    }
    if (tiers.get(0).maintenanceAmount() != 0) {
      throw new IllegalArgumentException("tier 1 maintenance amount must be 0, was " + tiers.get(0).maintenanceAmount());
    }
    for (int k = 1; k < tiers.size(); k++) {
      RiskTier previous = tiers.get(k - 1);
      RiskTier tier = tiers.get(k);
      int number = k + 1;
      if (tier.lowerBound() != previous.upperBound()) {
        throw new IllegalArgumentException("tier " + number + " must start where tier " + k + " ends ("
            + previous.upperBound() + "), starts at " + tier.lowerBound());
      }
      if (tier.maintenanceMarginRatePpm() <= previous.maintenanceMarginRatePpm()) {
        throw new IllegalArgumentException("tier " + number + " maintenance margin rate "
            + tier.maintenanceMarginRatePpm() + " ppm must exceed tier " + k + "'s "
            + previous.maintenanceMarginRatePpm() + " ppm");
      }
      if (tier.maxLeverage() > previous.maxLeverage()) {
        throw new IllegalArgumentException("tier " + number + " max leverage " + tier.maxLeverage()
            + " must not exceed tier " + k + "'s " + previous.maxLeverage());
      }
      long expected = nextMaintenanceAmount(previous, tier.lowerBound(), tier.maintenanceMarginRatePpm());
      if (tier.maintenanceAmount() != expected) {
        throw new IllegalArgumentException("tier " + number + " maintenance amount must be the derived "
            + expected + ", was " + tier.maintenanceAmount());
      }
    }
  }

  /** Builds the table from its brackets, the first starting at 0, deriving the maintenance amounts. */
  public static RiskTiers fromBrackets(List<Bracket> brackets) {
    if (brackets.isEmpty()) {
      throw new IllegalArgumentException("risk tiers must not be empty");
    }
    List<RiskTier> tiers = new ArrayList<>(brackets.size());
    RiskTier previous = null;
    for (Bracket bracket : brackets) {
      long lower = previous == null ? 0 : previous.upperBound();
      long cum = previous == null ? 0 : nextMaintenanceAmount(previous, lower, bracket.maintenanceMarginRatePpm());
      RiskTier tier;
      try {
        tier = new RiskTier(lower, bracket.upperBound(), bracket.maintenanceMarginRatePpm(), bracket.maxLeverage(), cum);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("tier " + (tiers.size() + 1) + ": " + e.getMessage(), e);
      }
      tiers.add(tier);
      previous = tier;
    }
    return new RiskTiers(tiers);
  }

  /**
   * Binance's BTCUSDT perpetual table as published in March 2021 (bounds in whole USDT, converted
   * to minor units of the given scale): a reference table for defaults and tests.
   */
  public static RiskTiers binanceBtcUsdtMarch2021(int scale) {
    long unit = powerOfTen(scale);
    List<Bracket> inWholeUsdt = List.of(
        new Bracket(50_000L, 4_000, 125),
        new Bracket(250_000L, 5_000, 100),
        new Bracket(1_000_000L, 10_000, 50),
        new Bracket(10_000_000L, 25_000, 20),
        new Bracket(20_000_000L, 50_000, 10),
        new Bracket(50_000_000L, 100_000, 5),
        new Bracket(100_000_000L, 125_000, 4),
        new Bracket(200_000_000L, 150_000, 3),
        new Bracket(300_000_000L, 250_000, 2),
        new Bracket(500_000_000L, 500_000, 1));
    List<Bracket> brackets = new ArrayList<>(inWholeUsdt.size());
    for (Bracket b : inWholeUsdt) {
      brackets.add(new Bracket(Math.multiplyExact(b.upperBound(), unit), b.maintenanceMarginRatePpm(), b.maxLeverage()));
    }
    return fromBrackets(brackets);
  }

  /**
   * The tier whose bracket {@code [lower, upper)} holds the notional; a notional on an edge
   * belongs to the upper tier. Notionals beyond the last upper bound use the last tier: the
   * table's cap is enforced when positions are opened, and margin for anything above it must
   * still be the strictest the table knows.
   */
  /** The last tier's upper bound: no position may grow beyond this notional (the risk limit). */
  public long maxNotional() {
    return tiers.get(tiers.size() - 1).upperBound();
  }

  public RiskTier tierFor(long notional) {
    if (notional < 0) {
      throw new IllegalArgumentException("notional must not be negative, was " + notional);
    }
    int last = tiers.size() - 1;
    for (int k = 0; k < last; k++) {
      RiskTier tier = tiers.get(k);
      if (notional < tier.upperBound()) {
        return tier;
      }
    }
    return tiers.get(last);
  }

  /** Whether this table carries no scaling: margins are exactly the configured ones. */
  public boolean unscaled() {
    return initialScalePpm == MarginMath.PPM && initialBlendPpm == 0;
  }

  /** This table with its initial margin scaled ({@link MarginScaling#initialMargin}); the brackets unchanged. */
  public RiskTiers withInitial(long scalePpm, long blendPpm) {
    return new RiskTiers(tiers, scalePpm, blendPpm);
  }

  private static long nextMaintenanceAmount(RiskTier previous, long lowerBound, long maintenanceMarginRatePpm) {
    long atNewRate = MulDiv.mulDivCeil(lowerBound, maintenanceMarginRatePpm, MarginMath.PPM);
    long atOldRate = MulDiv.mulDivCeil(lowerBound, previous.maintenanceMarginRatePpm(), MarginMath.PPM);
    return Math.addExact(previous.maintenanceAmount(), atNewRate - atOldRate);
  }

  private static long powerOfTen(int scale) {
    if (scale < 0 || scale > 18) {
      throw new IllegalArgumentException("scale must be between 0 and 18, was " + scale);
    }
    long unit = 1;
    for (int i = 0; i < scale; i++) {
      unit *= 10;
    }
    return unit;
  }
}
