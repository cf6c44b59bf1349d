package io.clearinghouse.liquidation;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.instrument.LiquidationTerms;
import java.time.Duration;
import java.util.Set;

/**
 * How liquidation sagas run, from {@code clearinghouse.liquidation}. What each instrument's
 * liquidations do (fund, negative-balance policy, backstop spread) is part of the instrument's
 * specification ({@link io.clearinghouse.instrument.InstrumentSpec}); {@link #rules} reads it there.
 */
public record LiquidationSettings(Instruments instruments, Duration retryInterval, Duration stepTimeout,
    int fundHistory, int adlCandidatesPerNode, boolean crashAtEveryStep, Duration topUpKeyRetention,
    ReserveSchedule.Settings reserves) {

  /** Settings without a reserve schedule (tests). */
  public LiquidationSettings(Instruments instruments, Duration retryInterval, Duration stepTimeout, int fundHistory,
      int adlCandidatesPerNode, boolean crashAtEveryStep, Duration topUpKeyRetention) {
    this(instruments, retryInterval, stepTimeout, fundHistory, adlCandidatesPerNode, crashAtEveryStep,
        topUpKeyRetention, ReserveSchedule.Settings.NONE);
  }

  /** The liquidation terms of {@code instrument}'s specification. */
  public LiquidationTerms rules(String instrument) {
    try {
      return instruments.spec(instrument).liquidation();
    } catch (io.clearinghouse.common.RejectedException e) {
      throw new IllegalArgumentException("no liquidation rules for " + instrument);
    }
  }

  /** Every configured fund. */
  public Set<String> funds() {
    return instruments.funds();
  }

  public static LiquidationSettings fromConfig(Config config, Instruments instruments) {
    Config defaults = config.getConfig("clearinghouse.liquidation");
    int history = defaults.getInt("fund-history");
    if (history < 1) {
      throw new ConfigException.BadValue("clearinghouse.liquidation.fund-history", "must be at least 1");
    }
    int candidates = defaults.getInt("adl-candidates-per-node");
    if (candidates < 1) {
      throw new ConfigException.BadValue("clearinghouse.liquidation.adl-candidates-per-node", "must be at least 1");
    }
    Duration topUpKeyRetention = defaults.getDuration("top-up-key-retention");
    if (topUpKeyRetention.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new ConfigException.BadValue("clearinghouse.liquidation.top-up-key-retention",
          "must be at least 1s (keep it at 7d or more: custody systems retry for days)");
    }
    int scale = instruments.all().isEmpty() ? 0 : instruments.all().iterator().next().settlementScale();
    return new LiquidationSettings(instruments, defaults.getDuration("retry-interval"),
        defaults.getDuration("step-timeout"), history, candidates,
        defaults.getBoolean("fault-injection.crash-at-every-step"), topUpKeyRetention,
        ReserveSchedule.Settings.fromConfig(config, instruments.funds(), scale));
  }
}
