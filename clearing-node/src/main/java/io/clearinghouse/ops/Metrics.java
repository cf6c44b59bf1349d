package io.clearinghouse.ops;

import io.clearinghouse.common.Rejection;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.Gauge;
import io.prometheus.client.Histogram;
import io.prometheus.client.exporter.common.TextFormat;
import io.prometheus.client.hotspot.DefaultExports;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/**
 * The node's Prometheus metrics, in a registry of its own (several nodes may share a JVM in
 * tests). Counting is lock-free; gauges that depend on cluster state are refreshed just before
 * each scrape by {@link NodeRoutes}.
 */
public final class Metrics {
  private final CollectorRegistry registry = new CollectorRegistry();

  final Counter tradesCleared = Counter.build("clearinghouse_trades_cleared_total",
      "Trades acknowledged to the matching engine with both sides durable, duplicates excluded.").register(registry);
  final Counter tradeResends = Counter.build("clearinghouse_trade_resends_total",
      "Resent trades acknowledged as already applied.").register(registry);
  final Counter rejections = Counter.build("clearinghouse_rejections_total",
      "Refused requests and trades by stable reason.").labelNames("reason").register(registry);
  final Counter liquidationTriggers = Counter.build("clearinghouse_liquidation_triggers_total",
      "Accounts this node's margin monitor told to start liquidation.").register(registry);
  final Counter liquidationsEnded = Counter.build("clearinghouse_liquidations_total",
      "Liquidations this node's sagas finished, by outcome (covered: no deficit or the fund covered it; "
          + "debt: a deficit was left as the account's debt; stop: a protective stop close; stop-unfilled: no provider took it).")
      .labelNames("outcome").register(registry);
  final Gauge insuranceFundBalance = Gauge.build("clearinghouse_insurance_fund_balance",
      "Balance of the insurance fund in minor units of the settlement asset, reported by the node hosting it.")
      .labelNames("fund").register(registry);
  final Histogram askSeconds = Histogram.build("clearinghouse_account_ask_seconds",
      "Time for an account entity to answer a request, wherever it lives.")
      .buckets(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10).register(registry);
  final Gauge markAgeSeconds = Gauge.build("clearinghouse_mark_age_seconds",
      "Seconds since the last mark price of the instrument.").labelNames("instrument").register(registry);
  final Gauge markStale = Gauge.build("clearinghouse_mark_stale",
      "1 while the instrument's index is stale (no liquidations on it).").labelNames("instrument").register(registry);
  final Gauge entities = Gauge.build("clearinghouse_entities",
      "Entities running on this node, by type.").labelNames("type").register(registry);

  public Metrics() {
    DefaultExports.register(registry);
  }

  public void tradeCleared(boolean duplicate) {
    (duplicate ? tradeResends : tradesCleared).inc();
  }

  public void rejected(Rejection reason) {
    rejections.labels(reason.name()).inc();
  }

  public void liquidationTriggered() {
    liquidationTriggers.inc();
  }

  public void liquidationEnded(String outcome) {
    liquidationsEnded.labels(outcome).inc();
  }

  /** Liquidations this node's sagas finished, whatever the outcome (for benchmarks and tests). */
  public long liquidationsEnded() {
    long total = 0;
    for (var family : liquidationsEnded.collect()) {
      for (var sample : family.samples) {
        if (sample.name.endsWith("_total")) {
          total += Math.round(sample.value);
        }
      }
    }
    return total;
  }

  public void insuranceFundBalance(String fund, long minorUnits) {
    // Prometheus gauges hold floating-point values; this one is only ever displayed, never computed with.
    insuranceFundBalance.labels(fund).set(minorUnits);
  }

  /** Starts a timer for one account ask; call the returned handle when the answer is in. */
  public Histogram.Timer askStarted() {
    return askSeconds.startTimer();
  }

  String scrape() {
    StringWriter out = new StringWriter();
    try {
      TextFormat.write004(out, registry.metricFamilySamples());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }
}
