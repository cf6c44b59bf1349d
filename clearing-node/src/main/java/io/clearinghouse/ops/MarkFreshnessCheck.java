package io.clearinghouse.ops;

import io.clearinghouse.price.MarkPrices;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;

/**
 * Readiness: not ready while any instrument's index is stale, so that an SRE sees at once that
 * marks, and with them liquidations, are suspended somewhere.
 */
public final class MarkFreshnessCheck implements Supplier<CompletionStage<Boolean>> {
  private final ActorSystem system;

  public MarkFreshnessCheck(ActorSystem system) {
    this.system = system;
  }

  @Override
  public CompletionStage<Boolean> get() {
    MarkPrices marks = NodeContext.get(system).marks();
    return CompletableFuture.completedFuture(marks == null || marks.staleInstruments().isEmpty());
  }
}
