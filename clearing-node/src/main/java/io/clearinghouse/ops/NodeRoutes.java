package io.clearinghouse.ops;

import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.audit.LedgerAudit;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.parameter;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.liquidation.BackstopProviders;
import io.clearinghouse.liquidation.InsuranceFund;
import io.clearinghouse.clearing.TradeRegister;
import io.clearinghouse.liquidation.LiquidationSaga;
import io.clearinghouse.liquidation.Liquidations;
import io.clearinghouse.api.Authenticator;
import io.clearinghouse.api.GrpcErrors;
import io.clearinghouse.api.Principal;
import io.clearinghouse.api.Role;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.price.MarkPrices;
import io.clearinghouse.price.PriceFeed;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Leave;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * The node's own management routes, next to pekko-management's: {@code GET /shards} (entities per
 * shard per node, for every entity type), {@code GET /metrics} (Prometheus), {@code GET
 * /health/markets} (stale and halted instruments), {@code GET /liquidations/halted}, {@code POST
 * /liquidations/halt|resume?instrument=...}, {@code GET /cascade} (the cluster's liquidations started,
 * settled, pending and per second, and every insurance fund's balance: see {@link CascadeProgress}),
 * {@code GET /insurance-funds}, and {@code POST /cluster/leave?address=...} and {@code /cluster/down?address=...}.
 *
 * <p>The reads {@code /shards}, {@code /insurance-funds}, {@code /cascade} (fund balances, per-node
 * counts) and {@code /liquidations/halted} need an operator or a monitor token ({@code
 * Authorization: Bearer ...}; a monitor token, e.g. Prometheus's, reads and changes nothing), and
 * so does {@code /metrics} unless {@code clearinghouse.management.metrics-token-required} is off
 * (local mode); the routes that change the cluster or the halts need the operator token. 401
 * without a valid token, 403 WRONG_ROLE with another role. Health
 * ({@code /health/markets}, pekko-management's {@code /ready} and {@code /alive}) stays open for
 * the kubelet's probes. Before the node has finished starting (its token checks and services not
 * there yet) every route that needs them answers 503. pekko-management's own cluster routes stay read-only.
 */
public final class NodeRoutes implements ManagementRouteProvider {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final List<EntityTypeKey<?>> TYPES = List.of(AccountEntity.TYPE_KEY, PriceFeed.TYPE_KEY,
      LiquidationSaga.TYPE_KEY, InsuranceFund.TYPE_KEY, InsuranceFund.RESERVE_TYPE_KEY, BackstopProviders.TYPE_KEY,
      TradeRegister.TYPE_KEY, io.clearinghouse.liquidation.FundUnwind.TYPE_KEY);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final org.slf4j.Logger OPERATOR_LOG = org.slf4j.LoggerFactory.getLogger(NodeRoutes.class);

  static final String METRICS_TOKEN_REQUIRED = "clearinghouse.management.metrics-token-required";

  private final ActorSystem<Void> system;
  private final boolean metricsTokenRequired;

  public NodeRoutes(ExtendedActorSystem system) {
    this.system = Adapter.toTyped(system);
    this.metricsTokenRequired = metricsTokenRequired(system.settings().config());
  }

  /** Whether {@code GET /metrics} needs an operator or a monitor token; a value that is not a boolean stops the node naming the key. */
  public static boolean metricsTokenRequired(com.typesafe.config.Config config) {
    return config.getBoolean(METRICS_TOKEN_REQUIRED);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return concat(
        path("shards", () -> get(() -> reader(by -> completeWithFuture(shards().thenApply(NodeRoutes::json))))),
        path("metrics", () -> get(() -> metricsTokenRequired ? reader(by -> completeWithFuture(metrics()))
            : started(() -> completeWithFuture(metrics())))),
        path(segment("cluster").slash("leave"), () -> post(() -> parameter("address",
            address -> operator(by -> change(address, true, by))))),
        path(segment("cluster").slash("down"), () -> post(() -> parameter("address",
            address -> operator(by -> change(address, false, by))))),
        path(segment("liquidations").slash("halt"), () -> post(() -> parameter("instrument",
            instrument -> operator(by -> halt(instrument, true, by))))),
        path(segment("liquidations").slash("resume"), () -> post(() -> parameter("instrument",
            instrument -> operator(by -> halt(instrument, false, by))))),
        path(segment("liquidations").slash("halted"), () -> get(() -> reader(by -> {
          ObjectNode root = JSON.createObjectNode();
          MarkPrices marks = NodeContext.get(system).marks();
          var halted = root.putArray("halted");
          (marks == null ? java.util.Set.<String>of() : marks.haltedInstruments()).forEach(halted::add);
          return complete(json(root));
        }))),
        path("insurance-funds", () -> get(() -> reader(by -> completeWithFuture(funds().thenApply(NodeRoutes::json))))),
        path("cascade", () -> get(() -> reader(by -> cascade()))),
        path(segment("health").slash("markets"), () -> get(this::markets))
    );
  }

  /**
   * {@code GET /health/markets}: each configured instrument's state on this node (its mark stale,
   * its liquidations halted), 200 when all are fine, 503 otherwise. Readiness never depends on
   * this: a stale feed must not take every node out of the load balancer.
   */
  private Route markets() {
    NodeContext node = NodeContext.get(system);
    MarkPrices marks = node.marks();
    java.util.Set<String> symbols = new java.util.TreeSet<>(node.instruments());
    if (marks != null) {
      symbols.addAll(marks.instruments());
    }
    ObjectNode root = JSON.createObjectNode();
    var list = root.putArray("instruments");
    boolean healthy = true;
    for (String symbol : symbols) {
      boolean stale = marks == null || marks.stale(symbol);
      boolean halted = marks != null && marks.halted(symbol);
      healthy &= !stale && !halted;
      ObjectNode entry = list.addObject().put("instrument", symbol)
          .put("state", stale && halted ? "stale, liquidations halted" : stale ? "stale" : halted ? "liquidations halted" : "ok")
          .put("stale", stale).put("liquidationsHalted", halted);
      Optional<Long> age = marks == null ? Optional.empty() : marks.ageMillis(symbol);
      if (age.isPresent()) {
        entry.put("markAgeMillis", age.get());
      } else {
        entry.putNull("markAgeMillis");
      }
    }
    root.put("healthy", healthy);
    return complete(json(root).withStatus(healthy ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE));
  }

  private Route halt(String instrument, boolean halted, String by) {
    Liquidations liquidations = NodeContext.get(system).liquidations();
    CompletionStage<HttpResponse> done;
    try {
      done = liquidations.setHalt(instrument, halted, by).thenApply(status -> json(JSON.createObjectNode()
          .put("instrument", status.instrument()).put("halted", status.liquidationsHalted())));
    } catch (RejectedException e) {
      return complete(StatusCodes.get(GrpcErrors.httpStatus(e.reason())), e.reason().name() + ": " + e.getMessage());
    }
    return completeWithFuture(done);
  }

  /** {@code GET /cascade}: the cluster's liquidations started, settled, pending, per second, and the funds. */
  private Route cascade() {
    return NodeContext.get(system).cascadeView()
        .map(view -> completeWithFuture(view.thenApply(NodeRoutes::json)))
        .orElseGet(() -> complete(StatusCodes.SERVICE_UNAVAILABLE, "the node is starting"));
  }

  /** Every configured fund's balance and totals, in the settlement asset's minor units. */
  private CompletionStage<ObjectNode> funds() {
    Liquidations liquidations = NodeContext.get(system).liquidations();
    ObjectNode root = JSON.createObjectNode();
    CompletableFuture<?>[] all = liquidations.settings().funds().stream()
        .map(fund -> liquidations.fund(fund, 0, 0).thenAccept(view -> {
          synchronized (root) {
            root.putObject(fund).put("balance", view.balance()).put("reserved", view.reserved())
                .put("totalIn", view.totalIn())
                .put("totalOut", view.totalOut()).put("entries", view.entries());
          }
        }).toCompletableFuture()).toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(all).thenApply(done -> root);
  }

  /**
   * {@code inner} once the node has finished starting; before that (its token checks, liquidations
   * and cascade view not there yet) 503 with a body that says so.
   */
  private Route started(java.util.function.Supplier<Route> inner) {
    return NodeContext.get(system).started() ? inner.get()
        : complete(StatusCodes.SERVICE_UNAVAILABLE, NOT_STARTED);
  }

  static final String NOT_STARTED = "the node is starting: try again once /ready answers 200";

  /** {@code inner} gets the operator token's name, for the events it records; 503 before the node has started. */
  private Route operator(Function<String, Route> inner) {
    return authorized((auth, header) -> auth.require(header, Role.OPERATOR), inner);
  }

  /**
   * A read that changes nothing: {@code inner} runs for an operator or a monitor token
   * ({@link Authenticator#requireReader}) and gets its name; 503 before the node has started.
   */
  private Route reader(Function<String, Route> inner) {
    return authorized(Authenticator::requireReader, inner);
  }

  /**
   * {@code inner} with the name of the caller that {@code check} admits, from the request's
   * {@code Authorization} header: 401 when the token is missing, unknown or expired, 403 (with
   * the reason, e.g. WRONG_ROLE) when {@code check} refuses its role; 503 before the node has
   * started (its token checks not there yet).
   */
  private Route authorized(BiFunction<Authenticator, Optional<String>, Principal> check, Function<String, Route> inner) {
    return started(() -> extractRequest(request -> {
      Authenticator auth = NodeContext.get(system).authenticator();
      Optional<String> header = request.getHeader("Authorization").map(h -> h.value());
      try {
        return inner.apply(check.apply(auth, header).name());
      } catch (RejectedException e) {
        boolean unauthenticated = GrpcErrors.statusCode(e.reason()) == io.grpc.Status.Code.UNAUTHENTICATED;
        return complete(unauthenticated ? StatusCodes.UNAUTHORIZED : StatusCodes.FORBIDDEN,
            e.reason().name() + ": " + e.getMessage());
      }
    }));
  }

  /** Asks {@code addressText} to leave or be downed; the operator's name is logged and answered. */
  private Route change(String addressText, boolean leave, String by) {
    Address address;
    try {
      address = AddressFromURIString.parse(addressText);
    } catch (RuntimeException e) {
      return complete(StatusCodes.BAD_REQUEST, "not a cluster address: " + addressText);
    }
    Cluster cluster = Cluster.get(system);
    boolean member = false;
    for (Member m : cluster.state().getMembers()) {
      member |= m.address().equals(address);
    }
    if (!member) {
      return complete(StatusCodes.NOT_FOUND, "no member " + addressText);
    }
    // Who changed the cluster is on record (as every operator event records its operator's name).
    OPERATOR_LOG.warn("Operator '{}' asked member {} to {}", by, address, leave ? "leave" : "be downed");
    cluster.manager().tell(leave ? Leave.create(address) : new Down(address));
    return complete(StatusCodes.OK, (leave ? "leaving: " : "downing: ") + address + " (asked by operator '" + by + "')");
  }

  private CompletionStage<ObjectNode> shards() {
    ObjectNode root = JSON.createObjectNode();
    CompletableFuture<?>[] all = TYPES.stream().map(type -> AskPattern
        .<GetClusterShardingStats, ShardRegion.ClusterShardingStats>ask(
            ClusterSharding.get(system).shardState().narrow(),
            replyTo -> new GetClusterShardingStats(type, TIMEOUT, replyTo), TIMEOUT, system.scheduler())
        .thenAccept(stats -> {
          ObjectNode byNode = root.putObject(type.name());
          stats.getRegions().forEach((node, region) -> {
            ObjectNode entry = byNode.putObject(node.toString());
            ObjectNode perShard = entry.putObject("entitiesPerShard");
            int total = 0;
            for (var shard : region.getStats().entrySet()) {
              int count = ((Number) shard.getValue()).intValue();
              perShard.put(shard.getKey(), count);
              total += count;
            }
            entry.put("shards", region.getStats().size());
            entry.put("entities", total);
          });
        }).toCompletableFuture()).toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(all).thenApply(done -> root);
  }

  private CompletionStage<HttpResponse> metrics() {
    NodeContext node = NodeContext.get(system);
    Metrics metrics = node.metrics();
    MarkPrices marks = node.marks();
    if (marks != null) {
      for (String instrument : marks.instruments()) {
        // Display only (Prometheus gauges are floating point): the age this node's own clock sees.
        marks.ageMillis(instrument).ifPresent(age -> metrics.markAgeSeconds.labels(instrument).set(age / 1000.0));
        metrics.markStale.labels(instrument).set(marks.stale(instrument) ? 1 : 0);
      }
      for (String instrument : node.instruments()) {
        metrics.openInterest.labels(instrument).set(node.openInterestLots(instrument));
        metrics.markStale.labels(instrument).set(marks.stale(instrument) ? 1 : 0);
        metrics.liquidationsHalted.labels(instrument).set(marks.halted(instrument) ? 1 : 0);
      }
    }
    var volatility = node.volatility();
    if (volatility != null) {
      volatility.all().forEach((instrument, index) -> {
        metrics.volatility.labels(instrument, "short").set(index.shortPpm());
        metrics.volatility.labels(instrument, "long").set(index.longPpm());
        metrics.unusualVolatility.labels(instrument).set(index.unusual() ? 1 : 0);
      });
    }
    RiskSignalMetrics.scrape(node.signals(), node.instruments(), metrics);
    CompletableFuture<?>[] counts = TYPES.stream().map(type -> AskPattern
        .<GetShardRegionState, ShardRegion.CurrentShardRegionState>ask(
            ClusterSharding.get(system).shardState().narrow(),
            replyTo -> new GetShardRegionState(type, replyTo), TIMEOUT, system.scheduler())
        .thenAccept(state -> {
          int here = state.getShards().stream().mapToInt(s -> s.getEntityIds().size()).sum();
          metrics.entities.labels(type.name()).set(here);
          if (type.equals(LiquidationSaga.TYPE_KEY)) {
            metrics.cascadeScraped(here);
          }
        })
        .toCompletableFuture()).toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(counts).thenApply(done -> HttpResponse.create()
        .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, metrics.scrape())));
  }

  private static HttpResponse json(ObjectNode node) {
    return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, node.toString()));
  }
}
