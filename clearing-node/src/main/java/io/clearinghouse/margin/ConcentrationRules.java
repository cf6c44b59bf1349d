package io.clearinghouse.margin;

/**
 * Concentration and open-interest limits (issue 16 item 4), pure: an order that opens or grows a
 * position is refused when the position it could grow to is worth more than the instrument's cap
 * per account, when the instrument's open interest after it would be worth more than its cap, or
 * when the account would then hold more than the configured share of the open interest (judged
 * once the open interest is worth at least {@code shareFrom}: in a young market every first
 * position is all of it). Orders that only reduce are never refused. The open interest is the
 * cluster's, as the margin monitors last reported it (a second or so behind), so the caps are
 * soft by the orders of that moment.
 */
public final class ConcentrationRules {
  private ConcentrationRules() {}

  /** One instrument's limits; 0 switches one off. Notional amounts in minor units, the share in ppm. */
  public record Limits(long maxOpenInterest, long maxAccountPosition, long maxAccountSharePpm, long shareFrom) {
    public static final Limits NONE = new Limits(0, 0, 0, 0);

    public Limits {
      if (maxOpenInterest < 0 || maxAccountPosition < 0 || shareFrom < 0) {
        throw new IllegalArgumentException("limits must not be negative");
      }
      if (maxAccountSharePpm < 0 || maxAccountSharePpm > MarginMath.PPM) {
        throw new IllegalArgumentException("the account share must be from 0% to 100%");
      }
    }

    public boolean any() {
      return maxOpenInterest > 0 || maxAccountPosition > 0 || maxAccountSharePpm > 0;
    }
  }

  public enum Verdict { ACCEPTED, ACCOUNT_POSITION_LIMIT, OPEN_INTEREST_LIMIT, CONCENTRATION_LIMIT }

  /**
   * The order's verdict: it opens {@code openingLots} and could grow the account's position on its
   * side to {@code exposureAfterLots} ({@link OrderRules.Cost}); the instrument's open interest is
   * {@code openInterestLots} (one side's lots) at {@code markTicks}.
   *
   * @throws ArithmeticException when a figure overflows
   */
  public static Verdict check(Limits limits, long openingLots, long exposureAfterLots, long openInterestLots,
      long markTicks, long multiplier) {
    if (openingLots == 0 || !limits.any()) {
      return Verdict.ACCEPTED;
    }
    long exposure = MarginMath.notional(exposureAfterLots, markTicks, multiplier);
    if (limits.maxAccountPosition() > 0 && exposure > limits.maxAccountPosition()) {
      return Verdict.ACCOUNT_POSITION_LIMIT;
    }
    long interestAfter = Math.addExact(Math.max(0, openInterestLots), Math.abs(openingLots));
    long interest = MarginMath.notional(interestAfter, markTicks, multiplier);
    if (limits.maxOpenInterest() > 0 && interest > limits.maxOpenInterest()) {
      return Verdict.OPEN_INTEREST_LIMIT;
    }
    if (limits.maxAccountSharePpm() > 0 && interest >= limits.shareFrom()
        && java.math.BigInteger.valueOf(Math.abs(exposureAfterLots)).multiply(java.math.BigInteger.valueOf(MarginMath.PPM))
            .compareTo(java.math.BigInteger.valueOf(interestAfter).multiply(
                java.math.BigInteger.valueOf(limits.maxAccountSharePpm()))) > 0) {
      return Verdict.CONCENTRATION_LIMIT;
    }
    return Verdict.ACCEPTED;
  }
}
