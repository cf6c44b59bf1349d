package io.clearinghouse.bench;

import io.clearinghouse.protocol.v1.ClearingServiceClient;
import io.clearinghouse.it.SimulatedEngine;
import io.clearinghouse.protocol.v1.Trade;
import io.clearinghouse.protocol.v1.TradeResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The matching engine's side of the benchmark: {@link SimulatedEngine}'s random trades between random pairs of accounts,
 * streamed through {@code ClearingService.SubmitTrades} with the engine token, timed from the
 * first trade handed to the stream to the last result back.
 */
final class TradeStream {
  static final String INSTRUMENT = "BTCUSDT-PERP";

  /** A timed run, and the trades of it the node refused (there should be none). */
  record Run(Timing timing, List<TradeResult> refused) {}

  private final ClearingServiceClient engine;
  private final ActorSystem<?> clients;
  private final String token;
  private final List<String> accounts;
  private final SimulatedEngine engineSimulator;

  TradeStream(ClearingServiceClient engine, ActorSystem<?> clients, String token, List<String> accounts, long seed) {
    this(engine, clients, token, accounts, seed, INSTRUMENT);
  }

  /** Trades of {@code instrument} (its mark must not matter to the run: no last trade reaches another one's). */
  TradeStream(ClearingServiceClient engine, ActorSystem<?> clients, String token, List<String> accounts, long seed,
      String instrument) {
    this.engine = engine;
    this.clients = clients;
    this.token = token;
    this.accounts = List.copyOf(accounts);
    this.engineSimulator = new SimulatedEngine(instrument, "t-", accounts, SimulatedEngine.aroundFiftyThousand(), 200,
        seed);
  }

  /**
   * Streams trades at {@code perSecond}, evenly spaced whatever comes back (an engine's fills
   * arrive when they arrive), while {@code more} says so (at most {@code maxCount}): each latency
   * is the node's time to clear a trade while it does whatever else it is doing, plus any wait
   * behind trades it has not cleared yet.
   */
  Run runPaced(long firstSequence, int maxCount, int perSecond, java.util.function.BooleanSupplier more) {
    Results results = new Results(firstSequence, maxCount);
    Source<Trade, NotUsed> source = Source.range(0, maxCount - 1)
        .throttle(1, Duration.ofNanos(1_000_000_000L / perSecond))
        .takeWhile(i -> more.getAsBoolean())
        .map(results::send);
    long start = System.nanoTime();
    Timing.await(invoke(source).runForeach(results::received, clients), timeoutFor(maxCount),
        "paced trade stream of at most " + maxCount + " trades");
    return results.run(System.nanoTime() - start);
  }

  /**
   * Streams {@code count} trades with sequences from {@code firstSequence} as fast as the stream
   * takes them, and waits for every result. The latencies include the time a trade waits in the
   * client's and the transport's buffers, which fill up: this run measures throughput.
   */
  Run run(long firstSequence, int count) {
    Results results = new Results(firstSequence, count);
    Source<Trade, NotUsed> source = Source.range(0, count - 1).map(results::send);
    long start = System.nanoTime();
    Timing.await(invoke(source).runForeach(results::received, clients), timeoutFor(count),
        "trade stream of " + count + " trades");
    return results.run(System.nanoTime() - start);
  }

  /**
   * Streams {@code count} trades keeping at most {@code window} of them unacknowledged, the way an
   * engine with a send window would: the latencies are essentially the node's own time to clear a
   * trade.
   */
  Run runWindowed(long firstSequence, int count, int window) {
    Results results = new Results(firstSequence, count);
    Pair<BoundedSourceQueue<Trade>, Source<Trade, NotUsed>> queue = Source.<Trade>queue(window).preMaterialize(clients);
    AtomicInteger offered = new AtomicInteger();
    Runnable offerNext = () -> {
      int index = offered.getAndIncrement();
      if (!queue.first().offer(results.send(index)).isEnqueued()) {
        throw new IllegalStateException("trade " + index + " did not fit the send window");
      }
    };
    long start = System.nanoTime();
    // The first window goes in before the stream runs, so that from then on only the result
    // handler offers, one trade per result.
    for (int i = 0; i < Math.min(window, count); i++) {
      offerNext.run();
    }
    CompletionStage<Done> done = invoke(queue.second()).runForeach(result -> {
      int received = results.received(result);
      if (offered.get() < count) {
        offerNext.run();
      } else if (received == count) {
        queue.first().complete();
      }
    }, clients);
    Timing.await(done, timeoutFor(count), "windowed trade stream of " + count + " trades");
    return results.run(System.nanoTime() - start);
  }

  private Source<TradeResult, NotUsed> invoke(Source<Trade, NotUsed> trades) {
    return engine.submitTrades().addHeader("authorization", "Bearer " + token).invoke(trades);
  }

  /**
   * The send time and latency of each trade of one run, by index (its sequence; results come as
   * each is known) and handled by one stream stage at a time, so only the send times, written by
   * another stage, need to be atomic.
   */
  private final class Results {
    private final long firstSequence;
    private final List<Trade> trades;
    private final AtomicLongArray sentAt;
    private final long[] latencies;
    private final List<TradeResult> refused = new ArrayList<>();
    private int received;

    Results(long firstSequence, int count) {
      this.firstSequence = firstSequence;
      this.trades = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        trades.add(trade(firstSequence + i));
      }
      this.sentAt = new AtomicLongArray(count);
      this.latencies = new long[count];
    }

    Trade send(int index) {
      sentAt.set(index, System.nanoTime());
      return trades.get(index);
    }

    /** Records the result; returns how many results have come back. */
    int received(TradeResult result) {
      int index = (int) (result.getSequence() - firstSequence);
      latencies[index] = System.nanoTime() - sentAt.get(index);
      if (!result.hasAck()) {
        refused.add(result);
      }
      return ++received;
    }

    /** The run so far: results come back in the order sent, so the first {@code received} are filled. */
    Run run(long elapsedNanos) {
      return new Run(new Timing(received, elapsedNanos, java.util.Arrays.copyOf(latencies, received)),
          List.copyOf(refused));
    }
  }

  /** Generous: a minute, plus 10 ms a trade, so only a stuck stream ever hits it. */
  private static Duration timeoutFor(int count) {
    return Duration.ofSeconds(60).plusMillis(10L * count);
  }

  /** Price 49,500.0 to 50,499.9 in 0.1 ticks, quantity 0.001 to 0.200 BTC, a random taker. */
  private Trade trade(long sequence) {
    return engineSimulator.trade(sequence);
  }
}
