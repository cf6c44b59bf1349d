package io.clearinghouse.ops;

import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.price.RiskSignals;
import java.util.Set;

/** The scaled margins and market depth of issue 16 in the metrics, read at each scrape. */
final class RiskSignalMetrics {
  private RiskSignalMetrics() {}

  static void scrape(RiskSignals signals, Set<String> instruments, Metrics metrics) {
    if (signals == null) {
      return;
    }
    signals.scales().all().forEach((instrument, scale) -> {
      metrics.marginScale.labels(instrument, "initial").set(scale.initialPpm());
      metrics.marginScale.labels(instrument, "maintenance").set(scale.maintenancePpm());
      metrics.marginScale.labels(instrument, "pending").set(scale.pendingPpm());
      metrics.marginScale.labels(instrument, "open_interest_blend").set(scale.blendPpm());
    });
    for (String instrument : instruments) {
      var bid = signals.depth().bid(instrument);
      var ask = signals.depth().ask(instrument);
      bid.ifPresent(depth -> metrics.marketDepth.labels(instrument, "bid").set(depth));
      ask.ifPresent(depth -> metrics.marketDepth.labels(instrument, "ask").set(depth));
      if (bid.isPresent() || ask.isPresent()) {
        // A long's close hits the bids (a sell of one lot), a short's the asks.
        boolean thin = signals.thin(instrument, -1) || signals.thin(instrument, 1);
        metrics.marketThin.labels(instrument).set(thin ? 1 : 0);
      }
    }
  }
}
