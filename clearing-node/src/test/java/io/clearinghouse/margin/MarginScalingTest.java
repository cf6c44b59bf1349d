package io.clearinghouse.margin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/**
 * Volatility- and open-interest-scaled margin (issue 16 items 2 and 4): worked examples, the
 * boundaries, and properties over the whole range of the inputs, extremes included.
 */
class MarginScalingTest {
  private static final long PPM = 1_000_000;
  /** Reference 80%, sensitivity 100%, cap 300%, hysteresis 10%, warning 60 s. */
  private static final MarginScaling.VolatilityTerms TERMS =
      new MarginScaling.VolatilityTerms(800_000, 1_000_000, 3_000_000, 100_000, 60_000);

  @Test
  void theScaleRisesWithVolatilityAboveTheReferenceUpToTheCap() {
    assertEquals(PPM, MarginScaling.volatilityScale(TERMS, 0));
    assertEquals(PPM, MarginScaling.volatilityScale(TERMS, 800_000));
    // One ppm above: 1 * 1e6 / 8e5 rounds down to 1 ppm.
    assertEquals(PPM + 1, MarginScaling.volatilityScale(TERMS, 800_001));
    // 120% volatility is 50% above the reference: x1.5.
    assertEquals(1_500_000, MarginScaling.volatilityScale(TERMS, 1_200_000));
    assertEquals(2_000_000, MarginScaling.volatilityScale(TERMS, 1_600_000));
    // Three times the reference reaches the cap; beyond it stays there.
    assertEquals(3_000_000, MarginScaling.volatilityScale(TERMS, 2_400_000));
    assertEquals(3_000_000, MarginScaling.volatilityScale(TERMS, Long.MAX_VALUE));
    assertEquals(PPM, MarginScaling.volatilityScale(MarginScaling.VolatilityTerms.NONE, Long.MAX_VALUE));
  }

