package io.clearinghouse.ops;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ActorSystem;

/**
 * Readiness: this node's instruments agree with the units the journal is written in
 * ({@link UnitsGate}); before that its gRPC services refuse every call that needs a token, so the
 * node must not be sent traffic.
 */
public final class UnitsCheck extends ReadinessCheck {
  private final NodeContext node;

  public UnitsCheck(ActorSystem system) {
    this.node = NodeContext.get(system);
  }

  @Override
  public String name() {
    return "instrument units";
  }

  @Override
  public CompletionStage<Optional<String>> problem() {
    UnitsGate gate = node.units();
    return CompletableFuture.completedFuture(gate == null ? Optional.of("the node has not started yet")
        : gate.problem());
  }
}
