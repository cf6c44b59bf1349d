package io.clearinghouse.audit;

// Over 400 lines: one account's journal re-derived event by event, independently of the entity's own handlers (that independence is the audit's point); one method per event kind.
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.instrument.Instruments;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** One account's buckets as its journal tells them, and what was wrong on the way. */
final class AccountLedger {
  record Side(long sequence, String tradeId, long signedLots) {}

  /** One side of a liquidation transfer, paired with its other side by the saga's key. */
  record TransferSide(String key, String role, long signedLots) {}

  final String accountId;
  boolean opened;
  long cash;
  long deposits;
  long withdrawals;
  long fees;
  long debt;
  /** What closed isolated positions lost beyond their margin and nobody has paid yet (a negative bucket). */
  long owed;
  boolean liquidating;
  final List<TransferSide> transferSides = new ArrayList<>();
  final Map<String, Long> lots = new HashMap<>();
  final Map<String, Long> cost = new HashMap<>();
  final Map<String, Long> isolated = new HashMap<>();
  final List<Side> tradeSides = new ArrayList<>();
  /** Fee sweeps into the platform-revenue reserve, by key: each in transit until the reserve takes it in. */
  final Map<String, Long> feesSwept = new HashMap<>();
  /** Fee sweeps the account recorded as arrived (each must be in the reserve's journal). */
  final java.util.Set<String> feesCollected = new java.util.HashSet<>();
  /** Sweeps voided by the reserve (never taken): their numbers stay used. */
  final java.util.Set<String> voidedSweeps = new java.util.HashSet<>();
  final List<String> violations = new ArrayList<>();
  /** Per perpetual: what the account paid into its funding pool, net (negative: received from it). */
  final Map<String, Long> fundingPaid = new HashMap<>();
  /** Per perpetual: what the account's redone payments (FundingAdjusted) moved, received net (no clock records them). */
  final Map<String, Long> fundingAdjusted = new HashMap<>();
  /** Each funding payment's terms, "instrument|funding time" to {rate, mark}, to hold against its clock's. */
  final Map<String, long[]> fundingTerms = new HashMap<>();
  /** What each funding time paid in all (first payment and redone ones), "instrument|funding time". */
  private final Map<String, Long> fundingFor = new HashMap<>();
  /**
   * Per perpetual: the last funding times applied. Each applies once, in order, except a missed
   * interval paid late (at most 8 intervals old, after a later one: FundingLedger), so one older
   * than all of the last 16 is out of order.
   */
  private final Map<String, java.util.TreeSet<Long>> fundedTimes = new HashMap<>();
  /** Per dated future: what the account paid into its settlement pool (negative: was paid from it). */
  final Map<String, Long> settlementPaid = new HashMap<>();
  /** Per dated future: the account's settlement, as its journal holds it (one each). */
  final Map<String, AccountEntity.SettlementApplied> settlements = new HashMap<>();
  /** Per dated future: the lots closed after the account's settlement (what late sides left), at its price. */
  final Map<String, Long> settledLateLots = new HashMap<>();
  /** Per dated future: the account's late closes in journal order (the numbers its settlement records them by). */
  final Map<String, List<AccountEntity.SettledAfterExpiry>> lateCloses = new HashMap<>();
  /** Every transfer the account's events made, for the transfer half of the audit. */
  final List<io.clearinghouse.money.Transfer> transfers = new ArrayList<>();

  private AccountLedger(String accountId) {
    this.accountId = accountId;
  }

  /** An account whose journal could not be replayed: named as a violation. */
  static AccountLedger unreadable(String accountId, RuntimeException cause) {
    AccountLedger l = new AccountLedger(accountId);
    l.violations.add(accountId + ": its journal cannot be replayed (" + cause + ")");
    return l;
  }

  static AccountLedger replay(String accountId, List<Object> events, Instruments instruments) {
    return replay(accountId, events, instruments, Long.MAX_VALUE);
  }

