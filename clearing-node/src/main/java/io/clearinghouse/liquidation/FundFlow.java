package io.clearinghouse.liquidation;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.AccountTransfers;
import io.clearinghouse.margin.ReserveRules;
import io.clearinghouse.money.Bucket;
import io.clearinghouse.money.Transfer;
import io.clearinghouse.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where the money of one liquidation went (DESIGN section 6, "fund flow"): what triggered it,
 * each close (venue, counterparty, quantity, price, what the counterparty gained against the
 * mark), the penalty and its shares (insurance fund, market-making, platform revenue, investor
 * protection, the providers' rewards) and what the rate would have charged beyond it, the
 * deficit's layers (the penalty applied, the insurance fund, the operator's capital), the
 * deleveraged counterparties, what was left to the trader and any debt. Amounts in minor units,
 * prices in ticks, quantities in signed lots of the liquidated account.
 *
 * <p>{@code tradersLoss} is what the liquidation took from the trader valued at the marks of its
 * closes: it equals, exactly, {@code toProviders + toFundTakeovers + toDeleveraged} + every
 * penalty share delivered + {@code tradingFees - insuranceFundOut - operatorCapitalPaid}.
 *
 * <p>{@code movements} lists every change of a ledger bucket the liquidation made, one line per
 * party and bucket; because each is one leg of a transfer between two buckets, they sum to zero
 * ({@link #movementsSum()}). Position value lines are {@code -costDelta}: the value an account
 * gave up or took on at the close price.
 */
public record FundFlow(String liquidationId, String accountId, long triggerMarkSequence, Map<String, Long> triggerMarks,
    long equityAtTrigger, long maintenanceMarginAtTrigger, long triggeredAtMillis, List<CloseLine> closes,
    long penalty, long tradingFees, String insuranceFund, long insuranceFundIn, long insuranceFundOut,
    List<CloseLine> deleveraged, long leftToTrader, long debt, long escrow, Outcome outcome, long finishedAtMillis,
    List<Movement> movements, String note, Shares shares) implements CborSerializable {

  public record CloseLine(int step, String instrument, String venue, String counterparty, long signedLots,
      long priceTicks, long markTicks, long bankruptcyTicks, long realizedPnl, long penalty, long shortfall,
      long penaltyCut, long counterpartyGain) implements CborSerializable {}

  public record Movement(String party, String bucket, long amount) implements CborSerializable {}

  /**
   * Where the money went, by kind: the counterparties' gains against the marks (providers, the
   * fund's takeovers, deleveraged accounts; {@code socialized} is what the deleveraged lost), the
   * penalty's shares as delivered, the penalty applied to the deficit, the operator capital's
   * payment, the cut, and the trader's loss.
   */
  public record Shares(long toProviders, long toFundTakeovers, long toDeleveraged, long socialized,
      long penaltyToInsuranceFunds, long penaltyToMarketMaking, long penaltyToPlatformRevenue,
      long penaltyToInvestorProtection, long penaltyToLiquidators, long penaltyApplied, long operatorCapitalPaid,
      long penaltyCut, long tradersLoss) implements CborSerializable {}

  public FundFlow {
    closes = List.copyOf(closes);
    deleveraged = List.copyOf(deleveraged);
    movements = List.copyOf(movements);
    triggerMarks = Map.copyOf(triggerMarks);
  }

  public long movementsSum() {
    long sum = 0;
    for (Movement m : movements) {
      sum = Math.addExact(sum, m.amount());
    }
    return sum;
  }

  static FundFlow of(String liquidationId, LiquidationSaga.State s, LiquidationSettings settings) {
    List<CloseLine> closes = new ArrayList<>();
    List<CloseLine> deleveraged = new ArrayList<>();
    List<Movement> movements = new ArrayList<>();
    long penalty = 0;
    long toProviders = 0;
    long toFund = 0;
    long toDeleveraged = 0;
    long socialized = 0;
    long cut = 0;
    for (LiquidationSaga.Close c : s.closes()) {
      // Every side applied moves money, even a take-over given back in full.
      for (LiquidationTransfer side : java.util.Arrays.asList(c.taken(), c.undone())) {
        if (side != null) {
          legs(movements, c.counterparty(), side);
        }
      }
      LiquidationTransfer t = c.closed();
      if (t == null || t.signedLots() == 0) {
        continue;
      }
      legs(movements, s.accountId(), t);
      long gain = ReserveRules.counterpartyGain(t.signedLots(), t.priceTicks(), c.markTicks(),
          settings.instruments().require(c.instrument()).notionalMultiplier());
      CloseLine line = new CloseLine(c.step(), c.instrument(), c.venue().name(), c.counterparty(), t.signedLots(),
          t.priceTicks(), c.markTicks(), c.bankruptcyTicks(), t.realizedPnl(), t.penalty(), t.shortfall(),
          c.penaltyCut(), gain);
      closes.add(line);
      switch (c.venue()) {
        case ADL -> {
          deleveraged.add(line);
          toDeleveraged = Math.addExact(toDeleveraged, gain);
          socialized = Math.addExact(socialized, Math.max(0, -gain));
        }
        case FUND -> toFund = Math.addExact(toFund, gain);
        case BACKSTOP -> toProviders = Math.addExact(toProviders, gain);
      }
      penalty = Math.addExact(penalty, t.penalty());
      cut = Math.addExact(cut, c.penaltyCut());
    }
    // The reserves' and the cover's movements are the transfers of the events that made them.
    long fundIn = 0;
    long[] toReserves = new long[PlatformReserve.values().length];
    long toLiquidators = 0;
    for (Map.Entry<String, Long> delivered : s.penaltiesDelivered().entrySet()) {
      String destination = delivered.getKey();
      long amount = delivered.getValue();
      if (destination.startsWith(Settlement.PROVIDER)) {
        String provider = destination.substring(Settlement.PROVIDER.length());
        toLiquidators = Math.addExact(toLiquidators, amount);
        List<Transfer> reward = AccountTransfers.of(provider, new AccountEntity.LiquidationCredited(
            liquidationId + "/reward", liquidationId, amount, 0));
        line(movements, "saga", "escrow", reward, Bucket.escrow(liquidationId), false);
        line(movements, provider, "cash (liquidator's reward)", reward, Bucket.cash(provider), false);
        continue;
      }
      Bucket ledger;
      String party;
      if (destination.startsWith(Settlement.RESERVE)) {
        PlatformReserve reserve = PlatformReserve.byId(destination.substring(Settlement.RESERVE.length())).orElseThrow();
        toReserves[reserve.ordinal()] = Math.addExact(toReserves[reserve.ordinal()], amount);
        ledger = Bucket.reserve(reserve.id());
        party = "reserve " + reserve.id();
      } else {
        fundIn = Math.addExact(fundIn, amount);
        ledger = Bucket.insuranceFund(destination);
        party = "fund " + destination;
      }
      List<Transfer> t = FundTransfers.of(ledger,
          new InsuranceFund.Received(liquidationId + "/penalty", liquidationId, amount, 0));
      line(movements, "saga", "escrow", t, Bucket.escrow(liquidationId), false);
      line(movements, party, ledger.kind() == Bucket.Kind.RESERVE ? "reserve" : "insurance fund", t, ledger, false);
    }
    long fundOut = s.payments().fundPaid() == null ? 0 : s.payments().fundPaid();
    if (fundOut > 0) {
      List<Transfer> paid = FundTransfers.of(s.coverFund(),
          new InsuranceFund.Paid(liquidationId + "/cover", liquidationId, fundOut, fundOut, 0));
      line(movements, "fund " + s.coverFund(), "insurance fund", paid, Bucket.insuranceFund(s.coverFund()), false);
      line(movements, "saga", "escrow", paid, Bucket.escrow(liquidationId), false);
    }
    long capitalPaid = s.payments().capitalPaid() == null ? 0 : s.payments().capitalPaid();
    if (capitalPaid > 0) {
      Bucket capital = Bucket.reserve(PlatformReserve.OPERATOR_CAPITAL.id());
      List<Transfer> paid = FundTransfers.of(capital,
          new InsuranceFund.Paid(liquidationId + "/capital", liquidationId, capitalPaid, capitalPaid, 0));
      line(movements, "reserve " + capital.owner(), "reserve", paid, capital, false);
      line(movements, "saga", "escrow", paid, Bucket.escrow(liquidationId), false);
    }
    long cover = s.cover();
    if (s.payments().coverDelivered() && cover > 0) {
      // The isolated shortfalls the account owes are paid first, the rest goes to the cash.
      List<Transfer> credited = AccountTransfers.of(s.accountId(), new AccountEntity.LiquidationCredited(
          liquidationId + "/cover", liquidationId, cover, s.shortfallCovered()));
      line(movements, "saga", "escrow", credited, Bucket.escrow(liquidationId), false);
      line(movements, s.accountId(), "owed isolated shortfall", credited, Bucket.owed(s.accountId()), false);
      line(movements, s.accountId(), "cash", credited, Bucket.cash(s.accountId()), false);
    }
    String fund = s.coverFund() != null ? s.coverFund()
        : s.closes().isEmpty() ? null : settings.rules(s.closes().get(0).instrument()).insuranceFund();
    long toCash = s.payments().coverDelivered() ? cover - s.shortfallCovered() : 0;
    long left = s.need() == null ? 0 : Math.max(0, s.cashAtSettlement() + toCash);
    long applied = s.payments().penaltyApplied() == null ? 0 : s.payments().penaltyApplied();
    long tradersLoss = Math.subtractExact(Math.addExact(Math.addExact(Math.addExact(toProviders, toFund), toDeleveraged),
        penalty), Math.addExact(Math.addExact(applied, fundOut), capitalPaid));
    Shares shares = new Shares(toProviders, toFund, toDeleveraged, socialized, fundIn,
        toReserves[PlatformReserve.MARKET_MAKING.ordinal()], toReserves[PlatformReserve.PLATFORM_REVENUE.ordinal()],
        toReserves[PlatformReserve.INVESTOR_PROTECTION.ordinal()], toLiquidators, applied, capitalPaid, cut,
        tradersLoss);
    var trigger = s.trigger();
    return new FundFlow(liquidationId, s.accountId(), trigger == null ? 0 : trigger.markSequence(),
        trigger == null ? Map.of() : trigger.marks(), trigger == null ? 0 : trigger.equity(),
        trigger == null ? 0 : trigger.maintenanceMargin(), trigger == null ? 0 : trigger.epochMillis(), closes, penalty,
        0, fund, fundIn, fundOut, deleveraged, left, s.payments().debt() == null ? 0 : s.payments().debt(), s.escrow(), Outcome.of(s.outcome()),
        s.finishedMillis(), movements, s.closingNote(), shares);
  }

  /**
   * The bucket changes of one side of a transfer: cash, isolated margin, position value, escrow,
   * and what an isolated position lost beyond its margin, owed by the account (never its cash);
   * for an insurance fund's side, its position value and balance.
   */
  private static void legs(List<Movement> movements, String party, LiquidationTransfer t) {
    if (t.role() == io.clearinghouse.account.LiquidationRole.INSURANCE_FUND) {
      List<Transfer> transfers = FundTransfers.of(Bucket.insuranceFund(party), new InsuranceFund.PositionTaken(t.key(),
          t.liquidationId(), t.instrument(), t.signedLots(), t.priceTicks(), t.costDelta(), t.realizedPnl(), 0));
      line(movements, "fund " + party, "position value " + t.instrument(), transfers,
          Bucket.fundPosition(party, t.instrument()), true);
      line(movements, "fund " + party, "insurance fund", transfers, Bucket.insuranceFund(party), false);
      return;
    }
    // The same transfers the account's event handler applied (the close's own bucket, which the
    // two sides of a close leave at zero, is not listed).
    List<Transfer> transfers = AccountTransfers.of(party, t);
    line(movements, party, "cash", transfers, Bucket.cash(party), true);
    line(movements, party, "owed isolated shortfall", transfers, Bucket.owed(party), false);
    line(movements, party, "isolated margin " + t.instrument(), transfers,
        Bucket.isolatedMargin(party, t.instrument()), false);
    line(movements, party, "position value " + t.instrument(), transfers, Bucket.position(party, t.instrument()), true);
    line(movements, "saga", "escrow", transfers, Bucket.escrow(t.liquidationId()), false);
  }

  /** The line of what {@code transfers} moved into {@code bucket} ({@code always}: even when nothing). */
  private static void line(List<Movement> movements, String party, String label, List<Transfer> transfers,
      Bucket bucket, boolean always) {
    long amount = Transfer.netInto(transfers, bucket);
    if (always || amount != 0) {
      movements.add(new Movement(party, label, amount));
    }
  }
}
