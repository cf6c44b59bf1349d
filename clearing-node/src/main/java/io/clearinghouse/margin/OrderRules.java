package io.clearinghouse.margin;

/**
 * The pre-trade rules (DESIGN section 4) in one pure place: what an order costs, whether it only
 * reduces a position, the price band around the mark, the position limit, and how an isolated
 * position is funded. The account's pre-trade check and its trade fill both call these, so the
 * check and the fill can never apply two different rules.
 *
 * <p>Every figure is an exact integer in minor units, ticks or lots; every comparison is written
 * so that it cannot wrap (no {@code a - b < 0} on untrusted values).
 */
public final class OrderRules {
  private OrderRules() {}

  /** Why an order is refused by these rules, or {@link #ACCEPTED}. */
  public enum Verdict {
    ACCEPTED,
    /**
     * A reducing order priced worse than the mark whose loss against the mark (with its fee) is
     * more than the equity that carries the position: filled, it would leave the account short,
     * the difference paid to its counterparty by the insurance fund.
     */
    BEYOND_BANKRUPTCY,
    /** The order's price is further from the mark than the instrument's band. */
    PRICE_OUTSIDE_BAND,
    /** The position the order could grow to is above the last risk tier's notional cap. */
    POSITION_LIMIT,
    /** The order's cost is more than the account has available (for an isolated position: cash it can fund). */
    INSUFFICIENT_MARGIN,
    /** A figure of the order does not fit a long. */
    OVERFLOW
  }

  /**
   * What the order asks of the account: the lots that open or grow a position (the rest only
   * reduces the opposite position), the growth of the initial margin of the position it could
   * grow to ({@code exposureAfter} lots on the order's side, every pending order filled), the loss
   * it opens against the mark, and the taker fee on the whole order.
   * {@link #amount()} is what is reserved for it.
   */
  public record Cost(long openingLots, long exposureAfter, long initialMarginIncrease, long openLoss, long fee,
      long closingLoss) {
    public Cost(long openingLots, long exposureAfter, long initialMarginIncrease, long openLoss, long fee) {
      this(openingLots, exposureAfter, initialMarginIncrease, openLoss, fee, 0);
    }

    /** True when every lot of the order reduces an existing position: it needs no new margin. */
    public boolean reducing() {
      return openingLots == 0;
    }

    /**
     * What is reserved for an order that opens: the margin growth, the loss its opening lots open
     * against the mark, the loss its closing lots (an order that closes a position and opens the
     * other side) realize against the mark, and the fee.
     */
    public long amount() {
      return Math.addExact(Math.addExact(Math.addExact(initialMarginIncrease, openLoss), closingLoss), fee);
    }
  }

  /**
   * The order's cost (Binance's order-cost rule, with the tier growth of the whole position).
   *
   * @param positionLots       the position now (signed)
   * @param pendingLots        the signed lots of the account's other open orders on the order's side
   * @param orderLots          the order (signed: buy > 0), not zero
   * @param priceTicks         the order's limit price
   * @param markTicks          the instrument's mark (or the account's reference price without one)
   * @param chosenLeverage     the leverage the account chose, already capped by the operator's cap
   * @throws ArithmeticException when a figure overflows
   */
  public static Cost cost(Instrument instrument, long positionLots, long pendingLots, long orderLots,
      long priceTicks, long markTicks, int chosenLeverage) {
    long order = Math.absExact(orderLots);
    boolean opposite = positionLots != 0 && Long.signum(positionLots) != Long.signum(orderLots);
    long pending = Math.absExact(pendingLots);
    long position = Math.absExact(positionLots);
    // The part of the position the order (after the other orders on its side) can still close.
    long reducible = opposite ? Math.max(0, position - pending) : 0;
    long opening = Math.max(0, order - reducible);
    // The position on the order's side before this order, in its worst case (every pending fill).
    long base = opposite ? Math.max(0, pending - position) : Math.addExact(position, pending);
    long m = instrument.notionalMultiplier();
    long increase = 0;
    if (opening > 0) {
      long before = initialMargin(instrument, MarginMath.notional(base, priceTicks, m), chosenLeverage);
      long after = initialMargin(instrument, MarginMath.notional(Math.addExact(base, opening), priceTicks, m),
          chosenLeverage);
      increase = Math.max(0, Math.subtractExact(after, before));
    }
    long openLoss = openLoss(Long.signum(orderLots) * opening, priceTicks, markTicks, m);
    long closing = Math.subtractExact(order, opening);
    long closingLoss = closingLoss(Long.signum(orderLots) * closing, priceTicks, markTicks, m);
    long fee = MarginMath.fee(MarginMath.notional(order, priceTicks, m), instrument.takerFeePpm());
    return new Cost(opening, Math.addExact(base, opening), increase, openLoss, fee, closingLoss);
  }

  /**
   * The initial margin of a position of {@code notional}: at the chosen leverage, capped by the
   * maximum leverage of the tier the notional falls in.
   */
  public static long initialMargin(Instrument instrument, long notional, int chosenLeverage) {
    return PositionMetrics.initialMargin(notional, instrument.riskTiers(), instrument.riskTiers().tierFor(notional),
        chosenLeverage);
  }

  /**
   * What opening {@code openingSignedLots} at {@code priceTicks} loses at once against the mark:
   * a buy above the mark or a sell below it. Never negative (a better price is no credit).
   */
  public static long openLoss(long openingSignedLots, long priceTicks, long markTicks, long multiplier) {
    long perLot = Math.multiplyExact(Long.signum(openingSignedLots), Math.subtractExact(priceTicks, markTicks));
    if (perLot <= 0 || openingSignedLots == 0) {
      return 0;
    }
    return Math.multiplyExact(Math.multiplyExact(perLot, Math.absExact(openingSignedLots)), multiplier);
  }