  /**
   * Replays the account; a deposit or withdrawal key may move money again once
   * {@code keyRetentionMillis} have passed since its last use (the account no longer remembers it
   * then: a new request), never within them.
   */
  static AccountLedger replay(String accountId, List<Object> events, Instruments instruments, long keyRetentionMillis) {
    AccountLedger l = new AccountLedger(accountId);
    Set<String> keys = new HashSet<>();
    java.util.Map<String, Long> transferKeys = new HashMap<>();
    Set<Long> sequences = new HashSet<>();
    for (Object event : events) {
      l.transfers.addAll(io.clearinghouse.account.AccountTransfers.of(accountId, (AccountEntity.Event) event));
      if (event instanceof AccountEntity.AccountOpened) {
        l.opened = true;
      } else if (event instanceof AccountEntity.Deposited d) {
        if (d.owedRepaid() < 0 || d.owedRepaid() > d.amount() || d.owedRepaid() > l.owed) {
          l.violations.add(accountId + ": deposit " + d.idempotencyKey() + " repaid " + d.owedRepaid() + " of "
              + l.owed + " owed with " + d.amount());
        }
        l.owed = Math.subtractExact(l.owed, d.owedRepaid());
        l.cash = Math.addExact(l.cash, Math.subtractExact(d.amount(), d.owedRepaid()));
        l.deposits = Math.addExact(l.deposits, d.amount());
        // Operator (deposit) and client (withdrawal) keys are separate key spaces.
        l.onceWithin(transferKeys, "operator " + d.idempotencyKey(), d.epochMillis(), keyRetentionMillis);
        l.debt = Math.max(0, Math.min(l.debt - d.owedRepaid(), Math.addExact(Math.max(0, -l.cash), l.owed)));
      } else if (event instanceof AccountEntity.Withdrawn w) {
        l.cash = Math.subtractExact(l.cash, w.amount());
        l.withdrawals = Math.addExact(l.withdrawals, w.amount());
        l.onceWithin(transferKeys, "client " + w.idempotencyKey(), w.epochMillis(), keyRetentionMillis);
      } else if (event instanceof AccountEntity.TradeCleared t) {
        l.trade(t, instruments);
        if (!sequences.add(t.sequence())) {
          l.violations.add(accountId + ": trade sequence " + t.sequence() + " applied twice");
        }
      } else if (event instanceof AccountEntity.TradeSideReversed r) {
        l.reverse(r, instruments);
      } else if (event instanceof AccountEntity.IsolatedMarginAdjusted a) {
        l.cash = Math.subtractExact(l.cash, a.amount());
        l.isolated.merge(a.instrument(), a.amount(), Math::addExact);
      } else if (event instanceof AccountEntity.LiquidationStarted) {
        l.liquidating = true;
      } else if (event instanceof AccountEntity.LiquidationEnded) {
        l.liquidating = false;
      } else if (event instanceof AccountEntity.LiquidationTransfer t) {
        l.transfer(t, instruments);
        l.once(keys, "liquidation " + t.key());
      } else if (event instanceof AccountEntity.LiquidationCredited c) {
        if (c.shortfallCovered() < 0 || c.shortfallCovered() > c.amount() || c.shortfallCovered() > l.owed) {
          l.violations.add(accountId + ": liquidation credit " + c.key() + " covered " + c.shortfallCovered() + " of "
              + l.owed + " owed with " + c.amount());
        }
        l.owed = Math.subtractExact(l.owed, c.shortfallCovered());
        l.cash = Math.addExact(l.cash, Math.subtractExact(c.amount(), c.shortfallCovered()));
        l.credits = Math.addExact(l.credits, c.amount());
        l.once(keys, "liquidation " + c.key());
      } else if (event instanceof AccountEntity.FeesSwept f) {
        // An account sweeps every fee it collected since its last sweep (a net rebate: negative), the
        // first sweep every fee since the account opened: the fee revenue left in the account is
        // always zero after a sweep. A voided number is never swept again.
        long collected = l.fees;
        boolean twice = l.feesSwept.put(f.key(), f.amount()) != null || l.voidedSweeps.contains(f.key());
        if (f.amount() == 0 || f.amount() != collected || twice) {
          l.violations.add(accountId + ": fee sweep " + f.key() + " of " + f.amount() + " (fees collected since the"
              + " last sweep " + collected + ") swept nothing, not what there was, or twice");
        }
        l.fees = Math.subtractExact(l.fees, f.amount());
      } else if (event instanceof AccountEntity.FeesCollected c) {
        // Recorded only for the sweep in transit, once, and never for a voided one.
        if (!l.feesSwept.containsKey(c.key()) || l.voidedSweeps.contains(c.key()) || !l.feesCollected.add(c.key())) {
          l.violations.add(accountId + ": fee sweep " + c.key() + " recorded as arrived but never swept, voided, or"
              + " arrived twice");
        }
      } else if (event instanceof AccountEntity.FeesSweepVoided v) {
        // A sweep the reserve refused for good: what left for it comes back, and it is not in transit.
        Long swept = l.feesSwept.remove(v.key());
        if (swept == null || swept != v.amount()) {
          l.violations.add(accountId + ": fee sweep " + v.key() + " voided with " + v.amount() + " but " + swept
              + " left for it");
        }
        l.fees = Math.addExact(l.fees, v.amount());
        l.voidedSweeps.add(v.key());
      } else if (event instanceof AccountEntity.FundingApplied f) {
        l.funding(f.instrument(), f.fundingTime(), f.rate(), f.markTicks(), f.lots(), f.amount(), instruments, false);
        l.cash = Math.addExact(l.cash, f.amount());
        l.fundingPaid.merge(f.instrument(), Math.negateExact(f.amount()), Math::addExact);
        java.util.TreeSet<Long> funded = l.fundedTimes.computeIfAbsent(f.instrument(), k -> new java.util.TreeSet<>());
        if (funded.contains(f.fundingTime()) || (funded.size() >= 16 && f.fundingTime() < funded.first())) {
          l.violations.add(accountId + ": funding of " + f.instrument() + " for " + f.fundingTime()
              + " applied after the ones up to " + funded.last() + " (an interval paid twice, or out of order)");
        }
        funded.add(f.fundingTime());
        while (funded.size() > 16) {
          funded.pollFirst();
        }
      } else if (event instanceof AccountEntity.FundingAdjusted f) {
        boolean applied = l.fundingTerms.containsKey(f.instrument() + "|" + f.fundingTime());
        l.funding(f.instrument(), f.fundingTime(), f.rate(), f.markTicks(), f.lots(), f.amount(), instruments, true);
        l.cash = Math.addExact(l.cash, f.amount());
        l.fundingPaid.merge(f.instrument(), Math.negateExact(f.amount()), Math::addExact);
        l.fundingAdjusted.merge(f.instrument(), f.amount(), Math::addExact);
        if (!applied) {
          l.violations.add(accountId + ": funding of " + f.instrument() + " for " + f.fundingTime()
              + " redone before it was applied");
        }
      } else if (event instanceof AccountEntity.SettlementApplied e) {
        l.settle(e, instruments);
      } else if (event instanceof AccountEntity.SettledAfterExpiry e) {
        l.settleLate(e, instruments);
      } else if (event instanceof AccountEntity.DebtRecorded d) {
        l.debt = Math.addExact(l.debt, d.amount());
        l.once(keys, "liquidation " + d.key());
      }
    }
    // At rest, cash below zero is a deficit unless a liquidation is still settling it, the debt
    // policy recorded it, or open positions carry it (their unrealized profit; the monitor
    // liquidates the account when they no longer do).
    boolean open = l.lots.values().stream().anyMatch(lots -> lots != 0);
    if (l.cash < 0 && !l.liquidating && !open && Math.addExact(-l.cash, l.owed) > l.debt) {
      l.violations.add(accountId + ": cash is negative (" + l.cash + ") with no open position and a recorded debt of "
          + l.debt);
    }
    // At rest, what isolated positions still owe is recorded debt (the saga records it before it ends).
    if (!l.liquidating && l.owed > l.debt) {
      l.violations.add(accountId + ": isolated positions owe " + l.owed + " but the recorded debt is only " + l.debt);
    }
    return l;
  }

