package io.clearinghouse.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.clearinghouse.Main;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.it.Feeders;
import io.clearinghouse.it.TestNodes;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.MarginMath;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.persistence.LocalCassandra;
import io.clearinghouse.price.PriceFeed;
import io.clearinghouse.protocol.v1.IndexPriceTick;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import io.clearinghouse.protocol.v1.PublishSummary;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Tick to liquidation trigger on one node holding many accounts: from the moment index prices
 * are sent to the last {@code LiquidationStarted} persisted.
 *
 * <ol>
 *   <li>A real node in this JVM, started as the integration tests start one ({@link TestNodes}).
 *       N accounts (default 100,000) each go long 0.1 to 3.0 BTC of BTCUSDT-PERP at 50,000.0
 *       (tiers 1 and 2) against a few short counterparties, opened, funded and traded through
 *       the in-process {@link Accounts} facade with many asks in flight (timed on its own). The
 *       trades do not pass the clearing gRPC service, so no last-trade price reaches the feed and
 *       the mark is exactly the index: the breach arithmetic below depends on it.
 *   <li>The accounts fall into 100 groups (account i in group i % 100 + 1). Group k's cash is
 *       exactly the maintenance edge at mark 49,000.0 - 10.0 k: {@code cash = -U + MM}, with
 *       {@code MM = ceil(N * mmr / 1e6) - cum} of the tier holding N, computed with the node's own
 *       {@link MarginMath}. So mark k breaches exactly group k (equity == MM is liquidated) and
 *       nobody else: every tick breaches a fresh 1%.
 *   <li>Every mark goes the production way: a feeder streams the same price from three sources
 *       through {@code PriceService.PublishIndexPrices} over loopback; the median of three only
 *       moves at the second tick, so each round publishes exactly one mark (the feed persists it,
 *       the topic carries it to the board, the monitor evaluates every holder, each breached
 *       account re-checks and persists {@code LiquidationStarted}). Before the first round the
 *       benchmark lets Cassandra finish compacting what the setup wrote (a price tick normally
 *       meets a store at rest, not one compacting 400,000 fresh rows); rounds then start once a
 *       second, as a feed publishes, or back to back with an interval of 0 (a stress case: 1,000
 *       writes every ~150 ms is more than this store sustains).
 *   <li>Persistence is seen through {@code AccountEntity.Subscribe}: every account sends its
 *       state to one watcher after every persisted change, so the watcher hears of each trigger
 *       once it is durable, at the cost of one message per changed account. After the ticks, the
 *       journal splits the latency into its parts: the feed's {@code MarkPublished} (computed:
 *       the event's clock; handed to Cassandra: its row's time uuid) and each trigger's
 *       {@code LiquidationStarted} (re-checked by the account; handed to Cassandra).
 *   <li>Baseline: the measured triggers' own journal rows inserted again, a group at once, into
 *       a scratch table of the journal's shape through the journal's session.
 *   <li>The ledger audit, run in-process ({@link LedgerAudit}, what {@code AdminService.Audit}
 *       runs): over gRPC, auditing 100,000 accounts outlasts the HTTP server's request timeout.
 * </ol>
 *
 * Figures are printed, never asserted; a wrong trigger count or an unclean audit ends with exit
 * code 1.
 */
public final class LiquidationTriggerBenchmark {
  static final String PERP = "BTCUSDT-PERP";
  /** Three sources: the median moves only when two of them have moved, so one mark per round. */
  private static final List<String> SOURCES = List.of("binance", "okx", "coinbase");
  private static final String JOURNAL_SESSION = "pekko.persistence.cassandra";
  private static final int GROUPS = 100;
  private static final long ENTRY_TICKS = 500_000;
  private static final long OPENING_MARK_TICKS = 490_000;
  private static final long STEP_TICKS = 100;
  private static final long USDT = 1_000_000L;
  private static final long COUNTERPARTY_DEPOSIT = 1_000_000_000L * USDT;
  private static final int ATTEMPTS = 3;
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration SETUP_TIMEOUT = Duration.ofMinutes(60);
  private static final Duration TICK_TIMEOUT = Duration.ofMinutes(2);
  private static final Duration READ_TIMEOUT = Duration.ofMinutes(10);
  private static final Duration AUDIT_TIMEOUT = Duration.ofMinutes(60);
  private static final Duration DROP_TIMEOUT = Duration.ofMinutes(2);
  private static final Duration SETTLE_TIMEOUT = Duration.ofMinutes(5);

