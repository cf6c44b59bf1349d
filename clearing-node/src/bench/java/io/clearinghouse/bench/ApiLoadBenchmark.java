package io.clearinghouse.bench;

import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.api.Authenticator;
import io.clearinghouse.it.TestNodes;
import io.clearinghouse.liquidation.LiquidationSettings;
import io.clearinghouse.liquidation.Liquidations;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.ops.NodeContext;
import io.clearinghouse.protocol.v1.AccountServiceClient;
import io.clearinghouse.protocol.v1.ClearingServiceClient;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.StreamAccountRequest;
import io.grpc.StatusRuntimeException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The "hostile clients" load (issue 13): account streams and {@code GetAccount} calls against one
 * node while 1% breach ticks land, against the same ticks without them.
 *
 * <ol>
 *   <li>The node and its accounts as in {@link LiquidationTriggerBenchmark} (its setup, reused):
 *       N accounts (default 20,000) long BTCUSDT-PERP, group k at the maintenance edge at mark k,
 *       each tick breaching a fresh 1%, the tick-to-last-trigger time measured the same way.
 *   <li>Client tokens ({@code bench.load-tokens}, 50) each own an equal share of the first
 *       {@code bench.load-streams} accounts; the node runs with its quotas on, at limits these
 *       clients stay within (100 calls a second, burst 200, 64 at once, 128 streams each).
 *   <li>The engine: 100 trader accounts trading BTCUSDT-271231 (not the perpetual: its last trades
 *       would move the perpetual's mark off the index) at {@code bench.load-trade-rate} (50) a
 *       second through {@code SubmitTrades}, paced, for the whole of each phase; each trade's
 *       latency from send to result.
 *   <li>Phase 1, quiet: warm-up and measured ticks with only the engine running. Each tick lands on
 *       a node at rest apart from the load under test: every liquidation the earlier ticks started
 *       (each one close to a backstop provider) has finished (or 30 s have passed), and a second
 *       has passed.
 *       Phase 2, loaded: {@code bench.load-streams} (5,000) {@code StreamAccount} streams, one per
 *       account, opened over one connection per token, and {@code GetAccount} at
 *       {@code bench.load-get-rate} (2,000) a second on random owned accounts (open loop, at most
 *       1,024 in flight); once they run, the same number of ticks again.
 * </ol>
 *
 * Printed: tick-to-last-trigger p50/p99 in both phases and the ratio of the p99s (the issue's
 * target: at most 1.5), the engine's trade p50/p99 in both, what the load achieved (calls a
 * second, latencies, refusals, stream updates). Never asserted; a tick that does not trigger its
 * whole group in 2 minutes, or an unclean audit, ends with exit code 1.
 */
public final class ApiLoadBenchmark {
  private static final String FUTURE = "BTCUSDT-271231";
  private static final int TRADERS = 100;
  private static final int PROVIDERS = 10;
  private static final long PROVIDER_DEPOSIT = 1_000_000_000L * 1_000_000L;
  private static final long USDT = 1_000_000L;
  private static final long TRADER_DEPOSIT = 1_000_000L * USDT;
  private static final int GET_IN_FLIGHT = 1_024;
  private static final Duration RAMP_BUDGET = Duration.ofMinutes(3);
  private static final Duration STEADY_BEFORE_TICKS = Duration.ofSeconds(5);
  private static final Duration SAGAS_BEFORE_TICK = Duration.ofSeconds(30);
  private static final Duration SAGAS_BEFORE_AUDIT = Duration.ofMinutes(15);
  /** Sequences kept for one phase's trades (the engine stops when the phase does). */
  private static final int MAX_TRADES_PER_PHASE = 100_000;

