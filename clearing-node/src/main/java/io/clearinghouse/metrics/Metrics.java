package io.clearinghouse.metrics;

import io.clearinghouse.common.Rejection;
import io.clearinghouse.price.PriceMetrics;
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
public final class Metrics implements PriceMetrics {
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
  final Counter liquidationsStarted = Counter.build("clearinghouse_liquidations_started_total",
      "Liquidations (and protective stops) whose saga began on this node: counted once, where the saga persisted its "
          + "first event; the settled ones are clearinghouse_liquidations_total.").register(registry);
  final Gauge liquidationRates = Gauge.build("clearinghouse_liquidations_per_second",
      "Liquidations started and settled per second by this node's sagas over the last "
          + CascadeCounts.DEFAULT_WINDOW_SECONDS + " s (whole seconds, the current one included), set at each scrape.")
      .labelNames("phase").register(registry);
  final Gauge liquidationsPending = Gauge.build("clearinghouse_liquidations_pending",
      "Liquidation sagas running on this node (begun and not yet passivated after their end): sum over the nodes for "
          + "the cluster's.").register(registry);
  private final CascadeCounts cascade = new CascadeCounts();
  final Gauge insuranceFundBalance = Gauge.build("clearinghouse_insurance_fund_balance",
      "Balance of the insurance fund in minor units of the settlement asset, reported by the node hosting it.")
      .labelNames("fund").register(registry);
  final Gauge reserveBalance = Gauge.build("clearinghouse_reserve_balance",
      "Balance of a platform reserve (market-making, platform-revenue, investor-protection, operator-capital) in "
          + "minor units of the settlement asset, reported by the node hosting it.")
      .labelNames("reserve").register(registry);
  final Histogram askSeconds = Histogram.build("clearinghouse_account_ask_seconds",
      "Time for an account entity to answer a request, wherever it lives.")
      .buckets(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10).register(registry);
  public final Gauge markAgeSeconds = Gauge.build("clearinghouse_mark_age_seconds",
      "Seconds since the instrument's feed last vouched for its mark, on this node's clock.")
      .labelNames("instrument").register(registry);
  public final Gauge markStale = Gauge.build("clearinghouse_mark_stale",
      "1 while the instrument is stale on this node: stale index, no mark, or a mark older than stale-after "
          + "(no liquidations on it).").labelNames("instrument").register(registry);
  public final Gauge liquidationsHalted = Gauge.build("clearinghouse_liquidations_halted",
      "1 while an operator has halted new liquidations on the instrument.").labelNames("instrument").register(registry);
  public final Gauge settlementWaiting = Gauge.build("clearinghouse_settlement_waiting",
      "1 while a dated future past its expiry has no settlement price (too few fresh index samples in its "
          + "settlement window): its settlement waits for an operator to set the price.").labelNames("instrument")
      .register(registry);
  final Counter marksPublished = Counter.build("clearinghouse_marks_published_total",
      "Marks persisted and published by the price feeds running on this node.").labelNames("instrument")
      .register(registry);
  final Counter markJumps = Counter.build("clearinghouse_mark_jumps_total",
      "Moves beyond max-jump backed by a majority of the sources: held (the hold started) and confirmed "
          + "(published after the hold), by the feeds running on this node.").labelNames("instrument", "outcome")
      .register(registry);
  final Counter ticksAccepted = Counter.build("clearinghouse_price_ticks_accepted_total",
      "Index price ticks accepted from feeders on this node, by source.").labelNames("source").register(registry);
  final Counter ticksRefused = Counter.build("clearinghouse_price_ticks_refused_total",
      "Index price ticks refused on this node, by source (\"other\" for unconfigured ones) and reason; "
          + "TIMEOUT: accepted but not taken by the feed in time.").labelNames("source", "reason").register(registry);
  final Counter monitorAccountErrors = Counter.build("clearinghouse_monitor_account_errors_total",
      "Accounts the margin monitor could not evaluate (skipped, never liquidated for it).").register(registry);
  final Counter monitorEvaluations = Counter.build("clearinghouse_monitor_evaluations_total",
      "Walks of an instrument's holders by this node's margin monitor (newer marks replace queued ones).")
      .register(registry);
  public final Gauge monitorAccounts = Gauge.build("clearinghouse_monitor_accounts",
      "Accounts holding a position that this node's margin monitor watches (each reports itself once it has "
          + "started or recovered here).").register(registry);
  public final Gauge openInterest = Gauge.build("clearinghouse_open_interest_lots",
      "The cluster's open interest per instrument (one side, in lots) as this node last summed the margin monitors' "
          + "reports.").labelNames("instrument").register(registry);
  public final Gauge marginScale = Gauge.build("clearinghouse_margin_scale_ppm",
      "Scaled margins (issue 16) of each instrument with volatility- or open-interest-scaled margin on: kind "
          + "initial (the volatility multiple new orders pay), maintenance (the multiple in force), pending (a "
          + "tightening announced, 0 when none) and open_interest_blend (ppm of the way from the position's rate to "
          + "100%).").labelNames("instrument", "kind").register(registry);
  public final Gauge marketDepth = Gauge.build("clearinghouse_market_depth",
      "The published market depth of each instrument (minor units of the settlement asset resting within the band "
          + "around the mark, summed over the sources' fresh reports), per side; absent sides have no fresh report.")
      .labelNames("instrument", "side").register(registry);
  public final Gauge marketThin = Gauge.build("clearinghouse_market_thin",
      "1 while an instrument's published depth on either side is under its thin-market-depth.")
      .labelNames("instrument").register(registry);
  private final Counter depthReports = Counter.build("clearinghouse_depth_reports_total",
      "Market depth reports received, by outcome (accepted, or the refusal's reason).").labelNames("outcome")
      .register(registry);

