package io.clearinghouse.expiry;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.clearinghouse.common.Ppm;
import io.clearinghouse.instrument.InstrumentSpec;
import io.clearinghouse.instrument.Instruments;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code clearinghouse.expiry}: how dated futures' settlement windows are sampled and how their
 * settlements fan out; each bad key stops the node naming it. The terms of each future (expiry,
 * window, delivery fee, next contract) are per instrument.
 *
 * @param sampleEvery the cadence of the index samples in a settlement window
 * @param minSampleShare the share of the window's sample slots (ppm) that must hold a fresh index
 *     sample for the average to be the settlement price; fewer and the settlement waits for an
 *     operator
 * @param settleWindow how long a settlement stays open after the last account found to settle, so
 *     that accounts restarting on another node are still found
 */
public record ExpirySettings(boolean enabled, Duration sampleEvery, long minSampleShare, Duration settleWindow,
    int parallelism, int batch, Duration askTimeout, int snapshotEvery) {
  static final String ROOT = "clearinghouse.expiry";
  private static final Set<String> KEYS = Set.of("enabled", "sample-every", "min-sample-share", "settle-window",
      "parallelism", "batch", "ask-timeout", "snapshot-every");
  /** More slots than this in one window would make a settlement's state too large. */
  static final long MAX_SLOTS = 100_000;

  /**
   * The settings, checked against every dated future's settlement window. And expiry on refuses a
   * dated future whose insurance fund may take positions over ({@code insurance-fund-takeover-limit}
   * above 0), as funding does for perpetuals: a position the fund holds is in the fund's journal,
   * which no settlement reaches, so at expiry its counterparties' positions would be closed against
   * a settlement pool the fund never pays into (issue 17 review).
   */
  public static ExpirySettings fromConfig(Config root, Instruments instruments) {
    ExpirySettings settings = fromConfig(root);
    for (InstrumentSpec spec : instruments.specs()) {
      if (spec.expiry() == null) {
        continue;
      }
      if (settings.enabled() && spec.liquidation().fundTakeoverLimit() > 0) {
        throw new ConfigException.BadValue(ROOT + ".enabled", "expiry is on, and " + spec.symbol()
            + " has insurance-fund-takeover-limit " + spec.liquidation().fundTakeoverLimit() + " (minor units) above 0:"
            + " positions its insurance fund takes over are not settled at expiry, so set " + spec.symbol()
            + "'s insurance-fund-takeover-limit = \"0\" or " + ROOT + ".enabled = off");
      }
      long window = spec.expiry().settlementWindow().toMillis();
      long every = settings.sampleEvery().toMillis();
      if (every > window || window / every > MAX_SLOTS) {
        throw new ConfigException.BadValue(ROOT + ".sample-every", "must fit the settlement window of "
            + spec.symbol() + " (" + spec.expiry().settlementWindow() + ") at least once and at most " + MAX_SLOTS
            + " times, was " + settings.sampleEvery());
      }
    }
    return settings;
  }

  public static ExpirySettings fromConfig(Config root) {
    Config c = root.getConfig(ROOT);
    for (String key : c.root().keySet()) {
      if (!KEYS.contains(key)) {
        throw new ConfigException.BadValue(ROOT + "." + key, "is not an expiry key (known: " + new TreeSet<>(KEYS) + ")");
      }
    }
    boolean enabled;
    try {
      enabled = c.getBoolean("enabled");
    } catch (ConfigException e) {
      throw new ConfigException.BadValue(ROOT + ".enabled", "must be on or off");
    }
    String share;
    try {
      share = c.getString("min-sample-share");
    } catch (ConfigException e) {
      throw new ConfigException.BadValue(ROOT + ".min-sample-share", "must be a percentage such as \"50%\"");
    }
    return new ExpirySettings(enabled,
        duration(c, "sample-every", Duration.ofMillis(100), Duration.ofHours(1)),
        Ppm.percent(share, ROOT + ".min-sample-share", 1, Ppm.MILLION),
        duration(c, "settle-window", Duration.ZERO, Duration.ofHours(1)),
        integer(c, "parallelism", 1, 10_000), integer(c, "batch", 1, 100_000),
        duration(c, "ask-timeout", Duration.ofMillis(100), Duration.ofMinutes(5)),
        integer(c, "snapshot-every", 1, 1_000_000));
  }

  private static Duration duration(Config c, String key, Duration min, Duration max) {
    return io.clearinghouse.common.ConfigValues.duration(c, ROOT, key, min, max);
  }

  private static int integer(Config c, String key, int min, int max) {
    return io.clearinghouse.common.ConfigValues.integer(c, ROOT, key, min, max);
  }
}
