package io.clearinghouse.liquidation;

import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where the money of one liquidation went (DESIGN section 6, "fund flow"): what triggered it,
 * each close (venue, counterparty, quantity, price), the penalty, the insurance fund's part in
 * and out, the deleveraged counterparties, what was left to the trader and any debt. Amounts in
 * minor units, prices in ticks, quantities in signed lots of the liquidated account.
 *
 * <p>{@code movements} lists every change of a ledger bucket the liquidation made, one line per
 * party and bucket; because each is one leg of a transfer between two buckets, they sum to zero
 * ({@link #movementsSum()}). Position value lines are {@code -costDelta}: the value an account
 * gave up or took on at the close price.
 */
public record FundFlow(String liquidationId, String accountId, long triggerMarkSequence, Map<String, Long> triggerMarks,
    long equityAtTrigger, long maintenanceMarginAtTrigger, long triggeredAtMillis, List<CloseLine> closes,
    long penalty, long tradingFees, String insuranceFund, long insuranceFundIn, long insuranceFundOut,
    List<CloseLine> deleveraged, long leftToTrader, long debt, long escrow, String outcome, long finishedAtMillis,
    List<Movement> movements, String note) implements CborSerializable {

  public record CloseLine(int step, String instrument, String venue, String counterparty, long signedLots,
      long priceTicks, long markTicks, long bankruptcyTicks, long realizedPnl, long penalty, long shortfall)
      implements CborSerializable {}

  public record Movement(String party, String bucket, long amount) implements CborSerializable {}

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
    for (LiquidationSaga.Close c : s.closes()) {
      // Every side applied moves money, even a take-over given back in full.
      for (LiquidationTransfer side : java.util.Arrays.asList(c.taken(), c.undone())) {
        if (side != null) {
          legs(movements, c.counterparty(), side);
        }
      }
      LiquidationTransfer t = c.closed();
      if (t == null) {
        continue;
      }
      if (t.signedLots() == 0) {
        continue;
      }
      legs(movements, s.accountId(), t);
      CloseLine line = new CloseLine(c.step(), c.instrument(), c.venue().name(), c.counterparty(), t.signedLots(),
          t.priceTicks(), c.markTicks(), c.bankruptcyTicks(), t.realizedPnl(), t.penalty(), t.shortfall());
      closes.add(line);
      if (c.venue() == LiquidationSaga.Venue.ADL) {
        deleveraged.add(line);
      }
      penalty = Math.addExact(penalty, t.penalty());
    }
    long fundIn = 0;
    for (Map.Entry<String, Long> delivered : s.penaltiesDelivered().entrySet()) {
      fundIn = Math.addExact(fundIn, delivered.getValue());
      movements.add(new Movement("saga", "escrow", -delivered.getValue()));
      movements.add(new Movement("fund " + delivered.getKey(), "insurance fund", delivered.getValue()));
    }
    long fundOut = s.fundPaid() == null ? 0 : s.fundPaid();
    if (fundOut > 0) {
      movements.add(new Movement("fund " + s.coverFund(), "insurance fund", -fundOut));
      movements.add(new Movement("saga", "escrow", fundOut));
      if (s.coverDelivered()) {
        // The isolated shortfalls the account owes are paid first, the rest goes to the cash.
        long toShortfall = s.shortfallCovered();
        movements.add(new Movement("saga", "escrow", -fundOut));
        if (toShortfall != 0) {
          movements.add(new Movement(s.accountId(), "owed isolated shortfall", toShortfall));
        }
        if (fundOut != toShortfall) {
          movements.add(new Movement(s.accountId(), "cash", fundOut - toShortfall));
        }
      }
    }
    String fund = s.coverFund() != null ? s.coverFund()
        : s.closes().isEmpty() ? null : settings.rules(s.closes().get(0).instrument()).fund();
    long toCash = s.coverDelivered() ? fundOut - s.shortfallCovered() : 0;
    long left = s.need() == null ? 0 : Math.max(0, s.cashAtSettlement() + toCash);
    var trigger = s.trigger();
    return new FundFlow(liquidationId, s.accountId(), trigger == null ? 0 : trigger.markSequence(),
        trigger == null ? Map.of() : trigger.marks(), trigger == null ? 0 : trigger.equity(),
        trigger == null ? 0 : trigger.maintenanceMargin(), trigger == null ? 0 : trigger.epochMillis(), closes, penalty,
        0, fund, fundIn, fundOut, deleveraged, left, s.debt() == null ? 0 : s.debt(), s.escrow(), s.outcome(),
        s.finishedMillis(), movements, s.closingNote());
  }

  /**
   * The bucket changes of one side of a transfer: cash, isolated margin, position value, escrow,
   * and what an isolated position lost beyond its margin, owed by the account (never its cash).
   */
  private static void legs(List<Movement> movements, String party, LiquidationTransfer t) {
    long cash = Math.addExact(Math.subtractExact(Math.subtractExact(t.realizedPnl(), t.penalty()),
        t.isolatedMarginDelta()), t.shortfall());
    movements.add(new Movement(party, "cash", cash));
    if (t.shortfall() != 0) {
      movements.add(new Movement(party, "owed isolated shortfall", -t.shortfall()));
    }
    if (t.isolatedMarginDelta() != 0) {
      movements.add(new Movement(party, "isolated margin " + t.instrument(), t.isolatedMarginDelta()));
    }
    movements.add(new Movement(party, "position value " + t.instrument(), Math.negateExact(t.costDelta())));
    if (t.penalty() != 0) {
      movements.add(new Movement("saga", "escrow", t.penalty()));
    }
  }
}
