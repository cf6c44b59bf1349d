package io.clearinghouse.liquidation;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the money of several finished liquidations went (issue 14, item 6): the sums of their
 * fund-flow records' lines, so that, exactly,
 * <pre>  tradersLosses = toProviders + toFundTakeovers + toDeleveraged + toInsuranceFunds + toMarketMaking
 *     + toPlatformRevenue + toInvestorProtection + toLiquidators + tradingFees
 *     - insuranceFundPaid - operatorCapitalPaid</pre>
 * ({@link #balances()}). {@code socialized} is the part of {@code toDeleveraged} the deleveraged
 * accounts lost; {@code debt} and {@code tradersKept} are what was left owed and what the traders
 * kept. Pure: no Pekko, no clock.
 */
public record FundFlowSummary(int liquidations, long tradersLosses, long toProviders, long toFundTakeovers,
    long toDeleveraged, long toInsuranceFunds, long toMarketMaking, long toPlatformRevenue, long toInvestorProtection,
    long toLiquidators, long tradingFees, long insuranceFundPaid, long operatorCapitalPaid, long penaltyApplied,
    long socialized, long debt, long tradersKept, long penaltyCut, long penalties, List<String> liquidationIds) {

  public FundFlowSummary {
    liquidationIds = List.copyOf(liquidationIds);
  }

  /** The sums over the finished ones of {@code flows} (running ones are left out). */
  public static FundFlowSummary of(List<FundFlow> flows) {
    long[] sum = new long[18];
    List<String> ids = new ArrayList<>();
    for (FundFlow f : flows) {
      if (f.outcome() == null) {
        continue;
      }
      ids.add(f.liquidationId());
      FundFlow.Shares s = f.shares();
      long[] line = {s.tradersLoss(), s.toProviders(), s.toFundTakeovers(), s.toDeleveraged(),
          s.penaltyToInsuranceFunds(), s.penaltyToMarketMaking(), s.penaltyToPlatformRevenue(),
          s.penaltyToInvestorProtection(), s.penaltyToLiquidators(), f.tradingFees(), f.insuranceFundOut(),
          s.operatorCapitalPaid(), s.penaltyApplied(), s.socialized(), f.debt(), f.leftToTrader(), s.penaltyCut(),
          f.penalty()};
      for (int i = 0; i < line.length; i++) {
        sum[i] = Math.addExact(sum[i], line[i]);
      }
    }
    return new FundFlowSummary(ids.size(), sum[0], sum[1], sum[2], sum[3], sum[4], sum[5], sum[6], sum[7], sum[8],
        sum[9], sum[10], sum[11], sum[12], sum[13], sum[14], sum[15], sum[16], sum[17], ids);
  }

  /** Whether the destinations add up to the traders' losses exactly. */
  public boolean balances() {
    long destinations = Math.addExact(Math.addExact(Math.addExact(toProviders, toFundTakeovers), toDeleveraged),
        Math.addExact(Math.addExact(Math.addExact(toInsuranceFunds, toMarketMaking), Math.addExact(toPlatformRevenue,
            toInvestorProtection)), Math.addExact(toLiquidators, tradingFees)));
    return Math.subtractExact(destinations, Math.addExact(insuranceFundPaid, operatorCapitalPaid)) == tradersLosses;
  }
}
