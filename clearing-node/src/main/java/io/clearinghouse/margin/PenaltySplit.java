package io.clearinghouse.margin;

/**
 * How a liquidation penalty is shared (DESIGN section 6, step 4): parts per million to the
 * insurance fund, the market-making reserve, platform revenue, the investor protection reserve
 * and the backstop provider that took the close (the liquidator's reward). The shares sum to
 * exactly 100%.
 */
public record PenaltySplit(long insuranceFundPpm, long marketMakingPpm, long platformRevenuePpm,
    long investorProtectionPpm, long liquidatorPpm) {

  /** The whole penalty to the insurance fund. */
  public static final PenaltySplit ALL_TO_FUND = new PenaltySplit(MarginMath.PPM, 0, 0, 0, 0);

  public PenaltySplit {
    long sum = 0;
    for (long share : new long[] {insuranceFundPpm, marketMakingPpm, platformRevenuePpm, investorProtectionPpm,
        liquidatorPpm}) {
      if (share < 0 || share > MarginMath.PPM) {
        throw new IllegalArgumentException("a penalty share must be from 0% to 100%, was " + share + " ppm");
      }
      sum += share;
    }
    if (sum != MarginMath.PPM) {
      throw new IllegalArgumentException("the penalty shares must sum to 100% (1000000 ppm), they sum to " + sum + " ppm");
    }
  }

  /** One penalty's parts; they sum to the penalty exactly. */
  public record Shares(long insuranceFund, long marketMaking, long platformRevenue, long investorProtection,
      long liquidator) {
    public long sum() {
      return Math.addExact(Math.addExact(Math.addExact(Math.addExact(insuranceFund, marketMaking), platformRevenue),
          investorProtection), liquidator);
    }
  }

  /**
   * Splits {@code penalty}: every share but the fund's is {@code floor(penalty * ppm)}; the fund
   * takes the rest, so rounding never creates or loses a unit. The liquidator's share goes to the
   * fund too when no provider took the close ({@code providerTook} false: a fund takeover or a
   * deleveraging).
   */
  public Shares split(long penalty, boolean providerTook) {
    if (penalty < 0) {
      throw new IllegalArgumentException("a penalty is never negative, was " + penalty);
    }
    long marketMaking = MulDiv.mulDivFloor(penalty, marketMakingPpm, MarginMath.PPM);
    long revenue = MulDiv.mulDivFloor(penalty, platformRevenuePpm, MarginMath.PPM);
    long protection = MulDiv.mulDivFloor(penalty, investorProtectionPpm, MarginMath.PPM);
    long liquidator = providerTook ? MulDiv.mulDivFloor(penalty, liquidatorPpm, MarginMath.PPM) : 0;
    long fund = penalty - marketMaking - revenue - protection - liquidator;
    return new Shares(fund, marketMaking, revenue, protection, liquidator);
  }
}
