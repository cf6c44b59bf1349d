package io.clearinghouse.ops.console;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clearinghouse.instrument.InstrumentSpec;
import io.clearinghouse.ops.NodeContext;
import io.clearinghouse.price.MarkPrices;
import io.clearinghouse.price.PriceFeed;
import io.clearinghouse.price.VolatilityBoard;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * The console's views of what the node itself holds (no gRPC call has them): each instrument's
 * market (its feed's status, asked of the feed entity as the halt switch asks it, and this node's
 * board of marks, volatility index and open interest), the chart's last hour, the cluster's
 * members. Prices and quantities are the instrument's decimal strings, as in the API.
 */
final class ConsoleViews {
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

  private final ActorSystem<?> system;
  private final ConsoleBackend backend;

  ConsoleViews(ActorSystem<?> system, ConsoleBackend backend) {
    this.system = system;
    this.backend = backend;
  }

  /**
   * The instrument's risk signals (issue 16) as this node has them: the depth within the band on
   * each side (the fresh reports summed, in the asset; null when none is fresh) and whether it is
   * under the thin-market threshold; the margin scales in force and a tightening announced.
   */
  private void signals(ObjectNode entry, io.clearinghouse.price.RiskSignals signals, String symbol, long thinBelow) {
    if (signals == null) {
      return;
    }
    io.clearinghouse.money.Asset asset = backend.admin().asset();
    ObjectNode depth = entry.putObject("depth");
    java.util.OptionalLong bid = signals.depth().bid(symbol);
    java.util.OptionalLong ask = signals.depth().ask(symbol);
    if (bid.isPresent()) {
      depth.put("bid", asset.format(bid.getAsLong()))
          .put("bidThin", io.clearinghouse.margin.DepthRules.thin(bid.getAsLong(), thinBelow));
    } else {
      depth.putNull("bid");
    }
    if (ask.isPresent()) {
      depth.put("ask", asset.format(ask.getAsLong()))
          .put("askThin", io.clearinghouse.margin.DepthRules.thin(ask.getAsLong(), thinBelow));
    } else {
      depth.putNull("ask");
    }
    io.clearinghouse.price.MarginScales.Scale scale = signals.scales().scale(symbol);
    entry.putObject("marginScale").put("initialPpm", scale.initialPpm()).put("maintenancePpm", scale.maintenancePpm())
        .put("tightening", scale.warning()).put("pendingPpm", scale.pendingPpm());
  }

  CompletionStage<ObjectNode> markets() {
    NodeContext node = NodeContext.get(system);
    MarkPrices marks = node.marks();
    VolatilityBoard volatility = node.volatility();
    ObjectNode root = ConsoleRoutes.JSON.createObjectNode();
    ArrayNode sources = root.putArray("sources");
    new java.util.TreeSet<>(backend.sources()).forEach(sources::add);
    ArrayNode list = root.putArray("instruments");
    List<CompletableFuture<Void>> asks = new ArrayList<>();
    for (InstrumentSpec spec : backend.instruments().specs()) {
      var contract = spec.contract();
      String symbol = spec.symbol();
      ObjectNode entry = list.addObject().put("instrument", symbol);
      marks.get(symbol).ifPresentOrElse(mark -> entry.put("mark", contract.formatPrice(mark.priceTicks()))
          .put("markSequence", mark.sequence()).put("markEpochMillis", mark.epochMillis()), () -> entry.putNull("mark"));
      marks.ageMillis(symbol).ifPresentOrElse(age -> entry.put("markAgeMillis", age), () -> entry.putNull("markAgeMillis"));
      entry.put("stale", marks.stale(symbol)).put("halted", marks.halted(symbol));
      VolatilityBoard.Index index = volatility == null ? VolatilityBoard.Index.NONE : volatility.index(symbol);
      entry.put("volatilityShortPpm", index.shortPpm()).put("volatilityLongPpm", index.longPpm())
          .put("unusualVolatility", index.unusual());
      entry.put("openInterest", contract.formatQuantity(node.openInterestLots(symbol)));
      signals(entry, node.signals(), symbol, spec.depth().thinBelow());
      asks.add(ClusterSharding.get(system).entityRefFor(PriceFeed.TYPE_KEY, symbol)
          .<PriceFeed.Status>ask(PriceFeed.GetStatus::new, ASK_TIMEOUT)
          .thenAccept(status -> {
            synchronized (root) {
              entry.put("index", status.indexTicks() == 0 ? null : contract.formatPrice(status.indexTicks()))
                  .put("freshSources", status.freshSources()).put("feedStale", status.stale());
            }
          })
          .exceptionally(failure -> {
            synchronized (root) {
              entry.putNull("index").putNull("freshSources").put("feedError", "the price feed did not answer in time");
            }
            return null;
          }).toCompletableFuture());
      long now = System.currentTimeMillis();
      asks.add(ClusterSharding.get(system).entityRefFor(PriceFeed.TYPE_KEY, symbol)
          .<PriceFeed.Sources>ask(PriceFeed.GetSources::new, ASK_TIMEOUT)
          .thenAccept(heard -> {
            synchronized (root) {
              ArrayNode bySource = entry.putArray("sourcePrices");
              for (PriceFeed.SourcePrice p : heard.sources()) {
                bySource.addObject().put("source", p.source()).put("price", contract.formatPrice(p.priceTicks()))
                    .put("ageMillis", now - p.epochMillis()).put("fresh", p.fresh());
              }
            }
          })
          .exceptionally(failure -> null).toCompletableFuture());
    }
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(done -> root);
  }

  HttpResponse history(String instrument) {
    if (instrument == null || instrument.isBlank()) {
      return ConsoleRoutes.error(400, "UNKNOWN_INSTRUMENT", "name the instrument: ?instrument=");
    }
    InstrumentSpec spec;
    try {
      spec = backend.instruments().spec(instrument);
    } catch (RuntimeException e) {
      return ConsoleRoutes.error(400, "UNKNOWN_INSTRUMENT", "no instrument " + AdminCalls.clip(instrument));
    }
    ObjectNode root = ConsoleRoutes.JSON.createObjectNode().put("instrument", spec.symbol());
    ArrayNode points = root.putArray("points");
    long from = System.currentTimeMillis() - MarkHistory.WINDOW.toMillis();
    for (MarkHistory.Point p : backend.history().since(spec.symbol(), from)) {
      points.addArray().add(p.epochMillis()).add(spec.contract().formatPrice(p.priceTicks()));
    }
    return ConsoleRoutes.json(200, root);
  }

  ObjectNode cluster() {
    Cluster cluster = Cluster.get(system);
    ObjectNode root = ConsoleRoutes.JSON.createObjectNode();
    root.put("self", cluster.selfMember().address().toString());
    var state = cluster.state();
    root.put("leader", state.getLeader() == null ? null : state.getLeader().toString());
    ArrayNode members = root.putArray("members");
    java.util.Set<Member> unreachable = state.getUnreachable();
    for (Member m : state.getMembers()) {
      ObjectNode entry = members.addObject().put("address", m.address().toString()).put("status", m.status().toString())
          .put("reachable", !unreachable.contains(m));
      ArrayNode roles = entry.putArray("roles");
      m.getRoles().forEach(roles::add);
    }
    return root;
  }
}
