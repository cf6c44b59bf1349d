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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import io.clearinghouse.metrics.Metrics;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * clearing.v1.PriceService: feeders publish index prices for their own sources; anyone
 * authenticated streams marks.
 *
 * <p>A feeder's stream is backpressured: accepted ticks are merged (the newest per instrument and
 * source) while the previous batch is with its feeds, and a batch goes on only once every feed
 * took it, so a flood costs the feeds one batch at a time, never a mailbox of stale ticks.
 */
public final class PriceGrpcService implements PriceServicePowerApi {
  private static final Logger log = LoggerFactory.getLogger(PriceGrpcService.class);
  private static final int MAX_LISTED_REJECTIONS = 100;
  private static final int MARK_STREAM_BUFFER = 1_024;

  private final Authenticator auth;
  private final Instruments instruments;
  private final PriceSettings settings;
  private final MarkPrices marks;
  private final Clock clock;
  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Metrics metrics;
  private final io.clearinghouse.price.VolatilityBoard volatility;
  private final DepthIntake depthIntake;

  public PriceGrpcService(Authenticator auth, Instruments instruments, PriceSettings settings, MarkPrices marks,
      Clock clock, ActorSystem<?> system, Metrics metrics) {
    this(auth, instruments, settings, marks, clock, system, metrics, null);
  }

  /** {@code volatility} (may be null) is published with each mark. */
  public PriceGrpcService(Authenticator auth, Instruments instruments, PriceSettings settings, MarkPrices marks,
      Clock clock, ActorSystem<?> system, Metrics metrics, io.clearinghouse.price.VolatilityBoard volatility) {
    this(auth, instruments, settings, marks, clock, system, metrics, volatility, null, null);
  }

  /** {@code depth} (may be null: UNIMPLEMENTED) takes PublishMarketDepth's reports. */
  public PriceGrpcService(Authenticator auth, Instruments instruments, PriceSettings settings, MarkPrices marks,
      Clock clock, ActorSystem<?> system, Metrics metrics, io.clearinghouse.price.VolatilityBoard volatility,
      io.clearinghouse.money.Asset asset, io.clearinghouse.price.MarketDepth depth) {
    this.depthIntake = depth == null ? null
        : new DepthIntake(auth, instruments, settings, asset, depth, clock, system, metrics);
    this.volatility = volatility;
    this.auth = auth;
    this.instruments = instruments;
    this.settings = settings;
    this.marks = marks;
    this.clock = clock;
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.metrics = metrics;
  }

  /** An accepted tick and the feed it goes to. */
  private record Routed(String instrument, PriceFeed.IndexTick tick) {}

  /** Accepted ticks waiting for the feeds: the newest per instrument and source. */
  private static final class Batch {
    final Map<String, Map<String, PriceFeed.IndexTick>> byInstrument = new LinkedHashMap<>();

    Batch add(Routed routed) {
      byInstrument.computeIfAbsent(routed.instrument(), i -> new LinkedHashMap<>())
          .merge(routed.tick().source(), routed.tick(), (held, offered) ->
              offered.epochMillis() >= held.epochMillis() ? offered : held);
      return this;
    }
  }

  @Override
  public CompletionStage<PublishSummary> publishIndexPrices(Source<IndexPriceTick, NotUsed> in, Metadata metadata) {
    Principal feeder;
    try {
      feeder = auth.require(metadata, Role.FEEDER);
    } catch (RejectedException e) {
      return CompletableFuture.failedFuture(GrpcErrors.toGrpc(e));
    }
    // Written by the one validating stage only, read once the stream is complete.
    PublishSummary.Builder summary = PublishSummary.newBuilder();
    // Ends (UNAUTHENTICATED TOKEN_EXPIRED) when the feeder's token does: no tick after it moves a mark.
    return ExpiringStreams.untilExpiry(in, auth.remaining(metadata)).zipWithIndex()
        .map(indexed -> validate(feeder, indexed.first(), indexed.second(), summary))
        .filter(Optional::isPresent)
        .map(Optional::get)
        .conflateWithSeed(routed -> new Batch().add(routed), Batch::add)
        .mapAsync(1, this::deliver)
        .runWith(Sink.ignore(), system)
        .thenApply(done -> summary.build());
  }

  private Optional<Routed> validate(Principal feeder, IndexPriceTick tick, long index, PublishSummary.Builder summary) {
    try {
      PriceFeed.IndexTick accepted = check(feeder, tick);
      summary.setAccepted(summary.getAccepted() + 1);
      metrics.tickAccepted(accepted.source());
      return Optional.of(new Routed(tick.getInstrument(), accepted));
    } catch (RejectedException e) {
      summary.setRejected(summary.getRejected() + 1);
      // Only configured sources get a label of their own: a feeder cannot grow the metrics.
      metrics.tickRefused(settings.sources().contains(tick.getSource()) ? tick.getSource() : "other", e.reason());
      if (summary.getRejectionsCount() < MAX_LISTED_REJECTIONS) {
        summary.addRejections(TickRejection.newBuilder().setIndex(index)
            .setReason(GrpcErrors.errorReason(e.reason())).setMessage(e.getMessage()));
      }
      return Optional.empty();
    }
  }

