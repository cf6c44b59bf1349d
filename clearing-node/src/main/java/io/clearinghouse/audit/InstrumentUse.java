package io.clearinghouse.audit;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.UnreadableJournals;
import io.clearinghouse.liquidation.InsuranceFund;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.japi.pf.PFBuilder;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Whether the journal holds positions in an instrument, read from every account's and reserve's
 * journal: for the rare retirement of an instrument (dropping it from the configuration), never on
 * a hot path. An instrument is unused when no account ever took a position or reserved an order in
 * it and no insurance fund ever took one over: its units are then in no stored figure, and no read
 * of the journal (the audit, the liquidation records) needs it. One whose positions were all closed
 * is still used (its past trades are read in its units). A journal holding an event that does not
 * read (JOURNAL_UNREADABLE) is counted up to that event and named: the rest of it may hold a
 * position in any instrument, so while it is listed no instrument is known to be unused.
 */
public final class InstrumentUse {
  private static final String ACCOUNT_PREFIX = AccountEntity.TYPE_KEY.name() + "|";

  /**
   * What the journal holds of one instrument: accounts whose position in it is open now, accounts
   * that ever had a position or an order in it, insurance funds that ever took a position in it.
   */
  public record Use(int openPositions, int accountsThatTraded, int fundsThatHeld, Map<String, String> unreadable) {
    public Use {
      unreadable = java.util.Collections.unmodifiableMap(new TreeMap<>(unreadable));
    }

    public Use(int openPositions, int accountsThatTraded, int fundsThatHeld) {
      this(openPositions, accountsThatTraded, fundsThatHeld, Map.of());
    }

    /** No journal that reads holds it, and every journal read (so none can hold it unseen). */
    public boolean unused() {
      return accountsThatTraded == 0 && fundsThatHeld == 0 && unreadable.isEmpty();
    }

    @Override
    public String toString() {
      String use = openPositions + " accounts hold a position in it now, " + accountsThatTraded
          + " accounts ever held a position or an order in it, " + fundsThatHeld + " insurance funds held one";
      if (unreadable.isEmpty()) {
        return use;
      }
      StringBuilder journals = new StringBuilder();
      unreadable.forEach((id, cause) -> journals.append(journals.length() == 0 ? "" : "; ").append(id).append(": ")
          .append(cause));
      return use + "; and " + unreadable.size() + " journals do not read (JOURNAL_UNREADABLE) past an event, so what "
          + "they hold is not known: " + journals;
    }
  }

  private InstrumentUse() {}

  /** The use of each of {@code symbols}. */
  public static CompletionStage<Map<String, Use>> of(ActorSystem<?> system, Set<String> symbols) {
    CassandraReadJournal journal = PersistenceQuery.get(system)
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    return journal.currentPersistenceIds()
        .filter(id -> id.startsWith(ACCOUNT_PREFIX) || ReserveLedger.covers(id))
        .mapAsync(4, id -> journal.currentEventsByPersistenceId(id, 0L, Long.MAX_VALUE)
            .map(EventEnvelope::event)
            // An event that does not read ends this journal's read (named), never the whole answer;
            // a journal that does not answer (Cassandra) still fails it, to be asked again.
            .recover(new PFBuilder<Throwable, Object>()
                .match(Throwable.class, failure -> UnreadableJournals.unreadable(failure).isPresent(),
                    failure -> new Unreadable(UnreadableJournals.unreadable(failure).get()))
                .build())
            .runWith(Sink.seq(), system)
            .thenApply(events -> new Journal(id, id.startsWith(ACCOUNT_PREFIX), events)))
        .runWith(Sink.fold(new Totals(), (totals, read) -> {
          read.count(symbols, totals);
          return totals;
        }), system)
        .thenApply(totals -> {
          Map<String, Use> uses = new TreeMap<>();
          for (String symbol : symbols) {
            int[] t = totals.bySymbol.getOrDefault(symbol, new int[3]);
            uses.put(symbol, new Use(t[0], t[1], t[2], totals.unreadable));
          }
          return uses;
        });
  }

  /** Marks the end of a journal read up to an event that did not read. */
  private record Unreadable(String cause) {}

  private static final class Totals {
    final Map<String, int[]> bySymbol = new TreeMap<>();
    final Map<String, String> unreadable = new TreeMap<>();
  }

  private record Journal(String persistenceId, boolean account, List<Object> events) {
    /** Adds this journal to {@code totals}: per symbol, open positions, accounts that traded, funds. */
    void count(Set<String> symbols, Totals all) {
      Map<String, int[]> totals = all.bySymbol;
      Map<String, Long> lots = new HashMap<>();
      for (Object event : events) {
        if (event instanceof Unreadable u) {
          all.unreadable.put(persistenceId, u.cause());
          continue;
        }
        String instrument = null;
        long signedLots = 0;
        if (event instanceof AccountEntity.TradeCleared t) {
          instrument = t.instrument();
          signedLots = t.signedLots();
        } else if (event instanceof AccountEntity.TradeSideReversed r && r.instrument() != null) {
          instrument = r.instrument();
          signedLots = r.signedLots();
        } else if (event instanceof AccountEntity.LiquidationTransfer l) {
          instrument = l.instrument();
          signedLots = l.signedLots();
        } else if (event instanceof AccountEntity.MarginReserved m) {
          instrument = m.instrument();
        } else if (event instanceof InsuranceFund.PositionTaken p) {
          instrument = p.instrument();
          signedLots = p.signedLots();
        }
        if (instrument != null && symbols.contains(instrument)) {
          lots.merge(instrument, signedLots, Math::addExact);
        }
      }
      lots.forEach((symbol, net) -> {
        int[] t = totals.computeIfAbsent(symbol, s -> new int[3]);
        if (account) {
          t[0] += net != 0 ? 1 : 0;
          t[1]++;
        } else {
          t[2]++;
        }
      });
    }
  }
}
