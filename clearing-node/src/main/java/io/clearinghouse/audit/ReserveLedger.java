package io.clearinghouse.audit;

import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.liquidation.FundTransfers;
import io.clearinghouse.liquidation.InsuranceFund;
import io.clearinghouse.liquidation.LiquidationSaga;
import io.clearinghouse.money.Bucket;
import io.clearinghouse.money.Transfer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A reserve ledger (an insurance fund, with its positions, or a platform reserve) or a
 * liquidation saga's escrow, as its journal tells them, re-derived field by field, and what was
 * wrong on the way.
 */
final class ReserveLedger {
  static final String FUND_PREFIX = InsuranceFund.TYPE_KEY.name() + "|";
  static final String RESERVE_PREFIX = InsuranceFund.RESERVE_TYPE_KEY.name() + "|";
  static final String SAGA_PREFIX = LiquidationSaga.TYPE_KEY.name() + "|";

  final String persistenceId;
  /** The ledger's bucket; null for a saga. */
  final Bucket ledger;
  long balance;
  long topUps;
  long withdrawals;
  long escrow;
  boolean finished;
  /** An insurance fund's positions: lots and cost per instrument. */
  final Map<String, Long> lots = new HashMap<>();
  final Map<String, Long> cost = new HashMap<>();
  /** The fund's sides of closes, paired with their other sides by key. */
  final List<AccountLedger.TransferSide> transferSides = new ArrayList<>();
  /** Replenishment moves by key: what left this ledger, what arrived. */
  final Map<String, Long> movedOut = new HashMap<>();
  final Map<String, Long> movedIn = new HashMap<>();
  /** Fee sweeps this reserve refused for good: never taken later. */
  final java.util.Set<String> voidedSweeps = new java.util.HashSet<>();
  final List<String> violations = new ArrayList<>();
  final List<Transfer> transfers = new ArrayList<>();

  private ReserveLedger(String persistenceId, Bucket ledger) {
    this.persistenceId = persistenceId;
    this.ledger = ledger;
  }

  static boolean covers(String persistenceId) {
    return persistenceId.startsWith(FUND_PREFIX) || persistenceId.startsWith(RESERVE_PREFIX)
        || persistenceId.startsWith(SAGA_PREFIX);
  }

  boolean saga() {
    return ledger == null;
  }

  String id() {
    return persistenceId.substring(persistenceId.indexOf('|') + 1);
  }

  static ReserveLedger replay(String persistenceId, List<Object> events, Instruments instruments) {
    if (persistenceId.startsWith(SAGA_PREFIX)) {
      ReserveLedger l = new ReserveLedger(persistenceId, null);
      LiquidationSaga.State saga = LiquidationSaga.State.empty();
      for (Object event : events) {
        saga = LiquidationSaga.apply(saga, (LiquidationSaga.Event) event);
      }
      l.escrow = saga.escrow();
      l.finished = saga.outcome() != null;
      if (l.escrow < 0 || (l.finished && l.escrow != 0)) {
        l.violations.add(persistenceId + ": " + (l.finished ? "finished " : "") + "holding " + l.escrow + " in escrow");
      }
      return l;
    }
    ReserveLedger l = new ReserveLedger(persistenceId, InsuranceFund.ledger(persistenceId));
    for (Object event : events) {
      l.transfers.addAll(FundTransfers.of(l.ledger, (InsuranceFund.Event) event));
      l.apply(event, instruments);
      if (l.balance < 0) {
        l.violations.add(persistenceId + ": balance went negative (" + l.balance + ")");
      }
    }
    return l;
  }

  private void apply(Object event, Instruments instruments) {
    if (event instanceof InsuranceFund.ToppedUp e) {
      balance = Math.addExact(balance, e.amount());
      topUps = Math.addExact(topUps, e.amount());
    } else if (event instanceof InsuranceFund.Withdrawn e) {
      balance = Math.subtractExact(balance, e.amount());
      withdrawals = Math.addExact(withdrawals, e.amount());
    } else if (event instanceof InsuranceFund.Received e) {
      balance = Math.addExact(balance, e.amount());
    } else if (event instanceof InsuranceFund.Paid e) {
      balance = Math.subtractExact(balance, e.amount());
    } else if (event instanceof InsuranceFund.MovedOut e) {
      balance = Math.subtractExact(balance, e.amount());
      if (movedOut.put(e.key(), e.amount()) != null) {
        violations.add(persistenceId + ": move " + e.key() + " left twice");
      }
    } else if (event instanceof InsuranceFund.MovedIn e) {
      balance = Math.addExact(balance, e.amount());
      if (movedIn.put(e.key(), e.amount()) != null) {
        violations.add(persistenceId + ": move " + e.key() + " arrived twice");
      }
    } else if (event instanceof InsuranceFund.FeesReceived e) {
      // An account's fee sweep: it left the account's fee revenue under the same key.
      balance = Math.addExact(balance, e.amount());
      String key = io.clearinghouse.account.FeeSweep.key(e.accountId(), e.sweep());
      if (movedIn.put(key, e.amount()) != null || voidedSweeps.contains(key)) {
        violations.add(persistenceId + ": fee sweep " + key + " arrived twice, or after it was voided");
      }
    } else if (event instanceof InsuranceFund.FeeSweepVoided e) {
      String key = io.clearinghouse.account.FeeSweep.key(e.accountId(), e.sweep());
      if (!voidedSweeps.add(key) || movedIn.containsKey(key)) {
        violations.add(persistenceId + ": fee sweep " + key + " voided twice, or after it arrived");
      }
    } else if (event instanceof InsuranceFund.PositionTaken e) {
      balance = Math.addExact(balance, e.realizedPnl());
      lots.merge(e.instrument(), e.signedLots(), Math::addExact);
      cost.merge(e.instrument(), e.costDelta(), Math::addExact);
      transferSides.add(new AccountLedger.TransferSide(e.key(), "INSURANCE_FUND", e.signedLots()));
      long value = Math.multiplyExact(Math.multiplyExact(e.signedLots(), e.priceTicks()),
          instruments.require(e.instrument()).notionalMultiplier());
      if (Math.subtractExact(e.realizedPnl(), e.costDelta()) != -value) {
        violations.add(persistenceId + ": position transfer " + e.key() + " moved "
            + Math.subtractExact(e.realizedPnl(), e.costDelta()) + " between cost and balance instead of " + (-value));
      }
    }
  }

  long costTotal() {
    return cost.values().stream().mapToLong(Long::longValue).reduce(0, Math::addExact);
  }
}