  /**
   * -Dbench.monitor-accounts (a multiple of 100), -Dbench.monitor-ticks, -Dbench.monitor-warmup-ticks,
   * -Dbench.monitor-tick-interval-ms (start to start; 0: back to back), -Dbench.monitor-setup-parallelism,
   * -Dbench.keep-journal.
   */
  record Settings(int accounts, int ticks, int warmupTicks, int tickIntervalMillis, int setupParallelism,
      boolean keepJournal) {
    Settings {
      require(accounts >= GROUPS && accounts <= 1_000_000 && accounts % GROUPS == 0,
          "bench.monitor-accounts must be a multiple of 100 from 100 to 1,000,000, was " + accounts);
      require(ticks >= 1 && warmupTicks >= 0 && ticks + warmupTicks <= GROUPS,
          "bench.monitor-ticks (>= 1) plus bench.monitor-warmup-ticks (>= 0) must be at most 100, were "
              + ticks + " and " + warmupTicks);
      require(tickIntervalMillis >= 0 && tickIntervalMillis <= 60_000,
          "bench.monitor-tick-interval-ms must be 0 to 60,000, was " + tickIntervalMillis);
      require(setupParallelism >= 1 && setupParallelism <= 4_096,
          "bench.monitor-setup-parallelism must be 1 to 4096, was " + setupParallelism);
    }

    static Settings fromSystemProperties() {
      return new Settings(Integer.getInteger("bench.monitor-accounts", 100_000),
          Integer.getInteger("bench.monitor-ticks", 10), Integer.getInteger("bench.monitor-warmup-ticks", 2),
          Integer.getInteger("bench.monitor-tick-interval-ms", 1_000),
          Integer.getInteger("bench.monitor-setup-parallelism", 256), Boolean.getBoolean("bench.keep-journal"));
    }

    int groupSize() {
      return accounts / GROUPS;
    }

    int totalTicks() {
      return warmupTicks + ticks;
    }

    private static void require(boolean condition, String message) {
      if (!condition) {
        throw new IllegalArgumentException(message);
      }
    }
  }

  private LiquidationTriggerBenchmark() {}

  public static void main(String[] args) {
    int status;
    try {
      status = run(Settings.fromSystemProperties()) ? 0 : 1;
    } catch (RuntimeException e) {
      e.printStackTrace();
      status = 2;
    }
    // Driver and Netty threads of sessions opened along the way must not keep the JVM alive.
    System.exit(status);
  }

  static boolean run(Settings settings) {
    double loadBefore = LoadAverage.now();
    String keyspace = TestNodes.newKeyspace("liqbench");
    // Created before anything is timed: schema changes are slow and disturb a loaded Cassandra.
    String scratch = TestNodes.newKeyspace("liqraw");
    boolean clean = false;
    try {
      Main.Node node = TestNodes.start(TestNodes.nodeConfig(keyspace, String.join("\n",
          
          "pekko.loglevel = WARNING")));
      ActorSystem<Void> clients = TestNodes.clientSystem();
      try {
        Run run = new Run(settings, node, clients, scratch);
        Report report = run.measure();
        report.print(settings, loadBefore);
        // After the figures are out: the audit replays every account's journal, which takes minutes.
        LedgerAudit.Report audit = run.audit();
        int scale = node.system().settings().config().getInt("clearinghouse.settlement-asset.scale");
        System.out.printf(Locale.ROOT, "  ledger audit: %s (%,d accounts, %,d trade sides applied, cash %s)%n",
            audit.clean() ? "CLEAN" : "NOT CLEAN " + audit.violations().stream().limit(5).toList(),
            audit.accounts(), audit.tradeSidesApplied(), BigDecimal.valueOf(audit.totalCash(), scale).toPlainString());
        clean = report.countsRight() && audit.clean();
      } finally {
        clients.terminate();
        TestNodes.stop(node);
      }
    } finally {
      List<String> dropped = new ArrayList<>(List.of(scratch, scratch + "_snap"));
      if (clean && !settings.keepJournal()) {
        dropped.addAll(List.of(keyspace, keyspace + "_snap"));
      } else {
        System.out.println("Kept the run's journal keyspace " + keyspace + " (and " + keyspace + "_snap).");
      }
      dropKeyspaces(dropped);
    }
    return clean;
  }

  /** The accounts' positions and cash: group k sits exactly at maintenance at mark k. */
  record Plan(Instrument perp, int accounts, int counterparties) {
    static String accountId(int i) {
      return String.format(Locale.ROOT, "liq-%06d", i);
    }

    static String counterpartyId(int c) {
      return String.format(Locale.ROOT, "cp-%04d", c);
    }

    static int index(String accountId) {
      return Integer.parseInt(accountId.substring(4));
    }

    static int group(int i) {
      return i % GROUPS + 1;
    }

    static long markTicks(int tick) {
      return OPENING_MARK_TICKS - tick * STEP_TICKS;
    }

    /** 0.1 to 3.0 BTC, spread over the accounts so that both the first and the second tier occur. */
    static long lots(int i) {
      return 100 + (i * 7_919L) % 2_901;
    }

    long cost(int i) {
      return Math.multiplyExact(Math.multiplyExact(lots(i), ENTRY_TICKS), perp.notionalMultiplier());
    }

