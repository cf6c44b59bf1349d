package io.clearinghouse.margin;

/**
 * One bracket of a risk-limit table: notionals in {@code [lowerBound, upperBound)} minor units
 * pay maintenance margin {@code ceil(N * maintenanceMarginRatePpm / 1e6) - maintenanceAmount}
 * and may use at most {@code maxLeverage}. The maintenance amount is derived by
 * {@link RiskTiers}, never configured.
 */
public record RiskTier(
    long lowerBound, long upperBound, long maintenanceMarginRatePpm, int maxLeverage, long maintenanceAmount) {

  public RiskTier {
    if (lowerBound < 0 || upperBound <= lowerBound) {
      throw new IllegalArgumentException(
          "tier bounds must satisfy 0 <= lower < upper, got [" + lowerBound + ", " + upperBound + ")");
    }
    if (maintenanceMarginRatePpm <= 0 || maintenanceMarginRatePpm >= MarginMath.PPM) {
      throw new IllegalArgumentException(
          "maintenance margin rate must be between 1 and 999999 ppm, got " + maintenanceMarginRatePpm);
    }
    if (maxLeverage < 1) {
      throw new IllegalArgumentException("max leverage must be at least 1, got " + maxLeverage);
    }
    // At max leverage the initial margin 1/maxLeverage must exceed the maintenance rate,
    // otherwise a position opened at max leverage would be liquidatable at once.
    if (maintenanceMarginRatePpm * maxLeverage >= MarginMath.PPM) {
      throw new IllegalArgumentException("maintenance margin rate " + maintenanceMarginRatePpm
          + " ppm is not below the initial margin rate of max leverage " + maxLeverage);
    }
  }

  /** Whether the notional falls in this bracket, lower bound included, upper bound excluded. */
  public boolean contains(long notional) {
    return notional >= lowerBound && notional < upperBound;
  }
}
