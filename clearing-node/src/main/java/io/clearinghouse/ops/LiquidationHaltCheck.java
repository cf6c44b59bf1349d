package io.clearinghouse.ops;

import io.clearinghouse.price.MarkPrices;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;

/**
 * Readiness: not ready while the operator has halted new liquidations on any instrument, so that
 * a halt left on by mistake shows up wherever readiness is watched.
 */
public final class LiquidationHaltCheck implements Supplier<CompletionStage<Boolean>> {
  private final ActorSystem system;

  public LiquidationHaltCheck(ActorSystem system) {
    this.system = system;
  }

  @Override
  public CompletionStage<Boolean> get() {
    MarkPrices marks = NodeContext.get(system).marks();
    return CompletableFuture.completedFuture(marks == null || marks.haltedInstruments().isEmpty());
  }
}
