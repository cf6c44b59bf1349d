package io.clearinghouse.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.it.Feeders;
import io.clearinghouse.it.TestNodes;
import io.clearinghouse.liquidation.FundFlow;
import io.clearinghouse.liquidation.InsuranceFund;
import io.clearinghouse.liquidation.LiquidationSettings;
import io.clearinghouse.liquidation.Liquidations;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.ops.NodeContext;
import io.clearinghouse.protocol.v1.IndexPriceTick;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import io.clearinghouse.protocol.v1.PublishSummary;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * The "liquidation sagas" issue: 10,000 accounts holding positions, one tick 20% down, every one
 * of them liquidated. Figures: liquidations settled per second, time from the tick to the last
 * one finished, and whether the insurance fund entity is the bottleneck.
 *
 * <p>One real node in this JVM ({@code TestNodes}), its own keyspace on the shared Cassandra.
 * Each trader holds a 10x long of 0.010 to 0.050 BTC bought at 50,000 (cash: a tenth of the
 * notional); 20 backstop providers with deep pockets; the insurance fund topped up far beyond
 * the deficits. At 40,000 every trader is past bankruptcy: its saga plans one close, a provider
 * (each liquidation starts at its own place in the provider list) takes it at 39,920.0, the
 * account closes, the fund pays the deficit into escrow, the account is credited, and the
 * liquidation ends: every saga writes to the one fund entity once.
 *
 * <p>Run twice in the same JVM, on the same node: first the traders with protective stops at
 * 45,000 and enough cash not to be liquidated (the same sagas, venues and closes, no fund step),
 * then the liquidations. Their ratio is what the fund adds. The fund's own ceiling is measured
 * too: as many movements as there are liquidations, sent to one fund entity at once.
 */
public final class LiquidationSettlementBenchmark {
  private static final String PERP = "BTCUSDT-PERP";
  private static final String SCRATCH_FUND = "BTCUSDT-271231";
  private static final List<String> SOURCES = List.of("binance", "okx", "coinbase");
  private static final long USDT = 1_000_000L;
  private static final long ENTRY_TICKS = 500_000;
  private static final long STOP_TICKS = 450_000;
  private static final long CRASH_TICKS = 400_000;
  private static final int PROVIDERS = 20;
  private static final int ATTEMPTS = 3;
  private static final Duration ASK = Duration.ofSeconds(30);
  private static final Duration LONG = Duration.ofMinutes(30);

  private LiquidationSettlementBenchmark() {}

  public static void main(String[] args) {
    int status;
    try {
      status = run(Integer.getInteger("bench.settlement-accounts", 10_000),
          Integer.getInteger("bench.settlement-parallelism", 128)) ? 0 : 1;
    } catch (RuntimeException e) {
      e.printStackTrace();
      status = 2;
    }
    System.exit(status);
  }

