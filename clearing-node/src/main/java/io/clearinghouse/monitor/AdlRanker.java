package io.clearinghouse.monitor;

import io.clearinghouse.margin.AdlRankTable;
import io.clearinghouse.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * Rebuilds this node's ADL ranking of an instrument after the margin monitor evaluated one of its
 * marks (the monitor hands over its holders and the marks it read, and goes back to turning marks
 * into liquidations), and answers other nodes' rank questions from the tables it built. Rebuilds
 * that arrive while one is running are merged: the newest per instrument is built next.
 */
public final class AdlRanker {
  private AdlRanker() {}

  public sealed interface Command {}

  /** From this node's monitor: the holders of {@code instrument} (at {@code slot}) and the marks it read. */
  record Rebuild(String instrument, int slot, MarginMonitor.Tracked[] holders, long[] markTicks, boolean[] usable)
      implements Command {}

  private enum RunPending implements Command {
    INSTANCE
  }

  /** One position's place to find: its instrument, its side and its own score. */
  public record Probe(String instrument, int sign, long score) implements CborSerializable {}

  /** Where a probe stands among this node's ranked holders of its side: how many score higher, of how many. */
  public record Rank(int above, int total) implements CborSerializable {}

  /** From another node: the ranks of {@code probes} here, in their order. */
  public record RankQuery(List<Probe> probes, ActorRef<RankAnswer> replyTo) implements Command, CborSerializable {}

  public record RankAnswer(List<Rank> ranks) implements CborSerializable {
    public RankAnswer {
      ranks = List.copyOf(ranks);
    }
  }

  public static final ServiceKey<Command> SERVICE_KEY = ServiceKey.create(Command.class, "adl-ranker");

  static Behavior<Command> create(AdlRankings rankings) {
    Map<String, Rebuild> pending = new LinkedHashMap<>();
    return Behaviors.setup(context -> Behaviors.receive(Command.class)
        .onMessage(Rebuild.class, rebuild -> {
          if (pending.isEmpty()) {
            context.getSelf().tell(RunPending.INSTANCE);
          }
          pending.put(rebuild.instrument(), rebuild);
          return Behaviors.same();
        })
        .onMessageEquals(RunPending.INSTANCE, () -> {
          List<Rebuild> due = new ArrayList<>(pending.values());
          pending.clear();
          for (Rebuild rebuild : due) {
            rankings.publish(rebuild.instrument(), build(rebuild, 1), build(rebuild, -1));
          }
          return Behaviors.same();
        })
        .onMessage(RankQuery.class, query -> {
          query.replyTo().tell(new RankAnswer(query.probes().stream().map(rankings::localRank).toList()));
          return Behaviors.same();
        })
        .build());
  }

  /**
   * The scores of the holders on side {@code sign}, not being liquidated, at the marks the monitor
   * read; a holder whose figures cannot be scored (an overflow on absurd marks) is left out.
   */
  static AdlRankTable build(Rebuild rebuild, int sign) {
    if (!rebuild.usable()[rebuild.slot()]) {
      return AdlRankTable.EMPTY;
    }
    long[] scores = new long[rebuild.holders().length];
    int count = 0;
    for (MarginMonitor.Tracked t : rebuild.holders()) {
      if (t.liquidating) {
        continue;
      }
      for (MarginMonitor.Held h : t.positions) {
        if (h.slot() == rebuild.slot() && Long.signum(h.lots()) == sign) {
          try {
            long score = MarginMonitor.adlScore(t, h, rebuild.markTicks(), rebuild.usable());
            if (count == scores.length) {
              scores = java.util.Arrays.copyOf(scores, Math.max(4, count * 2));
            }
            scores[count++] = score;
          } catch (ArithmeticException e) {
            // Unranked, like an account the monitor cannot evaluate.
          }
        }
      }
    }
    return AdlRankTable.sortingInPlace(scores, count);
  }
}
