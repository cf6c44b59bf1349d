package io.clearinghouse.audit;

// Over 450 lines (since funding and settlement pools): one audit over every journal kind; the per-kind replays live in AccountLedger, ReserveLedger, FundingClockLedger and TransferAudit.

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.account.PositionSummary;
import io.clearinghouse.clearing.TradeRegister;
import io.clearinghouse.instrument.Instruments;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The ledger audit (DESIGN.md section 7), re-derived from the durable journal rather than from
 * any actor's memory. Every account is replayed from its events, and
 *
 * <pre>  sum(cash) + sum(isolated margin) - sum(position cost) + fee revenue + insurance funds
 *     + saga escrow - sum(owed isolated shortfalls) == deposits - withdrawals + fund top-ups</pre>
 *
 * must hold; so must: no negative cash; every trade side moved exactly its value
 * ({@code realized - costDelta == -lots * price * multiplier}); every trade applied to exactly one
 * buyer and one seller with opposite quantities (none half-applied, none twice; a side reversed
 * because its trade was refused counts as not applied); every trade a register settled applied
 * to exactly its two sides and every trade it refused to none; open positions
 * summing to zero per instrument; and every running account agreeing with its own journal.
 * Each violation is named with the account and the amount.
 */
public final class LedgerAudit {
  private static final String ACCOUNT_PREFIX = AccountEntity.TYPE_KEY.name() + "|";

  /** What the audit found. Amounts are minor units of the settlement asset. */
  public record Report(int accounts, long totalCash, long totalIsolatedMargin, long totalPositionCost, long feeRevenue,
      long deposits, long withdrawals, long tradeSidesApplied, long insuranceFunds, long fundTopUps, long sagaEscrow,
      long debt, int liquidations, List<String> violations, long reserves, long reserveWithdrawals,
      long fundPositionCost, long inTransit, long fundingPools) {
    public boolean clean() {
      return violations.isEmpty();
    }

    Report withViolations(List<String> replaced) {
      return new Report(accounts, totalCash, totalIsolatedMargin, totalPositionCost, feeRevenue, deposits, withdrawals,
          tradeSidesApplied, insuranceFunds, fundTopUps, sagaEscrow, debt, liquidations, List.copyOf(replaced), reserves,
          reserveWithdrawals, fundPositionCost, inTransit, fundingPools);
    }
  }

  private final ActorSystem<?> system;
  private final CassandraReadJournal journal;
  private final Accounts accounts;
  private final Instruments instruments;
  private final long keyRetentionMillis;

  public LedgerAudit(ActorSystem<?> system, Accounts accounts, Instruments instruments) {
    this.system = system;
    this.journal = PersistenceQuery.get(system)
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    this.accounts = accounts;
    this.instruments = instruments;
    var config = system.settings().config();
    this.keyRetentionMillis = config.hasPath("clearinghouse.account.idempotency-key-retention")
        ? config.getDuration("clearinghouse.account.idempotency-key-retention").toMillis() : Long.MAX_VALUE;
  }

