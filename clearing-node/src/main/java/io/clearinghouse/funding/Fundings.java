package io.clearinghouse.funding;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The node's window on the funding clocks, for the services: the predicted rate of each
 * perpetual (refreshed on every tick, so reading it costs no message: GetAccount stays cheap) and
 * the interval history (one ask to the instrument's clock).
 */
public final class Fundings {
  /** No clocks: no quotes, no history (tests of other services). */
  public static final Fundings NONE = new Fundings(null, Duration.ofSeconds(1));

  private final ActorSystem<?> system;
  private final Duration timeout;
  private final Map<String, FundingClock.Quote> quotes = new ConcurrentHashMap<>();

  Fundings(ActorSystem<?> system, Duration timeout) {
    this.system = system;
    this.timeout = timeout;
  }

  /** The last quote this node heard from the instrument's clock, if any. */
  public Optional<FundingClock.Quote> quote(String instrument) {
    return Optional.ofNullable(quotes.get(instrument));
  }

  void refresh(String instrument) {
    ClusterSharding.get(system).entityRefFor(FundingClock.TYPE_KEY, instrument)
        .<FundingClock.Quote>ask(FundingClock.GetQuote::new, timeout)
        .thenAccept(q -> quotes.put(instrument, q));
  }

  /** The clock's intervals, newest first, with a funding time before {@code before} (0: newest). */
  public CompletionStage<FundingClock.History> history(String instrument, long before, int limit) {
    if (system == null) {
      return java.util.concurrent.CompletableFuture.completedFuture(new FundingClock.History(java.util.List.of(), false));
    }
    return ClusterSharding.get(system).entityRefFor(FundingClock.TYPE_KEY, instrument)
        .ask(replyTo -> new FundingClock.GetHistory(before, limit, replyTo), timeout);
  }

  /** The clock's quote now (one ask). */
  public CompletionStage<FundingClock.Quote> currentQuote(String instrument) {
    return ClusterSharding.get(system).entityRefFor(FundingClock.TYPE_KEY, instrument)
        .ask(FundingClock.GetQuote::new, timeout);
  }
}