  /**
   * A funding payment (or a redone one) re-derived from its own terms: what the time paid in all
   * must be exactly what its lots, mark and rate give ({@code FundingMath.payment}), and a redone
   * payment keeps the first one's rate and mark.
   */
  private void funding(String instrument, long fundingTime, long rate, long markTicks, long lots, long amount,
      Instruments instruments, boolean redone) {
    String key = instrument + "|" + fundingTime;
    long[] terms = fundingTerms.putIfAbsent(key, new long[] {rate, markTicks});
    if (redone && (terms == null || terms[0] != rate || terms[1] != markTicks)) {
      violations.add(accountId + ": funding of " + instrument + " for " + fundingTime + " redone at other terms");
    }
    long total = fundingFor.merge(key, amount, Math::addExact);
    long multiplier;
    try {
      multiplier = instruments.require(instrument).notionalMultiplier();
    } catch (RuntimeException e) {
      return;   // an instrument no longer configured: its payments cannot be re-derived here
    }
    long expected;
    try {
      expected = io.clearinghouse.margin.FundingMath.payment(lots, markTicks, multiplier, rate);
    } catch (ArithmeticException e) {
      violations.add(accountId + ": funding of " + instrument + " for " + fundingTime + " overflows its own terms");
      return;
    }
    if (total != expected) {
      violations.add(accountId + ": funding of " + instrument + " for " + fundingTime + " moved " + total + " but "
          + lots + " lots at mark " + markTicks + " and rate " + rate + " make " + expected);
    }
  }

