package io.clearinghouse.ops;

import io.clearinghouse.liquidation.LiquidationSaga;
import io.clearinghouse.liquidation.Liquidations;
import io.clearinghouse.metrics.CascadeCounts;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.money.Asset;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clearinghouse.persistence.CborSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The cascade progress view (issue 15), cluster-wide: every node's liquidations started and
 * settled (since that node started, and over the last few seconds, from its {@link CascadeCounts}),
 * the liquidation sagas running on each node (cluster sharding's count of live saga entities:
 * begun and not yet passivated after their end), and each insurance fund's balance from the fund
 * entity itself. Each node runs a small reporter registered with the receptionist; the node asked
 * gathers the reporters' answers within a timeout, naming the nodes that did not answer.
 *
 * <p>The counts are the nodes' own since they started: a node that left the cluster takes its
 * counts with it, and a saga that moved after a crash counts as started on one node and settled
 * on another. The running sagas do not depend on that: they are the cluster's entities now.
 */
public final class CascadeProgress {
  public static final ServiceKey<Report> SERVICE_KEY = ServiceKey.create(Report.class, "clearinghouse-cascade");

  /** Asks a node's reporter for its counts. */
  public record Report(ActorRef<NodeCounts> replyTo) implements CborSerializable {}

  /** One node's counts ({@code node}: its cluster address). */
  public record NodeCounts(String node, long started, long settled, long startedInWindow, long settledInWindow,
      int windowSeconds) implements CborSerializable {
    CascadeCounts.Snapshot snapshot() {
      return new CascadeCounts.Snapshot(started, settled, startedInWindow, settledInWindow, windowSeconds);
    }
  }

  /** A fund's balance and the part of it held for running liquidations, in minor units. */
  public record FundBalance(long balance, long reserved) {}

  /**
   * The cluster's view: totals over the nodes that answered, per node (address to counts and
   * running sagas), the nodes that did not answer, each fund's balance (absent: it did not
   * answer), and when it was taken.
   */
  public record View(long epochMillis, CascadeCounts.Snapshot total, long running, Map<String, CascadeCounts.Snapshot> nodes,
      Map<String, Long> runningPerNode, List<String> unanswered, Map<String, FundBalance> funds) {}

  private final ActorSystem<?> system;
  private final Asset asset;
  private final Duration timeout;

  private CascadeProgress(ActorSystem<?> system, Asset asset, Duration timeout) {
    this.system = system;
    this.asset = asset;
    this.timeout = timeout;
  }

  /**
   * Starts this node's reporter of {@code metrics}' counts; {@code asset}: the funds' settlement
   * asset (for the amounts shown); {@code timeout}: how long a view waits for each answer.
   */
  public static CascadeProgress start(ActorSystem<?> system, Metrics metrics, Asset asset, Duration timeout) {
    String self = Cluster.get(system).selfMember().address().toString();
    ActorRef<Report> reporter = system.systemActorOf(Behaviors.receiveMessage(report -> {
      CascadeCounts.Snapshot now = metrics.cascade();
      report.replyTo().tell(new NodeCounts(self, now.started(), now.settled(), now.startedInWindow(),
          now.settledInWindow(), now.windowSeconds()));
      return Behaviors.same();
    }), "cascade-progress", Props.empty());
    system.receptionist().tell(Receptionist.register(SERVICE_KEY, reporter));
    return new CascadeProgress(system, asset, timeout);
  }

