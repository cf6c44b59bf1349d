package io.clearinghouse.monitor;

import io.clearinghouse.margin.ReserveRules;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.persistence.CborSerializable;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * Scheduled stress tests (issue 16 item 8): one runner per cluster (a singleton on the oldest
 * node) runs the configured scenarios every interval through {@link StressTest}, keeps the last
 * runs (in memory: a new runner after a failover starts a new history), sets the metrics on its
 * node, and logs a warning when a fund's deficit under a scenario reaches the warning share of its
 * free balance and an error at the action share (Eurex's 40% and 90% by default).
 */
public final class StressSchedule {
  private StressSchedule() {}

  /** OK, WARNING or ACTION: names are part of the API. */
  public enum Level { OK, WARNING, ACTION }

  /** One fund under one scenario of a run. */
  public record FundLevel(String fund, long freeBalance, long deficit, long sharePpm, Level level)
      implements CborSerializable {}

  /**
   * One scenario of one run; {@code nodes} margin monitors were asked, {@code nodesAnswered} answered
   * in time (the accounts of the others are not in the figures); {@code approximate} as in the report.
   */
  public record Run(long epochMillis, String scenario, long accountsLiquidated, long notional, long deficits,
      List<FundLevel> funds, Level level, int nodes, int nodesAnswered, boolean approximate)
      implements CborSerializable {
    public Run {
      funds = List.copyOf(funds);
    }
  }

  public sealed interface Command extends CborSerializable {}

  /** The last {@code limit} runs, newest first. */
  public record GetHistory(int limit, ActorRef<History> replyTo) implements Command {}

  public record History(List<Run> runs) implements CborSerializable {
    public History {
      runs = List.copyOf(runs);
    }
  }

  private enum Tick implements Command { INSTANCE }

  private record Done(List<Run> runs, String failure) implements Command {
    Done {
      runs = runs == null ? List.of() : List.copyOf(runs);
    }
  }

  /** Starts the runner (when scheduled) and returns the proxy to ask for the history (null when off). */
  public static ActorRef<Command> init(ActorSystem<?> system, StressTest stress, Metrics metrics, Clock clock) {
    StressSettings.Schedule schedule = stress.settings().schedule();
    if (!schedule.enabled()) {
      return null;
    }
    return ClusterSingleton.get(system).init(SingletonActor.of(behavior(stress, schedule, metrics, clock),
        "stress-schedule"));
  }

  /** The history through the proxy; empty when no schedule runs. */
  public static CompletionStage<History> history(ActorSystem<?> system, ActorRef<Command> runner, int limit,
      java.time.Duration timeout) {
    if (runner == null) {
      return java.util.concurrent.CompletableFuture.completedFuture(new History(List.of()));
    }
    return AskPattern.ask(runner, replyTo -> new GetHistory(limit, replyTo), timeout, system.scheduler());
  }

  static Behavior<Command> behavior(StressTest stress, StressSettings.Schedule schedule, Metrics metrics,
      Clock clock) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, schedule.interval());
      context.getSelf().tell(Tick.INSTANCE);
      ArrayDeque<Run> history = new ArrayDeque<>();
      boolean[] running = {false};
      return Behaviors.receiveMessage(message -> {
        if (message == Tick.INSTANCE && !running[0]) {
          running[0] = true;
          List<StressTest.Shocks> scenarios = schedule.scenarios().stream().map(stress::scenario).toList();
          long now = clock.millis();
          CompletionStage<List<Run>> runs;
          try {
            runs = stress.run(scenarios, 0).thenApply(report -> runs(report, schedule, now));
          } catch (RuntimeException e) {
            runs = java.util.concurrent.CompletableFuture.failedFuture(e);
          }
          context.pipeToSelf(runs, (done, failure) -> new Done(done, failure == null ? null : failure.toString()));
        } else if (message instanceof Done done) {
          running[0] = false;
          if (done.failure() != null) {
            // Counted as well as logged: a run refused (a scenario with no fresh mark to shock, no
            // monitor answering) must not leave the last run's levels looking current.
            metrics.stressRunFailed();
            context.getLog().warn("Scheduled stress test failed (run again next time): {}", done.failure());
          }
          for (Run run : done.runs()) {
            history.addFirst(run);
            while (history.size() > schedule.history()) {
              history.removeLast();
            }
            metrics.stressRun(run.scenario(), run.level().ordinal(), run.accountsLiquidated(), run.funds().stream()
                .map(f -> new Metrics.StressFund(f.fund(), f.sharePpm())).toList());
            if (run.level() != Level.OK) {
              String funds = run.funds().stream().filter(f -> f.level() != Level.OK)
                  .map(f -> f.fund() + " " + f.level() + " (loss " + f.deficit() + " against a free balance of " + f.freeBalance() + ", minor units)")
                  .reduce((a, b) -> a + ", " + b).orElse("");
              if (run.level() == Level.ACTION) {
                context.getLog().error("Stress scenario {} reaches the action level: {}", run.scenario(), funds);
              } else {
                context.getLog().warn("Stress scenario {} reaches the warning level: {}", run.scenario(), funds);
              }
            }
          }
        } else if (message instanceof GetHistory get) {
          List<Run> page = new ArrayList<>();
          for (Run run : history) {
            if (page.size() >= Math.max(0, get.limit())) {
              break;
            }
            page.add(run);
          }
          get.replyTo().tell(new History(page));
        }
        return Behaviors.same();
      });
    }));
  }

  /** A report's scenarios as runs: each fund's deficit after its own penalties against its free balance. */
  static List<Run> runs(StressTest.Report report, StressSettings.Schedule schedule, long epochMillis) {
    List<Run> runs = new ArrayList<>();
    for (StressTest.ScenarioReport r : report.scenarios()) {
      List<FundLevel> funds = new ArrayList<>();
      Level worst = Level.OK;
      for (StressTest.FundFigures f : r.funds()) {
        long deficit = f.loss();
        long share = ReserveRules.coverSharePpm(deficit, f.freeBalance());
        Level level = share >= schedule.actionSharePpm() ? Level.ACTION
            : share >= schedule.warningSharePpm() ? Level.WARNING : Level.OK;
        funds.add(new FundLevel(f.fund(), f.freeBalance(), deficit, share, level));
        if (level.ordinal() > worst.ordinal()) {
          worst = level;
        }
      }
      long notional = r.notional().values().stream().mapToLong(Long::longValue).reduce(0, Math::addExact);
      runs.add(new Run(epochMillis, r.name(), r.accountsLiquidated(), notional, r.deficits(), funds, worst,
          report.nodes(), report.nodesAnswered(), r.approximate()));
    }
    return runs;
  }
}