  public CompletionStage<Report> run() {
    // A journal that does not read (a corrupt or unknown event) is named as a violation; the
    // audit of everything else goes on.
    List<String> unreadable = java.util.Collections.synchronizedList(new ArrayList<>());
    CompletionStage<List<AccountLedger>> accountLedgers = journal.currentPersistenceIds()
        .filter(id -> id.startsWith(ACCOUNT_PREFIX))
        .mapAsync(4, id -> readable(id, replay(id.substring(ACCOUNT_PREFIX.length())), unreadable))
        .filter(java.util.Optional::isPresent).map(java.util.Optional::get)
        .mapAsync(4, this::compareWithLiveState)
        .runWith(Sink.seq(), system);
    CompletionStage<List<ReserveLedger>> others = journal.currentPersistenceIds()
        .filter(ReserveLedger::covers)
        .mapAsync(4, id -> readable(id, journal.currentEventsByPersistenceId(id, 0L, Long.MAX_VALUE)
            .map(EventEnvelope::event)
            .runWith(Sink.seq(), system)
            .thenApply(events -> ReserveLedger.replay(id, events, instruments)), unreadable))
        .filter(java.util.Optional::isPresent).map(java.util.Optional::get)
        .runWith(Sink.seq(), system);
    CompletionStage<List<TradeRegister.Entry>> registered = journal.currentPersistenceIds()
        .filter(id -> id.startsWith(REGISTER_PREFIX))
        .mapAsync(4, id -> readable(id, journal.currentEventsByPersistenceId(id, 0L, Long.MAX_VALUE)
            .map(EventEnvelope::event)
            .runWith(Sink.seq(), system)
            .thenApply(TradeRegister.State::replay), unreadable))
        .filter(java.util.Optional::isPresent).map(java.util.Optional::get)
        .runWith(Sink.seq(), system)
        .thenApply(lists -> lists.stream().flatMap(List::stream).toList());
    CompletionStage<List<FundingClockLedger>> clocks = journal.currentPersistenceIds()
        .filter(id -> id.startsWith(FundingClockLedger.PREFIX))
        .mapAsync(4, id -> journal.currentEventsByPersistenceId(id, 0L, Long.MAX_VALUE)
            .map(EventEnvelope::event)
            .runWith(Sink.seq(), system)
            .thenApply(events -> FundingClockLedger.replay(id, events)))
        .runWith(Sink.seq(), system);
    CompletionStage<List<SettlementLedger>> settlements = journal.currentPersistenceIds()
        .filter(id -> id.startsWith(SettlementLedger.PREFIX))
        .mapAsync(4, id -> readable(id, journal.currentEventsByPersistenceId(id, 0L, Long.MAX_VALUE)
            .map(EventEnvelope::event)
            .runWith(Sink.seq(), system)
            .thenApply(events -> SettlementLedger.replay(id, events)), unreadable))
        .filter(java.util.Optional::isPresent).map(java.util.Optional::get)
        .runWith(Sink.seq(), system);
    return accountLedgers.thenCompose(a -> others.thenCompose(o -> settlements.thenCompose(s -> registered
        .thenCombine(clocks, (r, c) -> {
      Report report = summarize(a, o, r, c, s);
      if (unreadable.isEmpty()) {
        return report;
      }
      List<String> violations = new ArrayList<>(new java.util.TreeSet<>(unreadable));
      violations.addAll(report.violations());
      return report.withViolations(violations);
    }))));
  }

  private static <T> CompletionStage<java.util.Optional<T>> readable(String persistenceId, CompletionStage<T> read,
      List<String> unreadable) {
    return read.handle((value, failure) -> {
      if (failure == null) {
        return java.util.Optional.of(value);
      }
      Throwable cause = io.clearinghouse.common.Failures.unwrap(failure);
      unreadable.add("journal of " + persistenceId + " does not read: " + cause);
      return java.util.Optional.<T>empty();
    });
  }

  private static final String REGISTER_PREFIX = TradeRegister.TYPE_KEY.name() + "|";

  private CompletionStage<AccountLedger> replay(String accountId) {
    return journal.currentEventsByPersistenceId(ACCOUNT_PREFIX + accountId, 0L, Long.MAX_VALUE)
        .map(EventEnvelope::event)
        .runWith(Sink.seq(), system)
        .thenApply(events -> {
          try {
            return AccountLedger.replay(accountId, events, instruments, keyRetentionMillis);
          } catch (RuntimeException e) {
            // An account the audit cannot replay (a figure beyond a long, an instrument no longer
            // configured) is a finding, never a failed audit.
            return AccountLedger.unreadable(accountId, e);
          }
        });
  }

