package io.clearinghouse.margin;

import java.math.BigInteger;

/**
 * Margin that rises with risk (issue 16 items 2 and 4), pure and on exact integers.
 *
 * <p><b>Volatility-scaled</b> (item 2): above a reference volatility the initial margin is
 * multiplied by {@code scale = min(cap, 1 + sensitivity * (vol - reference) / reference)}, in
 * ppm rounded down (so 1,000,000 is "as configured"). Maintenance follows the initial scale with
 * hysteresis ({@link #follow}): it loosens at once when the target is more than the band below
 * it, and tightens to the target only once the target has stayed more than the band above it for
 * the warning period since a warning was raised, so accounts hear of it before it bites.
 *
 * <p><b>Open-interest-scaled</b> (item 4, dYdX's rule): between a lower and an upper cap on the
 * open interest's notional, the initial margin fraction rises linearly from the position's own
 * rate to 100%: {@code blend = (oi - lower) / (upper - lower)} clamped to [0, 1], in ppm rounded
 * up, and {@code imf = rate + (1 - rate) * blend}.
 *
 * <p>Both together: {@code IM = min(N, ceil(N * (s * 1e6 + (L * 1e6 - s) * b) / (L * 1e12)))}
 * for notional N, leverage L, scale s and blend b (ppm), which is {@code ceil(N / L)} exactly when
 * s is 1,000,000 and b is 0.
 */
public final class MarginScaling {
  private MarginScaling() {}

  /** The largest scale (100x) any rule yields: bounds the tables' figures. */
  public static final long MAX_SCALE_PPM = 100 * MarginMath.PPM;

  private static final BigInteger PPM = BigInteger.valueOf(MarginMath.PPM);

  /**
   * One instrument's volatility scaling; {@link #NONE} (reference 0) is off.
   *
   * @param referencePpm the annualized volatility (ppm) above which margins rise
   * @param sensitivityPpm how much of the relative excess over the reference is added (1,000,000:
   *     twice the reference volatility doubles the initial margin)
   * @param capPpm the largest scale (ppm, at least 1,000,000)
   * @param hysteresisPpm how far (in scale ppm) the target must move past maintenance to move it
   * @param warningMillis how long a warning stands before maintenance tightens
   */
  public record VolatilityTerms(long referencePpm, long sensitivityPpm, long capPpm, long hysteresisPpm,
      long warningMillis) {
    public static final VolatilityTerms NONE = new VolatilityTerms(0, 0, MarginMath.PPM, 0, 0);

    public VolatilityTerms {
      if (referencePpm < 0 || sensitivityPpm < 0 || hysteresisPpm < 0 || warningMillis < 0) {
        throw new IllegalArgumentException("volatility margin terms must not be negative");
      }
      if (capPpm < MarginMath.PPM || capPpm > MAX_SCALE_PPM) {
        throw new IllegalArgumentException("the volatility margin cap must be from 100% to 10000%, was "
            + capPpm + " ppm");
      }
      if (referencePpm > 0 && (sensitivityPpm == 0 || capPpm == MarginMath.PPM)) {
        throw new IllegalArgumentException("volatility margin on needs a sensitivity above 0% and a cap above 100%");
      }
    }

    public boolean on() {
      return referencePpm > 0;
    }
  }

  /**
   * One instrument's open-interest scaling (notionals in minor units); {@link #NONE} (upper 0) is off.
   */
  public record OpenInterestTerms(long lowerCap, long upperCap) {
    public static final OpenInterestTerms NONE = new OpenInterestTerms(0, 0);

    public OpenInterestTerms {
      if (lowerCap < 0 || upperCap < 0) {
        throw new IllegalArgumentException("open-interest caps must not be negative");
      }
      if (upperCap > 0 && upperCap <= lowerCap) {
        throw new IllegalArgumentException("the upper open-interest cap must be above the lower one");
      }
    }

    public boolean on() {
      return upperCap > 0;
    }
  }

  /** The initial margin scale (ppm) at annualized volatility {@code volatilityPpm}; 1,000,000 when off. */
  public static long volatilityScale(VolatilityTerms terms, long volatilityPpm) {
    if (!terms.on() || volatilityPpm <= terms.referencePpm()) {
      return MarginMath.PPM;
    }
    BigInteger added = BigInteger.valueOf(volatilityPpm - terms.referencePpm())
        .multiply(BigInteger.valueOf(terms.sensitivityPpm())).divide(BigInteger.valueOf(terms.referencePpm()));
    BigInteger room = BigInteger.valueOf(terms.capPpm() - MarginMath.PPM);
    return MarginMath.PPM + added.min(room).longValueExact();
  }

  /** The open-interest blend (ppm, rounded up) at an open interest worth {@code openInterest}; 0 when off. */
  public static long openInterestBlend(OpenInterestTerms terms, long openInterest) {
    if (!terms.on() || openInterest <= terms.lowerCap()) {
      return 0;
    }
    if (openInterest >= terms.upperCap()) {
      return MarginMath.PPM;
    }
    return MulDiv.mulDivCeil(openInterest - terms.lowerCap(), MarginMath.PPM, terms.upperCap() - terms.lowerCap());
  }

