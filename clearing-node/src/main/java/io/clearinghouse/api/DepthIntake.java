package io.clearinghouse.api;

import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.money.Asset;
import io.clearinghouse.price.MarketDepth;
import io.clearinghouse.price.PriceSettings;
import io.clearinghouse.protocol.v1.MarketDepthTick;
import io.clearinghouse.protocol.v1.PublishSummary;
import io.clearinghouse.protocol.v1.TickRejection;
import java.time.Clock;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * PriceService.PublishMarketDepth (issue 16 item 3): depth reports from feeders (for their own
 * configured sources, as index ticks) and from the matching engine (as source {@code engine}).
 * Each report is checked (known instrument, amounts of the settlement asset at least zero and
 * within a long, a timestamp neither ahead of this node's clock nor older than the index's
 * stale-after) and, accepted, published to every node's {@link MarketDepth}; a refused one
 * changes nothing and is listed in the summary.
 */
final class DepthIntake {
  /** The source the engine's reports carry. */
  static final String ENGINE_SOURCE = "engine";
  private static final int MAX_LISTED_REJECTIONS = 100;

  private final Authenticator auth;
  private final Instruments instruments;
  private final PriceSettings settings;
  private final Asset asset;
  private final MarketDepth depth;
  private final Clock clock;
  private final ActorSystem<?> system;
  private final Metrics metrics;

  DepthIntake(Authenticator auth, Instruments instruments, PriceSettings settings, Asset asset, MarketDepth depth,
      Clock clock, ActorSystem<?> system, Metrics metrics) {
    this.auth = auth;
    this.instruments = instruments;
    this.settings = settings;
    this.asset = asset;
    this.depth = depth;
    this.clock = clock;
    this.system = system;
    this.metrics = metrics;
  }

  CompletionStage<PublishSummary> publish(Source<MarketDepthTick, NotUsed> in, Metadata metadata) {
    Principal publisher;
    try {
      publisher = auth.authenticate(metadata);
      if (publisher.role() != Role.FEEDER && publisher.role() != Role.ENGINE) {
        throw new RejectedException(Rejection.WRONG_ROLE, "this call needs a feeder or an engine token");
      }
    } catch (RejectedException e) {
      return CompletableFuture.failedFuture(GrpcErrors.toGrpc(e));
    }
    // Written by the one validating stage only, read once the stream is complete.
    PublishSummary.Builder summary = PublishSummary.newBuilder();
    // Ends (UNAUTHENTICATED TOKEN_EXPIRED) when the publisher's token does: nothing after it is taken.
    return ExpiringStreams.untilExpiry(in, auth.remaining(metadata)).zipWithIndex()
        .map(indexed -> {
          try {
            MarketDepth.Report report = check(publisher, indexed.first());
            depth.publish(report);
            summary.setAccepted(summary.getAccepted() + 1);
            metrics.depthReported(report.instrument(), null);
          } catch (RejectedException e) {
            summary.setRejected(summary.getRejected() + 1);
            metrics.depthReported(null, e.reason());
            if (summary.getRejectionsCount() < MAX_LISTED_REJECTIONS) {
              summary.addRejections(TickRejection.newBuilder().setIndex(indexed.second())
                  .setReason(GrpcErrors.errorReason(e.reason())).setMessage(e.getMessage()));
            }
          }
          return indexed;
        })
        .runWith(Sink.ignore(), system)
        .thenApply(done -> summary.build());
  }

  MarketDepth.Report check(Principal publisher, MarketDepthTick tick) {
    String source = tick.getSource();
    if (publisher.role() == Role.ENGINE) {
      if (!source.isEmpty() && !source.equals(ENGINE_SOURCE)) {
        throw new RejectedException(Rejection.SOURCE_NOT_OWNED,
            "the engine token publishes depth as source '" + ENGINE_SOURCE + "' only, not "
                + io.clearinghouse.common.Inputs.quote(source));
      }
      source = ENGINE_SOURCE;
    } else {
      if (!settings.sources().contains(source)) {
        throw new RejectedException(Rejection.UNKNOWN_SOURCE, "unknown source "
            + io.clearinghouse.common.Inputs.quote(source));
      }
      if (!publisher.sources().contains(source)) {
        throw new RejectedException(Rejection.SOURCE_NOT_OWNED,
            "source '" + source + "' is not one of this feeder token's sources " + new TreeSet<>(publisher.sources()));
      }
    }
    String instrument = instruments.spec(tick.getInstrument()).symbol();
    long bid = notional(tick.getBidNotional(), "bid");
    long ask = notional(tick.getAskNotional(), "ask");
    long now = clock.millis();
    if (tick.getTimestampMs() > now + settings.maxFutureSkew().toMillis()) {
      throw new RejectedException(Rejection.TIMESTAMP_IN_FUTURE, "timestamp " + tick.getTimestampMs()
          + " is ahead of this node's clock by more than " + settings.maxFutureSkew());
    }
    if (tick.getTimestampMs() < now - settings.staleAfter().toMillis()) {
      throw new RejectedException(Rejection.TIMESTAMP_TOO_OLD, "timestamp " + tick.getTimestampMs()
          + " is older than " + settings.staleAfter() + ": the depth is stale");
    }
    return new MarketDepth.Report(instrument, source, bid, ask, tick.getTimestampMs());
  }

  /** A notional of zero or more in the settlement asset; negative, malformed or overflowing is refused. */
  private long notional(String text, String side) {
    long units;
    try {
      units = asset.parseSigned(text);
    } catch (RejectedException e) {
      throw new RejectedException(e.reason(), side + " notional: " + e.getMessage());
    } catch (ArithmeticException e) {
      throw new RejectedException(Rejection.AMOUNT_OVERFLOW, side + " notional " + io.clearinghouse.common.Inputs.quote(
          text) + " is too large");
    }
    if (units < 0) {
      throw new RejectedException(Rejection.AMOUNT_NOT_POSITIVE, side + " notional must not be negative: "
          + io.clearinghouse.common.Inputs.quote(text));
    }
    return units;
  }
}
