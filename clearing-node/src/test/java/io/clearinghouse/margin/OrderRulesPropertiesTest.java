package io.clearinghouse.margin;

import static io.clearinghouse.margin.Fixtures.BTC_PERP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * Properties of the pure money rules ({@link OrderRules}, {@link LiquidationRule}) over the whole
 * range of their inputs, extremes included: every result is either an exact figure or an
 * ArithmeticException, never a wrapped one, and the rules agree with a BigInteger reference.
 */
class OrderRulesPropertiesTest {
  private static final BigInteger PPM = BigInteger.valueOf(1_000_000);

  @Provide
  Arbitrary<Long> anyLong() {
    return Arbitraries.oneOf(Arbitraries.longs(),
        Arbitraries.of(Long.MIN_VALUE, Long.MIN_VALUE + 1, -1L, 0L, 1L, Long.MAX_VALUE - 1, Long.MAX_VALUE));
  }

  @Provide
  Arbitrary<Long> lots() {
    return Arbitraries.oneOf(Arbitraries.longs().between(-20_000_000, 20_000_000),
        Arbitraries.of(-Long.MAX_VALUE, Long.MAX_VALUE, -1L, 1L));
  }

  @Provide
  Arbitrary<Long> prices() {
    return Arbitraries.oneOf(Arbitraries.longs().between(1, 20_000_000), Arbitraries.of(1L, Long.MAX_VALUE));
  }

  @Property
  void openLossIsNeverNegativeAndMatchesAnExactReference(@ForAll("lots") long lots, @ForAll("prices") long price,
      @ForAll("prices") long mark) {
    BigInteger exact = BigInteger.valueOf(Long.signum(lots)).multiply(BigInteger.valueOf(price - mark))
        .max(BigInteger.ZERO).multiply(BigInteger.valueOf(Math.abs(lots))).multiply(BigInteger.valueOf(100));
    try {
      long loss = OrderRules.openLoss(lots, price, mark, 100);
      assertTrue(loss >= 0);
      assertEquals(exact, BigInteger.valueOf(loss));
    } catch (ArithmeticException e) {
      assertTrue(exact.bitLength() > 63 || BigInteger.valueOf(price).subtract(BigInteger.valueOf(mark)).bitLength() > 63,
          "overflow reported for a result that fits: " + exact);
    }
  }

  @Property
  void theBandIsExactAndSymmetric(@ForAll("prices") long mark, @ForAll @LongRange(min = 1, max = 999_999) long band,
      @ForAll @LongRange(min = -2_000_000, max = 2_000_000) long offset) {
    Assume.that(mark < Long.MAX_VALUE / 2);
    long price = mark + offset;
    Assume.that(price > 0);
    boolean expected = BigInteger.valueOf(Math.abs(offset)).multiply(PPM)
        .compareTo(BigInteger.valueOf(mark).multiply(BigInteger.valueOf(band))) <= 0;
    assertEquals(expected, OrderRules.withinBand(price, mark, band));
    long mirrored = mark - offset;
    if (mirrored > 0) {
      assertEquals(expected, OrderRules.withinBand(mirrored, mark, band));
    }
  }

  @Property
  void anOrderCostIsNeverNegativeAndAReducingOrderCostsOnlyItsFee(@ForAll("lots") long position,
      @ForAll @LongRange(min = 1, max = 20_000_000) long orderSize, @ForAll boolean buy,
      @ForAll @LongRange(min = 1, max = 2_000_000) long price, @ForAll @LongRange(min = 1, max = 2_000_000) long mark,
      @ForAll @IntRange(min = 1, max = 125) int leverage) {
    long order = buy ? orderSize : -orderSize;
    OrderRules.Cost cost;
    try {
      cost = OrderRules.cost(BTC_PERP, position, 0, order, price, mark, leverage);
    } catch (ArithmeticException e) {
      return; // figures beyond a long are refused by the caller as NOTIONAL_OVERFLOW
    }
    assertTrue(cost.initialMarginIncrease() >= 0 && cost.openLoss() >= 0 && cost.fee() >= 0, cost.toString());
    boolean reduces = position != 0 && Long.signum(position) != Long.signum(order) && orderSize <= Math.abs(position);
    assertEquals(reduces, cost.reducing(), cost.toString());
    if (reduces) {
      assertEquals(0, cost.initialMarginIncrease());
      assertEquals(0, cost.openLoss());
    }
    // Growing a position never costs less than opening the same lots from flat (tiers only
    // lower the leverage as a position grows), up to one unit of rounding.
    if (!reduces) {
      long own = OrderRules.initialMargin(BTC_PERP, MarginMath.notional(cost.openingLots(), price, 100), leverage);
      assertTrue(cost.initialMarginIncrease() >= own - 1, () -> cost + " < " + own);
    }
  }