  static boolean run(int accounts, int parallelism) {
    String keyspace = TestNodes.newKeyspace("settlebench");
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(keyspace, String.join("\n",
        
        "clearinghouse.price-feed.stale-after = 30m",
        "clearinghouse.price-feed.last-trade-interval = 1h",
        // One tick of 20%: not held for confirmation.
        "clearinghouse.price-feed.max-jump = \"30%\"",
        "clearinghouse.liquidation.step-timeout = 30s",
        "pekko.loglevel = WARNING")));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      Bench bench = new Bench(node, clients, accounts, parallelism);
      double loadBefore = LoadAverage.now();
      bench.setUpVenues();
      bench.publish(ENTRY_TICKS);
      Phase stops = bench.phase("stops", "s-", true);
      bench.publish(ENTRY_TICKS);
      Phase liquidations = bench.phase("liquidations", "l-", false);
      double fundCeiling = bench.fundCeiling();
      LedgerAudit.Report audit = Timing.await(new LedgerAudit(node.system(), bench.accounts, TestNodes.INSTRUMENTS).run(),
          LONG, "the ledger audit");
      System.out.println();
      System.out.printf(Locale.ROOT, "== Liquidation settlement, %,d accounts, one tick 20%% down (%d cores, load %.1f "
          + "before, %.1f after) ==%n", accounts, LoadAverage.processors(), loadBefore, LoadAverage.now());
      System.out.println("  phase          setup s   settled   tick->last s   per second   saga p50 ms   p99 ms   fund writes/s");
      stops.print();
      liquidations.print();
      System.out.printf(Locale.ROOT, "  fund ceiling: %,d movements sent at once to one fund entity: %.0f per second%n",
          accounts, fundCeiling);
      System.out.printf(Locale.ROOT, "  ratio liquidations / stops (per second): %.2f; liquidations / fund ceiling: %.2f%n",
          liquidations.perSecond() / stops.perSecond(), liquidations.perSecond() / fundCeiling);
      // The journal rows each phase wrote, from its tick until its records were read (the sagas'
      // last steps included; a few marks of the feed too).
      CqlSession session = Timing.await(CassandraSessionRegistry.get(node.system())
          .sessionFor("pekko.persistence.cassandra").underlying(), ASK, "the journal's driver session");
      for (Phase phase : List.of(stops, liquidations)) {
        JournalWrites.read(session, keyspace, phase.tickMillis(), phase.doneMillis()).print(phase.name(), phase.settled());
      }
      System.out.printf(Locale.ROOT, "  ledger audit: %s (%,d accounts, %d liquidations, escrow %d)%n",
          audit.clean() ? "CLEAN" : "NOT CLEAN " + audit.violations().stream().limit(5).toList(), audit.accounts(),
          audit.liquidations(), audit.sagaEscrow());
      return audit.clean() && stops.settled() == accounts && liquidations.settled() == accounts;
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  /** One run: how long its setup took, how many settled, when, and each saga's duration. */
  record Phase(String name, double setupSeconds, int settled, long tickToLastMillis, long[] sagaMillis,
      double fundWritesPerSecond, long tickMillis, long doneMillis) {
    double perSecond() {
      return settled * 1000.0 / Math.max(1, tickToLastMillis);
    }

    void print() {
      long[] sorted = sagaMillis.clone();
      Arrays.sort(sorted);
      System.out.printf(Locale.ROOT, "  %-12s %9.1f %9d %14.1f %12.0f %13d %8d %15.0f%n", name, setupSeconds, settled,
          tickToLastMillis / 1000.0, perSecond(), percentile(sorted, 50), percentile(sorted, 99), fundWritesPerSecond);
    }

    private static long percentile(long[] sorted, int p) {
      return sorted.length == 0 ? 0 : sorted[Math.max(0, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }
  }

  private static final class Bench {
    private final Main.Node node;
    private final Accounts accounts;
    private final Liquidations liquidations;
    private final PriceServiceClient prices;
    private final Instrument perp = TestNodes.INSTRUMENTS.require(PERP);
    private final int count;
    private final int parallelism;
    private final AtomicInteger sequence = new AtomicInteger();
    private int counterparties;

    Bench(Main.Node node, ActorSystem<Void> clients, int count, int parallelism) {
      this.node = node;
      this.count = count;
      this.parallelism = parallelism;
      this.accounts = new Accounts(node.system(), ASK);
      this.liquidations = new Liquidations(node.system(),
          LiquidationSettings.fromConfig(node.system().settings().config(), TestNodes.INSTRUMENTS),
          TestNodes.INSTRUMENTS, accounts, ASK, LONG);
      this.prices = PriceServiceClient.create(TestNodes.clientSettings(node, clients), clients);
    }

    void setUpVenues() {
      long deep = 1_000_000_000L * USDT;
      all(PROVIDERS, i -> retrying(() -> accounts.open("provider-" + i))
          .thenCompose(o -> retrying(() -> accounts.deposit("provider-" + i, "seed", deep)))
          .thenCompose(d -> liquidations.registerProvider("provider-" + i, List.of(PERP), deep)), "providers");
      Timing.await(liquidations.topUp(PERP, "seed", 100_000_000L * USDT), ASK, "the fund's top-up");
    }

    /** Opens and trades {@code count} traders (long, 10x or 3.3x with a stop), then one tick 20% down. */
    Phase phase(String name, String prefix, boolean withStops) {
      long setupStart = System.nanoTime();
      int retained = node.system().settings().config().getInt("clearinghouse.account.retained-trades");
      int first = counterparties;
      counterparties += (count + retained - 1) / retained;
      all(counterparties - first, c -> retrying(() -> accounts.open("short-" + (first + c)))
          .thenCompose(o -> retrying(() -> accounts.deposit("short-" + (first + c), "seed", 1_000_000_000L * USDT))),
          "counterparties");
      all(count, i -> trader(prefix + i, "short-" + (first + i / retained), lots(i), withStops), name + " traders");
      double setupSeconds = (System.nanoTime() - setupStart) / 1e9;
      long before = NodeContext.get(node.system()).metrics().liquidationsEnded();
      long fundBefore = fundMovements();
      long sent = System.currentTimeMillis();
      publish(CRASH_TICKS);
      long deadline = System.nanoTime() + LONG.toNanos();
      long ended;
      do {
        pause(50);
        ended = NodeContext.get(node.system()).metrics().liquidationsEnded() - before;
      } while (ended < count && System.nanoTime() < deadline);
      long last = System.currentTimeMillis() - sent;
      long fundWrites = fundMovements() - fundBefore;
      List<FundFlow> flows = Timing.await(liquidations.list(new Liquidations.Filter(null, PERP, sent, 0, count + 1), LONG),
          LONG, "the fund-flow records");
      long[] durations = flows.stream().filter(f -> f.accountId().startsWith(prefix))
          .mapToLong(f -> f.finishedAtMillis() - f.triggeredAtMillis()).toArray();
      long lastFinished = flows.stream().mapToLong(FundFlow::finishedAtMillis).max().orElse(sent) - sent;
      System.out.printf(Locale.ROOT, "%s: %,d of %,d settled, the last %.1f s after the tick%n", name, ended, count,
          lastFinished / 1000.0);
      return new Phase(name, setupSeconds, (int) ended, Math.min(last, lastFinished), durations,
          fundWrites * 1000.0 / Math.max(1, lastFinished), sent, System.currentTimeMillis());
    }

    private long fundMovements() {
      return Timing.await(liquidations.fund(PERP, 0, 0), ASK, "the fund").entries();
    }

    /** 0.010 to 0.050 BTC. */
    private static long lots(int i) {
      return 10 + (i % 41);
    }

    private CompletionStage<Object> trader(String id, String counterparty, long lots, boolean withStop) {
      long notional = perp.notional(ENTRY_TICKS, lots);
      // 10x (liquidated at 40,000, past bankruptcy at 45,000) or 3.3x with a stop (never liquidated).
      long deposit = withStop ? notional * 3 / 10 : notional / 10 + notional / 1000;
      String tradeId = "t-" + id;
      long seq = sequence.incrementAndGet();
      return retrying(() -> accounts.open(id))
          .thenCompose(o -> retrying(() -> accounts.deposit(id, "seed", deposit)))
          .thenCompose(d -> {
            var buyer = retrying(() -> accounts.applyTrade(id, tradeId, seq, PERP, lots, ENTRY_TICKS, true, null,
                counterparty));
            var seller = retrying(() -> accounts.applyTrade(counterparty, tradeId, seq, PERP, -lots, ENTRY_TICKS, false,
                null, id));
            return buyer.thenCombine(seller, (b, s) -> (Object) s);
          })
          .thenCompose(t -> withStop ? retrying(() -> accounts.setStop(id, PERP, STOP_TICKS)).thenApply(v -> (Object) v)
              : CompletableFuture.completedFuture(t));
    }

    /**
     * The fund's ceiling: as many top-ups as there were liquidations, all sent at once to one fund
     * entity (the instrument's scratch fund), from the first sent to the last answered.
     */
    double fundCeiling() {
      var fund = ClusterSharding.get(node.system()).entityRefFor(InsuranceFund.TYPE_KEY, SCRATCH_FUND);
      long start = System.nanoTime();
      // At most 1,024 waiting: more would overflow the entity's stash while it persists.
      Timing.await(Source.range(0, count - 1).mapAsyncUnordered(1024, i -> fund.<InsuranceFund.Reply>ask(
          r -> new InsuranceFund.TopUp("ceiling-" + i, USDT, r), LONG)).runWith(Sink.ignore(), node.system()),
          LONG, "the fund's top-ups");
      return count * 1e9 / (System.nanoTime() - start);
    }

    void publish(long markTicks) {
      String price = perp.formatPrice(markTicks);
      long now = System.currentTimeMillis();
      // Each source with its own feeder token (TestNodes configures one per source).
      PublishSummary summary = Timing.await(Feeders.publishAsync(prices, SOURCES.stream().map(s -> IndexPriceTick
          .newBuilder().setSource(s).setInstrument(PERP).setPrice(price).setTimestampMs(now).build()).toList()),
          ASK, "publishing " + price);
      if (summary.getAccepted() != SOURCES.size()) {
        throw new IllegalStateException("ticks refused: " + summary);
      }
    }

    private void all(int n, java.util.function.IntFunction<CompletionStage<?>> each, String what) {
      Timing.await(Source.range(0, n - 1).mapAsyncUnordered(parallelism, each::apply)
          .runWith(Sink.ignore(), node.system()), LONG, "setting up " + what);
    }

    private <T> CompletionStage<T> retrying(Supplier<CompletionStage<T>> call) {
      return Retrying.call(call, ATTEMPTS, () -> { });
    }
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
