package io.clearinghouse.expiry;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.monitor.MarginMonitor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * One round of a dated future's settlement, in two steps so that the settlement can write down
 * whom it asks before asking ({@link ExpirySettlement.SettlementsRequested}): find the accounts
 * still holding the future, then settle the ones the settlement names and say what they applied.
 */
public interface SettlementFanOut {

  /**
   * {@code accountIds}: holders found that the settlement has not recorded ({@code done});
   * {@code complete}: every node's monitor answered (unreachable ones included) and none had more
   * than a batch; {@code monitorsChangedAt}: when this fan-out last saw the set of monitors change
   * (a node removed or joined; 0: never), after which a removed node's accounts still restart
   * elsewhere and report to their new monitors.
   */
  record Due(List<String> accountIds, boolean complete, long monitorsChangedAt) {
    public Due {
      accountIds = List.copyOf(accountIds);
    }

    public Due(List<String> accountIds, boolean complete) {
      this(accountIds, complete, 0);
    }
  }

  CompletionStage<Due> due(String instrument, Set<String> done, ExpirySettings settings);

  /**
   * Each named account's settlement, now or before (a repeat answers with the first); an account
   * missing from the answer did not settle now (no answer in time, or being liquidated) and is
   * asked again.
   */
  CompletionStage<Map<String, AccountEntity.SettlementApplied>> settle(String instrument, long expiryMillis,
      long priceTicks, Collection<String> accountIds, ExpirySettings settings);

  /**
   * The cluster's fan-out: every node's margin monitor (through the receptionist) names its
   * accounts holding the instrument (the funding query with no funding time passed: every holder);
   * each is sent its settlement through sharding, {@code parallelism} at a time. Monitors on
   * unreachable nodes are asked too (the receptionist's full listing): they do not answer, so no
   * round is complete while a node is unreachable; once the node is removed, the set of monitors
   * changed, and the settlement waits {@code settle-window} from then (issue 17 review).
   */
  static SettlementFanOut viaMonitors(ActorSystem<?> system) {
    ClusterSharding sharding = ClusterSharding.get(system);
    return new SettlementFanOut() {
      private Set<ActorRef<MarginMonitor.Command>> lastMonitors;
      private long monitorsChangedAt;

      /** The time the set of monitors last changed as this fan-out saw it (its first look counts as a change). */
      private synchronized long changedAt(Set<ActorRef<MarginMonitor.Command>> monitors) {
        if (!monitors.equals(lastMonitors)) {
          lastMonitors = Set.copyOf(monitors);
          monitorsChangedAt = System.currentTimeMillis();
        }
        return monitorsChangedAt;
      }

      @Override
      public CompletionStage<Due> due(String instrument, Set<String> done, ExpirySettings settings) {
        Duration timeout = settings.askTimeout();
        CompletionStage<Receptionist.Listing> listing = AskPattern.ask(system.receptionist(),
            replyTo -> Receptionist.find(MarginMonitor.SERVICE_KEY, replyTo), timeout, system.scheduler());
        return listing.thenCompose(found -> {
          Set<ActorRef<MarginMonitor.Command>> monitors = found.getAllServiceInstances(MarginMonitor.SERVICE_KEY);
          long changed = changedAt(monitors);
          AtomicBoolean complete = new AtomicBoolean(!monitors.isEmpty());
          List<CompletableFuture<List<String>>> answers = new ArrayList<>();
          for (ActorRef<MarginMonitor.Command> monitor : monitors) {
            CompletionStage<MarginMonitor.FundingHolders> answer = AskPattern.ask(monitor,
                replyTo -> new MarginMonitor.FundingHoldersQuery(instrument, Long.MAX_VALUE, settings.batch(),
                    replyTo), timeout, system.scheduler());
            answers.add(answer.thenApply(a -> {
              if (a.more()) {
                complete.set(false);
              }
              return a.accountIds();
            }).exceptionally(failure -> {
              complete.set(false);
              return List.of();
            }).toCompletableFuture());
          }
          return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(all -> {
            Set<String> due = new LinkedHashSet<>();
            answers.forEach(a -> a.join().stream().filter(id -> !done.contains(id)).forEach(due::add));
            return new Due(new ArrayList<>(due), complete.get(), changed);
          });
        });
      }

      @Override
      public CompletionStage<Map<String, AccountEntity.SettlementApplied>> settle(String instrument,
          long expiryMillis, long priceTicks, Collection<String> accountIds, ExpirySettings settings) {
        Duration timeout = settings.askTimeout();
        return Source.from(new ArrayList<>(accountIds))
            .mapAsyncUnordered(settings.parallelism(), accountId -> sharding
                .entityRefFor(AccountEntity.TYPE_KEY, accountId)
                .<AccountEntity.Reply>ask(replyTo -> new AccountEntity.ApplySettlement(instrument, expiryMillis,
                    priceTicks, replyTo), timeout)
                .handle((reply, failure) -> Pair.create(accountId, failure == null ? reply : null)))
            .runWith(Sink.seq(), system)
            .thenApply(replies -> {
              Map<String, AccountEntity.SettlementApplied> settled = new HashMap<>();
              for (Pair<String, AccountEntity.Reply> r : replies) {
                if (r.second() instanceof AccountEntity.SettlementDone d) {
                  settled.put(r.first(), d.settlement());
                }
                // No answer in time, or not now (being liquidated): still requested, asked again next round.
              }
              return settled;
            });
      }
    };
  }
}