  /** The scaled initial margin (see the class comment); never more than the notional. */
  public static long initialMargin(long notional, int leverage, long scalePpm, long blendPpm) {
    if (notional < 0 || leverage < 1 || scalePpm < MarginMath.PPM || blendPpm < 0 || blendPpm > MarginMath.PPM) {
      throw new IllegalArgumentException("notional " + notional + ", leverage " + leverage + ", scale " + scalePpm
          + ", blend " + blendPpm);
    }
    BigInteger s = BigInteger.valueOf(scalePpm);
    BigInteger levPpm = BigInteger.valueOf(leverage).multiply(PPM);
    BigInteger rest = levPpm.subtract(s).max(BigInteger.ZERO);
    BigInteger numerator = BigInteger.valueOf(notional).multiply(s.multiply(PPM).add(rest.multiply(
        BigInteger.valueOf(blendPpm))));
    BigInteger denominator = levPpm.multiply(PPM);
    BigInteger[] qr = numerator.divideAndRemainder(denominator);
    BigInteger margin = qr[1].signum() > 0 ? qr[0].add(BigInteger.ONE) : qr[0];
    return margin.min(BigInteger.valueOf(notional)).longValueExact();
  }

  /**
   * The maintenance scale's state on one instrument: the scale in force, and the tightening
   * announced ({@code pendingPpm} above 0) since {@code warnedAtMillis}.
   */
  public record Maintenance(long scalePpm, long pendingPpm, long warnedAtMillis) {
    public static final Maintenance START = new Maintenance(MarginMath.PPM, 0, 0);

    public boolean warning() {
      return pendingPpm > 0;
    }
  }

  /**
   * Maintenance after the initial scale became {@code targetPpm} at {@code nowMillis}: loosened at
   * once to a target more than the band below; a target more than the band above raises a warning
   * (kept, at the newest target, while the target stays there) and is applied on a later call
   * once the warning period has passed; a warning is withdrawn only once the target falls to or
   * below the maintenance in force: a target that dips into the band above it keeps the warning
   * and its clock (else a target far above maintenance that touches the band once every warning
   * period would keep maintenance loose for ever).
   */
  public static Maintenance follow(VolatilityTerms terms, Maintenance now, long targetPpm, long nowMillis) {
    long band = terms.hysteresisPpm();
    if (targetPpm > now.scalePpm() && targetPpm - now.scalePpm() > band) {
      if (!now.warning()) {
        return new Maintenance(now.scalePpm(), targetPpm, nowMillis);
      }
      if (nowMillis - now.warnedAtMillis() >= terms.warningMillis() && nowMillis > now.warnedAtMillis()) {
        return new Maintenance(targetPpm, 0, 0);
      }
      return new Maintenance(now.scalePpm(), targetPpm, now.warnedAtMillis());
    }
    if (targetPpm < now.scalePpm() && now.scalePpm() - targetPpm > band) {
      return new Maintenance(Math.max(MarginMath.PPM, targetPpm), 0, 0);
    }
    if (now.warning() && targetPpm > now.scalePpm()) {
      return now;
    }
    return now.warning() ? new Maintenance(now.scalePpm(), 0, 0) : now;
  }

  /**
   * {@code tiers} with every maintenance rate multiplied by {@code maintenanceScalePpm} (rounded
   * up, and held below 100%: the top tier at most 999,999 ppm, each tier below one ppm under the
   * next), each tier's maximum leverage lowered where the new rate requires it, and the initial
   * scale and blend set.
   */
  public static RiskTiers scaled(RiskTiers tiers, long maintenanceScalePpm, long initialScalePpm, long blendPpm) {
    RiskTiers base = tiers.withInitial(MarginMath.PPM, 0);
    if (maintenanceScalePpm <= MarginMath.PPM) {
      return initialScalePpm == MarginMath.PPM && blendPpm == 0 ? base : base.withInitial(initialScalePpm, blendPpm);
    }
    int count = tiers.tiers().size();
    java.util.List<RiskTiers.Bracket> brackets = new java.util.ArrayList<>();
    for (int k = 0; k < count; k++) {
      RiskTier tier = tiers.tiers().get(k);
      // Held below 100%, each tier one ppm under the next: both sequences rise strictly, so their minimum does.
      long rate = Math.min(MulDiv.mulDivCeil(tier.maintenanceMarginRatePpm(), maintenanceScalePpm, MarginMath.PPM),
          MarginMath.PPM - count + k);
      int leverage = (int) Math.min(tier.maxLeverage(), Math.max(1, (MarginMath.PPM - 1) / rate));
      brackets.add(new RiskTiers.Bracket(tier.upperBound(), rate, leverage));
    }
    return RiskTiers.fromBrackets(brackets).withInitial(initialScalePpm, blendPpm);
  }
}
