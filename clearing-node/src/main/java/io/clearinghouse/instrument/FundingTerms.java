package io.clearinghouse.instrument;

import io.clearinghouse.margin.FundingMath;
import java.time.Duration;

/**
 * How a perpetual's funding is computed (rates in 10^-8, see {@link FundingMath}): every
 * {@code interval} (dividing a UTC day, so 8h pays at 00, 08 and 16 UTC), at the rate
 * {@code P + clamp(interest - P, ±clamp)} capped to {@code ±cap}, where {@code interest} is the
 * configured interest per 8 h scaled to the interval (exactly).
 */
public record FundingTerms(Duration interval, long interestPer8h, long clamp, long cap) {
  private static final long EIGHT_HOURS = Duration.ofHours(8).toMillis();

  public FundingTerms {
    long millis = interval.toMillis();
    if (millis < 1_000 || Duration.ofDays(1).toMillis() % millis != 0 || millis % 1_000 != 0) {
      throw new IllegalArgumentException("funding interval must be whole seconds dividing a day, was " + interval);
    }
    if (Math.abs(interestPer8h) > FundingMath.ONE / 100) {
      throw new IllegalArgumentException("funding interest must be within ±1% per 8h");
    }
    if (Math.multiplyExact(interestPer8h, millis) % EIGHT_HOURS != 0) {
      throw new IllegalArgumentException("funding interest per interval must be exact in 10^-8");
    }
    if (clamp < 0 || clamp > FundingMath.ONE / 10 || cap <= 0 || cap > FundingMath.ONE / 10) {
      throw new IllegalArgumentException("funding clamp must be 0-10% and cap above 0 and at most 10%");
    }
  }

  public long intervalMillis() {
    return interval.toMillis();
  }

  /** The interest for one interval, in 10^-8. */
  public long interest() {
    return Math.multiplyExact(interestPer8h, intervalMillis()) / EIGHT_HOURS;
  }

  /** The rate for an interval whose time-weighted average premium was {@code averagePremium}. */
  public long rate(long averagePremium) {
    return FundingMath.rate(averagePremium, interest(), clamp, cap);
  }

  /** The first funding time strictly after {@code epochMillis}. */
  public long nextFundingTime(long epochMillis) {
    return Math.addExact(Math.floorDiv(epochMillis, intervalMillis()) * intervalMillis(), intervalMillis());
  }
}
