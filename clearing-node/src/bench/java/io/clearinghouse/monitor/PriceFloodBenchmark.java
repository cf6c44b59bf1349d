package io.clearinghouse.monitor;

import io.clearinghouse.account.RiskRegistry;
import io.clearinghouse.account.Exposure;
import io.clearinghouse.Main;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.it.Feeders;
import io.clearinghouse.it.TestNodes;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.MarginMath;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.ops.NodeContext;
import io.clearinghouse.price.MarkPrices;
import io.clearinghouse.price.PriceFeed;
import io.clearinghouse.protocol.v1.IndexPriceTick;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import io.clearinghouse.protocol.v1.PublishSummary;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The "mark price integrity" issue's flood: feeders sending 100,000 ticks a second for 10 s on
 * one instrument while 100,000 accounts are tracked, against the same breaches without a flood.
 *
 * <ul>
 *   <li>A real node in this JVM ({@link TestNodes}): ticks go through {@code PublishIndexPrices}
 *       over loopback, one stream per source with its own feeder token; the feed persists its marks
 *       in Cassandra; the node's board carries them to a {@link MarginMonitor} tracking the
 *       accounts (the node's own monitor code, started on the node's board, with synthetic
 *       exposures: no account entities, so the setup takes seconds, not minutes).
 *   <li>Account i (1 BTC long from 50,000) is in group i % 100 + 1; group k's cash is exactly the
 *       maintenance edge at mark 49,000.0 - 10.0 k, so a mark in (49,000.0 - 10.0 (k + 1), 49,000.0 -
 *       10.0 k] breaches exactly groups 1..k. A trigger is the monitor's {@code StartLiquidation} to
 *       an account (what persisting it costs is the liquidation trigger benchmark's subject).
 *   <li>Baseline: breach ticks once a second, each moving three sources to the next group's edge.
 *       Flood: the same, while three feeders stream ticks at the current edge minus 0 to 9.9 USDT
 *       (so without the mark interval every tick would be a new mark, and none breaches the next
 *       group early). Tick to last trigger: from the breach sent to the group's last trigger.
 * </ul>
 *
 * Printed, never asserted: achieved ticks per second, marks persisted per second (the feed's
 * sequence), heap in use before and after (after a full collection), p50/p99 of tick to last
 * trigger with and without the flood and their ratio. -Dbench.flood-accounts (multiple of 100),
 * -Dbench.flood-ticks-per-second, -Dbench.flood-seconds, -Dbench.flood-breaches.
 */
public final class PriceFloodBenchmark {
  private static final String PERP = "BTCUSDT-PERP";
  private static final List<String> SOURCES = List.of("binance", "okx", "coinbase");
  private static final int GROUPS = 100;
  private static final long ENTRY_TICKS = 500_000;
  private static final long OPENING_TICKS = 490_000;
  private static final long STEP_TICKS = 100;
  private static final long LOTS = 1_000;
  private static final Duration WAIT = Duration.ofMinutes(2);

  private PriceFloodBenchmark() {}

  public static void main(String[] args) {
    int accounts = Integer.getInteger("bench.flood-accounts", 100_000);
    int ticksPerSecond = Integer.getInteger("bench.flood-ticks-per-second", 100_000);
    int seconds = Integer.getInteger("bench.flood-seconds", 10);
    int breaches = Integer.getInteger("bench.flood-breaches", seconds);
    if (accounts % GROUPS != 0 || 2 * breaches + 1 > GROUPS || breaches > seconds) {
      throw new IllegalArgumentException("accounts a multiple of 100, breaches at most the seconds and 49");
    }
    int status = 0;
    try {
      run(accounts, ticksPerSecond, seconds, breaches);
    } catch (RuntimeException e) {
      e.printStackTrace();
      status = 2;
    }
    System.exit(status);
  }

  /** Counts one group's triggers and notes when the last one came. */
  private static final class Group {
    final int size;
    int count;
    final CompletableFuture<Long> done = new CompletableFuture<>();

    Group(int size) {
      this.size = size;
    }

    Behavior<AccountEntity.Command> behavior() {
      return Behaviors.receiveMessage(message -> {
        if (message instanceof AccountEntity.StartLiquidation && ++count == size) {
          done.complete(System.nanoTime());
        }
        return Behaviors.same();
      });
    }
  }

  static long edge(int group) {
    return OPENING_TICKS - group * STEP_TICKS;
  }

  private static void run(int accounts, int ticksPerSecond, int seconds, int breaches) {
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("floodbench"), String.join("\n",
        "clearinghouse.price-feed.stale-after = 10m",
        "clearinghouse.price-feed.last-trade-interval = 1h",
        "pekko.loglevel = WARNING")));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      ActorSystem<?> system = node.system();
      Instrument perp = TestNodes.INSTRUMENTS.require(PERP);
      MarkPrices marks = NodeContext.get(system).marks();
      Metrics metrics = new Metrics();
      ActorRef<MarginMonitor.Command> monitor = system.systemActorOf(
          MarginMonitor.create(TestNodes.INSTRUMENTS, marks, metrics), "flood-monitor", Props.empty());
      MarginMonitor.evaluateOnEveryMark(marks, monitor);
      RiskRegistry registry = MarginMonitor.registry(monitor);
      List<Group> groups = new ArrayList<>();
      List<ActorRef<AccountEntity.Command>> refs = new ArrayList<>();
      for (int g = 1; g <= GROUPS; g++) {
        Group group = new Group(accounts / GROUPS);
        groups.add(group);
        refs.add(system.systemActorOf(group.behavior(), "flood-group-" + g, Props.empty()));
      }
      long m = perp.notionalMultiplier();
      long cost = Math.multiplyExact(Math.multiplyExact(LOTS, ENTRY_TICKS), m);
      long setupStart = System.nanoTime();
      for (int i = 0; i < accounts; i++) {
        int group = i % GROUPS + 1;
        long mark = edge(group);
        long cash = Math.addExact(Math.negateExact(MarginMath.unrealizedPnl(LOTS, cost, mark, m)),
            MarginMath.maintenanceMargin(MarginMath.notional(LOTS, mark, m), perp.riskTiers()));
        registry.track(String.format(Locale.ROOT, "flood-%06d", i), new Exposure(cash, false,
            List.of(new Exposure.Position(PERP, LOTS, cost, MarginMode.CROSS, 0))), refs.get(group - 1));
      }
      int tracked = AskOnce.count(system, monitor);
      System.out.printf(Locale.ROOT, "setup: %,d accounts tracked in %.1f s%n", tracked,
          (System.nanoTime() - setupStart) / 1e9);

      PriceServiceClient prices = PriceServiceClient.create(TestNodes.clientSettings(node, clients), clients);
      AtomicLong level = new AtomicLong(OPENING_TICKS);
      publishEdge(prices, perp, OPENING_TICKS);

      double[] quiet = new double[breaches];
      for (int b = 1; b <= breaches; b++) {
        quiet[b - 1] = breach(prices, perp, level, groups, b, System.nanoTime() + 1_000_000_000L);
      }

      long heapBefore = heapAfterGc();
      long sequenceBefore = sequence(system);
      long floodStart = System.nanoTime();
      List<CompletionStage<PublishSummary>> floods = new ArrayList<>();
      for (String source : SOURCES) {
        floods.add(flood(prices, perp, source, level, ticksPerSecond / SOURCES.size(), seconds));
      }
      double[] flooded = new double[breaches];
      for (int b = 1; b <= breaches; b++) {
        int group = breaches + b;
        long at = floodStart + b * 1_000_000_000L - 500_000_000L;
        flooded[b - 1] = breach(prices, perp, level, groups, group, at);
      }
      long accepted = 0;
      for (CompletionStage<PublishSummary> flood : floods) {
        accepted += flood.toCompletableFuture().orTimeout(WAIT.toSeconds() + seconds, TimeUnit.SECONDS).join()
            .getAccepted();
      }
      double floodSeconds = (System.nanoTime() - floodStart) / 1e9;
      long marksPersisted = sequence(system) - sequenceBefore;
      long heapAfter = heapAfterGc();

      Arrays.sort(quiet);
      Arrays.sort(flooded);
      System.out.printf(Locale.ROOT, "%n== Price flood, %,d accounts tracked, %,d ticks/s asked for %d s (2 cores) ==%n",
          accounts, ticksPerSecond, seconds);
      System.out.printf(Locale.ROOT, "  flood ticks accepted     %,d in %.1f s: %,.0f per second%n", accepted,
          floodSeconds, accepted / floodSeconds);
      System.out.printf(Locale.ROOT, "  marks persisted          %,d in %.1f s: %.1f per second (mark-interval %s)%n",
          marksPersisted, floodSeconds, marksPersisted / floodSeconds,
          system.settings().config().getDuration("clearinghouse.price-feed.mark-interval"));
      System.out.printf(Locale.ROOT, "  heap in use (after GC)   before %,d MB, after %,d MB%n", heapBefore >> 20,
          heapAfter >> 20);
      System.out.printf(Locale.ROOT, "  tick to last trigger     without flood p50 %.1f ms p99 %.1f ms; during flood "
              + "p50 %.1f ms p99 %.1f ms; p99 ratio %.2f%n", quiet[(breaches - 1) / 2], quiet[breaches - 1],
          flooded[(breaches - 1) / 2], flooded[breaches - 1], flooded[breaches - 1] / quiet[breaches - 1]);
      System.out.printf(Locale.ROOT, "  monitor walks            %,d; accounts it could not evaluate %,d%n",
          metrics.total("clearinghouse_monitor_evaluations_total"),
          metrics.total("clearinghouse_monitor_account_errors_total"));
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  /** Moves the sources to group's edge at {@code atNanos} and returns ms until the group's last trigger. */
  private static double breach(PriceServiceClient prices, Instrument perp, AtomicLong level, List<Group> groups,
      int group, long atNanos) {
    long wait = atNanos - System.nanoTime();
    if (wait > 0) {
      LockSupportPause.nanos(wait);
    }
    long sent = System.nanoTime();
    level.set(edge(group));
    publishEdge(prices, perp, edge(group));
    long last = groups.get(group - 1).done.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
    double millis = (last - sent) / 1e6;
    System.out.printf(Locale.ROOT, "breach of group %d: last trigger %.1f ms after the ticks were sent%n", group, millis);
    return millis;
  }

  private static void publishEdge(PriceServiceClient prices, Instrument perp, long ticks) {
    long now = System.currentTimeMillis();
    PublishSummary summary = Feeders.publishAsync(prices, SOURCES.stream()
            .map(source -> Feeders.tick(source, PERP, perp.formatPrice(ticks), now)).toList())
        .toCompletableFuture().orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
    if (summary.getAccepted() != SOURCES.size()) {
      throw new IllegalStateException("ticks refused: " + summary);
    }
  }

  /** One feeder's flood: ticks at the current level minus 0 to 99 ticks, as fast as asked (in 10 ms bursts). */
  private static CompletionStage<PublishSummary> flood(PriceServiceClient prices, Instrument perp, String source,
      AtomicLong level, int perSecond, int seconds) {
    Source<IndexPriceTick, NotUsed> ticks = Source.repeat(NotUsed.getInstance())
        .throttle(Math.max(1, perSecond / 100), Duration.ofMillis(10))
        .takeWithin(Duration.ofSeconds(seconds))
        .map(x -> Feeders.tick(source, PERP,
            perp.formatPrice(level.get() - ThreadLocalRandom.current().nextLong(STEP_TICKS)),
            System.currentTimeMillis()));
    return prices.publishIndexPrices().addHeader("authorization", "Bearer " + Feeders.token(source)).invoke(ticks);
  }

  private static long sequence(ActorSystem<?> system) {
    return ClusterSharding.get(system).entityRefFor(PriceFeed.TYPE_KEY, PERP)
        .<PriceFeed.Status>ask(PriceFeed.GetStatus::new, WAIT).toCompletableFuture().join().sequence();
  }

  private static long heapAfterGc() {
    System.gc();
    Runtime runtime = Runtime.getRuntime();
    return runtime.totalMemory() - runtime.freeMemory();
  }

  /** Asks the monitor how many accounts it tracks (after every Track sent before). */
  private static final class AskOnce {
    static int count(ActorSystem<?> system, ActorRef<MarginMonitor.Command> monitor) {
      return org.apache.pekko.actor.typed.javadsl.AskPattern.<MarginMonitor.Command, Integer>ask(monitor,
          MarginMonitor.CountTracked::new, WAIT, system.scheduler()).toCompletableFuture().join();
    }
  }

  private static final class LockSupportPause {
    static void nanos(long nanos) {
      java.util.concurrent.locks.LockSupport.parkNanos(nanos);
    }
  }
}
