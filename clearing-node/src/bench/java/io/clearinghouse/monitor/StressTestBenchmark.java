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
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * The stress test on one node (issue 16): the real {@link MarginMonitor} actor watching 100,000
 * accounts answers a {@code StressQuery}: one scenario (BTC -20%) or the ten steps of the ladder
 * (-5% to -50%). The accounts hold 1 BTC long from 50,000 with cash from 2,000 to 51,999 USDT, so a
 * deeper shock liquidates more of them (about 16% at -20%, 46% at -50%) and most of those leave a
 * deficit; every liquidated account's closes are worked out in full. Score: ms per query (the whole
 * node's evaluation, not per account); the target is 1 s for one shock over 100,000 accounts.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class StressTestBenchmark {
  static final int ACCOUNTS = 100_000;
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long MARK = 500_000;

  /** 1: one shock (-20%); 10: the ladder. */
  @Param({"1", "10"})
  public int scenarios;

  private ActorSystem<Void> system;
  private ActorRef<MarginMonitor.Command> monitor;
  private List<StressEvaluation.Scenario> query;

  @Setup
  public void setUp() {
    Instruments instruments = Instruments.fromConfig(ConfigFactory.load(), 6);
    system = ActorSystem.create(Behaviors.empty(), "stress-bench",
        ConfigFactory.parseString("pekko.actor.provider = local\npekko.loglevel = WARNING")
            .withFallback(ConfigFactory.load()));
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, MARK, 1, 0));
    monitor = system.systemActorOf(MarginMonitor.create(instruments, marks, new io.clearinghouse.metrics.Metrics()),
        "margin-monitor", Props.empty());
    RiskRegistry registry = MarginMonitor.registry(monitor);
    ActorRef<AccountEntity.Command> nobody = system.systemActorOf(Behaviors.ignore(), "accounts", Props.empty());
    for (int i = 0; i < ACCOUNTS; i++) {
      long cash = (2_000 + (i * 7_919L) % 50_000) * USDT;
      registry.track(String.format(Locale.ROOT, "acct-%06d", i), new Exposure(cash, false,
          List.of(new Exposure.Position(PERP, 1_000, 50_000 * USDT, MarginMode.CROSS, 0))), nobody);
    }
    List<Long> shocks = scenarios == 1 ? List.of(-200_000L)
        : List.of(-50_000L, -100_000L, -150_000L, -200_000L, -250_000L, -300_000L, -350_000L, -400_000L, -450_000L,
            -500_000L);
    query = new ArrayList<>();
    for (long shock : shocks) {
      query.add(new StressEvaluation.Scenario(PERP + " " + shock,
          Map.of(PERP, LiquidationSimulation.shockedMarkTicks(MARK, shock))));
    }
    int tracked = AskPattern.<MarginMonitor.Command, Integer>ask(monitor, MarginMonitor.CountTracked::new,
        Duration.ofSeconds(60), system.scheduler()).toCompletableFuture().join();
    if (tracked != ACCOUNTS) {
      throw new IllegalStateException("the monitor tracks " + tracked + " accounts, expected " + ACCOUNTS);
    }
  }

  @TearDown
  public void tearDown() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
  }

  /** The node's whole answer: every account under every scenario of the query. */
  @Benchmark
  public long stress() {
    StressEvaluation.Answer answer = AskPattern.<MarginMonitor.Command, StressEvaluation.Answer>ask(monitor,
        replyTo -> new MarginMonitor.StressQuery(query, List.of(PERP), 20, 1_000, replyTo), Duration.ofSeconds(60),
        system.scheduler()).toCompletableFuture().join();
    long liquidated = 0;
    for (StressEvaluation.NodeResult r : answer.results()) {
      liquidated += r.accountsLiquidated();
    }
    return liquidated;
  }

  public static void main(String[] args) throws RunnerException {
    double loadBefore = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    Options options = new OptionsBuilder()
        .include("^" + Pattern.quote(StressTestBenchmark.class.getName() + "."))
        .build();
    Collection<RunResult> results = new Runner(options).run();
    double loadAfter = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%n== Stress test on one node (JMH, ms per query,"
        + " %,d accounts, 1 fork, 3 x 2 s warm-up, 5 x 2 s measured; load average %.2f -> %.2f) ==%n", ACCOUNTS,
        loadBefore, loadAfter));
    for (RunResult run : results) {
      int count = Integer.parseInt(run.getParams().getParam("scenarios"));
      double ms = run.getPrimaryResult().getScore();
      out.append(String.format(Locale.ROOT, "  %-3d scenario(s): %.1f ± %.1f ms per query, %.0f ns per account and "
          + "scenario%n", count, ms, run.getPrimaryResult().getScoreError(), ms * 1e6 / ACCOUNTS / count));
    }
    System.out.print(out);
  }
}
