package io.clearinghouse.bench;

import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.it.Feeders;
import io.clearinghouse.it.TestNodes;
import io.clearinghouse.persistence.CborSerializable;
import io.clearinghouse.protocol.v1.IndexPriceTick;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Issue 15's P7: the heap one remembered account holding one position retains on its node (the
 * entity, its state, its shard's bookkeeping and the monitor's tracking of it), measured from
 * outside: the heap in use after full collections before and after {@code bench.heap-accounts}
 * accounts each open, deposit and take one trade side (one short counterparty per
 * {@code retained-trades} traders, as in the funding benchmark). The baseline, measured the same
 * way in the same node: as many entities of the smallest event-sourced sharded behaviour (one
 * persisted event, a long as state), Pekko's own floor for a remembered persistent entity.
 * Figures printed, never asserted.
 */
public final class AccountHeapBenchmark {
  private static final String PERP = "BTCUSDT-PERP";
  private static final List<String> SOURCES = List.of("binance", "okx", "coinbase");
  private static final long USDT = 1_000_000L;
  private static final long ENTRY_TICKS = 500_000;
  private static final Duration LONG = Duration.ofMinutes(30);
  private static final EntityTypeKey<Bump> FLOOR = EntityTypeKey.create(Bump.class, "HeapFloor");

  /** The floor entity's one command and one event. */
  public record Bump(ActorRef<Done> replyTo) implements CborSerializable {}

  public record Bumped(long at) implements CborSerializable {}

  private AccountHeapBenchmark() {}

  public static void main(String[] args) {
    int status;
    try {
      run(Integer.getInteger("bench.heap-accounts", 20_000), Integer.getInteger("bench.heap-setup-parallelism", 128));
      status = 0;
    } catch (RuntimeException e) {
      e.printStackTrace();
      status = 2;
    }
    System.exit(status);
  }