  private CompletionStage<AccountLedger> compareWithLiveState(AccountLedger ledger) {
    if (!ledger.opened) {
      return CompletableFuture.completedFuture(ledger);
    }
    return accounts.get(ledger.accountId).thenApply(live -> {
      ledger.compareWith(live);
      return ledger;
    });
  }

  private Report summarize(List<AccountLedger> ledgers, List<ReserveLedger> liquidation,
      List<TradeRegister.Entry> registered, List<FundingClockLedger> clocks) {
    return summarize(ledgers, liquidation, registered, clocks, List.of());
  }

  static Report summarize(List<AccountLedger> ledgers, List<ReserveLedger> liquidation,
      List<TradeRegister.Entry> registered, List<FundingClockLedger> clocks, List<SettlementLedger> settlements) {
    Map<String, AccountLedger> byAccount = new TreeMap<>();
    ledgers.forEach(l -> byAccount.put(l.accountId, l));
    long cash = 0;
    long isolated = 0;
    long cost = 0;
    long fees = 0;
    long deposits = 0;
    long withdrawals = 0;
    long sides = 0;
    long owed = 0;
    List<String> violations = new ArrayList<>();
    Map<String, Long> openLots = new TreeMap<>();
    Map<String, Long> pools = new TreeMap<>();
    Map<String, Long> adjusted = new TreeMap<>();
    Map<String, Long> settlementPools = new TreeMap<>();
    Map<Long, TradeSides> trades = new HashMap<>();
    Map<String, Long> feeSweeps = new TreeMap<>();
    for (AccountLedger l : byAccount.values()) {
      cash = Math.addExact(cash, l.cash);
      isolated = Math.addExact(isolated, l.isolatedTotal());
      cost = Math.addExact(cost, l.costTotal());
      fees = Math.addExact(fees, l.fees);
      owed = Math.addExact(owed, l.owed);
      deposits = Math.addExact(deposits, l.deposits);
      withdrawals = Math.addExact(withdrawals, l.withdrawals);
      sides += l.tradeSides.size();
      l.feesSwept.forEach((key, amount) -> feeSweeps.merge(key, amount, Math::addExact));
      violations.addAll(l.violations);
      l.lots.forEach((instrument, lots) -> openLots.merge(instrument, lots, Math::addExact));
      l.fundingPaid.forEach((instrument, paid) -> pools.merge(instrument, paid, Math::addExact));
      l.fundingAdjusted.forEach((instrument, net) -> adjusted.merge(instrument, net, Math::addExact));
      l.settlementPaid.forEach((instrument, paid) -> settlementPools.merge(instrument, paid, Math::addExact));
      // Lots closed by a settlement still count with the ones not yet closed: together they sum to
      // zero while a settlement is under way, and both are zero once it is done.
      l.settlements.forEach((instrument, settled) -> openLots.merge(instrument, settled.lots(), Math::addExact));
      l.settledLateLots.forEach((instrument, lots) -> openLots.merge(instrument, lots, Math::addExact));
      for (AccountLedger.Side side : l.tradeSides) {
        trades.computeIfAbsent(side.sequence(), s -> new TradeSides()).add(l.accountId, side);
      }
    }
    long funds = 0;
    long reserves = 0;
    long topUps = 0;
    long reserveWithdrawals = 0;
    long escrow = 0;
    long fundCost = 0;
    int sagas = 0;
    Map<String, Long> movedOut = new TreeMap<>();
    Map<String, Long> movedIn = new TreeMap<>();
    // The accounts' fee sweeps leave their fee revenue like a move out of a reserve.
    feeSweeps.forEach((key, amount) -> movedOut.merge(key, amount, Math::addExact));
    for (ReserveLedger l : liquidation) {
      if (l.ledger != null && l.ledger.kind() == io.clearinghouse.money.Bucket.Kind.RESERVE) {
        reserves = Math.addExact(reserves, l.balance);
      } else {
        funds = Math.addExact(funds, l.balance);
      }
      topUps = Math.addExact(topUps, l.topUps);
      reserveWithdrawals = Math.addExact(reserveWithdrawals, l.withdrawals);
      escrow = Math.addExact(escrow, l.escrow);
      fundCost = Math.addExact(fundCost, l.costTotal());
      sagas += l.saga() ? 1 : 0;
      violations.addAll(l.violations);
      l.lots.forEach((instrument, lots) -> openLots.merge(instrument, lots, Math::addExact));
      l.movedOut.forEach((key, amount) -> movedOut.merge(key, amount, Math::addExact));
      l.movedIn.forEach((key, amount) -> movedIn.merge(key, amount, Math::addExact));
    }
    // A move arrives with exactly what left; one that has left and not yet arrived is in transit.
    long inTransit = 0;
    for (var out : movedOut.entrySet()) {
      Long in = movedIn.get(out.getKey());
      if (in == null) {
        inTransit = Math.addExact(inTransit, out.getValue());
      } else if (!in.equals(out.getValue())) {
        violations.add("move " + out.getKey() + ": " + out.getValue() + " left but " + in + " arrived");
      }
    }
    movedIn.keySet().stream().filter(key -> !movedOut.containsKey(key)).forEach(key ->
        violations.add("move " + key + ": " + movedIn.get(key) + " arrived but nothing left"));
    // An account's fee sweep it recorded as arrived is in the reserve's journal; one the reserve
    // voided is never recorded as arrived (a void not yet returned by the account is pending).
    java.util.Set<String> voided = new java.util.HashSet<>();
    liquidation.forEach(l -> voided.addAll(l.voidedSweeps));
    for (AccountLedger l : byAccount.values()) {
      for (String key : l.feesCollected) {
        if (!movedIn.containsKey(key) || voided.contains(key)) {
          violations.add(l.accountId + ": fee sweep " + key + " recorded as arrived, but the reserve "
              + (voided.contains(key) ? "voided it" : "never took it in"));
        }
      }
    }
    long debt = 0;
    Map<String, List<String>> transfers = new TreeMap<>();
    Map<String, Long> transferLots = new HashMap<>();
    List<String> partyOf = new ArrayList<>();
    List<AccountLedger.TransferSide> allSides = new ArrayList<>();
    for (AccountLedger l : byAccount.values()) {
      debt = Math.addExact(debt, l.debt);
      for (AccountLedger.TransferSide side : l.transferSides) {
        partyOf.add(l.accountId);
        allSides.add(side);
      }
    }
    for (ReserveLedger l : liquidation) {
      for (AccountLedger.TransferSide side : l.transferSides) {
        partyOf.add("fund " + l.id());
        allSides.add(side);
      }
    }
    for (int i = 0; i < allSides.size(); i++) {
      AccountLedger.TransferSide side = allSides.get(i);
      // A give-back ("/undo") belongs to the close it corrects.
      String close = side.key().endsWith("/undo") ? side.key().substring(0, side.key().length() - 5) : side.key();
      transfers.computeIfAbsent(close, k -> new ArrayList<>()).add(partyOf.get(i) + " " + side.role());
      transferLots.merge(close, side.signedLots(), Math::addExact);
    }
    transfers.forEach((key, parts) -> {
      if (parts.size() < 2 || transferLots.get(key) != 0) {
        violations.add("liquidation transfer " + key + ": sides " + parts + " summing to " + transferLots.get(key)
            + " lots (a close and its counterparty must cancel out)");
      }
    });
    long held = Math.subtractExact(Math.addExact(Math.addExact(Math.subtractExact(Math.addExact(Math.addExact(cash,
        isolated), fees), cost), funds), escrow), owed);
    held = Math.addExact(Math.subtractExact(Math.addExact(held, reserves), fundCost), inTransit);
    // The funding pools hold only rounding residues (payers round up, receivers down): with no
    // interval being paid, exactly what the clock recorded the accounts applied, never below zero.
    long fundingPools = 0;
    Map<String, FundingClockLedger> clockOf = new TreeMap<>();
    clocks.forEach(c -> clockOf.put(c.instrument(), c));
    // Every payment at the rate and mark its clock fixed for that time.
    for (AccountLedger l : ledgers) {
      l.fundingTerms.forEach((key, terms) -> {
        int bar = key.lastIndexOf('|');
        FundingClockLedger clock = clockOf.get(key.substring(0, bar));
        long[] fixed = clock == null ? null : clock.fixed().get(Long.parseLong(key.substring(bar + 1)));
        if (fixed != null && (fixed[0] != terms[0] || fixed[1] != terms[1])) {
          violations.add(l.accountId + ": funding of " + key + " at rate " + terms[0] + " and mark " + terms[1]
              + " but its clock fixed rate " + fixed[0] + " and mark " + fixed[1]);
        }
      });
    }
    for (var pool : pools.entrySet()) {
      fundingPools = Math.addExact(fundingPools, pool.getValue());
      FundingClockLedger clock = clockOf.get(pool.getKey());
      if (clock == null) {
        violations.add("funding pool " + pool.getKey() + " holds " + pool.getValue()
            + " from payments no funding clock recorded");
      } else if (!clock.open()) {
        // Payments redone after a late change (FundingAdjusted) are the accounts' own: no clock records them.
        long expected = Math.negateExact(Math.addExact(clock.recordedNet(), adjusted.getOrDefault(pool.getKey(), 0L)));
        if (pool.getValue() != expected) {
          violations.add("funding pool " + pool.getKey() + " holds " + pool.getValue() + " but its clock recorded "
              + "payments leaving " + Math.negateExact(clock.recordedNet()) + " over " + clock.intervals()
              + " intervals" + (adjusted.containsKey(pool.getKey()) ? ", and the accounts' redone payments "
              + adjusted.get(pool.getKey()) : ""));
        }
        if (pool.getValue() < 0) {
          violations.add("funding pool " + pool.getKey() + " is negative (" + pool.getValue()
              + "): its receivers were paid more than its payers paid");
        }
      }
    }
    held = Math.addExact(held, fundingPools);
    // The settlement pools: zero once every holder of the future is settled (checked per settlement).
    for (long pool : settlementPools.values()) {
      held = Math.addExact(held, pool);
    }
    Map<String, SettlementLedger> settlementOf = new TreeMap<>();
    settlements.forEach(s -> settlementOf.put(s.instrument(), s));
    settlementOf.values().forEach(s -> s.check(byAccount, settlementPools.getOrDefault(s.instrument(), 0L),
        violations));
    settlementPools.forEach((instrument, pool) -> {
      if (!settlementOf.containsKey(instrument) && pool != 0) {
        violations.add("settlement pool " + instrument + " holds " + pool + " from settlements no settlement recorded");
      }
    });
    long external = Math.subtractExact(Math.addExact(Math.subtractExact(deposits, withdrawals), topUps),
        reserveWithdrawals);
    if (held != external) {
      violations.add("cash + isolated margin - position cost + fees + insurance funds + reserves - fund position cost"
          + " + saga escrow + in transit + funding pools + settlement pools - owed isolated shortfalls = " + held
          + " but deposits - withdrawals + top-ups - reserve withdrawals = " + external + " (difference "
          + Math.subtractExact(held, external) + ")");
    }
    openLots.forEach((instrument, lots) -> {
      if (lots != 0) {
        violations.add(instrument + ": open positions sum to " + lots + " lots instead of 0");
      }
    });
    new TreeMap<>(trades).forEach((sequence, t) -> t.check(sequence, violations));
    try {
      TransferAudit transferAudit = new TransferAudit();
      byAccount.values().forEach(l -> transferAudit.add(l.transfers));
      liquidation.forEach(l -> transferAudit.add(l.transfers));
      transferAudit.fundingPools(pools, violations);
      transferAudit.settlementPools(settlementPools, violations);
      transferAudit.check(byAccount, liquidation, fees, Math.subtractExact(Math.addExact(Math.subtractExact(deposits,
          withdrawals), topUps), reserveWithdrawals), violations);
    } catch (ArithmeticException e) {
      violations.add("the transfer ledger does not fit a long: " + e.getMessage());
    }
    checkRegistered(registered, trades, violations);
    // A trade id under two sequences would pass the pairing above: a trade applied twice.
    Map<String, Set<Long>> sequencesById = new TreeMap<>();
    trades.forEach((sequence, t) -> t.tradeIds.forEach(id ->
        sequencesById.computeIfAbsent(id, k -> new java.util.TreeSet<>()).add(sequence)));
    sequencesById.forEach((id, sequences) -> {
      if (sequences.size() > 1) {
        violations.add("trade " + id + " applied under sequences " + sequences);
      }
    });
    return new Report(byAccount.size(), cash, isolated, cost, fees, deposits, withdrawals, sides, funds, topUps, escrow,
        debt, sagas, List.copyOf(violations), reserves, reserveWithdrawals, fundCost, inTransit, fundingPools);
  }