  @Property
  void theCheckNeverAcceptsAnOpeningOrderThatCostsMoreThanIsAvailable(
      @ForAll @LongRange(min = 1, max = 20_000_000) long orderSize, @ForAll @LongRange(min = 1, max = 2_000_000) long price,
      @ForAll("anyLong") long available, @ForAll("anyLong") long freeCash, @ForAll boolean isolated) {
    OrderRules.Cost cost = OrderRules.cost(BTC_PERP, 0, 0, orderSize, price, price, 20);
    OrderRules.Verdict verdict = OrderRules.check(BTC_PERP, cost, price, price, 100_000, isolated, available, freeCash);
    long fundable = isolated ? Math.min(available, freeCash) : available;
    if (verdict == OrderRules.Verdict.ACCEPTED) {
      assertTrue(cost.amount() <= fundable, () -> cost + " accepted with " + fundable);
      assertTrue(OrderRules.withinPositionLimit(BTC_PERP, orderSize, price));
    } else if (verdict == OrderRules.Verdict.INSUFFICIENT_MARGIN) {
      assertTrue(cost.amount() > fundable);
    }
  }

  @Property
  void theIncrementalMarginOfSuccessiveOrdersAddsUpToTheMarginOfTheWhole(
      @ForAll @LongRange(min = 1, max = 3_000_000) long first, @ForAll @LongRange(min = 1, max = 3_000_000) long second,
      @ForAll @LongRange(min = 10_000, max = 1_000_000) long price, @ForAll @IntRange(min = 1, max = 125) int leverage) {
    // A second order with the first pending reserves exactly what the whole needs beyond the first.
    OrderRules.Cost one = OrderRules.cost(BTC_PERP, 0, 0, first, price, price, leverage);
    OrderRules.Cost two = OrderRules.cost(BTC_PERP, 0, first, second, price, price, leverage);
    OrderRules.Cost whole = OrderRules.cost(BTC_PERP, 0, 0, first + second, price, price, leverage);
    assertEquals(whole.initialMarginIncrease(), one.initialMarginIncrease() + two.initialMarginIncrease());
  }

  @Property
  void anIsolatedPositionIsBreachedExactlyWhenItsMarginPlusPnlIsAtMostMaintenance(@ForAll("anyLong") long margin,
      @ForAll("anyLong") long pnl, @ForAll("anyLong") long maintenance) {
    BigInteger sum = BigInteger.valueOf(margin).add(BigInteger.valueOf(pnl));
    try {
      assertEquals(sum.compareTo(BigInteger.valueOf(maintenance)) <= 0,
          LiquidationRule.isolatedBreached(margin, pnl, maintenance));
    } catch (ArithmeticException e) {
      assertTrue(sum.bitLength() > 63);
    }
  }

  @Property
  void aCrossAccountWithoutACrossPositionIsNeverBreached(@ForAll("anyLong") long equity, @ForAll("anyLong") long mm) {
    assertFalse(LiquidationRule.crossBreached(false, equity, mm));
    assertEquals(equity <= mm, LiquidationRule.crossBreached(true, equity, mm));
  }

  @Property
  void theAllocationOfAnIsolatedFillCoversItsInitialMarginAtTheMark(
      @ForAll @LongRange(min = 1, max = 5_000_000) long lots, @ForAll @LongRange(min = 10_000, max = 1_000_000) long price,
      @ForAll @LongRange(min = 10_000, max = 1_000_000) long mark, @ForAll @IntRange(min = 1, max = 125) int leverage) {
    long allocation = OrderRules.isolatedAllocation(BTC_PERP, lots, lots, price, mark, leverage);
    // Right after the fill, margin + unrealized PnL at the mark is at least the margin at the fill price.
    long pnl = MarginMath.unrealizedPnl(lots, MarginMath.notional(lots, price, 100), mark, 100);
    long atFillPrice = OrderRules.initialMargin(BTC_PERP, MarginMath.notional(lots, price, 100), leverage);
    assertTrue(allocation + Math.min(0, pnl) >= atFillPrice, () -> allocation + " " + pnl + " " + atFillPrice);
  }

  @Property
  void thePenaltyIsTheRoundedUpFeeButNeverMoreThanTheEquityLeft(
      @ForAll @LongRange(min = 0, max = 1_000_000_000_000_000L) long notional,
      @ForAll @LongRange(min = 0, max = 100_000) long ppm, @ForAll("anyLong") long remainingEquity) {
    long penalty = LiquidationRules.penalty(notional, ppm, remainingEquity);
    BigInteger fee = BigInteger.valueOf(notional).multiply(BigInteger.valueOf(ppm)).add(PPM.subtract(BigInteger.ONE))
        .divide(PPM);
    assertTrue(penalty >= 0);
    assertTrue(BigInteger.valueOf(penalty).compareTo(fee) <= 0);
    assertTrue(penalty <= Math.max(0, remainingEquity));
    assertTrue(penalty == fee.longValueExact() || penalty == Math.max(0, remainingEquity));
  }

  @Property
  void aBackstopPriceIsNeverBetterForTheTraderThanTheMark(@ForAll @LongRange(min = 1, max = 100_000_000) long mark,
      @ForAll boolean closingALong, @ForAll @LongRange(min = 0, max = 100_000) long spread) {
    long price = LiquidationRules.backstopPrice(mark, closingALong ? -1 : 1, spread);
    // Selling a long: at most the mark; buying back a short: at least the mark.
    assertTrue(closingALong ? price <= mark : price >= mark);
    assertTrue(price >= 1);
  }
}
