package io.clearinghouse.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import io.clearinghouse.Main;
import io.clearinghouse.it.TestNodes;
import io.clearinghouse.persistence.LocalCassandra;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.ClearingServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.TradeResult;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Trades cleared end to end, against the baseline of the same Cassandra taking the same rows raw.
 *
 * <ol>
 *   <li>A real node in this JVM, exactly as the integration tests start one ({@link TestNodes}),
 *       on the shared local Cassandra, in a keyspace of its own; accounts opened and funded over
 *       gRPC.
 *   <li>A warm-up stream, then the measured open stream of random trades through
 *       {@code SubmitTrades} over loopback: trades/s from the first trade sent to the last ack,
 *       and events/s at four journal events a trade (one TradeCleared per side, and the trade
 *       register's TradeRecorded and TradeSettled). Then a stream that keeps at
 *       most trades-in-flight trades unacknowledged, for the node's own ack latency.
 *   <li>The journal's own TradeCleared rows read back and inserted again, as many as the
 *       measured stream persisted, into a scratch table of the journal's shape, through the
 *       journal's own driver session, with as many in flight as the stream's trades-in-flight
 *       (and, for reference, twice that: each trade in flight writes two sides at once).
 *   <li>The ledger audit over gRPC: the benchmark must not break money.
 * </ol>
 *
 * Figures are printed, never asserted; a refused trade or an unclean audit ends with exit code 1.
 */
public final class ClearingThroughputBenchmark {
  private static final String JOURNAL_SESSION = "pekko.persistence.cassandra";
  private static final String DEPOSIT = "1000000";
  private static final int SETUP_PARALLELISM = 8;
  private static final Duration SETUP_TIMEOUT = Duration.ofMinutes(2);
  private static final Duration AUDIT_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration DROP_TIMEOUT = Duration.ofMinutes(2);

  /**
   * -Dbench.accounts, -Dbench.trades, -Dbench.warmup-trades, -Dbench.latency-trades (0: no
   * windowed run), -Dbench.seed, -Dbench.keep-journal.
   */
  record Settings(int accounts, int trades, int warmupTrades, int latencyTrades, long seed, boolean keepJournal) {
    Settings {
      require(accounts >= 2 && accounts <= 100_000, "bench.accounts must be 2 to 100,000, was " + accounts);
      require(trades >= 1 && trades <= 10_000_000, "bench.trades must be 1 to 10,000,000, was " + trades);
      require(warmupTrades >= 0 && warmupTrades <= 10_000_000,
          "bench.warmup-trades must be 0 to 10,000,000, was " + warmupTrades);
      require(latencyTrades >= 0 && latencyTrades <= 10_000_000,
          "bench.latency-trades must be 0 to 10,000,000, was " + latencyTrades);
    }

    static Settings fromSystemProperties() {
      return new Settings(Integer.getInteger("bench.accounts", 200), Integer.getInteger("bench.trades", 20_000),
          Integer.getInteger("bench.warmup-trades", 2_000), Integer.getInteger("bench.latency-trades", 5_000),
          Long.getLong("bench.seed", 42),
          Boolean.getBoolean("bench.keep-journal"));
    }

    private static void require(boolean condition, String message) {
      if (!condition) {
        throw new IllegalArgumentException(message);
      }
    }
  }

  private ClearingThroughputBenchmark() {}

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

  /** Runs the benchmark and prints its figures; true when no trade was refused and the audit is clean. */
  static boolean run(Settings settings) {
    double loadBefore = LoadAverage.now();
    String keyspace = TestNodes.newKeyspace("bench");
    // Created before anything is timed: schema changes are slow and disturb a loaded Cassandra.
    String scratch = TestNodes.newKeyspace("benchraw");
    boolean clean = false;
    try {
      Main.Node node = TestNodes.start(TestNodes.nodeConfig(keyspace, ""));
      ActorSystem<Void> clients = TestNodes.clientSystem();
      try {
        Report report = measure(settings, node, clients, keyspace, scratch);
        report.print(settings, loadBefore, LoadAverage.now());
        clean = report.audit().getClean() && report.refused() == 0;
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

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static Report measure(Settings settings, Main.Node node, ActorSystem<Void> clients, String keyspace,
      String scratch) {
    int inFlight = node.system().settings().config().getInt("clearinghouse.clearing.trades-in-flight");
    AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(node, clients), clients);
    ClearingServiceClient engine = ClearingServiceClient.create(TestNodes.clientSettings(node, clients), clients);
    List<String> accounts = new ArrayList<>(settings.accounts());
    for (int i = 0; i < settings.accounts(); i++) {
      accounts.add(String.format(Locale.ROOT, "bench-%05d", i));
    }
    openAndFund(admin, clients, accounts);

    TradeStream stream = new TradeStream(engine, clients, TestNodes.ENGINE_TOKEN, accounts, settings.seed());
    List<TradeResult> refused = new ArrayList<>();
    if (settings.warmupTrades() > 0) {
      refused.addAll(stream.run(1, settings.warmupTrades()).refused());
    }
    long cpuBefore = processCpuNanos();
    long wallBefore = System.nanoTime();
    TradeStream.Run measured = stream.run(settings.warmupTrades() + 1L, settings.trades());
    long cpuNanos = processCpuNanos() - cpuBefore;
    // The node's JVM (the node, and the engine's client in the same JVM) over the open stream: the
    // CPU a trade costs on the node's side, whatever the load around it.
    System.out.printf(Locale.ROOT, "open stream: %,d trades in %.2f s; this JVM's CPU %.2f s, %.0f us per trade%n",
        settings.trades(), (System.nanoTime() - wallBefore) / 1e9, cpuNanos / 1e9,
        cpuNanos / 1e3 / Math.max(1, settings.trades()));
    refused.addAll(measured.refused());
    TradeStream.Run windowed = null;
    if (settings.latencyTrades() > 0) {
      windowed = stream.runWindowed(settings.warmupTrades() + settings.trades() + 1L, settings.latencyTrades(),
          inFlight);
      refused.addAll(windowed.refused());
    }
    refused.stream().limit(5).forEach(r -> System.out.println("REFUSED: " + r));

    CqlSession session = Timing.await(CassandraSessionRegistry.get(node.system()).sessionFor(JOURNAL_SESSION)
        .underlying(), SETUP_TIMEOUT, "the journal's driver session");
    JournalRows rows = JournalRows.read(session, keyspace);
    RawJournalInserts inserts = new RawJournalInserts(session, scratch, rows.tradeSides(), settings.seed());
    int eventsMeasured = 2 * settings.trades();
    inserts.run(2 * settings.warmupTrades(), inFlight);
    Timing raw = inserts.run(eventsMeasured, inFlight);
    Timing rawDouble = inserts.run(eventsMeasured, 2 * inFlight);
    AuditReport audit = Timing.await(admin.audit().addHeader("authorization", "Bearer " + TestNodes.OPERATOR_TOKEN)
        .invoke(AuditRequest.getDefaultInstance()), AUDIT_TIMEOUT, "ledger audit");
    return new Report(inFlight, measured.timing(), windowed == null ? null : windowed.timing(), rows, raw,
        rawDouble, refused.size(), audit);
  }

  private static void openAndFund(AdminServiceClient admin, ActorSystem<?> clients, List<String> accounts) {
    String bearer = "Bearer " + TestNodes.OPERATOR_TOKEN;
    Timing.await(Source.from(accounts)
        .mapAsync(SETUP_PARALLELISM, id -> admin.openAccount().addHeader("authorization", bearer)
            .invoke(OpenAccountRequest.newBuilder().setAccountId(id).build())
            .thenCompose(opened -> admin.deposit().addHeader("authorization", bearer)
                .invoke(DepositRequest.newBuilder().setAccountId(id).setAmount(DEPOSIT)
                    .setIdempotencyKey("seed-" + id).build())))
        .runWith(Sink.ignore(), clients), SETUP_TIMEOUT, "opening " + accounts.size() + " accounts");
  }

  /**
   * Drops the scratch keyspaces, and the run's journal ones once the node is gone (its shutdown
   * still writes to them), through a short session of its own. A loaded Cassandra can take
   * minutes to drop a keyspace: a drop that fails is reported, and the figures stand.
   */
  private static void dropKeyspaces(List<String> keyspaces) {
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
  private record Report(int inFlight, Timing trades, Timing windowed, JournalRows rows, Timing raw,
      Timing rawDouble, int refused, AuditReport audit) {

    void print(Settings settings, double loadBefore, double loadAfter) {
      double eventsPerSecond = 4 * trades.perSecond();
      StringBuilder out = new StringBuilder();
      out.append(String.format(Locale.ROOT, "%n== Trade clearing throughput, %s, %d cores,"
              + " load average %.2f -> %.2f ==%n", LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS),
          LoadAverage.processors(), loadBefore, loadAfter));
      out.append(String.format(Locale.ROOT, "  one node in-process, gRPC over loopback, Cassandra %s;"
              + " %d accounts, %d trades measured after %d warm-up (then %d with a send window),"
              + " trades-in-flight %d%n",
          LocalCassandra.shared().contactPoint(), settings.accounts(), settings.trades(), settings.warmupTrades(),
          settings.latencyTrades(), inFlight));
      out.append(String.format(Locale.ROOT, "  journal row of one TradeCleared (%d rows read back, %d other rows):"
              + " event blob %.1f B average (%d-%d), row values %.1f B%n", rows.tradeSides().size(),
          rows.otherRows(), rows.averageEventBytes(), rows.minEventBytes(), rows.maxEventBytes(),
          rows.averagePayloadBytes()));
      out.append(String.format(Locale.ROOT, "  %-44s %12s %10s %9s %9s%n", "", "per second", "wall s", "p50 ms",
          "p99 ms"));
      line(out, "trades cleared, open stream (*)", trades, trades.perSecond());
      out.append(String.format(Locale.ROOT, "  %-44s %12.1f%n", "events persisted (4 per trade)", eventsPerSecond));
      if (windowed != null) {
        line(out, "trades cleared, at most " + inFlight + " unacknowledged", windowed, windowed.perSecond());
      }
      line(out, "raw inserts of the same rows, " + inFlight + " in flight", raw, raw.perSecond());
      line(out, "raw inserts of the same rows, " + 2 * inFlight + " in flight", rawDouble, rawDouble.perSecond());
      out.append(String.format(Locale.ROOT, "  %-44s %12.3f%n", "ratio events/s : raw inserts/s (" + inFlight + ")",
          eventsPerSecond / raw.perSecond()));
      out.append(String.format(Locale.ROOT, "  %-44s %12.3f%n",
          "ratio events/s : raw inserts/s (" + 2 * inFlight + ")", eventsPerSecond / rawDouble.perSecond()));
      out.append(String.format(Locale.ROOT, "  (*) trades/s from the first trade sent to the last ack; its latencies"
          + " are mostly waiting in full client and HTTP/2 buffers%n"));
      out.append(String.format(Locale.ROOT, "  refused trades: %d%n", refused));
      out.append(String.format(Locale.ROOT, "  ledger audit: %s (%d accounts, %d trade sides applied,"
              + " fee revenue %s, cash %s)%n", audit.getClean() ? "CLEAN" : "NOT CLEAN " + audit.getViolationsList(),
          audit.getAccounts(), audit.getTradesApplied(), audit.getFeeRevenue(), audit.getTotalCash()));
      System.out.print(out);
    }

    private static void line(StringBuilder out, String what, Timing timing, double perSecond) {
      out.append(String.format(Locale.ROOT, "  %-44s %12.1f %10.2f %9.1f %9.1f%n", what, perSecond,
          timing.seconds(), timing.latencyMillis(50), timing.latencyMillis(99)));
    }
  }
}