  /**
   * A dated future's settlement: the position it closes is the one the journal holds, its value is
   * exactly lots * price * multiplier and its fee the delivery fee rounded up, once per instrument.
   */
  private void settle(AccountEntity.SettlementApplied e, Instruments instruments) {
    String instrument = e.instrument();
    long lotsHeld = lots.getOrDefault(instrument, 0L);
    long costHeld = cost.getOrDefault(instrument, 0L);
    long isolatedHeld = isolated.getOrDefault(instrument, 0L);
    if (settlements.put(instrument, e) != null) {
      violations.add(accountId + ": " + instrument + " settled twice");
    }
    if (lotsHeld != e.lots() || costHeld != e.cost() || isolatedHeld != e.isolatedReleased()) {
      violations.add(accountId + ": settlement of " + instrument + " closed " + e.lots() + " lots at cost " + e.cost()
          + " with isolated margin " + e.isolatedReleased() + " but the journal held " + lotsHeld + " lots at cost "
          + costHeld + " with " + isolatedHeld);
    }
    var spec = instruments.spec(instrument);
    io.clearinghouse.margin.SettlementMath.Closed expected = io.clearinghouse.margin.SettlementMath.close(e.lots(),
        e.cost(), e.isolatedReleased(), e.priceTicks(), spec.contract().notionalMultiplier(),
        spec.expiry() == null ? 0 : spec.expiry().deliveryFeePpm());
    if (expected.value() != e.value() || expected.fee() != e.fee() || expected.shortfall() != e.shortfall()) {
      violations.add(accountId + ": settlement of " + instrument + " moved value " + e.value() + ", fee " + e.fee()
          + " and shortfall " + e.shortfall() + " instead of " + expected.value() + ", " + expected.fee() + " and "
          + expected.shortfall());
    }
    cash = Math.addExact(cash, e.cashDelta());
    owed = Math.addExact(owed, e.shortfall());
    fees = Math.addExact(fees, e.fee());
    lots.merge(instrument, Math.negateExact(e.lots()), Math::addExact);
    cost.merge(instrument, Math.negateExact(e.cost()), Math::addExact);
    isolated.merge(instrument, Math.negateExact(e.isolatedReleased()), Math::addExact);
    settlementPaid.merge(instrument, Math.negateExact(e.value()), Math::addExact);
  }