    /** Cash with which equity equals maintenance margin exactly at the account's group's mark. */
    long cashAtEdge(int i) {
      long mark = markTicks(group(i));
      long notional = MarginMath.notional(lots(i), mark, perp.notionalMultiplier());
      long unrealized = MarginMath.unrealizedPnl(lots(i), cost(i), mark, perp.notionalMultiplier());
      return Math.addExact(Math.negateExact(unrealized), MarginMath.maintenanceMargin(notional, perp.riskTiers()));
    }

    /** The long side is the maker; its fee leaves the deposit when the trade clears. */
    long deposit(int i) {
      long fee = MarginMath.fee(perp.notional(ENTRY_TICKS, lots(i)), perp.makerFeePpm());
      return Math.addExact(cashAtEdge(i), fee);
    }

    String counterpartyOf(int i) {
      return counterpartyId(i % counterparties);
    }
  }

  /**
   * Hears every account's state after each persisted change (AccountEntity.Subscribe) and notes
   * when each account's liquidation became durable. Its arrays are written by its actor only and
   * read by the benchmark after the group's future completed.
   */
  static final class Watcher {
    private final int groupSize;
    private final boolean[] seen;
    private final boolean[] triggered;
    private final long[] persistedNanos;
    private final int[] groupCount = new int[GROUPS + 1];
    private final long[] groupLastNanos = new long[GROUPS + 1];
    private final List<CompletableFuture<Long>> groupDone = new ArrayList<>();
    private final CompletableFuture<Integer> allSubscribed = new CompletableFuture<>();
    private final AtomicInteger unexpected = new AtomicInteger();
    private final AtomicInteger liquidated = new AtomicInteger();
    private int subscribed;
    private volatile int ticksSent;

    Watcher(int accounts, int groupSize) {
      this.groupSize = groupSize;
      this.seen = new boolean[accounts];
      this.triggered = new boolean[accounts];
      this.persistedNanos = new long[accounts];
      for (int g = 0; g <= GROUPS; g++) {
        groupDone.add(new CompletableFuture<>());
      }
    }

    Behavior<AccountEntity.Reply> behavior() {
      return Behaviors.receiveMessage(reply -> {
        if (reply instanceof AccountEntity.Snapshot snapshot) {
          onState(snapshot, System.nanoTime());
        }
        return Behaviors.same();
      });
    }

    private void onState(AccountEntity.Snapshot snapshot, long now) {
      int i = Plan.index(snapshot.account().accountId());
      if (!seen[i]) {
        seen[i] = true;
        if (++subscribed == seen.length) {
          allSubscribed.complete(subscribed);
        }
      }
      if (snapshot.account().liquidationId() == null || triggered[i]) {
        return;
      }
      triggered[i] = true;
      persistedNanos[i] = now;
      liquidated.incrementAndGet();
      int group = Plan.group(i);
      if (group > ticksSent) {
        unexpected.incrementAndGet();
        return;
      }
      groupLastNanos[group] = Math.max(groupLastNanos[group], now);
      if (++groupCount[group] == groupSize) {
        groupDone.get(group).complete(groupLastNanos[group]);
      }
    }

    void tickSent(int tick) {
      ticksSent = tick;
    }
  }

  /**
   * One round: when its ticks were sent and when its first and last trigger were durable (nanosecond
   * clock), and the collector pauses of this JVM in between; from the journal, the mark's sequence,
   * when the feed computed it and handed it to Cassandra, how many triggers name that mark, the
   * first and last re-check and the last trigger handed to Cassandra (millisecond clock).
   */
  record Tick(int number, boolean warmup, long markTicks, long sentNanos, long sentEpochMillis,
      long firstPersistedNanos, long lastPersistedNanos, long gcPauses, long gcMillis, long markSequence,
      long markComputedMillis, long markWriteMillis, long triggered, long firstRecheckMillis, long lastRecheckMillis,
      long lastWriteMillis) {

    double totalMillis() {
      return (lastPersistedNanos - sentNanos) / 1e6;
    }

    double firstPersistedMillis() {
      return (firstPersistedNanos - sentNanos) / 1e6;
    }

    long offset(long epochMillis) {
      return epochMillis - sentEpochMillis;
    }
  }

  /** One run against one node (its setup and ticks also serve {@link ApiLoadBenchmark}). */
  static final class Run {
    private final Settings settings;
    private final Main.Node node;
    private final String scratch;
    private final Accounts accounts;
    private final Plan plan;
    private final Watcher watcher;
    private final AtomicInteger retries = new AtomicInteger();
    private final PriceServiceClient prices;

