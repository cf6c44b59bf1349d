package io.clearinghouse.ops;

import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.audit.LedgerAudit;

import io.clearinghouse.api.Authenticator;
import io.clearinghouse.liquidation.Liquidations;
import io.clearinghouse.price.MarkPrices;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;

/**
 * What the management side of a node (health checks, routes), which pekko-management builds from
 * class names, needs of the running node. {@link io.clearinghouse.Main#init} fills it in.
 */
public final class NodeContext implements Extension {
  private static final Id ID = new Id();

  private volatile MarkPrices marks;
  private volatile Authenticator authenticator;
  private volatile Metrics metrics = new Metrics();
  private volatile Liquidations liquidations;
  private volatile java.util.Set<String> instruments = java.util.Set.of();
  private volatile io.clearinghouse.price.VolatilityBoard volatility;

  public static NodeContext get(ClassicActorSystemProvider system) {
    return ID.get(system.classicSystem());
  }

  public void init(MarkPrices marks, Authenticator authenticator, Metrics metrics) {
    this.marks = marks;
    this.authenticator = authenticator;
    this.metrics = metrics;
  }

  public void liquidations(Liquidations liquidations) {
    this.liquidations = liquidations;
  }

  /** The configured instruments' symbols, for /health/markets. */
  public void instruments(java.util.Collection<String> symbols) {
    this.instruments = new java.util.TreeSet<>(symbols);
  }

  java.util.Set<String> instruments() {
    return instruments;
  }

  Liquidations liquidations() {
    return liquidations;
  }

  private volatile java.util.function.ToLongFunction<String> openInterest = instrument -> 0L;

  public void openInterest(java.util.function.ToLongFunction<String> openInterest) {
    this.openInterest = openInterest;
  }

  /** The cluster's open interest in lots per instrument, as this node last summed it. */
  public long openInterestLots(String instrument) {
    return openInterest.applyAsLong(instrument);
  }

  private volatile io.clearinghouse.price.RiskSignals signals;

  /** The node's scaled margins and market depth (issue 16), for the metrics. */
  public void signals(io.clearinghouse.price.RiskSignals signals) {
    this.signals = signals;
  }

  io.clearinghouse.price.RiskSignals signals() {
    return signals;
  }

  public void volatility(io.clearinghouse.price.VolatilityBoard board) {
    this.volatility = board;
  }

  /** The node's volatility index (null before the node started). */
  public io.clearinghouse.price.VolatilityBoard volatility() {
    return volatility;
  }

  /** The node's board of marks (null before the node started); public for benchmarks. */
  public MarkPrices marks() {
    return marks;
  }

  Authenticator authenticator() {
    return authenticator;
  }

  public Metrics metrics() {
    return metrics;
  }

  private volatile io.clearinghouse.ops.console.ConsoleBackend console;

  /** What the operator console calls: the same operator service the gRPC API serves. */
  public void console(io.clearinghouse.ops.console.ConsoleBackend console) {
    this.console = console;
  }

  /** The console's backend (null before the node started). */
  public io.clearinghouse.ops.console.ConsoleBackend console() {
    return console;
  }

  /** The node's token checks (null before the node started); the console authorises with them. */
  public Authenticator auth() {
    return authenticator;
  }

  private volatile UnitsGate units;

  /** Whether the node's instruments agree with the pinned units (null before the node started). */
  public void units(UnitsGate gate) {
    this.units = gate;
  }

  UnitsGate units() {
    return units;
  }

  private volatile CascadeProgress cascade;

  /** The cluster-wide cascade progress view, for {@code GET /cascade}. */
  public void cascade(CascadeProgress cascade) {
    this.cascade = cascade;
  }

  CascadeProgress cascade() {
    return cascade;
  }

  /**
   * The cluster-wide cascade view as {@code GET /cascade} answers it; empty until the node has
   * wired the view and its liquidations.
   */
  public java.util.Optional<java.util.concurrent.CompletionStage<com.fasterxml.jackson.databind.node.ObjectNode>>
      cascadeView() {
    CascadeProgress progress = cascade;
    Liquidations wired = liquidations;
    return progress == null || wired == null ? java.util.Optional.empty()
        : java.util.Optional.of(progress.view(wired).thenApply(progress::json));
  }

  /**
   * Whether Main.init has wired what the management routes use (token checks, liquidations, the
   * cascade view, the units gate): before that they answer 503, never a NullPointerException.
   */
  public boolean started() {
    return authenticator != null && liquidations != null && cascade != null && units != null;
  }

  private static final class Id extends AbstractExtensionId<NodeContext> {
    @Override
    public NodeContext createExtension(ExtendedActorSystem system) {
      return new NodeContext();
    }
  }
}
