package io.clearinghouse.price;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Settings of every price feed, from {@code clearinghouse.price-feed}.
 *
 * @param sources the index sources feeders may publish for
 * @param minSources fewer fresh sources than this make the index stale
 * @param staleAfter a source's price older than this no longer counts
 * @param maxFutureSkew ticks stamped further ahead of this node's clock are refused
 * @param emaWindow the EMA of (last trade - index) spans this many trade updates
 * @param maxJumpPpm a mark moving more than this from the last one is held until the next tick confirms it
 * @param lastTradeInterval how often each node reports its latest trade price to the feeds
 * @param checkInterval how often a feed re-checks staleness without ticks
 */
public record PriceSettings(Set<String> sources, int minSources, Duration staleAfter, Duration maxFutureSkew,
    int emaWindow, long maxJumpPpm, Duration lastTradeInterval, Duration checkInterval) {

  public static PriceSettings fromConfig(Config config) {
    Config c = config.getConfig("clearinghouse.price-feed");
    List<String> sources = c.getStringList("sources");
    int minSources = c.getInt("min-sources");
    if (sources.isEmpty() || minSources < 1 || minSources > sources.size()) {
      throw new ConfigException.BadValue("clearinghouse.price-feed.min-sources",
          "must be between 1 and the number of sources (" + sources.size() + ")");
    }
    int emaWindow = c.getInt("ema-window");
    if (emaWindow < 1) {
      throw new ConfigException.BadValue("clearinghouse.price-feed.ema-window", "must be at least 1");
    }
    String jump = c.getString("max-jump").trim();
    long maxJumpPpm;
    try {
      if (!jump.endsWith("%")) {
        throw new NumberFormatException();
      }
      maxJumpPpm = new BigDecimal(jump.substring(0, jump.length() - 1)).movePointRight(4).longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw new ConfigException.BadValue("clearinghouse.price-feed.max-jump", "must be a percentage such as \"5%\"");
    }
    return new PriceSettings(Set.copyOf(sources), minSources, c.getDuration("stale-after"),
        c.getDuration("max-future-skew"), emaWindow, maxJumpPpm, c.getDuration("last-trade-interval"),
        c.getDuration("check-interval"));
  }
}
