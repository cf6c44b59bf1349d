package io.clearinghouse.monitor;

import io.clearinghouse.liquidation.AdlCandidates;

import io.clearinghouse.monitor.MarginMonitor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * ADL candidates from every node's margin monitor, found through the receptionist: each returns
 * its local best, and the merge keeps the overall order. A node that does not answer in time is
 * left out of this round (the saga asks again for the next close).
 */
public final class MonitorAdlCandidates implements AdlCandidates {
  private final ActorSystem<?> system;
  private final Duration timeout;
  private final int perNode;

  public MonitorAdlCandidates(ActorSystem<?> system, Duration timeout, int perNode) {
    this.system = system;
    this.timeout = timeout;
    this.perNode = perNode;
  }

  private CompletionStage<java.util.Set<ActorRef<MarginMonitor.Command>>> monitors() {
    CompletionStage<Receptionist.Listing> listing = AskPattern.ask(system.receptionist(),
        replyTo -> Receptionist.find(MarginMonitor.SERVICE_KEY, replyTo), timeout, system.scheduler());
    return listing.thenApply(found -> found.getServiceInstances(MarginMonitor.SERVICE_KEY));
  }

  @Override
  public CompletionStage<List<Candidate>> candidates(String instrument, int sign, String excludedAccount) {
    return monitors().thenCompose(monitors -> {
      List<CompletableFuture<List<Candidate>>> answers = new ArrayList<>();
      for (ActorRef<MarginMonitor.Command> monitor : monitors) {
        CompletionStage<MarginMonitor.AdlAnswer> answer = AskPattern.ask(monitor,
            replyTo -> new MarginMonitor.AdlQuery(instrument, sign, excludedAccount, perNode, replyTo), timeout,
            system.scheduler());
        answers.add(answer.thenApply(MarginMonitor.AdlAnswer::candidates)
            .exceptionally(failure -> List.of()).toCompletableFuture());
      }
      return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(done -> {
        List<Candidate> merged = new ArrayList<>();
        answers.forEach(a -> merged.addAll(a.join()));
        merged.sort(MarginMonitor.ADL_ORDER);
        return merged;
      });
    });
  }
}
