package io.clearinghouse.expiry;

import io.clearinghouse.instrument.InstrumentSpec;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.price.PriceFeed;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Starts the dated futures' settlements and keeps them ticking: every node tells every dated
 * future's settlement to tick once per {@code sample-every}, so a settlement runs (and resumes
 * after its node died) as long as any node does; it takes one sample per slot however many nodes
 * tick it. A settled future is still asked for its record (cheap: one message per tick).
 */
public final class SettlementTicker {
  private SettlementTicker() {}

  public static Settlements start(ActorSystem<?> system, ExpirySettings settings, Instruments instruments,
      java.time.Clock clock, Metrics metrics) {
    List<String> futures = instruments.specs().stream().filter(s -> s.expiry() != null)
        .map(InstrumentSpec::symbol).toList();
    ExpiryNotices.atStart(instruments, clock.millis()).forEach(notice -> system.log().warn(notice));
    ClusterSharding sharding = ClusterSharding.get(system);
    SettlementEnvironment.IndexSource index = new SettlementEnvironment.IndexSource() {
      @Override
      public java.util.concurrent.CompletionStage<Long> freshIndexTicks(String instrument) {
        return status(instrument).thenApply(s -> s.stale() ? 0L : s.indexTicks());
      }

      @Override
      public java.util.concurrent.CompletionStage<Long> lastIndexTicks(String instrument) {
        return status(instrument).thenApply(PriceFeed.Status::indexTicks);
      }

      private java.util.concurrent.CompletionStage<PriceFeed.Status> status(String instrument) {
        return AskPattern.<PriceFeed.Command, PriceFeed.Status>ask(sharding.entityRefFor(PriceFeed.TYPE_KEY,
            instrument), PriceFeed.GetStatus::new, settings.askTimeout(), system.scheduler());
      }
    };
    SettlementEnvironment environment = new SettlementEnvironment(settings, instruments, clock, index,
        SettlementFanOut.viaMonitors(system), metrics, (instrument, ticks, start, expiry) -> sharding
            .entityRefFor(PriceFeed.TYPE_KEY, instrument).tell(new PriceFeed.SettlementExpected(ticks, start, expiry)));
    ExpirySettlement.init(system, environment);
    Settlements settlements = new Settlements(system, settings.askTimeout());
    if (!settings.enabled() || futures.isEmpty()) {
      return settlements;
    }
    Duration every = settings.sampleEvery();
    system.scheduler().scheduleWithFixedDelay(every, every, () -> futures.forEach(instrument -> {
      sharding.entityRefFor(ExpirySettlement.TYPE_KEY, instrument).tell(ExpirySettlement.Tick.INSTANCE);
      settlements.refresh(instrument);
    }), system.executionContext());
    return settlements;
  }
}