  /**
   * What a side applied after the account's settlement left in the future, closed at once: only
   * after that settlement, at its price, exactly what the journal then held, re-derived as the
   * settlement is (value, shortfall; no delivery fee).
   */
  private void settleLate(AccountEntity.SettledAfterExpiry e, Instruments instruments) {
    String instrument = e.instrument();
    lateCloses.computeIfAbsent(instrument, k -> new java.util.ArrayList<>()).add(e);
    AccountEntity.SettlementApplied settled = settlements.get(instrument);
    if (settled == null || settled.priceTicks() != e.priceTicks()) {
      violations.add(accountId + ": " + instrument + " closed after its expiry at " + e.priceTicks() + " but "
          + (settled == null ? "the account never settled it" : "it settled at " + settled.priceTicks()));
    }
    long lotsHeld = lots.getOrDefault(instrument, 0L);
    long costHeld = cost.getOrDefault(instrument, 0L);
    long isolatedHeld = isolated.getOrDefault(instrument, 0L);
    if (lotsHeld != e.lots() || costHeld != e.cost() || isolatedHeld != e.isolatedReleased()) {
      violations.add(accountId + ": late close of " + instrument + " closed " + e.lots() + " lots at cost " + e.cost()
          + " with isolated margin " + e.isolatedReleased() + " but the journal held " + lotsHeld + " lots at cost "
          + costHeld + " with " + isolatedHeld);
    }
    io.clearinghouse.margin.SettlementMath.Closed expected = io.clearinghouse.margin.SettlementMath.close(e.lots(),
        e.cost(), e.isolatedReleased(), e.priceTicks(), instruments.spec(instrument).contract().notionalMultiplier(), 0);
    if (expected.value() != e.value() || expected.shortfall() != e.shortfall()) {
      violations.add(accountId + ": late close of " + instrument + " moved value " + e.value() + " and shortfall "
          + e.shortfall() + " instead of " + expected.value() + " and " + expected.shortfall());
    }
    cash = Math.addExact(cash, e.cashDelta());
    owed = Math.addExact(owed, e.shortfall());
    lots.merge(instrument, Math.negateExact(e.lots()), Math::addExact);
    cost.merge(instrument, Math.negateExact(e.cost()), Math::addExact);
    isolated.merge(instrument, Math.negateExact(e.isolatedReleased()), Math::addExact);
    settlementPaid.merge(instrument, Math.negateExact(e.value()), Math::addExact);
    settledLateLots.merge(instrument, e.lots(), Math::addExact);
  }

  private void trade(AccountEntity.TradeCleared t, Instruments instruments) {
    cash = Math.subtractExact(Math.subtractExact(Math.addExact(cash, t.realizedPnl()), t.fee()), t.isolatedMarginDelta());
    fees = Math.addExact(fees, t.fee());
    lots.merge(t.instrument(), t.signedLots(), Math::addExact);
    cost.merge(t.instrument(), t.costDelta(), Math::addExact);
    isolated.merge(t.instrument(), t.isolatedMarginDelta(), Math::addExact);
    tradeSides.add(new Side(t.sequence(), t.tradeId(), t.signedLots()));
    long value = Math.multiplyExact(Math.multiplyExact(t.signedLots(), t.priceTicks()),
        instruments.require(t.instrument()).notionalMultiplier());
    if (Math.subtractExact(t.realizedPnl(), t.costDelta()) != -value) {
      violations.add(accountId + ": trade " + t.tradeId() + " moved " + Math.subtractExact(t.realizedPnl(), t.costDelta())
          + " between cost and cash instead of " + (-value));
    }
  }

