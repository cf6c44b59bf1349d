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
   * {@code openInterestLots} (one side's lots) at {@code markTicks}. The account is taken to hold
   * the rest of that exposure ({@code exposureAfterLots - openingLots}, no other resting orders);
   * see the next for an account with other open orders on the side.
   *
   * @throws ArithmeticException when a figure overflows
   */
  public static Verdict check(Limits limits, long openingLots, long exposureAfterLots, long openInterestLots,
      long markTicks, long multiplier) {
    return check(limits, openingLots, exposureAfterLots, Math.max(0, Math.abs(exposureAfterLots) - Math.abs(openingLots)),
        openInterestLots, markTicks, multiplier);
  }

  /**
   * As above, with the lots the account holds now on the order's side ({@code heldOnSideLots}, 0
   * when its position is on the other side or flat). The open interest after the order counts every
   * lot the account's open orders on that side (this one included) could still open, that is its
   * exposure after them less what it holds ({@code exposureAfterLots - heldOnSideLots}), not only
   * this order's: resting orders are never in the reported open interest, and judged one by one
   * they would each pass the cap.
   *
   * @throws ArithmeticException when a figure overflows
   */
  public static Verdict check(Limits limits, long openingLots, long exposureAfterLots, long heldOnSideLots,
      long openInterestLots, long markTicks, long multiplier) {
    if (openingLots == 0 || !limits.any()) {
      return Verdict.ACCEPTED;
    }
    long exposure = MarginMath.notional(exposureAfterLots, markTicks, multiplier);
    if (limits.maxAccountPosition() > 0 && exposure > limits.maxAccountPosition()) {
      return Verdict.ACCOUNT_POSITION_LIMIT;
    }
    long pendingOpening = Math.max(Math.abs(openingLots),
        Math.subtractExact(Math.absExact(exposureAfterLots), Math.max(0, heldOnSideLots)));
    long interestAfter = Math.addExact(Math.max(0, openInterestLots), pendingOpening);
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