  @Test
  void badTermsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new MarginScaling.VolatilityTerms(-1, PPM, 2 * PPM, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new MarginScaling.VolatilityTerms(PPM, PPM, PPM - 1, 0, 0));
    assertThrows(IllegalArgumentException.class,
        () -> new MarginScaling.VolatilityTerms(PPM, PPM, MarginScaling.MAX_SCALE_PPM + 1, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new MarginScaling.VolatilityTerms(PPM, 0, 2 * PPM, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new MarginScaling.VolatilityTerms(PPM, PPM, PPM, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new MarginScaling.VolatilityTerms(PPM, PPM, 2 * PPM, -1, 0));
    assertThrows(IllegalArgumentException.class, () -> new MarginScaling.VolatilityTerms(PPM, PPM, 2 * PPM, 0, -1));
    assertThrows(IllegalArgumentException.class, () -> new MarginScaling.OpenInterestTerms(10, 10));
    assertThrows(IllegalArgumentException.class, () -> new MarginScaling.OpenInterestTerms(-1, 10));
  }

  @Test
  void unscaledInitialMarginIsExactlyTheOldOne() {
    for (long notional : new long[] {0, 1, 7, 999_999, 50_000_000_000L, Long.MAX_VALUE}) {
      for (int leverage : new int[] {1, 3, 20, 125}) {
        assertEquals(MarginMath.initialMargin(notional, leverage),
            MarginScaling.initialMargin(notional, leverage, PPM, 0), notional + " at " + leverage + "x");
      }
    }
  }

  @Test
  void workedExamples() {
    // 10,000 USDT at 10x: 1,000; x1.5: 1,500; 25% of the way to 100%: 1,000 + 0.25 * 9,000 = 3,250.
    long n = 10_000 * PPM;
    assertEquals(1_000 * PPM, MarginScaling.initialMargin(n, 10, PPM, 0));
    assertEquals(1_500 * PPM, MarginScaling.initialMargin(n, 10, 1_500_000, 0));
    assertEquals(3_250 * PPM, MarginScaling.initialMargin(n, 10, PPM, 250_000));
    // Both: rate 15%, then 25% of the rest: 15% + 0.25 * 85% = 36.25%.
    assertEquals(3_625 * PPM, MarginScaling.initialMargin(n, 10, 1_500_000, 250_000));
    // A scale beyond the leverage (x20 at 10x) is the whole notional, never more.
    assertEquals(n, MarginScaling.initialMargin(n, 10, 20 * PPM, 0));
    assertEquals(n, MarginScaling.initialMargin(n, 10, PPM, PPM));
    // Rounded up: 1 unit at 3x is 1.
    assertEquals(1, MarginScaling.initialMargin(1, 3, 1_000_001, 1));
  }

  @Test
  void theOpenInterestBlendIsLinearBetweenTheCapsAndRoundsUp() {
    var terms = new MarginScaling.OpenInterestTerms(1_000, 3_000);
    assertEquals(0, MarginScaling.openInterestBlend(terms, 0));
    assertEquals(0, MarginScaling.openInterestBlend(terms, 1_000));
    assertEquals(500, MarginScaling.openInterestBlend(terms, 1_001));
    assertEquals(500_000, MarginScaling.openInterestBlend(terms, 2_000));
    assertEquals(PPM, MarginScaling.openInterestBlend(terms, 3_000));
    assertEquals(PPM, MarginScaling.openInterestBlend(terms, Long.MAX_VALUE));
    assertEquals(0, MarginScaling.openInterestBlend(MarginScaling.OpenInterestTerms.NONE, Long.MAX_VALUE));
  }

  @Test
  void maintenanceIsWarnedBeforeItTightensAndLoosensAtOnce() {
    var m = MarginScaling.Maintenance.START;
    // Within the band (10%): nothing.
    m = MarginScaling.follow(TERMS, m, 1_100_000, 0);
    assertEquals(MarginScaling.Maintenance.START, m);
    // Past it: a warning, maintenance unchanged.
    m = MarginScaling.follow(TERMS, m, 1_500_000, 1_000);
    assertTrue(m.warning());
    assertEquals(PPM, m.scalePpm());
    assertEquals(1_500_000, m.pendingPpm());
    // Not before the warning period, even at a higher target (kept as the pending one).
    m = MarginScaling.follow(TERMS, m, 1_800_000, 60_999);
    assertEquals(PPM, m.scalePpm());
    assertEquals(1_800_000, m.pendingPpm());
    assertEquals(1_000, m.warnedAtMillis());
    // Then: tightened to the target of then.
    m = MarginScaling.follow(TERMS, m, 1_700_000, 61_000);
    assertEquals(new MarginScaling.Maintenance(1_700_000, 0, 0), m);
    // Falling within the band changes nothing; past it, loosened at once.
    assertSame(m, MarginScaling.follow(TERMS, m, 1_600_000, 62_000));
    m = MarginScaling.follow(TERMS, m, 1_200_000, 63_000);
    assertEquals(new MarginScaling.Maintenance(1_200_000, 0, 0), m);
  }

  @Test
  void aWarningWhoseTargetFellBackIsWithdrawn() {
    var m = MarginScaling.follow(TERMS, MarginScaling.Maintenance.START, 2_000_000, 0);
    assertTrue(m.warning());
    // A dip into the band (above the maintenance in force) keeps the warning and its clock (Review 16).
    var dipped = MarginScaling.follow(TERMS, m, 1_050_000, 30_000);
    assertTrue(dipped.warning());
    assertEquals(0, dipped.warnedAtMillis());
    assertEquals(PPM, dipped.scalePpm());
    // A target back at the maintenance in force withdraws it.
    m = MarginScaling.follow(TERMS, dipped, PPM, 30_000);
    assertFalse(m.warning());
    assertEquals(PPM, m.scalePpm());
    // A new rise starts a new warning period.
    m = MarginScaling.follow(TERMS, m, 2_000_000, 70_000);
    assertEquals(70_000, m.warnedAtMillis());
    assertEquals(PPM, MarginScaling.follow(TERMS, m, 2_000_000, 129_999).scalePpm());
    assertEquals(2_000_000, MarginScaling.follow(TERMS, m, 2_000_000, 130_000).scalePpm());
  }

  @Test
  void aZeroWarningPeriodStillWarnsOnOneMarkAndTightensOnALaterOne() {
    var terms = new MarginScaling.VolatilityTerms(800_000, PPM, 3 * PPM, 0, 0);
    var m = MarginScaling.follow(terms, MarginScaling.Maintenance.START, 2 * PPM, 5);
    assertTrue(m.warning());
    assertEquals(PPM, m.scalePpm());
    assertEquals(PPM, MarginScaling.follow(terms, m, 2 * PPM, 5).scalePpm());
    assertEquals(2 * PPM, MarginScaling.follow(terms, m, 2 * PPM, 6).scalePpm());
  }

  @Test
  void scaledTiersKeepTheTableValidAndContinuous() {
    RiskTiers base = RiskTiers.binanceBtcUsdtMarch2021(6);
    RiskTiers doubled = MarginScaling.scaled(base, 2 * PPM, 2 * PPM, 0);
    assertEquals(base.tiers().size(), doubled.tiers().size());
    assertEquals(8_000, doubled.tiers().get(0).maintenanceMarginRatePpm());
    // 0.8% allows at most 124x.
    assertEquals(124, doubled.tiers().get(0).maxLeverage());
    // The top tier (50%) cannot double: held at 999,999 ppm; the one below (25%) doubles to 50%.
    RiskTier top = doubled.tiers().get(doubled.tiers().size() - 1);
    assertEquals(999_999, top.maintenanceMarginRatePpm());
    assertEquals(500_000, doubled.tiers().get(doubled.tiers().size() - 2).maintenanceMarginRatePpm());
    assertEquals(1, top.maxLeverage());
    // At the largest scale (x100): 0.4% and 0.5% become 40% and 50%; from 1% on every tier is held
    // just under 100%, one ppm under the next: 999,992 to 999,999.
    RiskTiers most = MarginScaling.scaled(base, MarginScaling.MAX_SCALE_PPM, PPM, 0);
    assertEquals(List.of(400_000L, 500_000L, 999_992L, 999_999L), List.of(
        most.tiers().get(0).maintenanceMarginRatePpm(), most.tiers().get(1).maintenanceMarginRatePpm(),
        most.tiers().get(2).maintenanceMarginRatePpm(), most.tiers().get(9).maintenanceMarginRatePpm()));
    assertEquals(2, most.tiers().get(0).maxLeverage());
    assertSame(base.tiers(), MarginScaling.scaled(base, PPM, PPM, 0).tiers());
    assertTrue(MarginScaling.scaled(base, PPM, PPM, 0).unscaled());
  }

  @Provide
  Arbitrary<Long> volatility() {
    return Arbitraries.oneOf(Arbitraries.longs().between(0, 50_000_000),
        Arbitraries.of(0L, 1L, Long.MAX_VALUE - 1, Long.MAX_VALUE));
  }

  /**
   * Five independent terms, combined (not nested flatMaps: the same values, but a chain of flatMaps
   * made jqwik spend some 8 s of a property's 1,000 tries building and edge-casing the chain).
   */
  @Provide
  Arbitrary<MarginScaling.VolatilityTerms> terms() {
    return Combinators.combine(Arbitraries.longs().between(1, 100 * PPM), Arbitraries.longs().between(1, 100 * PPM),
        Arbitraries.longs().between(PPM + 1, MarginScaling.MAX_SCALE_PPM), Arbitraries.longs().between(0, 10 * PPM),
        Arbitraries.longs().between(0, 86_400_000)).as(MarginScaling.VolatilityTerms::new);
  }

  @Property
  void theScaleIsMonotoneAndWithinOneAndTheCap(@ForAll("terms") MarginScaling.VolatilityTerms terms,
      @ForAll("volatility") long a, @ForAll("volatility") long b) {
    long low = MarginScaling.volatilityScale(terms, Math.min(a, b));
    long high = MarginScaling.volatilityScale(terms, Math.max(a, b));
    assertTrue(low >= PPM && high <= terms.capPpm() && low <= high);
  }

  @Property
  void scaledInitialMarginMatchesAnExactReference(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long notional,
      @ForAll @IntRange(min = 1, max = 200) int leverage,
      @ForAll @LongRange(min = PPM, max = MarginScaling.MAX_SCALE_PPM) long scale,
      @ForAll @LongRange(min = 0, max = PPM) long blend) {
    long margin = MarginScaling.initialMargin(notional, leverage, scale, blend);
    // rate = min(1, s / L) + (1 - min(1, s / L)) * b, all exact; IM = min(N, ceil(N * rate)).
    BigInteger n = BigInteger.valueOf(notional);
    BigInteger levPpm = BigInteger.valueOf(leverage).multiply(BigInteger.valueOf(PPM));
    BigInteger s = BigInteger.valueOf(scale).min(levPpm);
    BigInteger num = n.multiply(s.multiply(BigInteger.valueOf(PPM)).add(levPpm.subtract(s).multiply(
        BigInteger.valueOf(blend))));
    BigInteger den = levPpm.multiply(BigInteger.valueOf(PPM));
    BigInteger ceil = num.add(den).subtract(BigInteger.ONE).divide(den);
    assertEquals(ceil.min(n), BigInteger.valueOf(margin));
    // Never less than the unscaled margin, never more than the notional.
    assertTrue(margin >= MarginMath.initialMargin(notional, leverage) && margin <= notional);
  }

  @Property
  void maintenanceNeverTightensWithoutAnEarlierWarningAndStaysWithinOneAndTheCap(
      @ForAll("terms") MarginScaling.VolatilityTerms terms,
      @ForAll("volatilities") List<Long> path) {
    var m = MarginScaling.Maintenance.START;
    long now = 0;
    for (long vol : path) {
      now += 10_000;
      long target = MarginScaling.volatilityScale(terms, vol);
      var next = MarginScaling.follow(terms, m, target, now);
      if (next.scalePpm() > m.scalePpm()) {
        assertTrue(m.warning(), "tightened without a warning standing");
        assertTrue(now - m.warnedAtMillis() >= terms.warningMillis(), "tightened before the warning period");
      }
      assertTrue(next.scalePpm() >= PPM && next.scalePpm() <= terms.capPpm());
      m = next;
    }
  }

  @Provide
  Arbitrary<List<Long>> volatilities() {
    return volatility().list().ofMinSize(1).ofMaxSize(40);
  }

  @Property
  void anyScaledTableIsAValidTable(@ForAll @LongRange(min = PPM, max = MarginScaling.MAX_SCALE_PPM) long scale) {
    RiskTiers scaled = MarginScaling.scaled(RiskTiers.binanceBtcUsdtMarch2021(6), scale, PPM, 0);
    for (int k = 0; k < scaled.tiers().size(); k++) {
      assertTrue(scaled.tiers().get(k).maintenanceMarginRatePpm()
          >= RiskTiers.binanceBtcUsdtMarch2021(6).tiers().get(k).maintenanceMarginRatePpm());
    }
  }
}
