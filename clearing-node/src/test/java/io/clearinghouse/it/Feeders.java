package io.clearinghouse.it;

import io.clearinghouse.api.Authenticator;
import io.clearinghouse.protocol.v1.IndexPriceTick;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import io.clearinghouse.protocol.v1.PublishSummary;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The test nodes' feeders: one token per configured source ({@code it-feeder-<source>}), as the
 * node requires (each token names its sources, no two share one, and min-sources counts tokens).
 */
public final class Feeders {
  public static final List<String> SOURCES = List.of("binance", "okx", "coinbase", "kraken", "bybit");
  private static final Duration WAIT = Duration.ofSeconds(30);

  private Feeders() {}

  public static String token(String source) {
    return "it-feeder-" + source;
  }

  /** The token entries of {@link TestNodes#nodeConfig}: one feeder per source. */
  static List<String> tokenEntries() {
    return SOURCES.stream().map(source -> "  { name = feeder-" + source + ", role = feeder, sha256 = \""
        + Authenticator.sha256Hex(token(source)) + "\", sources = [" + source + "] }").toList();
  }

  public static IndexPriceTick tick(String source, String instrument, String price, long timestampMs) {
    return IndexPriceTick.newBuilder().setSource(source).setInstrument(instrument).setPrice(price)
        .setTimestampMs(timestampMs).build();
  }

  /**
   * Publishes {@code ticks}, each with the token of its source: one stream per source, in the
   * order the sources first appear. Returns the summaries in that order.
   */
  public static List<PublishSummary> publish(PriceServiceClient prices, IndexPriceTick... ticks) {
    Map<String, List<IndexPriceTick>> bySource = new LinkedHashMap<>();
    for (IndexPriceTick tick : ticks) {
      bySource.computeIfAbsent(tick.getSource(), s -> new ArrayList<>()).add(tick);
    }
    List<PublishSummary> summaries = new ArrayList<>();
    bySource.forEach((source, own) -> summaries.add(publishAs(prices, token(source), own)));
    return summaries;
  }

  /**
   * Publishes {@code ticks} at once, one stream per source with its token; the summary adds
   * theirs up (for benchmarks: no waiting between the sources).
   */
  public static CompletionStage<PublishSummary> publishAsync(PriceServiceClient prices, List<IndexPriceTick> ticks) {
    Map<String, List<IndexPriceTick>> bySource = new LinkedHashMap<>();
    for (IndexPriceTick tick : ticks) {
      bySource.computeIfAbsent(tick.getSource(), s -> new ArrayList<>()).add(tick);
    }
    CompletionStage<PublishSummary> all = CompletableFuture.completedFuture(PublishSummary.getDefaultInstance());
    for (Map.Entry<String, List<IndexPriceTick>> entry : bySource.entrySet()) {
      CompletionStage<PublishSummary> one = prices.publishIndexPrices()
          .addHeader("authorization", "Bearer " + token(entry.getKey())).invoke(Source.from(entry.getValue()));
      all = all.thenCombine(one, (a, b) -> a.toBuilder().setAccepted(a.getAccepted() + b.getAccepted())
          .setRejected(a.getRejected() + b.getRejected()).addAllRejections(b.getRejectionsList()).build());
    }
    return all;
  }

  /** Publishes {@code ticks} in one stream with {@code token}, whatever their sources. */
  public static PublishSummary publishAs(PriceServiceClient prices, String token, List<IndexPriceTick> ticks) {
    try {
      return prices.publishIndexPrices().addHeader("authorization", "Bearer " + token)
          .invoke(Source.from(ticks)).toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("publishing " + ticks.size() + " ticks failed", e);
    }
  }
}
