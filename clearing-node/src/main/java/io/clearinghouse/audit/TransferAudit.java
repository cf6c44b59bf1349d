package io.clearinghouse.audit;

import io.clearinghouse.money.Bucket;
import io.clearinghouse.money.Ledger;
import io.clearinghouse.money.Transfer;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The second half of the audit: the balances that the events' own transfers give, held against
 * what the audit re-derived from the same journals field by field. Besides catching a transfer
 * that disagrees with its event, the transfer ledger shows what the field sums cannot: a trade
 * or a liquidation close whose two sides did not move the same value (its bucket is not zero),
 * and escrow the sagas' own journals do not account for.
 */
final class TransferAudit {
  private final Ledger ledger = new Ledger();

  void add(List<Transfer> transfers) {
    ledger.applyAll(transfers);
  }

  /** The funding pools as the transfers give them, against the accounts' funding events. */
  void fundingPools(Map<String, Long> pools, List<String> violations) {
    pools.forEach((instrument, balance) -> expect(violations, Bucket.fundingPool(instrument), balance,
        "funding pool " + instrument));
    sorted(ledger.nonZero(Bucket.Kind.FUNDING_POOL, b -> !pools.containsKey(b.owner()))).forEach((bucket, value) ->
        violations.add(bucket + " holds " + value + " that no funding event accounts for"));
  }

  /** The settlement pools as the transfers give them, against the accounts' settlement events. */
  void settlementPools(Map<String, Long> pools, List<String> violations) {
    pools.forEach((instrument, balance) -> expect(violations, Bucket.settlementPool(instrument), balance,
        "settlement pool " + instrument));
    sorted(ledger.nonZero(Bucket.Kind.SETTLEMENT_POOL, b -> !pools.containsKey(b.owner()))).forEach((bucket, value) ->
        violations.add(bucket + " holds " + value + " that no settlement event accounts for"));
  }

  /** Accounts and ledgers with no reserve withdrawals: money from outside is deposits - withdrawals + top-ups. */
  void check(Map<String, AccountLedger> accounts, List<ReserveLedger> others, long fees, long deposits,
      long withdrawals, long topUps, List<String> violations) {
    check(accounts, others, fees, Math.addExact(Math.subtractExact(deposits, withdrawals), topUps), violations);
  }

  /** {@code external}: what came in from outside, net (deposits - withdrawals + top-ups - reserve withdrawals). */
  void check(Map<String, AccountLedger> accounts, List<ReserveLedger> others, long fees, long external,
      List<String> violations) {
    for (AccountLedger l : accounts.values()) {
      expect(violations, Bucket.cash(l.accountId), l.cash, l.accountId + " cash");
      expect(violations, Bucket.owed(l.accountId), Math.negateExact(l.owed), l.accountId + " owed isolated shortfall");
      l.isolated.forEach((instrument, margin) ->
          expect(violations, Bucket.isolatedMargin(l.accountId, instrument), margin, l.accountId + " isolated margin"));
      l.cost.forEach((instrument, cost) ->
          expect(violations, Bucket.position(l.accountId, instrument), Math.negateExact(cost),
              l.accountId + " position value"));
    }
    Map<String, Long> transit = new TreeMap<>();
    accounts.values().forEach(l -> l.feesSwept.forEach((key, amount) -> transit.merge(key, amount, Math::addExact)));
    for (ReserveLedger l : others) {
      if (l.saga()) {
        expect(violations, Bucket.escrow(l.id()), l.escrow, "escrow of liquidation " + l.id());
        continue;
      }
      expect(violations, l.ledger, l.balance, l.ledger.toString());
      l.cost.forEach((instrument, cost) -> expect(violations, Bucket.fundPosition(l.id(), instrument),
          Math.negateExact(cost), "insurance fund " + l.id() + " position value"));
      l.movedOut.forEach((key, amount) -> transit.merge(key, amount, Math::addExact));
      l.movedIn.forEach((key, amount) -> transit.merge(key, -amount, Math::addExact));
    }
    transit.forEach((key, amount) -> expect(violations, Bucket.transit(key), amount, "move " + key + " in transit"));
    expect(violations, Bucket.FEES, fees, "fee revenue");
    expect(violations, Bucket.EXTERNAL, Math.negateExact(external), "money from outside");
    sorted(ledger.nonZero(Bucket.Kind.TRADE, b -> true)).forEach((bucket, value) -> violations.add(
        "trade sequence " + bucket.owner() + ": its sides moved values that differ by " + value
            + " (a trade applied to one side only, or to two different trades)"));
    sorted(ledger.nonZero(Bucket.Kind.CLOSE, b -> true)).forEach((bucket, value) -> violations.add(
        "liquidation close " + bucket.owner() + ": its sides moved values that differ by " + value));
    if (ledger.total() != 0) {
      violations.add("the transfers sum to " + ledger.total() + " instead of 0");
    }
  }

  private static Map<Bucket, Long> sorted(Map<Bucket, Long> buckets) {
    Map<Bucket, Long> sorted = new TreeMap<>(java.util.Comparator.comparing(Bucket::toString));
    sorted.putAll(buckets);
    return sorted;
  }

  private void expect(List<String> violations, Bucket bucket, long derived, String what) {
    long fromTransfers = ledger.balance(bucket);
    if (fromTransfers != derived) {
      violations.add(what + ": the journal's transfers give " + fromTransfers + " but its events add up to " + derived);
    }
  }
}