    Run(Settings settings, Main.Node node, ActorSystem<Void> clients, String scratch) {
      this.settings = settings;
      this.node = node;
      this.scratch = scratch;
      this.accounts = new Accounts(node.system(), ASK_TIMEOUT);
      int retained = node.system().settings().config().getInt("clearinghouse.account.retained-trades");
      // Each counterparty takes at most retained-trades trades: it never has to refuse one as too old.
      int counterparties = Math.max(1, (settings.accounts() + retained - 1) / retained);
      this.plan = new Plan(TestNodes.INSTRUMENTS.require(PERP), settings.accounts(), counterparties);
      this.watcher = new Watcher(settings.accounts(), settings.groupSize());
      this.prices = PriceServiceClient.create(TestNodes.clientSettings(node, clients), clients);
    }

    /** Opens, funds and trades every account and subscribes the watcher; returns the nanoseconds it took. */
    long setUp() {
      ActorRef<AccountEntity.Reply> watch = node.system().systemActorOf(watcher.behavior(), "liquidation-watcher",
          Props.empty());
      long setupStart = System.nanoTime();
      setUpCounterparties();
      setUpAccounts(watch);
      Timing.await(watcher.allSubscribed, SETUP_TIMEOUT, "subscriptions");
      long setupNanos = System.nanoTime() - setupStart;
      Runtime runtime = Runtime.getRuntime();
      System.out.printf(Locale.ROOT, "setup done: %,d accounts in %.1f s, heap in use %,d MB of %,d MB%n",
          settings.accounts(), setupNanos / 1e9, heapUsedMb(), runtime.maxMemory() >> 20);
      return setupNanos;
    }

    static long heapUsedMb() {
      Runtime runtime = Runtime.getRuntime();
      return (runtime.totalMemory() - runtime.freeMemory()) >> 20;
    }

    /** Lets Cassandra finish compacting, then publishes the opening mark; returns the seconds waited. */
    double readyForTicks() {
      double settleSeconds = settle(journalSession());
      publishOpeningMark();
      return settleSeconds;
    }

    Plan plan() {
      return plan;
    }

    Report measure() {
      double loadBeforeSetup = LoadAverage.now();
      long setupNanos = setUp();
      double loadAfterSetup = LoadAverage.now();
      long heapUsedMb = heapUsedMb();
      double settleSeconds = readyForTicks();
      List<Tick> ticks = new ArrayList<>();
      long firstSend = System.nanoTime();
      for (int t = 1; t <= settings.totalTicks(); t++) {
        // The feed's cadence: round t starts (t - 1) intervals after the first, or at once if late.
        pause(TimeUnit.NANOSECONDS.toMillis(firstSend + (t - 1L) * settings.tickIntervalMillis() * 1_000_000L
            - System.nanoTime()));
        Tick tick = tick(t);
        ticks.add(tick);
        System.out.printf(Locale.ROOT, "tick %d%s: %,d triggers persisted %.1f ms after the ticks were sent%n", t,
            tick.warmup() ? " (warm-up)" : "", settings.groupSize(), tick.totalMillis());
      }
      double loadAfterTicks = LoadAverage.now();
      List<Tick> detailed = withJournalTimes(ticks);
      List<Timing> raw = rawInserts(detailed.get(detailed.size() - 1));
      return new Report(plan, setupNanos, loadBeforeSetup, loadAfterSetup, settleSeconds, loadAfterTicks, heapUsedMb,
          detailed, raw, retries.get(), watcher.unexpected.get(), watcher.liquidated.get());
    }

    private CqlSession journalSession() {
      return Timing.await(CassandraSessionRegistry.get(node.system()).sessionFor(JOURNAL_SESSION).underlying(),
          ASK_TIMEOUT, "the journal's driver session");
    }

    /**
     * Waits until Cassandra runs no compaction, asking once a second, at most SETTLE_TIMEOUT;
     * returns the seconds waited, or -1 if it was still compacting.
     */
    private static double settle(CqlSession session) {
      SimpleStatement tasks = SimpleStatement.newInstance("SELECT keyspace_name FROM system_views.sstable_tasks")
          .setTimeout(ASK_TIMEOUT);
      long start = System.nanoTime();
      while (System.nanoTime() - start < SETTLE_TIMEOUT.toNanos()) {
        if (session.execute(tasks).one() == null) {
          return (System.nanoTime() - start) / 1e9;
        }
        pause(1_000);
      }
      return -1;
    }

    // --- setup --------------------------------------------------------------------------

    private void setUpCounterparties() {
      Timing.await(Source.range(0, plan.counterparties() - 1)
          .mapAsyncUnordered(16, c -> {
            String id = Plan.counterpartyId(c);
            return retrying(() -> accounts.open(id))
                .thenCompose(opened -> retrying(() -> accounts.deposit(id, "seed-" + id, COUNTERPARTY_DEPOSIT)));
          })
          .runWith(Sink.ignore(), node.system()), SETUP_TIMEOUT, "opening the counterparties");
    }

