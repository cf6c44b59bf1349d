package io.clearinghouse.ops;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ActorSystem;

/**
 * Readiness: this node's instruments agree with the units the journal is written in
 * ({@link UnitsGate}); before that its gRPC services refuse every call that needs a token, so the
 * node must not be sent traffic. While the journal itself does not answer, this check leaves the
 * failure to {@link JournalHealthCheck} (which names the keyspace), so that {@code /ready} names
 * the cause rather than the units check it keeps from finishing.
 */
public final class UnitsCheck extends ReadinessCheck {
  private final NodeContext node;
  private final JournalHealthCheck journal;

  public UnitsCheck(ActorSystem system) {
    this.node = NodeContext.get(system);
    this.journal = new JournalHealthCheck(system);
  }

  @Override
  public String name() {
    return "instrument units";
  }

  @Override
  public CompletionStage<Optional<String>> problem() {
    UnitsGate gate = node.units();
    if (gate == null) {
      return CompletableFuture.completedFuture(Optional.of("the node has not started yet"));
    }
    Optional<String> problem = gate.problem();
    if (problem.isEmpty()) {
      return CompletableFuture.completedFuture(problem);
    }
    return journal.problem().thenApply(journalProblem -> journalProblem.isPresent() ? Optional.<String>empty()
        : problem);
  }
}
