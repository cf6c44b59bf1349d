package io.clearinghouse.price;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Settings of every price feed, from {@code clearinghouse.price-feed}.
 *
 * @param sources the index sources feeders may publish for
 * @param minSources fewer fresh sources than this, counted once per feeder token, make the index stale
 * @param staleAfter a source's price, or a mark on any node's clock, older than this no longer counts
 * @param maxFutureSkew ticks stamped further ahead of this node's clock are refused
 * @param basisWindow the EMA of (last trade - index) weighs each report by its time over this window
 * @param basisBandPpm the basis never leaves this band around the index (parts per million)
 * @param maxJumpPpm a move of the index beyond this from the last published one must be confirmed
 * @param jumpConfirmTime how long a majority of fresh sources must hold a jump before it is published
 * @param jumpConfirmSources how many distinct feeder tokens at least must agree on a jump
 * @param markInterval at most one mark per instrument per interval is persisted and published
 * @param tickDeliveryTimeout how long a feeder's batch of ticks waits for its feed to take it
 * @param lastTradeInterval how often each node reports its latest trade price to the feeds
 * @param checkInterval how often a feed re-checks its sources and re-announces its mark and status
 */
public record PriceSettings(Set<String> sources, int minSources, Duration staleAfter, Duration maxFutureSkew,
    Duration basisWindow, long basisBandPpm, long maxJumpPpm, Duration jumpConfirmTime, int jumpConfirmSources,
    Duration markInterval, Duration tickDeliveryTimeout, Duration lastTradeInterval, Duration checkInterval) {

  public static PriceSettings fromConfig(Config config) {
    Config c = config.getConfig("clearinghouse.price-feed");
    List<String> sources = c.getStringList("sources");
    int minSources = c.getInt("min-sources");
    if (sources.isEmpty() || minSources < 1 || minSources > sources.size()) {
      throw new ConfigException.BadValue("clearinghouse.price-feed.min-sources",
          "must be between 1 and the number of sources (" + sources.size() + ")");
    }
    int confirmSources = c.getInt("jump-confirm-sources");
    if (confirmSources < 2 || confirmSources > sources.size()) {
      throw new ConfigException.BadValue("clearinghouse.price-feed.jump-confirm-sources",
          "must be between 2 (no single source confirms a jump) and the number of sources (" + sources.size() + ")");
    }
    Duration basisWindow = positive(c, "basis-window");
    long maxJumpPpm = percent(c, "max-jump");
    long basisBandPpm = percent(c, "basis-band");
    if (maxJumpPpm <= 0) {
      throw new ConfigException.BadValue("clearinghouse.price-feed.max-jump", "must be above 0%");
    }
    Duration confirmTime = c.getDuration("jump-confirm-time");
    if (confirmTime.isNegative()) {
      throw new ConfigException.BadValue("clearinghouse.price-feed.jump-confirm-time", "must not be negative");
    }
    return new PriceSettings(Set.copyOf(sources), minSources, positive(c, "stale-after"),
        c.getDuration("max-future-skew"), basisWindow, basisBandPpm, maxJumpPpm, confirmTime, confirmSources,
        positive(c, "mark-interval"), positive(c, "tick-delivery-timeout"), positive(c, "last-trade-interval"),
        positive(c, "check-interval"));
  }

  private static Duration positive(Config c, String key) {
    Duration value = c.getDuration(key);
    if (value.isNegative() || value.isZero()) {
      throw new ConfigException.BadValue("clearinghouse.price-feed." + key, "must be above zero");
    }
    return value;
  }

  /** A percentage such as "5%" in parts per million, at most 100%. */
  private static long percent(Config c, String key) {
    return io.clearinghouse.common.Ppm.percent(c.getString(key), "clearinghouse.price-feed." + key, 0,
        io.clearinghouse.common.Ppm.MILLION);
  }
}
