package io.clearinghouse.bench;

import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.it.Feeders;
import io.clearinghouse.it.TestNodes;
import io.clearinghouse.protocol.v1.IndexPriceTick;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The funding issue's benchmark: {@code bench.funding-positions} positions on one node (traders
 * long 0.010-0.050 BTC, one short counterparty per {@code retained-trades} traders), a 60 s funding
 * interval (so that the audit at the end runs before the next one). Figures: from the funding time to the interval's rate fixed, to the last payment
 * recorded (every FundingApplied durable in the accounts' journals: the clock records a payment
 * once its account answered, which it does after persisting), and that time as a ratio to the raw
 * insert of the same journal rows (the FundingApplied rows copied into a scratch table of the
 * journal's shape through the journal's own session, {@code funding.parallelism} in flight).
 */
public final class FundingBenchmark {
  private static final String PERP = "BTCUSDT-PERP";
  private static final List<String> SOURCES = List.of("binance", "okx", "coinbase");
  private static final long USDT = 1_000_000L;
  private static final long ENTRY_TICKS = 500_000;
  private static final Duration ASK = Duration.ofSeconds(30);
  private static final Duration LONG = Duration.ofMinutes(30);
  /** Long enough for the audit to run between the measured interval and the next (it compares live accounts). */
  private static final long INTERVAL_MS = 60_000;

  private FundingBenchmark() {}

  public static void main(String[] args) {
    int status;
    try {
      status = run(Integer.getInteger("bench.funding-positions", 100_000),
          Integer.getInteger("bench.funding-setup-parallelism", 128)) ? 0 : 1;
    } catch (RuntimeException e) {
      e.printStackTrace();
      status = 2;
    }
    System.exit(status);
  }