  /** -Dbench.load-accounts, -Dbench.load-streams, -Dbench.load-get-rate, -Dbench.load-tokens, -Dbench.load-ticks, -Dbench.load-warmup-ticks, -Dbench.load-trade-rate. */
  record Settings(int accounts, int streams, int getRate, int tokens, int ticks, int warmupTicks, int tradeRate) {
    Settings {
      if (accounts % 100 != 0 || accounts < 100 || streams > accounts || streams % tokens != 0
          || 2 * (ticks + warmupTicks) > 100 || getRate < 1 || tradeRate < 1) {
        throw new IllegalArgumentException("bench.load-*: accounts a multiple of 100 (at least 100), streams at most "
            + "the accounts and a multiple of the tokens, 2 x (ticks + warm-up) at most 100, rates at least 1: " + this);
      }
    }

    static Settings fromSystemProperties() {
      return new Settings(Integer.getInteger("bench.load-accounts", 20_000),
          Integer.getInteger("bench.load-streams", 5_000), Integer.getInteger("bench.load-get-rate", 2_000),
          Integer.getInteger("bench.load-tokens", 50), Integer.getInteger("bench.load-ticks", 10),
          Integer.getInteger("bench.load-warmup-ticks", 2), Integer.getInteger("bench.load-trade-rate", 50));
    }

    int ticksPerPhase() {
      return ticks + warmupTicks;
    }

  }

  private ApiLoadBenchmark() {}

  public static void main(String[] args) {
    int status;
    try {
      status = run(Settings.fromSystemProperties()) ? 0 : 1;
    } catch (RuntimeException e) {
      e.printStackTrace();
      status = 2;
    }
    System.exit(status);
  }

  private static String token(int k) {
    return "bench-client-" + k;
  }

  /** The node's configuration: the clients' tokens (each owning every tokens-th streamed account) and their quotas. */
  private static String nodeOverrides(Settings settings) {
    StringBuilder tokens = new StringBuilder();
    for (int k = 0; k < settings.tokens(); k++) {
      StringBuilder owned = new StringBuilder();
      for (int i = k; i < settings.streams(); i += settings.tokens()) {
        owned.append(owned.length() == 0 ? "" : ", ").append(LiquidationTriggerBenchmark.Plan.accountId(i));
      }
      tokens.append("clearinghouse.auth.tokens += { name = \"").append(token(k)).append("\", role = client, sha256 = \"")
          .append(Authenticator.sha256Hex(token(k))).append("\", accounts = [").append(owned).append("] }\n");
    }
    return tokens + String.join("\n",
        "pekko.loglevel = WARNING",
        "clearinghouse.quotas.client { requests-per-second = 100, burst = 200, concurrent-calls = 64, streams = 128,",
        "  streams-per-account = 4 }");
  }

