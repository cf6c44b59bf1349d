package io.clearinghouse.liquidation;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.clearinghouse.common.Ppm;
import io.clearinghouse.instrument.InstrumentSpec;
import io.clearinghouse.persistence.CborSerializable;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reserves' schedule (DESIGN section 6), one per cluster (a cluster singleton): every
 * {@code interval} it moves each configured share of a reserve (platform revenue, usually) into
 * another (an insurance fund), capped per run, and has every insurance fund that may take
 * positions over look at its positions to unwind. A move is two steps with the same key, one per
 * period: out of the source into transit, then into the destination; a move that left and did not
 * arrive (a crash between the two) is delivered on the next run, so transit empties again. Every
 * movement is in both ledgers' histories.
 */
public final class ReserveSchedule {
  private static final Logger log = LoggerFactory.getLogger(ReserveSchedule.class);

  private ReserveSchedule() {}

  /** One replenishment: {@code share} of {@code from}'s free balance into {@code to}, at most {@code maxPerRun}. */
  public record Replenishment(ReserveRef from, ReserveRef to, long sharePpm, long maxPerRun) {}

  public record Settings(Duration interval, List<Replenishment> replenishments) {
    public Settings {
      replenishments = List.copyOf(replenishments);
    }

    public static final Settings NONE = new Settings(Duration.ofMinutes(1), List.of());

    /**
     * From {@code clearinghouse.reserves}: a bad interval, an unknown reserve, a share beyond 100%
     * or a negative or overflowing cap stops the node naming the key.
     */
    public static Settings fromConfig(Config config, Set<String> funds, int scale) {
      String root = "clearinghouse.reserves";
      if (!config.hasPath(root)) {
        return NONE;
      }
      Config c = config.getConfig(root);
      Duration interval = c.getDuration("schedule-interval");
      if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new ConfigException.BadValue(root + ".schedule-interval", "must be at least 1s");
      }
      List<Replenishment> rules = new ArrayList<>();
      List<? extends Config> entries = c.getConfigList("replenishment");
      for (int i = 0; i < entries.size(); i++) {
        Config entry = entries.get(i);
        String path = root + ".replenishment[" + i + "]";
        for (String key : entry.root().keySet()) {
          if (!Set.of("from", "to", "share", "max-per-run").contains(key)) {
            throw new ConfigException.BadValue(path + "." + key, "is not a key of a replenishment (from, to, share, "
                + "max-per-run)");
          }
        }
        ReserveRef from = reserve(entry, path, "from", funds);
        ReserveRef to = reserve(entry, path, "to", funds);
        if (from.equals(to)) {
          throw new ConfigException.BadValue(path + ".to", "must be another reserve than from");
        }
        long share = Ppm.percent(entry.getString("share"), path + ".share", 0, Ppm.MILLION);
        long max;
        try {
          max = new BigDecimal(entry.getString("max-per-run")).movePointRight(scale).longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
          throw new ConfigException.BadValue(path + ".max-per-run", "must be an amount of the settlement asset with at "
              + "most " + scale + " decimals, was " + entry.getString("max-per-run"));
        }
        if (max <= 0 || max > 1_000_000_000_000_000L) {
          throw new ConfigException.BadValue(path + ".max-per-run", "must be above 0 and at most 10^18 minor units");
        }
        rules.add(new Replenishment(from, to, share, max));
      }
      return new Settings(interval, rules);
    }

