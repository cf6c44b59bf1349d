package io.clearinghouse.monitor;

import io.clearinghouse.account.RiskRegistry;
import io.clearinghouse.account.Exposure;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * What the node's margin monitor costs per account on every mark: the real {@link MarginMonitor}
 * actor (no hook into it) watching 100,000 accounts, each holding the ticked instrument; one
 * operation is one mark accepted on the board, the monitor's evaluation of every holder, and a
 * {@code CountTracked} round trip that returns only once the evaluation is done (the monitor
 * handles one message at a time). Nobody is at maintenance, so nobody is told anything: this is
 * the cost of every tick, not of the rare trigger. JMH divides by the accounts
 * ({@code OperationsPerInvocation}), so the scores are ns per account; the two message hops add
 * some tens of microseconds per tick, well under 1 ns per account.
 *
 * <p>Baselines in the same run, on copies of the same 100,000 records (same fields, same
 * positions), summing their longs without any margin rule: {@code baselineHashedWalk} reaches them
 * as the monitor did up to 2026-11-25 (iterating the holders' id set, a map lookup and a
 * triggered-set check per id), {@code baselineArrayWalk} as it does since (an array of records).
 * The ratio to the array walk says what the margin rules and the mark reads cost over touching
 * the data at all.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class MonitorEvaluationBenchmark {
  static final int ACCOUNTS = 100_000;
  private static final String PERP = "BTCUSDT-PERP";
  private static final String FUTURE = "BTCUSDT-271231";
  private static final String ETHER = "ETHUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(30);
  /** Two BTC marks the ticks alternate between (48,000.0 and 48,000.1), so every tick is a new price. */
  private static final long MARK_EVEN = 480_000;
  private static final long MARK_ODD = 480_001;

  /** 1: a cross BTC perpetual long; 3: plus a cross dated-future short and an isolated ETH short. */
  @Param({"1", "3"})
  public int positions;

  private ActorSystem<Void> system;
  private ActorRef<MarginMonitor.Command> monitor;
  private MarkPrices marks;
  private long sequence;

  /** The baselines' copy of the monitor's records: the same fields, built from the same exposures. */
  private record CopyHeld(Instrument instrument, long lots, long cost, boolean isolated, long isolatedMargin) {}

  private record CopyTracked(ActorRef<AccountEntity.Command> account, long cash, boolean liquidating,
      CopyHeld[] positions) {}

  private final Map<String, CopyTracked> copies = new HashMap<>();
  private final Set<String> copyHolders = new HashSet<>();
  private final Set<String> copyTriggered = new HashSet<>();
  private CopyTracked[] copyArray;

  @Setup
  public void setUp() {
    if (positions != 1 && positions != 3) {
      throw new IllegalArgumentException("positions must be 1 or 3, was " + positions);
    }
    Instruments instruments = Instruments.fromConfig(withEther(ConfigFactory.load()), 6);
    system = ActorSystem.create(Behaviors.empty(), "monitor-bench",
        ConfigFactory.parseString("pekko.actor.provider = local\npekko.loglevel = WARNING")
            .withFallback(ConfigFactory.load()));
    marks = MarkPrices.local();
    monitor = system.systemActorOf(MarginMonitor.create(instruments, marks, new io.clearinghouse.metrics.Metrics()), "margin-monitor", Props.empty());
    MarginMonitor.evaluateOnEveryMark(marks, monitor);
    RiskRegistry registry = MarginMonitor.registry(monitor);
    ActorRef<AccountEntity.Command> nobody = system.systemActorOf(Behaviors.ignore(), "accounts", Props.empty());

    // Every instrument held has a fresh mark, so every position is valued on every tick.
    marks.accept(new Mark(PERP, MARK_EVEN, ++sequence, 0));
    marks.accept(new Mark(FUTURE, 480_000, ++sequence, 0));
    marks.accept(new Mark(ETHER, 310_000, ++sequence, 0));
    List<CopyTracked> array = new ArrayList<>(ACCOUNTS);
    for (int i = 0; i < ACCOUNTS; i++) {
      String id = String.format(Locale.ROOT, "acct-%06d", i);
      Exposure exposure = exposure(i);
      registry.track(id, exposure, nobody);
      CopyHeld[] held = new CopyHeld[exposure.positions().size()];
      for (int p = 0; p < held.length; p++) {
        Exposure.Position position = exposure.positions().get(p);
        held[p] = new CopyHeld(instruments.require(position.instrument()), position.lots(), position.cost(),
            position.mode() == MarginMode.ISOLATED, position.isolatedMargin());
      }
      CopyTracked copy = new CopyTracked(nobody, exposure.cash(), false, held);
      copies.put(id, copy);
      copyHolders.add(id);
      array.add(copy);
    }
    copyArray = array.toArray(CopyTracked[]::new);
    int tracked = countTracked();
    if (tracked != ACCOUNTS) {
      throw new IllegalStateException("the monitor tracks " + tracked + " accounts, expected " + ACCOUNTS);
    }
  }

  /**
   * Cash 100,000 USDT; 0.1 to 3.0 BTC long from 50,000 (tiers 1 and 2 at 48,000), and with 3
   * positions also 2 BTC short of the dated future from 50,000 and 30 ETH short from 3,000 with
   * 9,000 USDT isolated margin. Nobody is near maintenance at the benchmark's marks.
   */
  private Exposure exposure(int i) {
    long lots = 100 + (i * 7_919L) % 2_901;
    List<Exposure.Position> held = new ArrayList<>(3);
    held.add(new Exposure.Position(PERP, lots, lots * 50_000 * 1_000, MarginMode.CROSS, 0));
    if (positions == 3) {
      held.add(new Exposure.Position(FUTURE, -2_000, -100_000 * USDT, MarginMode.CROSS, 0));
      held.add(new Exposure.Position(ETHER, -3_000, -90_000 * USDT, MarginMode.ISOLATED, 9_000 * USDT));
    }
    return new Exposure(100_000 * USDT, false, held);
  }

  /** The configured instruments plus an ether perpetual on the BTC tier table: three instruments to hold. */
  private static Config withEther(Config config) {
    List<Object> list = new ArrayList<>(config.getList("clearinghouse.instruments").unwrapped());
    list.add(Map.of("symbol", ETHER, "kind", "perpetual", "tick-size", "0.01", "lot-size", "0.01",
        "maker-fee", "0.02%", "taker-fee", "0.05%", "liquidation-fee", "1%", "risk-tiers", "binance-btcusdt-2021-03"));
    return ConfigFactory.parseMap(Map.of("clearinghouse.instruments", list)).withFallback(config);
  }

  private int countTracked() {
    return AskPattern.<MarginMonitor.Command, Integer>ask(monitor, MarginMonitor.CountTracked::new, ASK_TIMEOUT,
        system.scheduler()).toCompletableFuture().join();
  }

  @TearDown
  public void tearDown() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
  }

  /** One mark of the BTC perpetual: the monitor evaluates all 100,000 holders. Score: ns per account. */
  @Benchmark
  @OperationsPerInvocation(ACCOUNTS)
  public int evaluateTick() {
    sequence++;
    marks.accept(new Mark(PERP, (sequence & 1) == 0 ? MARK_EVEN : MARK_ODD, sequence, 0));
    return countTracked();
  }

  /** The hashed walk (id set, map lookup, triggered check, positions) summing longs only. */
  @Benchmark
  @OperationsPerInvocation(ACCOUNTS)
  public long baselineHashedWalk() {
    long sum = 0;
    for (String id : copyHolders) {
      CopyTracked t = copies.get(id);
      if (t == null || t.liquidating() || copyTriggered.contains(id)) {
        continue;
      }
      sum += t.cash();
      for (CopyHeld p : t.positions()) {
        sum += p.lots() + p.cost() + p.isolatedMargin() + p.instrument().notionalMultiplier();
      }
    }
    return sum;
  }

  /** The same longs through an array of the same records. */
  @Benchmark
  @OperationsPerInvocation(ACCOUNTS)
  public long baselineArrayWalk() {
    long sum = 0;
    for (CopyTracked t : copyArray) {
      sum += t.cash();
      for (CopyHeld p : t.positions()) {
        sum += p.lots() + p.cost() + p.isolatedMargin() + p.instrument().notionalMultiplier();
      }
    }
    return sum;
  }

  public static void main(String[] args) throws RunnerException {
    double loadBefore = loadAverage();
    Options options = new OptionsBuilder()
        .include("^" + Pattern.quote(MonitorEvaluationBenchmark.class.getName() + "."))
        .build();
    Collection<RunResult> results = new Runner(options).run();
    print(results, loadBefore, loadAverage());
  }

  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  private static void print(Collection<RunResult> results, double loadBefore, double loadAfter) {
    Map<String, Map<String, Result<?>>> byPositions = new TreeMap<>();
    for (RunResult run : results) {
      String method = run.getParams().getBenchmark();
      method = method.substring(method.lastIndexOf('.') + 1);
      byPositions.computeIfAbsent(run.getParams().getParam("positions"), k -> new HashMap<>())
          .put(method, run.getPrimaryResult());
    }
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "%n== Margin monitor evaluation per account per tick (JMH, ns/account,"
        + " %,d accounts, 1 fork, 3 x 2 s warm-up, 5 x 2 s measured; load average %.2f -> %.2f) ==%n",
        ACCOUNTS, loadBefore, loadAfter));
    out.append(String.format(Locale.ROOT, "  %-10s %-18s %-12s %-20s %-20s %s%n", "positions",
        "monitor (actor)", "ms per tick", "baseline hashed walk", "baseline array walk", "monitor / array walk"));
    byPositions.forEach((count, row) -> {
      Result<?> monitor = row.get("evaluateTick");
      Result<?> array = row.get("baselineArrayWalk");
      out.append(String.format(Locale.ROOT, "  %-10s %-18s %-12s %-20s %-20s %s%n", count, score(monitor),
          monitor == null ? "n/a" : String.format(Locale.ROOT, "%.2f", monitor.getScore() * ACCOUNTS / 1e6),
          score(row.get("baselineHashedWalk")), score(array), ratio(monitor, array)));
    });
    System.out.print(out);
  }

  private static String ratio(Result<?> measured, Result<?> baseline) {
    return measured == null || baseline == null || baseline.getScore() <= 0 ? "n/a"
        : String.format(Locale.ROOT, "%.1f", measured.getScore() / baseline.getScore());
  }

  private static String score(Result<?> result) {
    if (result == null) {
      return "n/a";
    }
    return Double.isNaN(result.getScoreError())
        ? String.format(Locale.ROOT, "%.1f", result.getScore())
        : String.format(Locale.ROOT, "%.1f ± %.1f", result.getScore(), result.getScoreError());
  }
}