    private void setUpAccounts(ActorRef<AccountEntity.Reply> watch) {
      ClusterSharding sharding = ClusterSharding.get(node.system());
      AtomicInteger done = new AtomicInteger();
      long start = System.nanoTime();
      int progressEvery = Math.max(1, settings.accounts() / 10);
      Timing.await(Source.range(0, settings.accounts() - 1)
          .mapAsyncUnordered(settings.setupParallelism(), i -> setUpAccount(i).thenApply(applied -> {
            sharding.entityRefFor(AccountEntity.TYPE_KEY, Plan.accountId(i)).tell(new AccountEntity.Subscribe(watch));
            int n = done.incrementAndGet();
            if (n % progressEvery == 0) {
              System.out.printf(Locale.ROOT, "setup: %,d of %,d accounts opened, funded and traded, %.1f s%n", n,
                  settings.accounts(), (System.nanoTime() - start) / 1e9);
            }
            return n;
          }))
          .runWith(Sink.ignore(), node.system()), SETUP_TIMEOUT, "opening " + settings.accounts() + " accounts");
    }

    /** Open, deposit, then both sides of the account's trade. Every step is idempotent, so a timeout is retried. */
    private CompletionStage<Object> setUpAccount(int i) {
      String id = Plan.accountId(i);
      String tradeId = "t-" + i;
      long sequence = i + 1L;
      long lots = Plan.lots(i);
      return retrying(() -> accounts.open(id))
          .thenCompose(opened -> retrying(() -> accounts.deposit(id, "seed-" + id, plan.deposit(i))))
          .thenCompose(funded -> {
            CompletableFuture<AccountEntity.TradeSideApplied> buyer = retrying(() -> accounts.applyTrade(id, tradeId,
                sequence, PERP, lots, ENTRY_TICKS, false, null, plan.counterpartyOf(i))).toCompletableFuture();
            CompletableFuture<AccountEntity.TradeSideApplied> seller = retrying(() -> accounts.applyTrade(
                plan.counterpartyOf(i), tradeId, sequence, PERP, -lots, ENTRY_TICKS, true, null, id)).toCompletableFuture();
            return CompletableFuture.allOf(buyer, seller).thenApply(both -> (Object) both);
          });
    }

    private <T> CompletionStage<T> retrying(Supplier<CompletionStage<T>> call) {
      return Retrying.call(call, ATTEMPTS, retries::incrementAndGet);
    }

    // --- ticks --------------------------------------------------------------------------

    /** The same price from every source, stamped now, in one PublishIndexPrices stream. */
    CompletionStage<PublishSummary> publish(long markTicks) {
      String price = plan.perp().formatPrice(markTicks);
      long now = System.currentTimeMillis();
      List<IndexPriceTick> ticks = SOURCES.stream().map(source -> IndexPriceTick.newBuilder().setSource(source)
          .setInstrument(PERP).setPrice(price).setTimestampMs(now).build()).toList();
      // Each source with its own feeder token (TestNodes configures one per source).
      return Feeders.publishAsync(prices, ticks);
    }

    /**
     * The first mark, which breaches nobody and makes the feed fresh. The feed's status is asked
     * after the service has passed all three ticks on, through the same shard region, so the
     * answer comes after they were handled.
     */
    private void publishOpeningMark() {
      checkAccepted(Timing.await(publish(OPENING_MARK_TICKS), TICK_TIMEOUT, "publishing the opening mark"));
      PriceFeed.Status status = Timing.await(ClusterSharding.get(node.system())
          .entityRefFor(PriceFeed.TYPE_KEY, PERP).<PriceFeed.Status>ask(PriceFeed.GetStatus::new, ASK_TIMEOUT),
          ASK_TIMEOUT, "the feed's status");
      if (status.stale() || status.markTicks() != OPENING_MARK_TICKS) {
        throw new IllegalStateException("the opening mark was not published: " + status);
      }
    }

    private static void checkAccepted(PublishSummary summary) {
      if (summary.getAccepted() != SOURCES.size()) {
        throw new IllegalStateException("the feeder's ticks were refused: " + summary);
      }
    }

    /** Round {@code t}: the ticks that breach group {@code t}, timed until its last trigger is durable. */
    Tick tick(int t) {
      long markTicks = Plan.markTicks(t);
      watcher.tickSent(t);
      long[] gcBefore = collectorPauses();
      long sentEpochMillis = System.currentTimeMillis();
      long sent = System.nanoTime();
      CompletionStage<PublishSummary> summary = publish(markTicks);
      long lastPersisted = Timing.await(watcher.groupDone.get(t), TICK_TIMEOUT,
          "tick " + t + ": the liquidations of group " + t);
      long[] gcAfter = collectorPauses();
      checkAccepted(Timing.await(summary, TICK_TIMEOUT, "tick " + t + ": publishing"));
      long firstPersisted = Long.MAX_VALUE;
      for (int i = t - 1; i < settings.accounts(); i += GROUPS) {
        firstPersisted = Math.min(firstPersisted, watcher.persistedNanos[i]);
      }
      return new Tick(t, t <= settings.warmupTicks(), markTicks, sent, sentEpochMillis, firstPersisted, lastPersisted,
          gcAfter[0] - gcBefore[0], gcAfter[1] - gcBefore[1], 0, 0, 0, 0, 0, 0, 0);
    }

