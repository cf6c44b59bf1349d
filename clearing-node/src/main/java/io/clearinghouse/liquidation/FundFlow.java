package io.clearinghouse.liquidation;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.AccountTransfers;
import io.clearinghouse.money.Bucket;
import io.clearinghouse.money.Transfer;
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
    // The fund's and the cover's movements are the transfers of the events that made them.
    long fundIn = 0;
    for (Map.Entry<String, Long> delivered : s.penaltiesDelivered().entrySet()) {
      fundIn = Math.addExact(fundIn, delivered.getValue());
      List<Transfer> t = FundTransfers.of(delivered.getKey(),
          new InsuranceFund.Received(liquidationId + "/penalty", liquidationId, delivered.getValue(), 0));
      line(movements, "saga", "escrow", t, Bucket.escrow(liquidationId), false);
      line(movements, "fund " + delivered.getKey(), "insurance fund", t, Bucket.insuranceFund(delivered.getKey()),
          false);
    }
    long fundOut = s.fundPaid() == null ? 0 : s.fundPaid();
    if (fundOut > 0) {
      List<Transfer> paid = FundTransfers.of(s.coverFund(),
          new InsuranceFund.Paid(liquidationId + "/cover", liquidationId, fundOut, fundOut, 0));
      line(movements, "fund " + s.coverFund(), "insurance fund", paid, Bucket.insuranceFund(s.coverFund()), false);
      line(movements, "saga", "escrow", paid, Bucket.escrow(liquidationId), false);
      if (s.coverDelivered()) {
        // The isolated shortfalls the account owes are paid first, the rest goes to the cash.
        List<Transfer> credited = AccountTransfers.of(s.accountId(), new AccountEntity.LiquidationCredited(
            liquidationId + "/cover", liquidationId, fundOut, s.shortfallCovered()));
        line(movements, "saga", "escrow", credited, Bucket.escrow(liquidationId), false);
        line(movements, s.accountId(), "owed isolated shortfall", credited, Bucket.owed(s.accountId()), false);
        line(movements, s.accountId(), "cash", credited, Bucket.cash(s.accountId()), false);
      }
    }
    String fund = s.coverFund() != null ? s.coverFund()
        : s.closes().isEmpty() ? null : settings.rules(s.closes().get(0).instrument()).insuranceFund();
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