  static boolean run(int traders, int parallelism) {
    String keyspace = TestNodes.newKeyspace("fundbench");
    String scratch = TestNodes.newKeyspace("fundraw");
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(keyspace, String.join("\n",
        "clearinghouse.price-feed.stale-after = 30m",
        "clearinghouse.price-feed.last-trade-interval = 1h",
        "clearinghouse.funding { enabled = on, sample-every = 1s, settle-window = 0s }",
        "clearinghouse.instrument-overrides { \"" + PERP + "\" { funding-interval = 60s, funding-interest = \"0.72%\" } }",
        "pekko.loglevel = WARNING")));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      double loadBefore = LoadAverage.now();
      Accounts accounts = new Accounts(node.system(), ASK);
      PriceServiceClient prices = PriceServiceClient.create(TestNodes.clientSettings(node, clients), clients);
      publish(prices);
      long setupStart = System.nanoTime();
      int retained = node.system().settings().config().getInt("clearinghouse.account.retained-trades");
      int counterparties = (traders + retained - 1) / retained;
      all(node, counterparties, parallelism, c -> retrying(() -> accounts.open("short-" + c))
          .thenCompose(o -> retrying(() -> accounts.deposit("short-" + c, "seed", 1_000_000_000L * USDT))));
      AtomicInteger sequence = new AtomicInteger();
      all(node, traders, parallelism, i -> {
        String id = "long-" + i;
        String counterparty = "short-" + (i / retained);
        long lots = 10 + (i % 41);
        long seq = sequence.incrementAndGet();
        return retrying(() -> accounts.open(id))
            .thenCompose(o -> retrying(() -> accounts.deposit(id, "seed", 10_000 * USDT)))
            .thenCompose(d -> retrying(() -> accounts.applyTrade(id, "t-" + seq, seq, PERP, lots, ENTRY_TICKS, true,
                null, counterparty)))
            .thenCompose(b -> retrying(() -> accounts.applyTrade(counterparty, "t-" + seq, seq, PERP, -lots,
                ENTRY_TICKS, false, null, id)));
      });
      double setupSeconds = (System.nanoTime() - setupStart) / 1e9;
      int positions = traders + counterparties;
      System.out.printf(Locale.ROOT, "set up %,d positions in %.1f s%n", positions, setupSeconds);
      // The next funding time that comes after every position was open.
      long fundingTime = (System.currentTimeMillis() / INTERVAL_MS + 1) * INTERVAL_MS;
      var clock = ClusterSharding.get(node.system()).entityRefFor(io.clearinghouse.funding.FundingClock.TYPE_KEY, PERP);
      io.clearinghouse.funding.FundingClock.IntervalRecord interval = null;
      long deadline = System.nanoTime() + LONG.toNanos();
      while (interval == null && System.nanoTime() < deadline) {
        pause(200);
        var history = Timing.await(clock.<io.clearinghouse.funding.FundingClock.History>ask(
            r -> new io.clearinghouse.funding.FundingClock.GetHistory(0, 10, r), ASK), ASK, "the funding history");
        interval = history.newestFirst().stream().filter(i -> i.fundingTime() == fundingTime && i.closedAt() > 0)
            .findFirst().orElse(null);
      }
      if (interval == null) {
        throw new IllegalStateException("the interval ending " + fundingTime + " did not close");
      }
      long lastPaidMillis = lastPaymentRecorded(node, keyspace, fundingTime);
      var session = Timing.await(CassandraSessionRegistry.get(node.system()).sessionFor("pekko.persistence.cassandra")
          .underlying(), ASK, "the journal's driver session");
      // The audit first, before the next interval (it compares every running account with its journal).
      LedgerAudit.Report audit = Timing.await(new LedgerAudit(node.system(), accounts, TestNodes.INSTRUMENTS).run(),
          LONG, "the ledger audit");
      JournalRows rows = JournalRows.read(session, keyspace, "$FundingApplied");
      RawJournalInserts inserts = new RawJournalInserts(session, scratch, rows.tradeSides(), 42);
      int parallel = node.system().settings().config().getInt("clearinghouse.funding.parallelism");
      inserts.run(Math.min(5_000, rows.tradeSides().size()), parallel);
      // As many rows as the interval paid (the table also holds other intervals' rows, all of one shape).
      Timing raw = inserts.run((int) interval.accounts(), parallel);
      double fundingSeconds = (lastPaidMillis - fundingTime) / 1000.0;
      System.out.println();
      System.out.printf(Locale.ROOT, "== Funding of %,d positions on one node (%d cores, load %.1f before, %.1f after) ==%n",
          positions, LoadAverage.processors(), loadBefore, LoadAverage.now());
      System.out.printf(Locale.ROOT, "  accounts paid %,d; paid %d, received %d, residue %d (minor units)%n",
          interval.accounts(), interval.paid(), interval.received(), interval.residue());
      System.out.printf(Locale.ROOT, "  funding time -> rate fixed %.2f s, -> last payment recorded %.2f s, -> closed "
          + "%.2f s (%.0f payments/s)%n", (interval.fixedAt() - fundingTime) / 1000.0, fundingSeconds,
          (interval.closedAt() - fundingTime) / 1000.0, interval.accounts() / Math.max(0.001, fundingSeconds));
      System.out.printf(Locale.ROOT, "  raw insert of the same %,d FundingApplied rows: %.2f s (%.0f rows/s)%n",
          raw.operations(), raw.seconds(), raw.perSecond());
      System.out.printf(Locale.ROOT, "  ratio funding / raw insert: %.2f%n", fundingSeconds / Math.max(0.001,
          raw.seconds()));
      System.out.printf(Locale.ROOT, "  ledger audit: %s (funding pools %d)%n", audit.clean() ? "CLEAN"
          : "NOT CLEAN " + audit.violations().stream().limit(5).toList(), audit.fundingPools());
      return audit.clean() && interval.accounts() == positions;
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  /** When the clock recorded the last payment of the interval (its PaymentsRecorded events' time). */
  private static long lastPaymentRecorded(Main.Node node, String keyspace, long fundingTime) {
    var journal = org.apache.pekko.persistence.query.PersistenceQuery.get(node.system()).getReadJournalFor(
        org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal.class,
        org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal.Identifier());
    List<Object> events = Timing.await(journal.currentEventsByPersistenceId(
        io.clearinghouse.funding.FundingClock.persistenceId(PERP).id(), 0L, Long.MAX_VALUE)
        .map(e -> e.event()).runWith(Sink.seq(), node.system()), LONG, "the clock's journal");
    long last = 0;
    for (Object event : events) {
      if (event instanceof io.clearinghouse.funding.FundingClock.PaymentsRecorded p && p.fundingTime() == fundingTime) {
        last = Math.max(last, p.epochMillis());
      }
    }
    return last;
  }

  private static void publish(PriceServiceClient prices) {
    long now = System.currentTimeMillis();
    Timing.await(Feeders.publishAsync(prices, SOURCES.stream().map(s -> IndexPriceTick.newBuilder().setSource(s)
        .setInstrument(PERP).setPrice("50000.3").setTimestampMs(now).build()).toList()), ASK, "publishing");
  }

  private static void all(Main.Node node, int n, int parallelism,
      java.util.function.IntFunction<CompletionStage<?>> each) {
    Timing.await(Source.range(0, n - 1).mapAsyncUnordered(parallelism, each::apply)
        .runWith(Sink.ignore(), node.system()), LONG, "the setup");
  }

  private static <T> CompletionStage<T> retrying(Supplier<CompletionStage<T>> call) {
    return Retrying.call(call, 3, () -> {});
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