    /**
     * Pauses and their milliseconds of this JVM's collectors (the node's) so far. Beans named
     * "... Cycles" (ZGC, Shenandoah) count concurrent work, not pauses, and are left out.
     */
    private static long[] collectorPauses() {
      long count = 0;
      long millis = 0;
      for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
        if (collector.getName().endsWith("Cycles")) {
          continue;
        }
        count += Math.max(0, collector.getCollectionCount());
        millis += Math.max(0, collector.getCollectionTime());
      }
      return new long[] {count, millis};
    }

    // --- after the ticks ----------------------------------------------------------------

    /**
     * Reads the feed's marks and each group's LiquidationStarted events back: the tick's mark
     * sequence, when the feed computed the mark (the event's clock) and handed it to Cassandra (its
     * row's time uuid), how many triggers name that mark, and when each was re-checked and handed
     * to Cassandra.
     */
    private List<Tick> withJournalTimes(List<Tick> ticks) {
      CassandraReadJournal journal = PersistenceQuery.get(node.system())
          .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
      List<EventEnvelope> feed = Timing.await(journal.currentEventsByPersistenceId(
              PriceFeed.TYPE_KEY.name() + "|" + PERP, 0, Long.MAX_VALUE)
          .filter(e -> e.event() instanceof PriceFeed.MarkPublished)
          .runWith(Sink.seq(), node.system()), READ_TIMEOUT, "reading the feed's marks");
      List<Tick> detailed = new ArrayList<>(ticks.size());
      for (Tick tick : ticks) {
        EventEnvelope markEnvelope = feed.stream()
            .filter(e -> ((PriceFeed.MarkPublished) e.event()).markTicks() == tick.markTicks())
            .findFirst().orElseThrow(() -> new IllegalStateException("no mark " + tick.markTicks() + " in the feed"));
        PriceFeed.MarkPublished mark = (PriceFeed.MarkPublished) markEnvelope.event();
        List<String> ids = new ArrayList<>(settings.groupSize());
        for (int i = tick.number() - 1; i < settings.accounts(); i += GROUPS) {
          ids.add(AccountEntity.persistenceId(Plan.accountId(i)).id());
        }
        List<EventEnvelope> started = Timing.await(Source.from(ids)
            .mapAsyncUnordered(32, id -> journal.currentEventsByPersistenceId(id, 0, Long.MAX_VALUE)
                .filter(e -> e.event() instanceof AccountEntity.LiquidationStarted)
                .runWith(Sink.seq(), node.system()))
            .mapConcat(list -> list)
            .runWith(Sink.seq(), node.system()), READ_TIMEOUT, "reading tick " + tick.number() + "'s triggers");
        long triggered = 0;
        long firstRecheck = Long.MAX_VALUE;
        long lastRecheck = Long.MIN_VALUE;
        long lastWrite = Long.MIN_VALUE;
        for (EventEnvelope envelope : started) {
          AccountEntity.LiquidationStarted event = (AccountEntity.LiquidationStarted) envelope.event();
          if (event.markSequence() == mark.sequence()) {
            triggered++;
          }
          firstRecheck = Math.min(firstRecheck, event.epochMillis());
          lastRecheck = Math.max(lastRecheck, event.epochMillis());
          lastWrite = Math.max(lastWrite, envelope.timestamp());
        }
        detailed.add(new Tick(tick.number(), tick.warmup(), tick.markTicks(), tick.sentNanos(), tick.sentEpochMillis(),
            tick.firstPersistedNanos(), tick.lastPersistedNanos(), tick.gcPauses(), tick.gcMillis(), mark.sequence(),
            mark.epochMillis(),
            markEnvelope.timestamp(), triggered, firstRecheck, lastRecheck, lastWrite));
      }
      return detailed;
    }

    /**
     * The baseline: the last tick's LiquidationStarted rows inserted again into the scratch table,
     * the whole group in flight at once as the tick had them, once to warm up and then once per
     * measured tick.
     */
    private List<Timing> rawInserts(Tick tick) {
      CqlSession session = journalSession();
      String keyspace = node.system().settings().config().getString("pekko.persistence.cassandra.journal.keyspace");
      List<JournalRows.Message> rows = new ArrayList<>(settings.groupSize());
      for (int i = tick.number() - 1; i < settings.accounts(); i += GROUPS) {
        rows.add(liquidationRow(session, keyspace, AccountEntity.persistenceId(Plan.accountId(i)).id()));
      }
      RawJournalInserts inserts = new RawJournalInserts(session, scratch, rows, 42);
      inserts.run(rows.size(), rows.size());
      List<Timing> timings = new ArrayList<>(settings.ticks());
      for (int r = 0; r < settings.ticks(); r++) {
        timings.add(inserts.run(rows.size(), rows.size()));
      }
      return timings;
    }

