package io.clearinghouse.ops;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.account.PositionSummary;
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
 * <pre>  sum(cash) + sum(isolated margin) - sum(position cost) + fee revenue == deposits - withdrawals</pre>
 *
 * must hold; so must: no negative cash; every trade side moved exactly its value
 * ({@code realized - costDelta == -lots * price * multiplier}); every trade applied to exactly one
 * buyer and one seller with opposite quantities (none half-applied, none twice); open positions
 * summing to zero per instrument; and every running account agreeing with its own journal.
 * Each violation is named with the account and the amount.
 */
public final class LedgerAudit {
  private static final String ACCOUNT_PREFIX = AccountEntity.TYPE_KEY.name() + "|";

  /** What the audit found. Amounts are minor units of the settlement asset. */
  public record Report(int accounts, long totalCash, long totalIsolatedMargin, long totalPositionCost, long feeRevenue,
      long deposits, long withdrawals, long tradeSidesApplied, List<String> violations) {
    public boolean clean() {
      return violations.isEmpty();
    }
  }

  private final ActorSystem<?> system;
  private final CassandraReadJournal journal;
  private final Accounts accounts;
  private final Instruments instruments;

  public LedgerAudit(ActorSystem<?> system, Accounts accounts, Instruments instruments) {
    this.system = system;
    this.journal = PersistenceQuery.get(system)
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    this.accounts = accounts;
    this.instruments = instruments;
  }

  public CompletionStage<Report> run() {
    return journal.currentPersistenceIds()
        .filter(id -> id.startsWith(ACCOUNT_PREFIX))
        .mapAsync(4, id -> replay(id.substring(ACCOUNT_PREFIX.length())))
        .mapAsync(4, this::compareWithLiveState)
        .runWith(Sink.seq(), system)
        .thenApply(this::summarize);
  }

  private CompletionStage<AccountLedger> replay(String accountId) {
    return journal.currentEventsByPersistenceId(ACCOUNT_PREFIX + accountId, 0L, Long.MAX_VALUE)
        .map(EventEnvelope::event)
        .runWith(Sink.seq(), system)
        .thenApply(events -> AccountLedger.replay(accountId, events, instruments));
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

  private Report summarize(List<AccountLedger> ledgers) {
    Map<String, AccountLedger> byAccount = new TreeMap<>();
    ledgers.forEach(l -> byAccount.put(l.accountId, l));
    long cash = 0;
    long isolated = 0;
    long cost = 0;
    long fees = 0;
    long deposits = 0;
    long withdrawals = 0;
    long sides = 0;
    List<String> violations = new ArrayList<>();
    Map<String, Long> openLots = new TreeMap<>();
    Map<Long, TradeSides> trades = new HashMap<>();
    for (AccountLedger l : byAccount.values()) {
      cash = Math.addExact(cash, l.cash);
      isolated = Math.addExact(isolated, l.isolatedTotal());
      cost = Math.addExact(cost, l.costTotal());
      fees = Math.addExact(fees, l.fees);
      deposits = Math.addExact(deposits, l.deposits);
      withdrawals = Math.addExact(withdrawals, l.withdrawals);
      sides += l.tradeSides.size();
      violations.addAll(l.violations);
      l.lots.forEach((instrument, lots) -> openLots.merge(instrument, lots, Math::addExact));
      for (AccountLedger.Side side : l.tradeSides) {
        trades.computeIfAbsent(side.sequence(), s -> new TradeSides()).add(l.accountId, side);
      }
    }
    long held = Math.subtractExact(Math.addExact(Math.addExact(cash, isolated), fees), cost);
    long external = Math.subtractExact(deposits, withdrawals);
    if (held != external) {
      violations.add("cash + isolated margin - position cost + fees = " + held + " but deposits - withdrawals = "
          + external + " (difference " + Math.subtractExact(held, external) + ")");
    }
    openLots.forEach((instrument, lots) -> {
      if (lots != 0) {
        violations.add(instrument + ": open positions sum to " + lots + " lots instead of 0");
      }
    });
    new TreeMap<>(trades).forEach((sequence, t) -> t.check(sequence, violations));
    // A trade id under two sequences would pass the pairing above: a trade applied twice.
    Map<String, Set<Long>> sequencesById = new TreeMap<>();
    trades.forEach((sequence, t) -> t.tradeIds.forEach(id ->
        sequencesById.computeIfAbsent(id, k -> new java.util.TreeSet<>()).add(sequence)));
    sequencesById.forEach((id, sequences) -> {
      if (sequences.size() > 1) {
        violations.add("trade " + id + " applied under sequences " + sequences);
      }
    });
    return new Report(byAccount.size(), cash, isolated, cost, fees, deposits, withdrawals, sides,
        List.copyOf(violations));
  }

  /** The sides of one trade found in the journal: exactly one buy and one sell of the same size. */
  private static final class TradeSides {
    private final List<String> accounts = new ArrayList<>();
    private final Set<String> tradeIds = new HashSet<>();
    private long lots;
    private int buys;
    private int sells;

    void add(String accountId, AccountLedger.Side side) {
      accounts.add(accountId);
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