  static boolean run(Settings settings) {
    double loadBefore = LoadAverage.now();
    String keyspace = TestNodes.newKeyspace("apiload");
    boolean clean = false;
    try {
      Main.Node node = TestNodes.start(TestNodes.nodeConfig(keyspace, nodeOverrides(settings)));
      ActorSystem<Void> clients = TestNodes.clientSystem();
      try {
        LiquidationTriggerBenchmark.Run ticks = new LiquidationTriggerBenchmark.Run(
            new LiquidationTriggerBenchmark.Settings(settings.accounts(), 2 * settings.ticksPerPhase(), 0, 1_000, 256,
                false), node, clients, null);
        long setupNanos = ticks.setUp();
        Accounts accounts = new Accounts(node.system(), Duration.ofSeconds(30));
        List<String> traders = openTraders(accounts, node.system());
        setUpProviders(node, accounts);
        double settleSeconds = ticks.readyForTicks();
        Load load = new Load(settings, node, clients);
        ClearingServiceClient engineClient = ClearingServiceClient.create(TestNodes.clientSettings(node, clients),
            clients);
        TradeStream engine = new TradeStream(engineClient, clients, TestNodes.ENGINE_TOKEN, traders, 42, FUTURE);

        // Engine sequences start above the setup's trades (one per account, sequences 1 to N).
        Phase quiet = phase("quiet", ticks, engine, settings, node, 1, settings.accounts() + 1L);
        double loadAfterQuiet = LoadAverage.now();
        long rampNanos = load.start(ticks, settings.ticksPerPhase());
        long getsBefore = load.answered.sum();
        long updatesBefore = load.updates.sum();
        long loadedStart = System.nanoTime();
        Phase loaded = phase("loaded", ticks, engine, settings, node, settings.ticksPerPhase() + 1,
            settings.accounts() + 1L + MAX_TRADES_PER_PHASE);
        double loadedSeconds = (System.nanoTime() - loadedStart) / 1e9;
        long getsDuring = load.answered.sum() - getsBefore;
        long updatesDuring = load.updates.sum() - updatesBefore;
        double loadAfterLoaded = LoadAverage.now();
        load.stop();

        Report report = new Report(settings, setupNanos, settleSeconds, loadBefore, loadAfterQuiet, loadAfterLoaded,
            quiet, loaded, load, rampNanos, getsDuring, updatesDuring, loadedSeconds);
        report.print();
        // The audit holds at quiescent points: every liquidation the ticks started has finished.
        long started = 2L * settings.ticksPerPhase() * (settings.accounts() / 100);
        long ended = awaitLiquidationsFinished(ticks, node, started, 2 * settings.ticksPerPhase(), SAGAS_BEFORE_AUDIT);
        System.out.printf(Locale.ROOT, "  liquidations finished before the audit: %,d of %,d%n", ended, started);
        LedgerAudit.Report audit = ticks.audit();
        int scale = node.system().settings().config().getInt("clearinghouse.settlement-asset.scale");
        System.out.printf(Locale.ROOT, "  ledger audit: %s (%,d accounts, %,d trade sides applied, cash %s)%n",
            audit.clean() ? "CLEAN" : "NOT CLEAN " + audit.violations().stream().limit(5).toList(),
            audit.accounts(), audit.tradeSidesApplied(), BigDecimal.valueOf(audit.totalCash(), scale).toPlainString());
        clean = audit.clean() && quiet.trades() != null && loaded.trades() != null
            && quiet.trades().refused().isEmpty() && loaded.trades().refused().isEmpty();
      } finally {
        clients.terminate();
        TestNodes.stop(node);
      }
    } finally {
      if (clean && !Boolean.getBoolean("bench.keep-journal")) {
        LiquidationTriggerBenchmark.dropKeyspaces(List.of(keyspace, keyspace + "_snap"));
      } else {
        System.out.println("Kept the run's journal keyspace " + keyspace + " (and " + keyspace + "_snap).");
      }
    }
    return clean;
  }