  /**
   * Every trade a register settled has its two sides in the accounts' journals, on the accounts and
   * of the size it recorded; every trade it refused has none (a side reversed counts as none).
   * Trades still being driven are not judged: the audit may run while trading.
   */
  private static void checkRegistered(List<TradeRegister.Entry> registered, Map<Long, TradeSides> trades,
      List<String> violations) {
    for (TradeRegister.Entry entry : registered) {
      var t = entry.trade();
      TradeSides sides = trades.get(t.sequence());
      if (entry.status() == TradeRegister.Status.SETTLED) {
        List<String> expected = List.of(t.buyer() + " " + t.lots(), t.seller() + " " + (-t.lots()));
        if (sides == null || !new HashSet<>(sides.sides).equals(new HashSet<>(expected)) || sides.sides.size() != 2) {
          violations.add("trade sequence " + t.sequence() + " " + t.tradeId() + " is settled in its register as "
              + expected + " but the accounts' journals hold " + (sides == null ? "no side" : sides.sides));
        }
      } else if (entry.status() == TradeRegister.Status.REFUSED && sides != null) {
        violations.add("trade sequence " + t.sequence() + " " + t.tradeId() + " is refused in its register but "
            + "applied to " + sides.sides);
      }
    }
  }

  /** The sides of one trade found in the journal: exactly one buy and one sell of the same size. */
  private static final class TradeSides {
    private final List<String> accounts = new ArrayList<>();
    /** "account signedLots" of each side. */
    private final List<String> sides = new ArrayList<>();
    private final Set<String> tradeIds = new HashSet<>();
    private long lots;
    private int buys;
    private int sells;

    void add(String accountId, AccountLedger.Side side) {
      accounts.add(accountId);
      sides.add(accountId + " " + side.signedLots());
      tradeIds.add(side.tradeId());
      lots = Math.addExact(lots, side.signedLots());
      if (side.signedLots() > 0) {
        buys++;
      } else {
        sells++;
      }
    }

    void check(long sequence, List<String> violations) {
      if (buys != 1 || sells != 1 || lots != 0 || tradeIds.size() != 1) {
        violations.add("trade sequence " + sequence + " " + tradeIds + ": " + buys + " buy side(s) and " + sells
            + " sell side(s) summing to " + lots + " lots, on accounts " + accounts);
      }
    }
  }

  /** Keeps {@link AccountSummary} comparisons out of the replay class. */
  static Map<String, Long> lotsOf(AccountSummary live) {
    Map<String, Long> lots = new HashMap<>();
    for (PositionSummary p : live.positions()) {
      lots.put(p.instrument(), p.lots());
    }
    return lots;
  }
}
