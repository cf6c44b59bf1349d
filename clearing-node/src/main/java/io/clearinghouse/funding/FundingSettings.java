package io.clearinghouse.funding;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.Set;

/**
 * {@code clearinghouse.funding}: how often the premium is sampled, how the funding clocks fan out
 * and how long they keep an interval open; each bad key stops the node naming it. The rates
 * themselves are per instrument (the instrument specification's funding keys).
 *
 * @param sampleEvery how often each perpetual's premium (mark to index) is sampled
 * @param settleWindow how long an interval stays open after the last account found due, so that
 *     accounts restarting on another node after a node failure are still found and paid
 * @param parallelism funding payments in flight per clock
 * @param batch accounts asked of each node's monitor per round
 * @param askTimeout how long a payment or a query may take before it is retried
 * @param historyRetained intervals each clock keeps for its history
 * @param snapshotEvery events between a clock's snapshots
 */
public record FundingSettings(boolean enabled, Duration sampleEvery, Duration settleWindow, int parallelism, int batch,
    Duration askTimeout, int historyRetained, int snapshotEvery) {
  private static final String ROOT = "clearinghouse.funding";
  private static final Set<String> KEYS = Set.of("enabled", "sample-every", "settle-window", "parallelism", "batch",
      "ask-timeout", "history-retained", "snapshot-every");

  /**
   * The settings, checked against the instruments too: an interval stays open at least
   * {@code settle-window}, so it must be shorter than every perpetual's funding interval. And
   * funding on refuses a perpetual whose insurance fund may take positions over
   * ({@code insurance-fund-takeover-limit} above 0): a position the fund holds is not funded (no
   * funding path reaches the fund, review 8 finding 5), so its counterparties would be paid out of
   * a pool nobody paid into.
   */
  public static FundingSettings fromConfig(Config root, io.clearinghouse.instrument.Instruments instruments) {
    FundingSettings settings = fromConfig(root);
    for (var spec : instruments.specs()) {
      if (settings.enabled() && spec.funding() != null && spec.liquidation().fundTakeoverLimit() > 0) {
        throw new ConfigException.BadValue(ROOT + ".enabled", "funding is on, and " + spec.symbol()
            + " has insurance-fund-takeover-limit " + spec.liquidation().fundTakeoverLimit() + " (minor units) above 0:"
            + " positions its insurance fund takes over are not funded yet, so set " + spec.symbol()
            + "'s insurance-fund-takeover-limit = \"0\" or " + ROOT + ".enabled = off");
      }
      if (spec.funding() != null && settings.settleWindow().compareTo(spec.funding().interval()) >= 0) {
        throw new ConfigException.BadValue(ROOT + ".settle-window", "must be shorter than the funding interval of "
            + spec.symbol() + " (" + spec.funding().interval() + "), was " + settings.settleWindow());
      }
    }
    return settings;
  }

  public static FundingSettings fromConfig(Config root) {
    Config c = root.getConfig(ROOT);
    for (String key : c.root().keySet()) {
      if (!KEYS.contains(key)) {
        throw new ConfigException.BadValue(ROOT + "." + key, "is not a funding key (known: " + new java.util.TreeSet<>(KEYS)
            + ")");
      }
    }
    return new FundingSettings(c.getBoolean("enabled"),
        duration(c, "sample-every", Duration.ofMillis(100), Duration.ofHours(1)),
        duration(c, "settle-window", Duration.ZERO, Duration.ofHours(1)),
        integer(c, "parallelism", 1, 10_000), integer(c, "batch", 1, 100_000),
        duration(c, "ask-timeout", Duration.ofMillis(100), Duration.ofMinutes(5)),
        integer(c, "history-retained", 1, 10_000), integer(c, "snapshot-every", 1, 1_000_000));
  }

  private static Duration duration(Config c, String key, Duration min, Duration max) {
    return io.clearinghouse.common.ConfigValues.duration(c, ROOT, key, min, max);
  }

  private static int integer(Config c, String key, int min, int max) {
    return io.clearinghouse.common.ConfigValues.integer(c, ROOT, key, min, max);
  }
}