  private static List<String> openTraders(Accounts accounts, ActorSystem<?> system) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < TRADERS; i++) {
      ids.add(String.format(Locale.ROOT, "trader-%03d", i));
    }
    Timing.await(Source.from(ids)
        .mapAsyncUnordered(16, id -> Retrying.call(() -> accounts.open(id), 3, () -> { })
            .thenCompose(opened -> Retrying.call(() -> accounts.deposit(id, "seed-" + id, TRADER_DEPOSIT), 3, () -> { })))
        .runWith(Sink.ignore(), system), Duration.ofMinutes(5), "opening the traders");
    return ids;
  }

  /**
   * Backstop providers with deep pockets: every liquidation the ticks start is one close to a
   * provider at the backstop price (no deficit, nothing deleveraged), so that the sagas' work after
   * each tick is the same small amount in both phases.
   */
  private static void setUpProviders(Main.Node node, Accounts accounts) {
    Liquidations liquidations = new Liquidations(node.system(),
        LiquidationSettings.fromConfig(node.system().settings().config(), TestNodes.INSTRUMENTS),
        TestNodes.INSTRUMENTS, accounts, Duration.ofSeconds(30), Duration.ofSeconds(30));
    long deep = PROVIDER_DEPOSIT;
    Timing.await(Source.range(0, PROVIDERS - 1)
        .mapAsync(4, i -> Retrying.call(() -> accounts.open("lp-" + i), 3, () -> { })
            .thenCompose(o -> Retrying.call(() -> accounts.deposit("lp-" + i, "seed-lp-" + i, deep), 3, () -> { }))
            .thenCompose(d -> liquidations.registerProvider("lp-" + i, List.of(LiquidationTriggerBenchmark.PERP), deep)))
        .runWith(Sink.ignore(), node.system()), Duration.ofMinutes(5), "registering the backstop providers");
  }

  /** What one phase measured: its ticks and the engine's trades meanwhile. */
  record Phase(String name, List<LiquidationTriggerBenchmark.Tick> ticks, TradeStream.Run trades, long gcPauses,
      long gcMillis, double coresUsed) {
    double[] measuredTickMillis(int warmup) {
      return ticks.stream().skip(warmup).mapToDouble(LiquidationTriggerBenchmark.Tick::totalMillis).toArray();
    }
  }

  /**
   * Ticks {@code first} to {@code first + ticksPerPhase - 1}, each landing on a node at rest apart
   * from the load under test: every liquidation the earlier ticks started has finished (their
   * closes and the providers' writes would otherwise still be running; at most 30 s are waited
   * for them), and at least a second has passed since the last tick. The engine trades from sequence {@code firstSequence} for as long
   * as the ticks take.
   */
  private static Phase phase(String name, LiquidationTriggerBenchmark.Run ticks, TradeStream engine, Settings settings,
      Main.Node node, int first, long firstSequence) {
    AtomicBoolean trading = new AtomicBoolean(true);
    CompletableFuture<TradeStream.Run> engineRun = CompletableFuture.supplyAsync(
        () -> engine.runPaced(firstSequence, MAX_TRADES_PER_PHASE, settings.tradeRate(), trading::get));
    long[] gcBefore = collectorPauses();
    long cpuBefore = processCpuNanos();
    List<LiquidationTriggerBenchmark.Tick> done = new ArrayList<>();
    long start = System.nanoTime();
    for (int t = first; t < first + settings.ticksPerPhase(); t++) {
      long earliest = System.nanoTime() + 1_000_000_000L;
      awaitLiquidationsFinished(ticks, node, (t - 1L) * (settings.accounts() / 100), t - 1, SAGAS_BEFORE_TICK);
      LiquidationTriggerBenchmark.pause(TimeUnit.NANOSECONDS.toMillis(earliest - System.nanoTime()));
      LiquidationTriggerBenchmark.Tick tick = ticks.tick(t);
      done.add(tick);
      System.out.printf(Locale.ROOT, "%s tick %d: %,d triggers persisted %.1f ms after the ticks were sent%n", name, t,
          settings.accounts() / 100, tick.totalMillis());
    }
    long[] gcAfter = collectorPauses();
    double coresUsed = (double) (processCpuNanos() - cpuBefore) / (System.nanoTime() - start);
    trading.set(false);
    TradeStream.Run engineDone;
    try {
      engineDone = Timing.await(engineRun, Duration.ofMinutes(5), name + ": the engine's trades");
    } catch (IllegalStateException e) {
      // A stream the node ended (a trade not confirmed in time): the phase is reported without it.
      System.out.println(name + ": the engine's stream failed: " + e.getMessage());
      engineDone = null;
    }
    return new Phase(name, done, engineDone, gcAfter[0] - gcBefore[0], gcAfter[1] - gcBefore[1], coresUsed);
  }

  /**
   * Waits until {@code started} liquidations have finished on the node, publishing the mark of
   * tick {@code lastTick} again every 2 s meanwhile (closes wait for fresh marks); at most
   * {@code timeout}. Returns how many had finished.
   */
  private static long awaitLiquidationsFinished(LiquidationTriggerBenchmark.Run ticks, Main.Node node, long started,
      int lastTick, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long nextKeepAlive = System.nanoTime() + 2_000_000_000L;
    long ended;
    while ((ended = NodeContext.get(node.system()).metrics().liquidationsEnded()) < started
        && System.nanoTime() < deadline) {
      if (System.nanoTime() >= nextKeepAlive && lastTick > 0) {
        ticks.publish(LiquidationTriggerBenchmark.Plan.markTicks(lastTick));
        nextKeepAlive = System.nanoTime() + 2_000_000_000L;
      }
      LiquidationTriggerBenchmark.pause(50);
    }
    return ended;
  }

  /** CPU time of this JVM (the node and the clients) so far, if the platform tells. */
  private static long processCpuNanos() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return 0;
  }

  private static long[] collectorPauses() {
    long count = 0;
    long millis = 0;
    for (var collector : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
      if (!collector.getName().endsWith("Cycles")) {
        count += Math.max(0, collector.getCollectionCount());
        millis += Math.max(0, collector.getCollectionTime());
      }
    }
    return new long[] {count, millis};
  }

  /** The clients' load: the account streams and the GetAccount calls, each token on a connection of its own. */
  private static final class Load {
    private final Settings settings;
    private final ActorSystem<Void> clients;
    private final List<AccountServiceClient> perToken = new ArrayList<>();
    private final SharedKillSwitch stop = KillSwitches.shared("api-load");
    private final AtomicBoolean running = new AtomicBoolean(true);
    final LongAdder updates = new LongAdder();
    final AtomicInteger streamsUp = new AtomicInteger();
    final AtomicInteger streamsFailed = new AtomicInteger();
    final LongAdder answered = new LongAdder();
    final Map<String, LongAdder> refused = new ConcurrentHashMap<>();
    /** GetAccount latencies in microseconds, while the loaded phase runs (a bounded sample). */
    private final long[] latencyMicros = new long[1 << 20];
    private final AtomicInteger latencies = new AtomicInteger();
    private final AtomicLong sent = new AtomicLong();
    private volatile boolean sampling;

    Load(Settings settings, Main.Node node, ActorSystem<Void> clients) {
      this.settings = settings;
      this.clients = clients;
      for (int k = 0; k < settings.tokens(); k++) {
        perToken.add(AccountServiceClient.create(TestNodes.clientSettings(node, clients), clients));
      }
    }

    /**
     * Opens the streams (1,000 a second) and starts the calls; returns once every stream delivered
     * its first update and the load has run {@link #STEADY_BEFORE_TICKS} more. Meanwhile the last
     * tick's prices are published again every 2 s, so that the index stays fresh.
     */
    long start(LiquidationTriggerBenchmark.Run ticks, int lastTick) {
      long start = System.nanoTime();
      long lastMark = LiquidationTriggerBenchmark.Plan.markTicks(lastTick);
      Source.range(0, settings.streams() - 1)
          .throttle(1_000, Duration.ofSeconds(1))
          .via(stop.flow())
          .runForeach(this::openStream, clients);
      Random random = new Random(7);
      Source.repeat(0)
          .throttle(settings.getRate(), Duration.ofSeconds(1))
          .via(stop.flow())
          .mapAsyncUnordered(GET_IN_FLIGHT, ignored -> getAccount(random))
          .runWith(Sink.ignore(), clients);
      long deadline = start + RAMP_BUDGET.toNanos();
      long nextKeepAlive = 0;
      while (streamsUp.get() + streamsFailed.get() < settings.streams() && System.nanoTime() < deadline) {
        if (System.nanoTime() >= nextKeepAlive) {
          ticks.publish(lastMark);
          nextKeepAlive = System.nanoTime() + 2_000_000_000L;
        }
        LiquidationTriggerBenchmark.pause(100);
      }
      long ramp = System.nanoTime() - start;
      System.out.printf(Locale.ROOT, "load: %,d streams up (%,d failed) in %.1f s; GetAccount answered %,d so far%n",
          streamsUp.get(), streamsFailed.get(), ramp / 1e9, answered.sum());
      ticks.publish(lastMark);
      LiquidationTriggerBenchmark.pause(STEADY_BEFORE_TICKS.toMillis());
      sampling = true;
      return ramp;
    }

    void stop() {
      sampling = false;
      running.set(false);
      stop.shutdown();
    }

    private void openStream(int i) {
      AtomicBoolean first = new AtomicBoolean(true);
      perToken.get(i % settings.tokens()).streamAccount()
          .addHeader("authorization", "Bearer " + token(i % settings.tokens()))
          .invoke(StreamAccountRequest.newBuilder().setAccountId(LiquidationTriggerBenchmark.Plan.accountId(i)).build())
          .via(stop.flow())
          .runForeach(update -> {
            if (first.compareAndSet(true, false)) {
              streamsUp.incrementAndGet();
            }
            updates.increment();
          }, clients)
          .whenComplete((done, failure) -> {
            if (failure != null && running.get()) {
              if (first.get()) {
                streamsFailed.incrementAndGet();
              }
              refused.computeIfAbsent("stream " + describe(failure), r -> new LongAdder()).increment();
            }
          });
    }

    private CompletableFuture<Object> getAccount(Random random) {
      long n = sent.incrementAndGet();
      int account = random.nextInt(settings.streams());
      int k = account % settings.tokens();
      long begin = System.nanoTime();
      return perToken.get(k).getAccount().addHeader("authorization", "Bearer " + token(k))
          .invoke(GetAccountRequest.newBuilder().setAccountId(LiquidationTriggerBenchmark.Plan.accountId(account))
              .build())
          .toCompletableFuture()
          .handle((view, failure) -> {
            if (failure == null) {
              answered.increment();
              if (sampling) {
                int slot = latencies.getAndIncrement();
                if (slot < latencyMicros.length) {
                  latencyMicros[slot] = (System.nanoTime() - begin) / 1_000;
                }
              }
            } else if (running.get()) {
              refused.computeIfAbsent("GetAccount " + describe(failure), r -> new LongAdder()).increment();
            }
            return n;
          });
    }

    double getLatencyMillis(double percentile) {
      int count = Math.min(latencies.get(), latencyMicros.length);
      if (count == 0) {
        return Double.NaN;
      }
      long[] sorted = Arrays.copyOf(latencyMicros, count);
      Arrays.sort(sorted);
      int rank = (int) Math.ceil(percentile / 100.0 * count);
      return sorted[Math.max(0, Math.min(count - 1, rank - 1))] / 1e3;
    }

    private static String describe(Throwable failure) {
      Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      if (cause instanceof StatusRuntimeException status) {
        String description = status.getStatus().getDescription();
        return status.getStatus().getCode() + (description == null ? "" : " " + description.split(":")[0]);
      }
      return cause.getClass().getSimpleName();
    }
  }

  private record Report(Settings settings, long setupNanos, double settleSeconds, double loadBefore,
      double loadAfterQuiet, double loadAfterLoaded, Phase quiet, Phase loaded, Load load, long rampNanos,
      long getsDuring, long updatesDuring, double loadedSeconds) {

    void print() {
      StringBuilder out = new StringBuilder();
      out.append(String.format(Locale.ROOT, "%n== API load against one node, %s, %d cores, load average %.2f before,"
              + " %.2f after the quiet phase, %.2f after the loaded one ==%n",
          LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS), LoadAverage.processors(), loadBefore, loadAfterQuiet,
          loadAfterLoaded));
      out.append(String.format(Locale.ROOT, "  %,d accounts long BTCUSDT-PERP, 1%% (%,d) breached per tick, each tick"
              + " once the earlier ticks' liquidations finished, %d warm-up + %d measured ticks per phase; engine %d"
              + " trades/s of %s between %d traders; setup %.1f s, Cassandra settled %.0f s%n", settings.accounts(), settings.accounts() / 100,
          settings.warmupTicks(), settings.ticks(), settings.tradeRate(), FUTURE, TRADERS, setupNanos / 1e9,
          settleSeconds));
      out.append(String.format(Locale.ROOT, "  loaded phase: %,d StreamAccount streams over %d tokens (%,d up, %,d"
              + " failed, ramp %.1f s) and GetAccount asked at %,d/s: %,.0f/s answered during the ticks, p50 %.1f ms,"
              + " p99 %.1f ms; stream updates %,.0f/s%n", settings.streams(), settings.tokens(), load.streamsUp.get(),
          load.streamsFailed.get(), rampNanos / 1e9, settings.getRate(), getsDuring / loadedSeconds,
          load.getLatencyMillis(50), load.getLatencyMillis(99), updatesDuring / loadedSeconds));
      out.append(String.format(Locale.ROOT, "  refusals and failures during the load: %s%n", load.refused.isEmpty()
          ? "none" : new java.util.TreeMap<>(load.refused)));
      out.append(String.format(Locale.ROOT, "  %-44s %9s %9s %9s %9s%n", "", "p50 ms", "p90 ms", "p99 ms", "max ms"));
      double[] quietTicks = quiet.measuredTickMillis(settings.warmupTicks());
      double[] loadedTicks = loaded.measuredTickMillis(settings.warmupTicks());
      row(out, "tick -> last trigger persisted, quiet", quietTicks);
      row(out, "tick -> last trigger persisted, loaded", loadedTicks);
      row(out, "engine trade latency, quiet", quiet.trades());
      row(out, "engine trade latency, loaded", loaded.trades());
      double ratio = percentile(loadedTicks, 99) / percentile(quietTicks, 99);
      out.append(String.format(Locale.ROOT, "  ratio p99 tick to last trigger, loaded : quiet   %.2f (target at most"
          + " 1.5: %s); p50 ratio %.2f%n", ratio, ratio <= 1.5 ? "met" : "NOT met",
          percentile(loadedTicks, 50) / percentile(quietTicks, 50)));
      if (quiet.trades() != null && loaded.trades() != null) {
        out.append(String.format(Locale.ROOT, "  ratio p99 engine trade latency, loaded : quiet   %.2f (%,d and %,d"
                + " trades, %d and %d refused)%n",
            loaded.trades().timing().latencyMillis(99) / quiet.trades().timing().latencyMillis(99),
            quiet.trades().timing().operations(), loaded.trades().timing().operations(),
            quiet.trades().refused().size(), loaded.trades().refused().size()));
      }
      out.append(String.format(Locale.ROOT, "  collector pauses: quiet %d (%d ms), loaded %d (%d ms); heap in use %,d MB;"
              + " cores used by this JVM (node and clients): quiet %.2f, loaded %.2f of %d%n",
          quiet.gcPauses(), quiet.gcMillis(), loaded.gcPauses(), loaded.gcMillis(),
          LiquidationTriggerBenchmark.Run.heapUsedMb(), quiet.coresUsed(), loaded.coresUsed(), LoadAverage.processors()));
      System.out.print(out);
    }

    private static void row(StringBuilder out, String what, double[] millis) {
      out.append(String.format(Locale.ROOT, "  %-44s %9.1f %9.1f %9.1f %9.1f%n", what, percentile(millis, 50),
          percentile(millis, 90), percentile(millis, 99), percentile(millis, 100)));
    }

    private static void row(StringBuilder out, String what, TradeStream.Run trades) {
      if (trades == null) {
        out.append(String.format(Locale.ROOT, "  %-44s the engine's stream failed (see above)%n", what));
        return;
      }
      Timing timing = trades.timing();
      out.append(String.format(Locale.ROOT, "  %-44s %9.1f %9.1f %9.1f %9.1f%n", what, timing.latencyMillis(50),
          timing.latencyMillis(90), timing.latencyMillis(99), timing.latencyMillis(100)));
    }

    /** Nearest rank. */
    private static double percentile(double[] values, double percentile) {
      double[] sorted = values.clone();
      Arrays.sort(sorted);
      int rank = (int) Math.ceil(percentile / 100.0 * sorted.length);
      return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
  }
}