  /**
   * Hands a batch to its feeds and completes once each took it. A feed that does not answer in
   * time (it is moving to another node) loses these ticks, not the stream: the feeder's next
   * ticks are newer anyway.
   */
  private CompletionStage<Done> deliver(Batch batch) {
    CompletableFuture<?>[] taken = batch.byInstrument.entrySet().stream()
        .map(entry -> sharding.entityRefFor(PriceFeed.TYPE_KEY, entry.getKey())
            .<Done>ask(replyTo -> new PriceFeed.IndexTicks(List.copyOf(entry.getValue().values()), replyTo),
                settings.tickDeliveryTimeout())
            .exceptionally(failure -> {
              log.warn("Price feed {} did not take {} ticks in time: {}", entry.getKey(), entry.getValue().size(),
                  failure.toString());
              entry.getValue().values().forEach(tick -> metrics.tickRefused(tick.source(), Rejection.TIMEOUT));
              return Done.getInstance();
            })
            .toCompletableFuture())
        .toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(taken).thenApply(all -> Done.getInstance());
  }

  private PriceFeed.IndexTick check(Principal feeder, IndexPriceTick tick) {
    String source = tick.getSource();
    if (!settings.sources().contains(source)) {
      throw new RejectedException(Rejection.UNKNOWN_SOURCE, "unknown source " + io.clearinghouse.common.Inputs.quote(source));
    }
    if (!feeder.sources().contains(source)) {
      throw new RejectedException(Rejection.SOURCE_NOT_OWNED,
          "source '" + source + "' is not one of this feeder token's sources " + new TreeSet<>(feeder.sources()));
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
    return new PriceFeed.IndexTick(source, priceTicks, tick.getTimestampMs(), feeder.name());
  }

  @Override
  public CompletionStage<PublishSummary> publishMarketDepth(Source<io.clearinghouse.protocol.v1.MarketDepthTick,
      NotUsed> in, Metadata metadata) {
    if (depthIntake == null) {
      return CompletableFuture.failedFuture(io.grpc.Status.UNIMPLEMENTED
          .withDescription("this node takes no market depth").asRuntimeException());
    }
    return depthIntake.publish(in, metadata);
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
    return ExpiringStreams.untilExpiry(Source.<MarkPriceUpdate>queue(MARK_STREAM_BUFFER, OverflowStrategy.dropHead())
        .mapMaterializedValue(queue -> {
          // Halts are not part of this stream; marks and this node's staleness are.
          Runnable stop = marks.listen(event -> update(event).ifPresent(queue::offer));
          queue.watchCompletion().whenComplete((done, failure) -> stop.run());
          // Start with what this node knows now: the mark if it may be used, else that it is stale.
          instruments.all().forEach(i -> queue.offer(current(i.symbol())));
          return NotUsed.getInstance();
        })
        .filter(update -> wanted.isEmpty() || wanted.contains(update.getInstrument())), auth.remaining(metadata));
  }

  private MarkPriceUpdate current(String symbol) {
    Optional<Mark> mark = marks.get(symbol);
    if (mark.isPresent() && !marks.stale(symbol)) {
      return markUpdate(mark.get());
    }
    return MarkPriceUpdate.newBuilder().setInstrument(symbol).setStale(true)
        .setSequence(mark.map(Mark::sequence).orElse(0L)).setTimestampMs(clock.millis()).build();
  }

  private Optional<MarkPriceUpdate> update(PriceEvent event) {
    if (event instanceof Mark mark) {
      return Optional.of(markUpdate(mark));
    }
    if (event instanceof FeedStatus status) {
      return Optional.of(MarkPriceUpdate.newBuilder().setInstrument(status.instrument()).setSequence(status.sequence())
          .setStale(status.stale()).setTimestampMs(status.epochMillis()).build());
    }
    return Optional.empty();
  }

  private io.clearinghouse.expiry.Settlements settlements = io.clearinghouse.expiry.Settlements.NONE;

  /** With the dated futures' settlements: marks carry the expected settlement price in the window. */
  public PriceGrpcService withSettlements(io.clearinghouse.expiry.Settlements settlements) {
    this.settlements = settlements;
    return this;
  }

  private long windowMillis(String instrument) {
    var terms = instruments.spec(instrument).expiry();
    return terms == null ? 0 : terms.settlementWindow().toMillis();
  }

  private MarkPriceUpdate markUpdate(Mark mark) {
    MarkPriceUpdate.Builder update = MarkPriceUpdate.newBuilder().setInstrument(mark.instrument())
        .setSequence(mark.sequence()).setMarkPrice(instruments.require(mark.instrument()).formatPrice(mark.priceTicks()))
        .setTimestampMs(mark.epochMillis());
    settlements.last(mark.instrument()).ifPresent(r -> {
      long expected = r.priceTicks() > 0 ? r.priceTicks()
          : clock.millis() >= r.expiryMillis() - windowMillis(mark.instrument()) ? r.expectedPriceTicks() : 0;
      if (expected > 0) {
        update.setExpectedSettlementPrice(instruments.require(mark.instrument()).formatPrice(expected));
      }
    });
    if (volatility != null) {
      var index = volatility.index(mark.instrument());
      update.setVolatilityShortPpm(index.shortPpm()).setVolatilityLongPpm(index.longPpm())
          .setUnusualVolatility(index.unusual());
    }
    return update.build();
  }
}