  /**
   * True when {@code priceTicks} lies within {@code bandPpm} of the mark on either side:
   * {@code |price - mark| * 1e6 <= mark * band}, compared exactly in 128 bits.
   */
  public static boolean withinBand(long priceTicks, long markTicks, long bandPpm) {
    if (markTicks <= 0 || bandPpm <= 0) {
      return true;
    }
    long distance = Math.abs(Math.subtractExact(priceTicks, markTicks));
    // distance <= mark * band / 1e6, rounded toward the trader: floor keeps the band exact.
    return distance <= MulDiv.mulDivFloor(markTicks, bandPpm, MarginMath.PPM);
  }

  /** True when a position of {@code lots} at {@code priceTicks} stays within the last tier's cap. */
  public static boolean withinPositionLimit(Instrument instrument, long lots, long priceTicks) {
    try {
      return MarginMath.notional(lots, priceTicks, instrument.notionalMultiplier()) <= instrument.riskTiers().maxNotional();
    } catch (ArithmeticException e) {
      return false;
    }
  }

  /**
   * The pre-trade check: band, position limit, then margin. {@code available} is the account's
   * available margin now; an isolated order must also be funded from {@code freeCash} (cash not
   * promised to other orders), never from unrealized profit. A reducing order needs no margin, so
   * that a trader short of margin can always get out (within the equity it has: see the next).
   */
  public static Verdict check(Instrument instrument, Cost cost, long priceTicks,
      long markTicks, long bandPpm, boolean isolated, long available, long freeCash) {
    return check(instrument, cost, priceTicks, markTicks, bandPpm, isolated, available, freeCash, 0, Long.MAX_VALUE);
  }

  /**
   * As above, a reducing order also held to {@link #closingFits}: {@code closingLoss} is
   * {@link #closingLoss} of the whole order and {@code cushion} the equity that carries the
   * position (the account's equity for a cross position, the position's margin plus its
   * unrealized PnL for an isolated one).
   */
  public static Verdict check(Instrument instrument, Cost cost, long priceTicks, long markTicks, long bandPpm,
      boolean isolated, long available, long freeCash, long closingLoss, long cushion) {
    if (!withinBand(priceTicks, markTicks, bandPpm)) {
      return Verdict.PRICE_OUTSIDE_BAND;
    }
    if (cost.reducing()) {
      return closingFits(closingLoss, cost.fee(), cushion) ? Verdict.ACCEPTED : Verdict.BEYOND_BANKRUPTCY;
    }
    if (!withinPositionLimit(instrument, cost.exposureAfter(), priceTicks)) {
      return Verdict.POSITION_LIMIT;
    }
    long amount;
    try {
      amount = cost.amount();
    } catch (ArithmeticException e) {
      return Verdict.OVERFLOW;
    }
    long fundable = isolated ? Math.min(available, freeCash) : available;
    return amount <= fundable ? Verdict.ACCEPTED : Verdict.INSUFFICIENT_MARGIN;
  }

  /**
   * What closing {@code signedLots} at {@code priceTicks} loses against the mark at once (a sell
   * below the mark, a buy above it); 0 at or better than the mark.
   */
  public static long closingLoss(long signedLots, long priceTicks, long markTicks, long multiplier) {
    return openLoss(signedLots, priceTicks, markTicks, multiplier);
  }

  /**
   * Whether a reducing order may be accepted: always when it closes at or better than the mark
   * (a trader short of margin, even under water, can always get out at the market: what it then
   * still owes is settled as a liquidation's deficit is); priced worse than the mark, only while
   * that loss and the fee fit in {@code cushion}, i.e. no worse than the bankruptcy price. A worse
   * price would move money from the insurance fund to the counterparty (two colluding accounts
   * could drain it).
   */
  public static boolean closingFits(long closingLoss, long fee, long cushion) {
    if (closingLoss <= 0) {
      return true;
    }
    long needed;
    try {
      needed = Math.addExact(closingLoss, Math.max(0, fee));
    } catch (ArithmeticException e) {
      return false;
    }
    return needed <= cushion;
  }

  /**
   * The margin an isolated position's fill allocates from cash for {@code openingLots}: the
   * initial margin of the lots opened at the fill price plus the loss they open against the
   * mark, so that the position starts at its initial margin at the mark. The fill is refused
   * (never funded in part) when {@code fundable} is less.
   */
  public static long isolatedAllocation(Instrument instrument, long openingSignedLots, long positionLotsAfter,
      long priceTicks, long markTicks, int chosenLeverage) {
    long m = instrument.notionalMultiplier();
    long notionalAfter = MarginMath.notional(positionLotsAfter, priceTicks, m);
    int leverage = Math.min(chosenLeverage, instrument.riskTiers().tierFor(notionalAfter).maxLeverage());
    long opening = MarginMath.notional(openingSignedLots, priceTicks, m);
    RiskTiers tiers = instrument.riskTiers();
    long margin = tiers.unscaled() ? MarginMath.initialMargin(opening, leverage)
        : MarginScaling.initialMargin(opening, leverage, tiers.initialScalePpm(), tiers.initialBlendPpm());
    return Math.addExact(margin, openLoss(openingSignedLots, priceTicks, markTicks, m));
  }
}