  /** One depth report accepted ({@code refused} null) or refused. */
  public void depthReported(String instrument, Rejection refused) {
    depthReports.labels(refused == null ? "accepted" : refused.name()).inc();
  }

  public final Gauge volatility = Gauge.build("clearinghouse_volatility_ppm",
      "The volatility index of each instrument on this node: realized volatility of its marks over the short or "
          + "long window, annualized, in ppm (800000 is 80%).").labelNames("instrument", "window").register(registry);
  public final Gauge unusualVolatility = Gauge.build("clearinghouse_volatility_unusual",
      "1 while the instrument's short-window volatility is above the configured multiple of its long-window one.")
      .labelNames("instrument").register(registry);
  final Gauge stressLevel = Gauge.build("clearinghouse_stress_level",
      "The last scheduled stress run of each scenario: 0 OK, 1 a fund's deficit at the warning share of its free "
          + "balance, 2 at the action share (set on the node running the schedule).").labelNames("scenario")
      .register(registry);
  final Gauge stressLiquidated = Gauge.build("clearinghouse_stress_accounts_liquidated",
      "Accounts the last scheduled stress run of each scenario would liquidate.").labelNames("scenario")
      .register(registry);
  final Gauge stressFundShare = Gauge.build("clearinghouse_stress_fund_share_ppm",
      "A fund's deficit under the scenario (after the liquidations' own penalties) in ppm of its free balance "
          + "(+Inf: a deficit against an empty fund).").labelNames("scenario", "fund").register(registry);
  final Counter stressRuns = Counter.build("clearinghouse_stress_runs_total",
      "Scenarios the stress schedule has run on this node.").register(registry);
  final Counter stressRunsFailed = Counter.build("clearinghouse_stress_runs_failed_total",
      "Scheduled stress runs that failed on this node (refused, such as a scenario with no fresh mark to shock, or "
          + "no margin monitor answering): the levels of the last good run stay as they were.").register(registry);

  /** A scheduled stress run failed (its reason is logged). */
  public void stressRunFailed() {
    stressRunsFailed.inc();
  }

  /** A fund's share of a scheduled stress run, for the metrics. */
  /** {@code sharePpm}: a fund's stressed loss against its free balance; Long.MAX_VALUE: no free balance. */
  public record StressFund(String fund, long sharePpm) {}

  public void stressRun(String scenario, int level, long liquidated, java.util.List<StressFund> funds) {
    stressRuns.inc();
    stressLevel.labels(scenario).set(level);
    stressLiquidated.labels(scenario).set(liquidated);
    funds.forEach(f -> stressFundShare.labels(scenario, f.fund())
        // The gauge is floating point (display only); the share itself stays a long.
        .set(f.sharePpm() == Long.MAX_VALUE ? Double.POSITIVE_INFINITY : f.sharePpm()));
  }

  public final Gauge entities = Gauge.build("clearinghouse_entities",
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

  @Override
  public void markPublished(String instrument) {
    marksPublished.labels(instrument).inc();
  }

  @Override
  public void jumpHeld(String instrument) {
    markJumps.labels(instrument, "held").inc();
  }

  @Override
  public void jumpConfirmed(String instrument) {
    markJumps.labels(instrument, "confirmed").inc();
  }

  public void tickAccepted(String source) {
    ticksAccepted.labels(source).inc();
  }

  public void tickRefused(String source, Rejection reason) {
    ticksRefused.labels(source, reason.name()).inc();
  }

  public void monitorAccountFailed() {
    monitorAccountErrors.inc();
  }

  public void monitorEvaluated() {
    monitorEvaluations.inc();
  }

  public void monitorWatching(int accounts) {
    monitorAccounts.set(accounts);
  }

  /** For tests and benchmarks: a counter's total over all its labels (counters count whole events). */
  public long total(String name) {
    long total = 0;
    for (var family : java.util.Collections.list(registry.metricFamilySamples())) {
      for (var sample : family.samples) {
        if (sample.name.equals(name)) {
          total = Math.addExact(total, Math.round(sample.value));
        }
      }
    }
    return total;
  }

  public void liquidationEnded(String outcome) {
    liquidationsEnded.labels(outcome).inc();
    cascade.settled();
  }

  /** A saga began on this node (its first event persisted). */
  public void liquidationStarted() {
    liquidationsStarted.inc();
    cascade.started();
  }

  /** This node's cascade counts: started and settled since it started, and over the last few seconds. */
  public CascadeCounts.Snapshot cascade() {
    return cascade.snapshot();
  }

  /** Sets the cascade gauges before a scrape: the window's rates and the sagas running here. */
  public void cascadeScraped(long sagasHere) {
    CascadeCounts.Snapshot now = cascade.snapshot();
    // Display only (Prometheus gauges are floating point); the counts themselves are whole numbers.
    liquidationRates.labels("started").set(now.startedInWindow() / (double) now.windowSeconds());
    liquidationRates.labels("settled").set(now.settledInWindow() / (double) now.windowSeconds());
    liquidationsPending.set(sagasHere);
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

  public void reserveBalance(String reserve, long minorUnits) {
    // Displayed only, like the fund's.
    reserveBalance.labels(reserve).set(minorUnits);
  }

  public void insuranceFundBalance(String fund, long minorUnits) {
    // Prometheus gauges hold floating-point values; this one is only ever displayed, never computed with.
    insuranceFundBalance.labels(fund).set(minorUnits);
  }

  /** Starts a timer for one account ask; call the returned handle when the answer is in. */
  public Histogram.Timer askStarted() {
    return askSeconds.startTimer();
  }

  public String scrape() {
    StringWriter out = new StringWriter();
    try {
      TextFormat.write004(out, registry.metricFamilySamples());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }
}
