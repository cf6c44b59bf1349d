package io.clearinghouse.account;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * How an account learns which of its buyer sides' trades are still being settled: their trade
 * registers answer which of the given sequences they are still driving (so may still have the
 * buyer's side reversed). A node asks the registers through sharding; {@link #NONE} (unit tests of
 * an account alone, with no register) never asks: every side counts as settled.
 */
@FunctionalInterface
public interface UnfinishedTrades {
  UnfinishedTrades NONE = sequences -> CompletableFuture.completedFuture(List.of());

  /** The subset of {@code sequences} whose trades are not settled or refused yet. */
  CompletionStage<List<Long>> of(List<Long> sequences);
}
