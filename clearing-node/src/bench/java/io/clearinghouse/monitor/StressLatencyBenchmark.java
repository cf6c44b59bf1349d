package io.clearinghouse.monitor;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.Exposure;
import io.clearinghouse.account.RiskRegistry;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.LiquidationSimulation;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Tick to last trigger during a stress test, as a ratio to without (issue 16's benchmark). The
 * real {@link MarginMonitor} actor watches 100,000 accounts (1 BTC long from 50,000, cash 2,000 to
 * 51,999 USDT, as in {@link StressTestBenchmark}) plus 10 sentinels whose cash puts them exactly at
 * maintenance at 49,000.0. Each measured tick: at mark 50,000.0 the sentinels report again (so they
 * can be told again), then the mark goes to 49,000.0, and the time from that mark accepted on the
 * board to the tenth {@code StartLiquidation} received is one sample.
 *
 * <p>Without: nothing else runs. With: a thread sends the monitor the scheduled stress's query
 * (the two shipped named scenarios, BTC -46% and -30%) back to back, so every tick lands while a
 * stress evaluation is running or queued: the worst case of a scheduled stress, which otherwise
 * runs once per interval. Printed, never asserted: p50, p99 and max of both, and the p99 ratio.
 * -Dbench.stress-latency-ticks (default 300) and -Dbench.stress-latency-accounts (100,000).
 */
public final class StressLatencyBenchmark {
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final int SENTINELS = 10;
  private static final long SAFE = 500_000;
  private static final long BREACH = 490_000;
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private StressLatencyBenchmark() {}

  public static void main(String[] args) throws Exception {
    int ticks = Integer.getInteger("bench.stress-latency-ticks", 300);
    int accounts = Integer.getInteger("bench.stress-latency-accounts", 100_000);
    double loadBefore = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    Instruments instruments = Instruments.fromConfig(ConfigFactory.load(), 6);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "stress-latency-bench",
        ConfigFactory.parseString("pekko.actor.provider = local\npekko.loglevel = WARNING")
            .withFallback(ConfigFactory.load()));
    try {
      MarkPrices marks = MarkPrices.local();
      AtomicLong sequence = new AtomicLong();
      marks.accept(new Mark(PERP, SAFE, sequence.incrementAndGet(), 0));
      ActorRef<MarginMonitor.Command> monitor = system.systemActorOf(MarginMonitor.create(instruments, marks,
          new io.clearinghouse.metrics.Metrics()), "margin-monitor", Props.empty());
      MarginMonitor.evaluateOnEveryMark(marks, monitor);
      RiskRegistry registry = MarginMonitor.registry(monitor);
      ActorRef<AccountEntity.Command> nobody = system.systemActorOf(Behaviors.ignore(), "accounts", Props.empty());
      for (int i = 0; i < accounts; i++) {
        long cash = (2_000 + (i * 7_919L) % 50_000) * USDT;
        registry.track(String.format(Locale.ROOT, "acct-%06d", i), new Exposure(cash, false,
            List.of(new Exposure.Position(PERP, 1_000, 50_000 * USDT, MarginMode.CROSS, 0))), nobody);
      }
      // The sentinels: equity at 49,000 is 1,196 - 1,000 = 196 = 0.4% of 49,000: at maintenance.
      AtomicReference<CountDownLatch> told = new AtomicReference<>(new CountDownLatch(0));
      ActorRef<AccountEntity.Command> sentinel = system.systemActorOf(Behaviors.receiveMessage(message -> {
        if (message instanceof AccountEntity.StartLiquidation) {
          told.get().countDown();
        }
        return Behaviors.same();
      }), "sentinels", Props.empty());
      Exposure atEdge = new Exposure(1_196 * USDT, false,
          List.of(new Exposure.Position(PERP, 1_000, 50_000 * USDT, MarginMode.CROSS, 0)));
      countTracked(system, monitor);

      long[] without = run(system, monitor, registry, marks, sequence, told, sentinel, atEdge, ticks, null);
      AtomicBoolean stressing = new AtomicBoolean(true);
      AtomicLong stressRuns = new AtomicLong();
      List<StressEvaluation.Scenario> scheduled = List.of(
          new StressEvaluation.Scenario("2020-03-12", Map.of(PERP, LiquidationSimulation.shockedMarkTicks(SAFE, -460_000))),
          new StressEvaluation.Scenario("2021-05-19", Map.of(PERP, LiquidationSimulation.shockedMarkTicks(SAFE, -300_000))));
      Thread stress = new Thread(() -> {
        while (stressing.get()) {
          AskPattern.<MarginMonitor.Command, StressEvaluation.Answer>ask(monitor,
              replyTo -> new MarginMonitor.StressQuery(scheduled, List.of(PERP), 20, 400, replyTo), TIMEOUT,
              system.scheduler()).toCompletableFuture().join();
          stressRuns.incrementAndGet();
        }
      }, "stress");
      stress.start();
      long stressStart = System.nanoTime();
      long[] with = run(system, monitor, registry, marks, sequence, told, sentinel, atEdge, ticks, stress);
      double stressSeconds = (System.nanoTime() - stressStart) / 1e9;
      stressing.set(false);
      stress.join();
      double loadAfter = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
      StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%n== Tick to last trigger during a stress test "
          + "(%,d accounts + %d at maintenance, %d measured ticks after %d warm-up; load average %.2f -> %.2f) ==%n",
          accounts, SENTINELS, ticks, ticks / 10, loadBefore, loadAfter));
      out.append(line("without stress", without));
      out.append(line("with stress", with));
      out.append(String.format(Locale.ROOT, "  stress queries (2 scenarios each) during the second run: %d, %.1f per s%n",
          stressRuns.get(), stressRuns.get() / stressSeconds));
      out.append(String.format(Locale.ROOT, "  p99 ratio with/without: %.2f%n",
          percentile(with, 0.99) / (double) percentile(without, 0.99)));
      System.out.print(out);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
    }
  }

  /** Warm-up ticks (a tenth), then {@code ticks} measured; nanoseconds from the breaching mark to the last trigger. */
  private static long[] run(ActorSystem<Void> system, ActorRef<MarginMonitor.Command> monitor, RiskRegistry registry,
      MarkPrices marks, AtomicLong sequence, AtomicReference<CountDownLatch> told, ActorRef<AccountEntity.Command> sentinel,
      Exposure atEdge, int ticks, Thread stress) throws InterruptedException {
    int warmup = ticks / 10;
    long[] samples = new long[ticks];
    for (int t = -warmup; t < ticks; t++) {
      // Safe first: a sentinel reporting at the breaching mark would be told at once, and not again.
      marks.accept(new Mark(PERP, SAFE, sequence.incrementAndGet(), 0));
      for (int s = 0; s < SENTINELS; s++) {
        registry.track("sentinel-" + s, atEdge, sentinel);
      }
      countTracked(system, monitor);
      CountDownLatch latch = new CountDownLatch(SENTINELS);
      told.set(latch);
      long start = System.nanoTime();
      marks.accept(new Mark(PERP, BREACH, sequence.incrementAndGet(), 0));
      if (!latch.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException("the sentinels were not all told within " + TIMEOUT);
      }
      long elapsed = System.nanoTime() - start;
      if (t >= 0) {
        samples[t] = elapsed;
      }
    }
    Arrays.sort(samples);
    return samples;
  }

  private static int countTracked(ActorSystem<Void> system, ActorRef<MarginMonitor.Command> monitor) {
    return AskPattern.<MarginMonitor.Command, Integer>ask(monitor, MarginMonitor.CountTracked::new, TIMEOUT,
        system.scheduler()).toCompletableFuture().join();
  }

  private static long percentile(long[] sorted, double p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
  }

  private static String line(String what, long[] sorted) {
    return String.format(Locale.ROOT, "  %-15s p50 %.2f ms, p99 %.2f ms, max %.2f ms%n", what,
        percentile(sorted, 0.50) / 1e6, percentile(sorted, 0.99) / 1e6, sorted[sorted.length - 1] / 1e6);
  }
}
