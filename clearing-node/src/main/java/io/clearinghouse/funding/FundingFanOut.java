package io.clearinghouse.funding;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.FundingLedger;
import io.clearinghouse.monitor.MarginMonitor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
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
 * One payment round of an open interval, in two steps so that the clock can write down whom it
 * asks before asking ({@link FundingClock.PaymentsRequested}): find the accounts due, then pay
 * the ones the clock names and say what they applied.
 */
public interface FundingFanOut {

  /**
   * {@code accountIds}: accounts due that the clock has not recorded as paid; {@code complete}:
   * every node's monitor answered and none had more than a batch.
   */
  record Due(List<String> accountIds, boolean complete) {
    public Due {
      accountIds = List.copyOf(accountIds);
    }
  }

  /**
   * {@code amounts}: what each account paid (negative) or received, now or before (a repeat
   * answers with the first payment); {@code refused}: accounts that refused the payment (they
   * never apply it: asking again is pointless); the others did not answer in time. {@code late}:
   * per account, earlier intervals it had missed and paid with this one (funding time to amount).
   */
  record Paid(Map<String, Long> amounts, Set<String> refused, Map<String, Map<Long, Long>> late) {
    public Paid {
      amounts = Map.copyOf(amounts);
      refused = Set.copyOf(refused);
      late = late == null ? Map.of() : Map.copyOf(late);
    }

    public Paid(Map<String, Long> amounts, Set<String> refused) {
      this(amounts, refused, Map.of());
    }
  }

  CompletionStage<Due> due(String instrument, FundingClock.Open open, FundingSettings settings);

  /** {@code earlier}: the clock's last closed intervals, offered to accounts that missed them. */
  CompletionStage<Paid> pay(String instrument, FundingClock.Open open, List<FundingLedger.Interval> earlier,
      Collection<String> accountIds, FundingSettings settings);

  /**
   * The cluster's fan-out: every node's margin monitor (found through the receptionist) names its
   * accounts due; each is sent its payment through sharding, {@code parallelism} at a time.
   */
  static FundingFanOut viaMonitors(ActorSystem<?> system) {
    ClusterSharding sharding = ClusterSharding.get(system);
    return new FundingFanOut() {
      @Override
      public CompletionStage<Due> due(String instrument, FundingClock.Open open, FundingSettings settings) {
        Duration timeout = settings.askTimeout();
        CompletionStage<Receptionist.Listing> listing = AskPattern.ask(system.receptionist(),
            replyTo -> Receptionist.find(MarginMonitor.SERVICE_KEY, replyTo), timeout, system.scheduler());
        return listing.thenCompose(found -> {
          Set<ActorRef<MarginMonitor.Command>> monitors = found.getServiceInstances(MarginMonitor.SERVICE_KEY);
          AtomicBoolean complete = new AtomicBoolean(!monitors.isEmpty());
          List<CompletableFuture<List<String>>> answers = new ArrayList<>();
          for (ActorRef<MarginMonitor.Command> monitor : monitors) {
            CompletionStage<MarginMonitor.FundingHolders> answer = AskPattern.ask(monitor,
                replyTo -> new MarginMonitor.FundingHoldersQuery(instrument, open.fundingTime(), settings.batch(),
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
            answers.forEach(a -> a.join().stream().filter(id -> !open.paid().containsKey(id)).forEach(due::add));
            return new Due(new ArrayList<>(due), complete.get());
          });
        });
      }

      @Override
      public CompletionStage<Paid> pay(String instrument, FundingClock.Open open, List<FundingLedger.Interval> earlier,
          Collection<String> accountIds, FundingSettings settings) {
        Duration timeout = settings.askTimeout();
        return Source.from(new ArrayList<>(accountIds))
            .mapAsyncUnordered(settings.parallelism(), accountId -> sharding
                .entityRefFor(AccountEntity.TYPE_KEY, accountId)
                .<AccountEntity.Reply>ask(replyTo -> new AccountEntity.ApplyFunding(instrument, open.fundingTime(),
                    open.rate(), open.markTicks(), replyTo, earlier), timeout)
                .handle((reply, failure) -> Pair.create(accountId, failure == null ? reply : null)))
            .runWith(Sink.seq(), system)
            .thenApply(replies -> {
              Map<String, Long> amounts = new HashMap<>();
              Set<String> refused = new HashSet<>();
              Map<String, Map<Long, Long>> late = new HashMap<>();
              for (Pair<String, AccountEntity.Reply> r : replies) {
                if (r.second() instanceof AccountEntity.FundingPaid paid) {
                  amounts.put(r.first(), paid.amount());
                  if (!paid.late().isEmpty()) {
                    late.put(r.first(), paid.late());
                  }
                } else if (r.second() instanceof AccountEntity.Rejected) {
                  // An account that no longer exists, or a payment it cannot apply: not asked again.
                  refused.add(r.first());
                }
                // No answer in time: still requested, asked again next round.
              }
              return new Paid(amounts, refused, late);
            });
      }
    };
  }
}
