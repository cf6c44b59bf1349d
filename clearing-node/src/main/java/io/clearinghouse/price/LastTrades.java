package io.clearinghouse.price;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The latest trade price per instrument seen by this node's trade streams, reported to the price
 * feeds at a fixed interval instead of once per trade, so the per-trade path never funnels
 * through the single feed entity of an instrument.
 */
public final class LastTrades {
  private record Price(long ticks, long epochMillis, boolean reported) {}

  private final Map<String, Price> latest = new ConcurrentHashMap<>();
  private final Clock clock;

  private LastTrades(Clock clock) {
    this.clock = clock;
  }

  public static LastTrades start(ActorSystem<?> system, PriceSettings settings, Clock clock) {
    LastTrades trades = new LastTrades(clock);
    ClusterSharding sharding = ClusterSharding.get(system);
    system.scheduler().scheduleWithFixedDelay(settings.lastTradeInterval(), settings.lastTradeInterval(),
        () -> trades.report(sharding), system.executionContext());
    return trades;
  }

  /** For tests without a cluster: nothing is ever reported. */
  public static LastTrades local(Clock clock) {
    return new LastTrades(clock);
  }

  public void record(String instrument, long priceTicks) {
    latest.put(instrument, new Price(priceTicks, clock.millis(), false));
  }

  private void report(ClusterSharding sharding) {
    latest.forEach((instrument, price) -> {
      if (!price.reported() && latest.replace(instrument, price, new Price(price.ticks(), price.epochMillis(), true))) {
        sharding.entityRefFor(PriceFeed.TYPE_KEY, instrument).tell(new PriceFeed.LastTrade(price.ticks(), price.epochMillis()));
      }
    });
  }
}
