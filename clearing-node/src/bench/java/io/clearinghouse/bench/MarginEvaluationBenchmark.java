package io.clearinghouse.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.AccountRisk;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.InstrumentKind;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.margin.PositionRisk;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * One account's margin evaluation ({@link AccountRisk#evaluate}) with 1 and with 3 positions, and
 * as the in-run baseline a loop that reads the same positions' longs without any margin rule, so
 * the printed ratio says what the rules cost over touching the data at all.
 *
 * <p>Kept short on purpose (1 fork, 3 x 1 s warm-up, 5 x 1 s measured) so the bench profile ends
 * in minutes on two cores; the figures are printed, never asserted.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MarginEvaluationBenchmark {
  private static final long USDT = 1_000_000L;

  /** 1: one cross BTC perpetual long; 3: plus a cross dated-future short and an isolated short. */
  @Param({"1", "3"})
  public int positions;

  private long cash;
  private long reservations;
  private List<PositionRisk> account;

  @Setup
  public void setUp() {
    Config config = ConfigFactory.load();
    int scale = config.getInt("clearinghouse.settlement-asset.scale");
    Instruments instruments = Instruments.fromConfig(config, scale);
    Instrument perpetual = instruments.require("BTCUSDT-PERP");
    Instrument future = instruments.require("BTCUSDT-271231");
    // A third contract so that three positions are three instruments, as in an account. Only its
    // numbers matter to the evaluation; it borrows the configured BTC tier table.
    Instrument ether = Instrument.define("ETHUSDT-PERP", InstrumentKind.PERPETUAL, null, scale, "0.01", "0.01",
        200, 500, 5_000, perpetual.riskTiers());

    cash = 100_000 * USDT;
    reservations = 1_000 * USDT;
    // 1 BTC long from 50,000 at 20x, marked at 48,000: tier 1.
    PositionRisk btcLong = position(perpetual, 1_000, 50_000 * USDT, 480_000, 20, MarginMode.CROSS, 0);
    // 2 BTC short from 50,000 at 10x, marked at 48,000: tier 2.
    PositionRisk btcShort = position(future, -2_000, -100_000 * USDT, 480_000, 10, MarginMode.CROSS, 0);
    // 30 ETH short from 3,000 at 10x with 9,000 USDT isolated margin, marked at 3,100: tier 2.
    PositionRisk ethShort = position(ether, -3_000, -90_000 * USDT, 310_000, 10, MarginMode.ISOLATED, 9_000 * USDT);
    account = switch (positions) {
      case 1 -> List.of(btcLong);
      case 3 -> List.of(btcLong, btcShort, ethShort);
      default -> throw new IllegalArgumentException("positions must be 1 or 3, was " + positions);
    };
  }

  private static PositionRisk position(Instrument instrument, long lots, long cost, long markTicks, int leverage,
      MarginMode mode, long isolatedMargin) {
    return new PositionRisk(instrument.symbol(), lots, cost, markTicks, instrument.notionalMultiplier(),
        instrument.riskTiers(), leverage, mode, isolatedMargin);
  }

  @Benchmark
  public AccountRisk evaluate() {
    return AccountRisk.evaluate(cash, reservations, account);
  }

  /** The same longs summed, without tiers, margin rules, overflow checks or the result object. */
  @Benchmark
  public long baselineSum() {
    long sum = cash - reservations;
    List<PositionRisk> held = account;
    for (int i = 0; i < held.size(); i++) {
      PositionRisk p = held.get(i);
      sum += p.lots() + p.cost() + p.markTicks() + p.multiplier() + p.isolatedMargin();
    }
    return sum;
  }

  public static void main(String[] args) throws RunnerException {
    double loadBefore = LoadAverage.now();
    Options options = new OptionsBuilder()
        .include("^" + Pattern.quote(MarginEvaluationBenchmark.class.getName() + "."))
        .build();
    Collection<RunResult> results = new Runner(options).run();
    printRatios(results, loadBefore, LoadAverage.now());
  }

  private static void printRatios(Collection<RunResult> results, double loadBefore, double loadAfter) {
    Map<String, Result<?>> evaluate = new TreeMap<>();
    Map<String, Result<?>> baseline = new TreeMap<>();
    for (RunResult run : results) {
      String method = run.getParams().getBenchmark();
      String count = run.getParams().getParam("positions");
      (method.endsWith(".evaluate") ? evaluate : baseline).put(count, run.getPrimaryResult());
    }
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "%n== Margin evaluation of one account (JMH, average ns/op, 1 fork,"
        + " 3 x 1 s warm-up, 5 x 1 s measured; load average %.2f -> %.2f) ==%n", loadBefore, loadAfter));
    out.append(String.format(Locale.ROOT, "  %-10s %-22s %-22s %s%n", "positions", "AccountRisk.evaluate",
        "baseline (sum longs)", "evaluate / baseline"));
    for (Map.Entry<String, Result<?>> entry : evaluate.entrySet()) {
      Result<?> rules = entry.getValue();
      Result<?> plain = baseline.get(entry.getKey());
      out.append(String.format(Locale.ROOT, "  %-10s %-22s %-22s %s%n", entry.getKey(), score(rules), score(plain),
          plain == null || plain.getScore() <= 0 ? "n/a"
              : String.format(Locale.ROOT, "%.1f", rules.getScore() / plain.getScore())));
    }
    System.out.print(out);
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