  /**
   * A trade side undone because its trade was refused: the same buckets as the side, the other
   * way (the fee back out of fee revenue), and the side no longer counted as applied.
   */
  private void reverse(AccountEntity.TradeSideReversed r, Instruments instruments) {
    Side applied = null;
    for (Side side : tradeSides) {
      if (side.sequence() == r.sequence()) {
        applied = side;
      }
    }
    if (r.instrument() == null) {
      if (applied != null) {
        violations.add(accountId + ": trade sequence " + r.sequence() + " marked never applied, but it was");
      }
      return;
    }
    if (applied == null || applied.signedLots() != -r.signedLots()) {
      violations.add(accountId + ": trade sequence " + r.sequence() + " reversed by " + r.signedLots()
          + " lots, but " + (applied == null ? "no side of it is applied" : "its side moved " + applied.signedLots()));
    } else {
      tradeSides.remove(applied);
    }
    cash = Math.subtractExact(Math.addExact(Math.addExact(cash, r.realizedPnl()), r.feeRefund()), r.isolatedMarginDelta());
    fees = Math.subtractExact(fees, r.feeRefund());
    lots.merge(r.instrument(), r.signedLots(), Math::addExact);
    cost.merge(r.instrument(), r.costDelta(), Math::addExact);
    isolated.merge(r.instrument(), r.isolatedMarginDelta(), Math::addExact);
    long value = Math.multiplyExact(Math.multiplyExact(r.signedLots(), r.priceTicks()),
        instruments.require(r.instrument()).notionalMultiplier());
    if (Math.subtractExact(r.realizedPnl(), r.costDelta()) != -value) {
      violations.add(accountId + ": reversal of trade " + r.tradeId() + " moved "
          + Math.subtractExact(r.realizedPnl(), r.costDelta()) + " between cost and cash instead of " + (-value));
    }
  }

  long penalties;
  long credits;

  private void transfer(AccountEntity.LiquidationTransfer t, Instruments instruments) {
    // An isolated shortfall is owed by the account, not taken from its cash.
    cash = Math.addExact(Math.subtractExact(Math.subtractExact(Math.addExact(cash, t.realizedPnl()), t.penalty()),
        t.isolatedMarginDelta()), t.shortfall());
    owed = Math.addExact(owed, t.shortfall());
    penalties = Math.addExact(penalties, t.penalty());
    lots.merge(t.instrument(), t.signedLots(), Math::addExact);
    cost.merge(t.instrument(), t.costDelta(), Math::addExact);
    isolated.merge(t.instrument(), t.isolatedMarginDelta(), Math::addExact);
    transferSides.add(new TransferSide(t.key(), t.role().name(), t.signedLots()));
    long value = Math.multiplyExact(Math.multiplyExact(t.signedLots(), t.priceTicks()),
        instruments.require(t.instrument()).notionalMultiplier());
    if (Math.subtractExact(t.realizedPnl(), t.costDelta()) != -value) {
      violations.add(accountId + ": liquidation transfer " + t.key() + " moved "
          + Math.subtractExact(t.realizedPnl(), t.costDelta()) + " between cost and cash instead of " + (-value));
    }
  }

  private void onceWithin(java.util.Map<String, Long> lastUse, String key, long epochMillis, long retentionMillis) {
    Long previous = lastUse.put(key, epochMillis);
    if (previous != null && epochMillis - previous < retentionMillis) {
      violations.add(accountId + ": idempotency key " + key + " moved money twice");
    }
  }

  private void once(Set<String> keys, String key) {
    if (!keys.add(key)) {
      violations.add(accountId + ": idempotency key " + key + " moved money twice");
    }
  }

  long isolatedTotal() {
    return isolated.values().stream().mapToLong(Long::longValue).reduce(0, Math::addExact);
  }

  long costTotal() {
    return cost.values().stream().mapToLong(Long::longValue).reduce(0, Math::addExact);
  }

  void compareWith(AccountSummary live) {
    if (live.cash() != cash) {
      violations.add(accountId + ": running account holds cash " + live.cash() + " but its journal adds up to " + cash);
    }
    for (var position : live.positions()) {
      long journalIsolated = isolated.getOrDefault(position.instrument(), 0L);
      if (position.isolatedMargin() != journalIsolated) {
        violations.add(accountId + ": running account holds isolated margin " + position.isolatedMargin() + " on "
            + position.instrument() + " but its journal adds up to " + journalIsolated);
      }
    }
    Map<String, Long> liveLots = LedgerAudit.lotsOf(live);
    lots.forEach((instrument, journalLots) -> {
      long running = liveLots.getOrDefault(instrument, 0L);
      if (running != journalLots) {
        violations.add(accountId + ": running account holds " + running + " lots of " + instrument
            + " but its journal adds up to " + journalLots);
      }
    });
  }
}