    private static JournalRows.Message liquidationRow(CqlSession session, String keyspace, String persistenceId) {
      SimpleStatement select = SimpleStatement.newInstance("SELECT persistence_id, partition_nr, sequence_nr,"
              + " timebucket, writer_uuid, ser_id, ser_manifest, event_manifest, event FROM " + keyspace
              + ".messages WHERE persistence_id = ? AND partition_nr = 0", persistenceId)
          .setTimeout(ASK_TIMEOUT);
      for (Row row : session.execute(select)) {
        String manifest = row.getString("ser_manifest");
        if (manifest != null && manifest.endsWith("$LiquidationStarted")) {
          ByteBuffer event = row.getByteBuffer("event");
          byte[] copy = new byte[event.remaining()];
          event.duplicate().get(copy);
          return new JournalRows.Message(row.getString("persistence_id"), row.getLong("partition_nr"),
              row.getLong("sequence_nr"), row.getString("timebucket"), row.getString("writer_uuid"),
              row.getInt("ser_id"), manifest, row.getString("event_manifest"), ByteBuffer.wrap(copy));
        }
      }
      throw new IllegalStateException("no LiquidationStarted row for " + persistenceId);
    }

    LedgerAudit.Report audit() {
      return Timing.await(new LedgerAudit(node.system(), accounts, TestNodes.INSTRUMENTS).run(), AUDIT_TIMEOUT,
          "ledger audit");
    }
  }

  /** Waits {@code millis} on a timer: the feed's cadence and the settle polls, never a condition. */
  static void pause(long millis) {
    if (millis > 0) {
      CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(millis, TimeUnit.MILLISECONDS)).join();
    }
  }

  /**
   * Drops the scratch keyspaces, and the run's journal ones once the node is gone, through a
   * short session of its own; a drop that fails is reported, and the figures stand.
   */
  static void dropKeyspaces(List<String> keyspaces) {
    DriverConfigLoader config = DriverConfigLoader.programmaticBuilder()
        .withStringList(DefaultDriverOption.CONTACT_POINTS, List.of(LocalCassandra.shared().contactPoint()))
        .withString(DefaultDriverOption.LOAD_BALANCING_LOCAL_DATACENTER, LocalCassandra.LOCAL_DATACENTER)
        .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, DROP_TIMEOUT)
        .build();
    try (CqlSession session = CqlSession.builder().withConfigLoader(config).build()) {
      for (String keyspace : keyspaces) {
        try {
          session.execute("DROP KEYSPACE IF EXISTS " + keyspace);
        } catch (DriverException e) {
          System.out.println("WARNING: could not drop keyspace " + keyspace + ": " + e);
        }
      }
    }
  }

  /** Everything one run measured. */
  private record Report(Plan plan, long setupNanos, double loadBeforeSetup, double loadAfterSetup,
      double settleSeconds, double loadAfterTicks, long heapUsedMb, List<Tick> ticks, List<Timing> raw, int retries,
      int unexpected, int liquidated) {

    /** Every tick triggered exactly its group, at its own mark, and nobody else was triggered. */
    boolean countsRight() {
      int groupSize = plan.accounts() / GROUPS;
      return ticks.stream().allMatch(t -> t.triggered() == groupSize) && unexpected == 0
          && liquidated == ticks.size() * groupSize;
    }

    void print(Settings settings, double loadBefore) {
      int groupSize = settings.groupSize();
      long setupEvents = 4L * plan.accounts() + 2L * plan.counterparties();
      StringBuilder out = new StringBuilder();
      out.append(String.format(Locale.ROOT, "%n== Tick to liquidation trigger, %s, %d cores, load average %.2f before,"
              + " %.2f after setup, %.2f after the ticks ==%n", LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS),
          LoadAverage.processors(), loadBefore, loadAfterSetup, loadAfterTicks));
      out.append(String.format(Locale.ROOT, "  one node in-process, Cassandra %s; %,d accounts long BTCUSDT-PERP"
              + " (0.1-3.0 BTC at 50,000.0) against %d counterparties; 1%% = %,d accounts breach per tick;"
              + " %d warm-up + %d measured ticks, 10.0 lower each from 49,000.0, %s%n",
          LocalCassandra.shared().contactPoint(), plan.accounts(), plan.counterparties(), groupSize,
          settings.warmupTicks(), settings.ticks(), settings.tickIntervalMillis() == 0 ? "back to back"
              : "one every " + settings.tickIntervalMillis() + " ms"));
      out.append(String.format(Locale.ROOT, "  setup (open, fund, trade both sides, subscribe; %d asks in flight):"
              + " %.1f s, %.0f accounts/s, about %,d events (%.0f/s), %d asks retried after a timeout;"
              + " heap in use %,d MB%n", settings.setupParallelism(), setupNanos / 1e9,
          plan.accounts() / (setupNanos / 1e9), setupEvents, setupEvents / (setupNanos / 1e9), retries, heapUsedMb));
      out.append(String.format(Locale.ROOT, "  Cassandra compacting after the setup: %s%n", settleSeconds < 0
          ? "still after " + SETTLE_TIMEOUT.toMinutes() + " min; ticks started anyway"
          : String.format(Locale.ROOT, "done %.0f s later", settleSeconds)));
      out.append(String.format(Locale.ROOT, "  ms from the ticks sent to: the feed computing the mark and handing it to"
          + " Cassandra; the first and last account re-checking; the last trigger handed to Cassandra (these five"
          + " on the ms clock); the first and last trigger persisted (ns clock); collector pauses of the node's"
          + " JVM in that time%n"));
      out.append(String.format(Locale.ROOT, "  %-5s %-8s %-5s %9s %8s %8s %8s %8s %8s %9s %9s %8s%n", "tick", "mark",
          "seq", "triggered", "computed", "markW", "recheck1", "recheckN", "writeN", "persist1", "persistN", "gc"));
      for (Tick t : ticks) {
        out.append(String.format(Locale.ROOT, "  %-5s %-8s %-5d %9d %8d %8d %8d %8d %8d %9.1f %9.1f %8s%s%n",
            t.number() + (t.warmup() ? "w" : ""), plan.perp().formatPrice(t.markTicks()), t.markSequence(),
            t.triggered(), t.offset(t.markComputedMillis()), t.offset(t.markWriteMillis()),
            t.offset(t.firstRecheckMillis()), t.offset(t.lastRecheckMillis()), t.offset(t.lastWriteMillis()),
            t.firstPersistedMillis(), t.totalMillis(), t.gcPauses() + "/" + t.gcMillis(),
            t.triggered() == groupSize ? "" : "  (expected " + groupSize + ")"));
      }
      List<Tick> measured = ticks.stream().filter(t -> !t.warmup()).toList();
      double[] total = measured.stream().mapToDouble(Tick::totalMillis).toArray();
      double[] markWrite = measured.stream().mapToDouble(t -> t.offset(t.markWriteMillis())).toArray();
      double[] firstRecheck = measured.stream().mapToDouble(t -> t.offset(t.firstRecheckMillis())).toArray();
      double[] recheck = measured.stream().mapToDouble(t -> t.offset(t.lastRecheckMillis())).toArray();
      double[] write = measured.stream().mapToDouble(t -> t.offset(t.lastWriteMillis())).toArray();
      double[] rawMillis = raw.stream().mapToDouble(r -> r.elapsedNanos() / 1e6).toArray();
      out.append(String.format(Locale.ROOT, "  over the %d measured ticks (nearest rank: below 101 ticks, p99 is the"
          + " maximum):%n  %-48s %9s %9s %9s %9s%n", measured.size(), "", "p50 ms", "p90 ms", "p99 ms", "max ms"));
      percentiles(out, "ticks sent -> feed hands the mark to Cassandra", markWrite);
      percentiles(out, "ticks sent -> first account re-checks", firstRecheck);
      percentiles(out, "ticks sent -> last account re-checks", recheck);
      percentiles(out, "ticks sent -> last trigger handed to Cassandra", write);
      percentiles(out, "ticks sent -> last trigger persisted", total);
      percentiles(out, "baseline: " + groupSize + " raw inserts at once", rawMillis);
      out.append(String.format(Locale.ROOT, "  ratio p50 tick to last trigger : p50 raw inserts     %9.2f%n",
          percentile(total, 50) / percentile(rawMillis, 50)));
      out.append(String.format(Locale.ROOT, "  target: p99 at most 250 ms -> %s%n", percentile(total, 99) <= 250
          ? "met" : String.format(Locale.ROOT, "missed by %.1f ms", percentile(total, 99) - 250)));
      out.append(String.format(Locale.ROOT, "  collector pauses of the node's JVM during the measured ticks: %d, %d ms"
          + " in all, at most %d ms in one tick%n", measured.stream().mapToLong(Tick::gcPauses).sum(),
          measured.stream().mapToLong(Tick::gcMillis).sum(), measured.stream().mapToLong(Tick::gcMillis).max()
              .orElse(0)));
      out.append(String.format(Locale.ROOT, "  triggers: %,d persisted in all, %d of accounts whose mark had not"
          + " come yet; every tick %s%n", liquidated, unexpected, countsRight()
          ? "triggered exactly its " + groupSize + " accounts at its own mark" : "did NOT trigger exactly its group"));
      System.out.print(out);
    }

    private static void percentiles(StringBuilder out, String what, double[] values) {
      out.append(String.format(Locale.ROOT, "  %-48s %9.1f %9.1f %9.1f %9.1f%n", what, percentile(values, 50),
          percentile(values, 90), percentile(values, 99), percentile(values, 100)));
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
