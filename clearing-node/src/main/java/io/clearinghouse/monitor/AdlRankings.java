package io.clearinghouse.monitor;

import io.clearinghouse.margin.AdlRankTable;
import io.clearinghouse.margin.AdlRanking;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The ADL rankings clients see ({@code PositionView.adl_quintile}): each node ranks its own holders
 * once per mark ({@link AdlRanker}, after the monitor's walk, on a thread of its own), and a
 * position's quintile is a binary search in this node's tables plus one question per other node,
 * which that node's ranker answers from its tables. Nothing is asked of a margin monitor: reading
 * the ranking never delays turning marks into liquidations. A node that does not answer in time
 * is left out of that answer.
 *
 * <p>The tables are as of each node's last mark. A position's own score is taken now, so a
 * position that changed since that mark is placed among the others as they were then.
 */
public final class AdlRankings {
  public static final String DISPATCHER = "clearinghouse.adl-ranking.dispatcher";

  /** Per instrument: the longs' table and the shorts' table. */
  private final Map<String, AdlRankTable[]> tables = new ConcurrentHashMap<>();
  private final ActorSystem<?> system;
  private final Duration remoteTimeout;
  private volatile ActorRef<AdlRanker.Command> ranker;
  private volatile Set<ActorRef<AdlRanker.Command>> others = Set.of();

  private AdlRankings(ActorSystem<?> system, Duration remoteTimeout) {
    this.system = system;
    this.remoteTimeout = remoteTimeout;
  }

  /** This node's ranker, registered with the receptionist, and the rankers of the other nodes as they come and go. */
  public static AdlRankings start(ActorSystem<?> system, Duration remoteTimeout) {
    AdlRankings rankings = new AdlRankings(system, remoteTimeout);
    ActorRef<AdlRanker.Command> ranker = system.systemActorOf(AdlRanker.create(rankings), "adl-ranker",
        DispatcherSelector.fromConfig(DISPATCHER));
    rankings.ranker = ranker;
    system.receptionist().tell(Receptionist.register(AdlRanker.SERVICE_KEY, ranker));
    ActorRef<Receptionist.Listing> listener = system.systemActorOf(Behaviors.receiveMessage(listing -> {
      Set<ActorRef<AdlRanker.Command>> all = listing.getServiceInstances(AdlRanker.SERVICE_KEY);
      rankings.others = all.stream().filter(r -> !r.equals(ranker))
          .collect(java.util.stream.Collectors.toUnmodifiableSet());
      return Behaviors.same();
    }), "adl-ranker-listing", org.apache.pekko.actor.typed.Props.empty());
    system.receptionist().tell(Receptionist.subscribe(AdlRanker.SERVICE_KEY, listener));
    return rankings;
  }

  ActorRef<AdlRanker.Command> ranker() {
    return ranker;
  }

  void publish(String instrument, AdlRankTable longs, AdlRankTable shorts) {
    tables.put(instrument, new AdlRankTable[] {longs, shorts});
  }

  AdlRanker.Rank localRank(AdlRanker.Probe probe) {
    AdlRankTable[] sides = tables.get(probe.instrument());
    if (sides == null || probe.sign() == 0) {
      return new AdlRanker.Rank(0, 0);
    }
    AdlRankTable table = sides[probe.sign() > 0 ? 0 : 1];
    return new AdlRanker.Rank(table.above(probe.score()), table.size());
  }

  /** The quintile (1 to 5, 5 first in line) of each probe among every node's ranked holders of its side. */
  public CompletionStage<List<Integer>> quintiles(List<AdlRanker.Probe> probes) {
    List<CompletableFuture<List<AdlRanker.Rank>>> answers = new ArrayList<>();
    answers.add(CompletableFuture.completedFuture(probes.stream().map(this::localRank).toList()));
    if (!probes.isEmpty()) {
      for (ActorRef<AdlRanker.Command> other : others) {
        CompletionStage<AdlRanker.RankAnswer> answer = AskPattern.ask(other,
            replyTo -> new AdlRanker.RankQuery(probes, replyTo), remoteTimeout, system.scheduler());
        answers.add(answer.thenApply(AdlRanker.RankAnswer::ranks)
            .exceptionally(failure -> probes.stream().map(p -> new AdlRanker.Rank(0, 0)).toList())
            .toCompletableFuture());
      }
    }
    return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(done -> {
      List<Integer> quintiles = new ArrayList<>(probes.size());
      for (int i = 0; i < probes.size(); i++) {
        long above = 0;
        long total = 0;
        for (CompletableFuture<List<AdlRanker.Rank>> answer : answers) {
          List<AdlRanker.Rank> ranks = answer.join();
          if (i < ranks.size()) {
            above += ranks.get(i).above();
            total += ranks.get(i).total();
          }
        }
        // The position itself is among them unless it changed since the last mark (or is new).
        total = Math.max(total, above + 1);
        quintiles.add(AdlRanking.quintile((int) Math.min(Integer.MAX_VALUE - 1, above),
            (int) Math.min(Integer.MAX_VALUE, total)));
      }
      return quintiles;
    });
  }
}
