package io.clearinghouse.monitor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The cluster's open interest per instrument as this node last heard it (issue 16 item 4): every
 * {@code refresh} it asks every node's margin monitor for the long lots of the accounts it watches
 * (kept as they report, so each answer is one array read) and keeps the sum. The pre-trade check
 * reads it without asking anyone; it is at most one refresh (and the accounts' reports) behind.
 * A round in which a node does not answer keeps the previous total.
 */
public final class OpenInterest {
  private final Map<String, Long> lots = new ConcurrentHashMap<>();

  /** The instrument's open interest in lots (one side), 0 before the first round. */
  public long lots(String instrument) {
    return lots.getOrDefault(instrument, 0L);
  }

  /** Starts the rounds on {@code system}'s scheduler. */
  public static OpenInterest start(ActorSystem<?> system, Duration refresh) {
    OpenInterest board = new OpenInterest();
    system.scheduler().scheduleWithFixedDelay(Duration.ZERO, refresh, () -> board.round(system, refresh),
        system.executionContext());
    return board;
  }

  private void round(ActorSystem<?> system, Duration timeout) {
    CompletionStage<Receptionist.Listing> listing = AskPattern.ask(system.receptionist(),
        replyTo -> Receptionist.find(MarginMonitor.SERVICE_KEY, replyTo), timeout, system.scheduler());
    listing.thenCompose(found -> {
      List<CompletableFuture<MarginMonitor.OpenInterestAnswer>> answers = new ArrayList<>();
      for (ActorRef<MarginMonitor.Command> monitor : found.getServiceInstances(MarginMonitor.SERVICE_KEY)) {
        answers.add(AskPattern.<MarginMonitor.Command, MarginMonitor.OpenInterestAnswer>ask(monitor,
            MarginMonitor.OpenInterestQuery::new, timeout, system.scheduler()).toCompletableFuture());
      }
      return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(done -> {
        Map<String, Long> sum = new java.util.HashMap<>();
        answers.forEach(a -> a.join().lots().forEach((k, v) -> sum.merge(k, v, Math::addExact)));
        return sum;
      });
    }).thenAccept(lots::putAll);
  }
}
