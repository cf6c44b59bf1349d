package io.clearinghouse.clearing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/** Hands trades to the register of their sequence's bucket, wherever it lives in the cluster. */
public final class TradeRegisters {
  private final ClusterSharding sharding;
  private final RegisterSettings settings;
  private final Duration askTimeout;

  public TradeRegisters(ActorSystem<?> system, RegisterSettings settings, Duration askTimeout) {
    this.sharding = ClusterSharding.get(system);
    this.settings = settings;
    this.askTimeout = askTimeout;
  }

  /**
   * The trade's outcome: settled or refused. Fails (a timeout) when the register has not finished
   * it in time; it goes on driving it, and a resend of the trade waits for the same outcome.
   */
  public CompletionStage<TradeRegister.Reply> submit(TradeContent trade) {
    return sharding.entityRefFor(TradeRegister.TYPE_KEY, settings.bucketOf(trade.sequence()))
        .ask(replyTo -> new TradeRegister.Submit(trade, replyTo), askTimeout);
  }

  /**
   * Which of {@code sequences} their registers are still driving (see {@link TradeRegister.AskUnfinished}):
   * one ask per register bucket; every sequence of a register that does not answer within
   * {@code timeout} counts as still driven (one register away holds back only its own trades).
   */
  public static CompletionStage<List<Long>> unfinished(ClusterSharding sharding, RegisterSettings settings,
      List<Long> sequences, Duration timeout) {
    Map<String, List<Long>> byBucket = new TreeMap<>();
    sequences.forEach(sequence -> byBucket.computeIfAbsent(settings.bucketOf(sequence), b -> new ArrayList<>()).add(sequence));
    CompletableFuture<List<Long>> all = CompletableFuture.completedFuture(List.of());
    for (Map.Entry<String, List<Long>> bucket : byBucket.entrySet()) {
      CompletionStage<TradeRegister.Unfinished> answer = sharding.entityRefFor(TradeRegister.TYPE_KEY, bucket.getKey())
          .ask((ActorRef<TradeRegister.Unfinished> replyTo) ->
              new TradeRegister.AskUnfinished(List.copyOf(bucket.getValue()), replyTo), timeout)
          .exceptionally(failure -> new TradeRegister.Unfinished(List.copyOf(bucket.getValue())));
      all = all.thenCombine(answer, (found, more) -> {
        List<Long> both = new ArrayList<>(found);
        both.addAll(more.sequences());
        return both;
      });
    }
    return all;
  }
}