  static void run(int traders, int parallelism) {
    String keyspace = TestNodes.newKeyspace("heapbench");
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(keyspace, String.join("\n",
        "clearinghouse.price-feed.stale-after = 30m",
        "clearinghouse.price-feed.last-trade-interval = 1h",
        "pekko.loglevel = WARNING")));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      Accounts accounts = new Accounts(node.system(), Duration.ofSeconds(30));
      publish(PriceServiceClient.create(TestNodes.clientSettings(node, clients), clients));
      ClusterSharding sharding = ClusterSharding.get(node.system());
      sharding.init(Entity.of(FLOOR, ctx -> new Floor(ctx.getEntityId())));
      int retained = node.system().settings().config().getInt("clearinghouse.account.retained-trades");
      // A warm-up of both kinds (classes loaded, shards started), then the measured ones.
      setUp(node, accounts, "warm-", 2 * retained, retained, parallelism);
      floor(node, sharding, "warm-", 1_000, parallelism);
      long before = heapAfterFullCollections();
      java.util.Map<String, long[]> histogramBefore = histogram();
      int positions = setUp(node, accounts, "", traders, retained, parallelism);
      long afterAccounts = heapAfterFullCollections();
      java.util.Map<String, long[]> histogramAfter = histogram();
      floor(node, sharding, "", positions, parallelism);
      long afterFloor = heapAfterFullCollections();
      double perAccount = (afterAccounts - before) / (double) positions;
      double perFloor = (afterFloor - afterAccounts) / (double) positions;
      System.out.println();
      System.out.printf(Locale.ROOT, "== Retained heap per remembered account holding one position (%s, %d cores) ==%n",
          java.time.LocalDateTime.now().withNano(0), LoadAverage.processors());
      System.out.printf(Locale.ROOT, "  %,d accounts with one position each (%,d traders, %,d counterparties)%n",
          positions, traders, positions - traders);
      System.out.printf(Locale.ROOT, "  heap after full collections: %,d KB before, %,d KB with the accounts, %,d KB with"
          + " the floor entities%n", before / 1024, afterAccounts / 1024, afterFloor / 1024);
      System.out.printf(Locale.ROOT, "  per account %.2f KB; per floor entity (one event, a long as state) %.2f KB%n",
          perAccount / 1024, perFloor / 1024);
      System.out.printf(Locale.ROOT, "  ratio account / floor: %.2f (issue 15 target: at most 2 KB per account)%n",
          perAccount / Math.max(1, perFloor));
      System.out.println("  where it goes (class histogram after minus before, per account, the largest 25):");
      System.out.println("       bytes  instances  class");
      histogramAfter.entrySet().stream()
          .map(e -> {
            long[] was = histogramBefore.getOrDefault(e.getKey(), new long[2]);
            return java.util.Map.entry(e.getKey(), new long[] {e.getValue()[0] - was[0], e.getValue()[1] - was[1]});
          })
          .sorted((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]))
          .limit(25)
          .forEach(e -> System.out.printf(Locale.ROOT, "  %10.1f %10.2f  %s%n", e.getValue()[1] / (double) positions,
              e.getValue()[0] / (double) positions, e.getKey()));
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  /** Opens {@code traders} accounts with one trade each against shared counterparties; returns the accounts opened. */
  private static int setUp(Main.Node node, Accounts accounts, String prefix, int traders, int retained,
      int parallelism) {
    int counterparties = (traders + retained - 1) / retained;
    all(node, counterparties, parallelism, c -> retrying(() -> accounts.open(prefix + "short-" + c))
        .thenCompose(o -> retrying(() -> accounts.deposit(prefix + "short-" + c, "seed", 1_000_000_000L * USDT))));
    AtomicInteger sequence = new AtomicInteger(prefix.isEmpty() ? 1_000_000 : 0);
    all(node, traders, parallelism, i -> {
      String id = prefix + "long-" + i;
      String counterparty = prefix + "short-" + (i / retained);
      long seq = sequence.incrementAndGet();
      return retrying(() -> accounts.open(id))
          .thenCompose(o -> retrying(() -> accounts.deposit(id, "seed", 10_000 * USDT)))
          .thenCompose(d -> retrying(() -> accounts.applyTrade(id, "t-" + seq, seq, PERP, 10, ENTRY_TICKS, true,
              null, counterparty)))
          .thenCompose(b -> retrying(() -> accounts.applyTrade(counterparty, "t-" + seq, seq, PERP, -10,
              ENTRY_TICKS, false, null, id)));
    });
    return traders + counterparties;
  }

  private static void floor(Main.Node node, ClusterSharding sharding, String prefix, int n, int parallelism) {
    all(node, n, parallelism, i -> sharding.entityRefFor(FLOOR, prefix + "floor-" + i)
        .<Done>ask(Bump::new, Duration.ofSeconds(30)));
  }

  /** Live objects by class (a full collection first): class name to {instances, bytes}. */
  private static java.util.Map<String, long[]> histogram() {
    try {
      Object text = ManagementFactory.getPlatformMBeanServer().invoke(
          new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
          new Object[] {new String[0]}, new String[] {String[].class.getName()});
      java.util.Map<String, long[]> byClass = new java.util.HashMap<>();
      for (String line : text.toString().split("\n")) {
        String[] f = line.trim().split("\\s+");
        if (f.length >= 4 && f[0].endsWith(":")) {
          byClass.merge(f[3], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])},
              (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
        }
      }
      return byClass;
    } catch (javax.management.JMException e) {
      throw new IllegalStateException("no class histogram", e);
    }
  }

  /** The heap in use once repeated full collections stop freeing more than 1 MB. */
  private static long heapAfterFullCollections() {
    var memory = ManagementFactory.getMemoryMXBean();
    long last = Long.MAX_VALUE;
    for (int i = 0; i < 10; i++) {
      System.gc();
      long used = memory.getHeapMemoryUsage().getUsed();
      if (last - used < 1 << 20 && last >= used) {
        return used;
      }
      last = used;
    }
    return last;
  }

  private static void publish(PriceServiceClient prices) {
    long now = System.currentTimeMillis();
    Timing.await(Feeders.publishAsync(prices, SOURCES.stream().map(s -> IndexPriceTick.newBuilder().setSource(s)
        .setInstrument(PERP).setPrice("50000.3").setTimestampMs(now).build()).toList()), Duration.ofSeconds(30),
        "publishing");
  }

  private static void all(Main.Node node, int n, int parallelism, IntFunction<CompletionStage<?>> each) {
    Timing.await(Source.range(0, n - 1).mapAsyncUnordered(parallelism, each::apply)
        .runWith(Sink.ignore(), node.system()), LONG, "the setup");
  }

  private static <T> CompletionStage<T> retrying(Supplier<CompletionStage<T>> call) {
    return Retrying.call(call, 3, () -> {});
  }

  /** The smallest remembered event-sourced entity: one event, a long as state. */
  private static final class Floor extends EventSourcedBehavior<Bump, Bumped, Long> {
    Floor(String id) {
      super(PersistenceId.of("HeapFloor", id));
    }

    @Override
    public Long emptyState() {
      return 0L;
    }

    @Override
    public CommandHandler<Bump, Bumped, Long> commandHandler() {
      return (state, bump) -> Effect().persist(new Bumped(System.currentTimeMillis()))
          .thenReply(bump.replyTo(), s -> Done.getInstance());
    }

    @Override
    public EventHandler<Long, Bumped> eventHandler() {
      return (state, event) -> event.at();
    }
  }
}