  /** The view now; {@code liquidations} reads the funds. */
  public CompletionStage<View> view(Liquidations liquidations) {
    CompletableFuture<List<NodeCounts>> counts = AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
            system.receptionist(), replyTo -> Receptionist.find(SERVICE_KEY, replyTo), timeout, system.scheduler())
        .thenCompose(listing -> {
          List<CompletableFuture<NodeCounts>> answers = new ArrayList<>();
          for (ActorRef<Report> reporter : listing.getServiceInstances(SERVICE_KEY)) {
            answers.add(AskPattern.<Report, NodeCounts>ask(reporter, Report::new, timeout, system.scheduler())
                .toCompletableFuture()
                // A node that does not answer is named, not fatal: its address stands in for its counts.
                .exceptionally(failure -> new NodeCounts(reporter.path().address().toString(), -1, -1, -1, -1, -1)));
          }
          return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
              .thenApply(done -> answers.stream().map(CompletableFuture::join).toList());
        }).toCompletableFuture();
    CompletableFuture<Map<String, Long>> running = AskPattern
        .<GetClusterShardingStats, ShardRegion.ClusterShardingStats>ask(ClusterSharding.get(system).shardState().narrow(),
            replyTo -> new GetClusterShardingStats(LiquidationSaga.TYPE_KEY, timeout, replyTo), timeout.plus(timeout),
            system.scheduler())
        .thenApply(stats -> {
          Map<String, Long> perNode = new TreeMap<>();
          stats.getRegions().forEach((address, region) -> {
            long entities = 0;
            for (var shard : region.getStats().values()) {
              entities += ((Number) shard).longValue();
            }
            perNode.put(address.toString(), entities);
          });
          return perNode;
        }).toCompletableFuture();
    Map<String, FundBalance> funds = new java.util.concurrent.ConcurrentHashMap<>();
    CompletableFuture<?>[] fundReads = liquidations.settings().funds().stream()
        .map(fund -> liquidations.fund(fund, 0, 0).toCompletableFuture()
            .thenAccept(view -> funds.put(fund, new FundBalance(view.balance(), view.reserved())))
            .exceptionally(failure -> null))
        .toArray(CompletableFuture[]::new);
    return counts.thenCombine(running, (answered, sagas) -> combine(System.currentTimeMillis(), answered, sagas, Map.of()))
        .thenCompose(view -> CompletableFuture.allOf(fundReads).thenApply(done -> new View(view.epochMillis(),
            view.total(), view.running(), view.nodes(), view.runningPerNode(), view.unanswered(), new TreeMap<>(funds))));
  }

  /** Sums the nodes' answers (an answer with a negative window: the node did not answer). */
  static View combine(long epochMillis, List<NodeCounts> answers, Map<String, Long> runningPerNode,
      Map<String, FundBalance> funds) {
    Map<String, CascadeCounts.Snapshot> nodes = new TreeMap<>();
    List<String> unanswered = new ArrayList<>();
    CascadeCounts.Snapshot total = null;
    for (NodeCounts answer : answers) {
      if (answer.windowSeconds() <= 0) {
        unanswered.add(answer.node());
        continue;
      }
      nodes.put(answer.node(), answer.snapshot());
      total = total == null ? answer.snapshot() : total.plus(answer.snapshot());
    }
    long running = 0;
    for (long n : runningPerNode.values()) {
      running = Math.addExact(running, n);
    }
    return new View(epochMillis, total == null ? CascadeCounts.Snapshot.EMPTY : total, running, nodes,
        new TreeMap<>(runningPerNode), List.copyOf(unanswered), new TreeMap<>(funds));
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The view as {@code GET /cascade} answers it: counts as whole numbers, rates as decimals with
   * one place (tenths, rounded down), amounts as the asset's decimal strings and in minor units.
   */
  public ObjectNode json(View view) {
    ObjectNode root = JSON.createObjectNode().put("scope", "cluster").put("epochMillis", view.epochMillis());
    counts(root, view.total()).put("pending", view.running());
    ObjectNode funds = root.putObject("funds");
    view.funds().forEach((fund, balance) -> funds.putObject(fund).put("balance", asset.format(balance.balance()))
        .put("reserved", asset.format(balance.reserved())).put("balanceMinor", balance.balance()));
    var nodes = root.putArray("nodes");
    java.util.Set<String> addresses = new java.util.TreeSet<>(view.nodes().keySet());
    addresses.addAll(view.runningPerNode().keySet());
    for (String address : addresses) {
      ObjectNode node = nodes.addObject().put("node", address);
      CascadeCounts.Snapshot counts = view.nodes().get(address);
      if (counts != null) {
        counts(node, counts);
      }
      node.put("pending", view.runningPerNode().getOrDefault(address, 0L));
    }
    var unanswered = root.putArray("unanswered");
    view.unanswered().forEach(unanswered::add);
    return root;
  }

  private static ObjectNode counts(ObjectNode into, CascadeCounts.Snapshot counts) {
    return into.put("started", counts.started()).put("settled", counts.settled())
        .put("startedPerSecond", CascadeCounts.Snapshot.tenths(counts.startedPerSecondTenths()))
        .put("settledPerSecond", CascadeCounts.Snapshot.tenths(counts.settledPerSecondTenths()))
        .put("windowSeconds", counts.windowSeconds());
  }
}