    private static ReserveRef reserve(Config entry, String path, String key, Set<String> funds) {
      String name = entry.hasPath(key) ? entry.getString(key) : null;
      try {
        return ReserveRef.parse(name, funds);
      } catch (io.clearinghouse.common.RejectedException e) {
        throw new ConfigException.BadValue(path + "." + key, e.getMessage());
      }
    }
  }

  private enum Tick implements CborSerializable { INSTANCE }

  private record RunDone(String failure) implements CborSerializable {}

  /** Starts the schedule's singleton (on the oldest node). */
  public static void init(ActorSystem<?> system, LiquidationSettings settings, Clock clock) {
    ClusterSingleton.get(system).init(SingletonActor.of(behavior(system, settings, clock), "reserve-schedule"));
  }

  private static Behavior<Object> behavior(ActorSystem<?> system, LiquidationSettings settings, Clock clock) {
    ClusterSharding sharding = ClusterSharding.get(system);
    Settings schedule = settings.reserves();
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, schedule.interval());
      boolean[] running = {false};
      return Behaviors.receiveMessage(message -> {
        if (message == Tick.INSTANCE && !running[0]) {
          running[0] = true;
          wakeUnwinds(sharding, settings);
          context.pipeToSelf(run(sharding, settings, schedule, clock.millis()), (done, failure) ->
              new RunDone(failure == null ? null : failure.toString()));
        } else if (message instanceof RunDone done) {
          running[0] = false;
          if (done.failure() != null) {
            context.getLog().warn("Reserve schedule run failed (retried on the next): {}", done.failure());
          }
        }
        return Behaviors.same();
      });
    }));
  }

  /** Every fund that may take positions over looks at what it holds in each such instrument. */
  private static void wakeUnwinds(ClusterSharding sharding, LiquidationSettings settings) {
    for (InstrumentSpec spec : settings.instruments().specs()) {
      if (spec.liquidation().fundTakeoverLimit() > 0) {
        sharding.entityRefFor(FundUnwind.TYPE_KEY, FundUnwind.entityId(spec.liquidation().insuranceFund(),
            spec.symbol())).tell(FundUnwind.Wake.INSTANCE);
      }
    }
  }

  /** One run: first what left earlier and has not arrived, then this period's moves. */
  static CompletionStage<Void> run(ClusterSharding sharding, LiquidationSettings settings, Settings schedule,
      long nowMillis) {
    Duration timeout = settings.stepTimeout();
    CompletionStage<Void> done = CompletableFuture.completedFuture(null);
    for (Replenishment rule : schedule.replenishments()) {
      String key = "replenish/" + rule.from().name() + "/" + rule.to().name() + "/"
          + Math.floorDiv(nowMillis, schedule.interval().toMillis());
      // Each rule on its own: a move one rule cannot deliver (its destination refuses it, or is
      // no longer configured) stays in transit, counted by the audit, and never stops the others.
      done = done.thenCompose(v -> deliverOutgoing(sharding, rule.from(), settings, timeout))
          .thenCompose(v -> sharding.entityRefFor(rule.from().typeKey(), rule.from().id())
              .<InsuranceFund.Reply>ask(r -> new InsuranceFund.MoveOut(key, rule.to().name(), rule.sharePpm(),
                  rule.maxPerRun(), r), timeout))
          .thenCompose(reply -> reply instanceof InsuranceFund.Moved moved && moved.entry().amount() > 0
              ? deliver(sharding, rule.from(), rule.to(), moved.entry(), timeout)
              : CompletableFuture.<Void>completedFuture(null))
          .exceptionally(failure -> {
            log.warn("Replenishment {} -> {} not done this run (tried again on the next): {}", rule.from().name(),
                rule.to().name(), failure.toString());
            return null;
          });
    }
    return done;
  }

  /** The moves out of {@code from} still on their way, each delivered. */
  private static CompletionStage<Void> deliverOutgoing(ClusterSharding sharding, ReserveRef from,
      LiquidationSettings settings, Duration timeout) {
    return sharding.entityRefFor(from.typeKey(), from.id())
        .<InsuranceFund.Reply>ask(InsuranceFund.ListOutgoing::new, timeout)
        .thenCompose(reply -> {
          CompletionStage<Void> all = CompletableFuture.completedFuture(null);
          for (InsuranceFund.Entry move : ((InsuranceFund.Outgoing) reply).moves()) {
            // One move that cannot arrive (refused, or its destination gone from the configuration)
            // stays in transit and never keeps the others from arriving.
            all = all.thenCompose(v -> deliver(sharding, from, ReserveRef.parse(move.liquidationId(), settings.funds()),
                    move, timeout))
                .exceptionally(failure -> {
                  log.error("Move {} out of {} cannot arrive; it stays in transit: {}", move.key(), from.name(),
                      failure.toString());
                  return null;
                });
          }
          return all;
        });
  }

  /** A move's second step (its arrival), then its confirmation to the source. */
  private static CompletionStage<Void> deliver(ClusterSharding sharding, ReserveRef from, ReserveRef to,
      InsuranceFund.Entry move, Duration timeout) {
    return sharding.entityRefFor(to.typeKey(), to.id())
        .<InsuranceFund.Reply>ask(r -> new InsuranceFund.MoveIn(move.key(), from.name(), move.amount(), r), timeout)
        .thenCompose(arrived -> {
          if (!(arrived instanceof InsuranceFund.Moved)) {
            throw new IllegalStateException("move " + move.key() + " to " + to.name() + " refused: " + arrived);
          }
          return sharding.entityRefFor(from.typeKey(), from.id())
              .<InsuranceFund.Reply>ask(r -> new InsuranceFund.ConfirmMove(move.key(), r), timeout);
        })
        .thenApply(confirmed -> null);
  }
}
