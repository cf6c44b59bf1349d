package io.clearinghouse.ops;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.Accounts;
import java.util.ArrayList;
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
 * any actor's memory: every account's cash is replayed from its events and
 *
 * <pre>  sum(cash) == deposits - withdrawals</pre>
 *
 * must hold, no account may have negative cash, no idempotency key may have moved money twice,
 * and every running account must agree with its own journal. Each violation is named.
 */
public final class LedgerAudit {
  private static final String ACCOUNT_PREFIX = AccountEntity.TYPE_KEY.name() + "|";

  /** What the audit found. Amounts are minor units of the settlement asset. */
  public record Report(int accounts, long totalCash, long deposits, long withdrawals, List<String> violations) {
    public boolean clean() {
      return violations.isEmpty();
    }
  }

  private final ActorSystem<?> system;
  private final CassandraReadJournal journal;
  private final Accounts accounts;

  public LedgerAudit(ActorSystem<?> system, Accounts accounts) {
    this.system = system;
    this.journal = PersistenceQuery.get(system)
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    this.accounts = accounts;
  }

  public CompletionStage<Report> run() {
    return journal.currentPersistenceIds()
        .filter(id -> id.startsWith(ACCOUNT_PREFIX))
        .mapAsync(4, id -> replay(id.substring(ACCOUNT_PREFIX.length())))
        .mapAsync(4, this::compareWithLiveState)
        .runWith(Sink.seq(), system)
        .thenApply(LedgerAudit::summarize);
  }

  /** One account as its journal tells it. */
  private record Replayed(String accountId, boolean opened, long cash, long deposits, long withdrawals,
      List<String> violations) {}

  private CompletionStage<Replayed> replay(String accountId) {
    return journal.currentEventsByPersistenceId(ACCOUNT_PREFIX + accountId, 0L, Long.MAX_VALUE)
        .map(EventEnvelope::event)
        .runWith(Sink.seq(), system)
        .thenApply(events -> fold(accountId, events));
  }

  private static Replayed fold(String accountId, List<Object> events) {
    boolean opened = false;
    long cash = 0;
    long deposits = 0;
    long withdrawals = 0;
    Set<String> keys = new HashSet<>();
    List<String> violations = new ArrayList<>();
    for (Object event : events) {
      if (event instanceof AccountEntity.AccountOpened) {
        opened = true;
      } else if (event instanceof AccountEntity.Deposited d) {
        cash = Math.addExact(cash, d.amount());
        deposits = Math.addExact(deposits, d.amount());
        if (!keys.add(d.idempotencyKey())) {
          violations.add(accountId + ": idempotency key " + d.idempotencyKey() + " moved money twice");
        }
      } else if (event instanceof AccountEntity.Withdrawn w) {
        cash = Math.subtractExact(cash, w.amount());
        withdrawals = Math.addExact(withdrawals, w.amount());
        if (!keys.add(w.idempotencyKey())) {
          violations.add(accountId + ": idempotency key " + w.idempotencyKey() + " moved money twice");
        }
      }
      if (cash < 0) {
        violations.add(accountId + ": cash went negative (" + cash + ")");
      }
    }
    return new Replayed(accountId, opened, cash, deposits, withdrawals, violations);
  }

  private CompletionStage<Replayed> compareWithLiveState(Replayed replayed) {
    if (!replayed.opened()) {
      return CompletableFuture.completedFuture(replayed);
    }
    return accounts.get(replayed.accountId()).thenApply(live -> {
      if (live.cash() == replayed.cash()) {
        return replayed;
      }
      List<String> violations = new ArrayList<>(replayed.violations());
      violations.add(replayed.accountId() + ": running account holds " + live.cash()
          + " but its journal adds up to " + replayed.cash());
      return new Replayed(replayed.accountId(), true, replayed.cash(), replayed.deposits(), replayed.withdrawals(),
          violations);
    });
  }

  private static Report summarize(List<Replayed> replayed) {
    Map<String, Replayed> byAccount = new TreeMap<>();
    replayed.forEach(r -> byAccount.put(r.accountId(), r));
    long totalCash = 0;
    long deposits = 0;
    long withdrawals = 0;
    List<String> violations = new ArrayList<>();
    for (Replayed r : byAccount.values()) {
      totalCash = Math.addExact(totalCash, r.cash());
      deposits = Math.addExact(deposits, r.deposits());
      withdrawals = Math.addExact(withdrawals, r.withdrawals());
      violations.addAll(r.violations());
    }
    long external = Math.subtractExact(deposits, withdrawals);
    if (totalCash != external) {
      violations.add("sum of cash " + totalCash + " != deposits - withdrawals " + external
          + " (difference " + Math.subtractExact(totalCash, external) + ")");
    }
    return new Report(byAccount.size(), totalCash, deposits, withdrawals, List.copyOf(violations));
  }
}
