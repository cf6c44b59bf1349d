package io.clearinghouse.api;

import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.price.FeedStatus;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import io.clearinghouse.price.PriceEvent;
import io.clearinghouse.price.PriceFeed;
import io.clearinghouse.price.PriceSettings;
import io.clearinghouse.protocol.v1.ErrorReason;
import io.clearinghouse.protocol.v1.IndexPriceTick;
import io.clearinghouse.protocol.v1.MarkPriceUpdate;
import io.clearinghouse.protocol.v1.PriceServicePowerApi;
import io.clearinghouse.protocol.v1.PublishSummary;
import io.clearinghouse.protocol.v1.StreamMarkPricesRequest;
import io.clearinghouse.protocol.v1.TickRejection;
import java.time.Clock;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;

/** clearing.v1.PriceService: feeders publish index prices; anyone authenticated streams marks. */
public final class PriceGrpcService implements PriceServicePowerApi {
  private static final int MAX_LISTED_REJECTIONS = 100;
  private static final int MARK_STREAM_BUFFER = 1_024;

  private final Authenticator auth;
  private final Instruments instruments;
  private final PriceSettings settings;
  private final MarkPrices marks;
  private final Clock clock;
  private final ActorSystem<?> system;
  private final ClusterSharding sharding;

  public PriceGrpcService(Authenticator auth, Instruments instruments, PriceSettings settings, MarkPrices marks,
      Clock clock, ActorSystem<?> system) {
    this.auth = auth;
    this.instruments = instruments;
    this.settings = settings;
    this.marks = marks;
    this.clock = clock;
    this.system = system;
    this.sharding = ClusterSharding.get(system);
  }

  @Override
  public CompletionStage<PublishSummary> publishIndexPrices(Source<IndexPriceTick, NotUsed> in, Metadata metadata) {
    Principal feeder;
    try {
      feeder = auth.require(metadata, Role.FEEDER);
    } catch (RejectedException e) {
      return CompletableFuture.failedFuture(GrpcErrors.toGrpc(e));
    }
    return in.zipWithIndex()
        .runFold(PublishSummary.newBuilder(), (summary, indexed) -> {
          IndexPriceTick tick = indexed.first();
          try {
            PriceFeed.IndexTick accepted = check(feeder, tick);
            sharding.entityRefFor(PriceFeed.TYPE_KEY, tick.getInstrument()).tell(accepted);
            summary.setAccepted(summary.getAccepted() + 1);
          } catch (RejectedException e) {
            summary.setRejected(summary.getRejected() + 1);
            if (summary.getRejectionsCount() < MAX_LISTED_REJECTIONS) {
              summary.addRejections(TickRejection.newBuilder().setIndex(indexed.second())
                  .setReason(ErrorReason.valueOf(e.reason().name())).setMessage(e.getMessage()));
            }
          }
          return summary;
        }, system)
        .thenApply(PublishSummary.Builder::build);
  }

  private PriceFeed.IndexTick check(Principal feeder, IndexPriceTick tick) {
    String source = tick.getSource();
    if (!settings.sources().contains(source) || (!feeder.sources().isEmpty() && !feeder.sources().contains(source))) {
      throw new RejectedException(Rejection.UNKNOWN_SOURCE, "unknown source '" + source + "' for this feeder");
    }
    Instrument instrument = instruments.require(tick.getInstrument());
    long priceTicks = TradeInput.priceTicks(instrument, tick.getPrice());
    long now = clock.millis();
    if (tick.getTimestampMs() > now + settings.maxFutureSkew().toMillis()) {
      throw new RejectedException(Rejection.TIMESTAMP_IN_FUTURE,
          "timestamp " + tick.getTimestampMs() + " is ahead of this node's clock by more than " + settings.maxFutureSkew());
    }
    if (tick.getTimestampMs() < now - settings.staleAfter().toMillis()) {
      throw new RejectedException(Rejection.TIMESTAMP_TOO_OLD,
          "timestamp " + tick.getTimestampMs() + " is older than " + settings.staleAfter() + ": the price is stale");
    }
    return new PriceFeed.IndexTick(source, priceTicks, tick.getTimestampMs());
  }

  @Override
  public Source<MarkPriceUpdate, NotUsed> streamMarkPrices(StreamMarkPricesRequest in, Metadata metadata) {
    try {
      auth.authenticate(metadata);
      in.getInstrumentsList().forEach(instruments::require);
    } catch (RejectedException e) {
      return Source.failed(GrpcErrors.toGrpc(e));
    }
    Set<String> wanted = Set.copyOf(in.getInstrumentsList());
    return Source.<PriceEvent>queue(MARK_STREAM_BUFFER, OverflowStrategy.dropHead())
        .mapMaterializedValue(queue -> {
          Runnable stop = marks.listen(queue::offer);
          queue.watchCompletion().whenComplete((done, failure) -> stop.run());
          // Start with the marks known now.
          instruments.all().forEach(i -> marks.get(i.symbol()).ifPresent(queue::offer));
          return NotUsed.getInstance();
        })
        .filter(event -> wanted.isEmpty() || wanted.contains(event.instrument()))
        .map(this::update);
  }

  private MarkPriceUpdate update(PriceEvent event) {
    MarkPriceUpdate.Builder update = MarkPriceUpdate.newBuilder().setInstrument(event.instrument())
        .setSequence(event.sequence());
    if (event instanceof Mark mark) {
      update.setMarkPrice(instruments.require(mark.instrument()).formatPrice(mark.priceTicks()))
          .setTimestampMs(mark.epochMillis());
    } else {
      FeedStatus status = (FeedStatus) event;
      update.setStale(status.stale()).setTimestampMs(status.epochMillis());
    }
    return update.build();
  }
}
