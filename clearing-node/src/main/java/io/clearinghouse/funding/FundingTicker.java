package io.clearinghouse.funding;

import io.clearinghouse.instrument.InstrumentSpec;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.PriceFeed;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Starts the funding clocks and keeps them ticking: every node tells every perpetual's clock to
 * tick once per {@code sample-every}, so a clock runs (and resumes after its node died) as long as
 * any node does; a clock takes one sample per slot however many nodes tick it.
 */
public final class FundingTicker {
  private FundingTicker() {}

  /** Starts the clocks' sharding and the ticks; returns the node's window on the clocks. */
  public static Fundings start(ActorSystem<?> system, FundingSettings settings, Instruments instruments,
      java.time.Clock clock) {
    List<String> perpetuals = instruments.specs().stream().filter(s -> s.funding() != null)
        .map(InstrumentSpec::symbol).toList();
    ClusterSharding sharding = ClusterSharding.get(system);
    FundingEnvironment environment = new FundingEnvironment(settings, instruments, clock,
        instrument -> AskPattern.<PriceFeed.Command, PriceFeed.Status>ask(
                sharding.entityRefFor(PriceFeed.TYPE_KEY, instrument), PriceFeed.GetStatus::new,
                settings.askTimeout(), system.scheduler())
            .thenApply(s -> new FundingEnvironment.Prices(s.markTicks(), s.indexTicks(), !s.stale())),
        FundingFanOut.viaMonitors(system));
    FundingClock.init(system, environment);
    Fundings fundings = new Fundings(system, settings.askTimeout());
    if (!settings.enabled() || perpetuals.isEmpty()) {
      return fundings;
    }
    Duration every = settings.sampleEvery();
    system.scheduler().scheduleWithFixedDelay(every, every, () -> perpetuals.forEach(instrument -> {
      sharding.entityRefFor(FundingClock.TYPE_KEY, instrument).tell(FundingClock.Tick.INSTANCE);
      fundings.refresh(instrument);
    }), system.executionContext());
    return fundings;
  }
}
