package io.clearinghouse.ops;

import com.typesafe.config.ConfigException;
import io.clearinghouse.common.Failures;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this node's instruments have been checked against the units the journal is written in
 * (instrument.PinnedUnits), which nothing that needs a token is served before. A disagreement stops
 * the node; a check that could not finish (the journal does not answer) is tried again after a
 * delay that doubles from {@code clearinghouse.pinned-units.retry-min} to {@code retry-max}, so that
 * a failing read is not repeated back to back on every node. Until a check passes, readiness says
 * so ({@link UnitsCheck}), naming the last failure: a node that cannot serve is not ready.
 */
public final class UnitsGate {
  private static final Logger log = LoggerFactory.getLogger(UnitsGate.class);

  private final Supplier<CompletionStage<Void>> check;
  private final BiConsumer<Duration, Runnable> schedule;
  private final Duration retryMin;
  private final Duration retryMax;
  private final Runnable stop;
  private final BooleanSupplier stopped;
  private volatile boolean agreed;
  private volatile Optional<String> problem = Optional.of("the instruments' units have not been checked yet");

  /**
   * {@code check} checks once (failing with a ConfigException on a disagreement); {@code schedule}
   * runs its task after the delay; {@code stop} stops the node; {@code stopped} says it has stopped.
   */
  public UnitsGate(Supplier<CompletionStage<Void>> check, BiConsumer<Duration, Runnable> schedule, Duration retryMin,
      Duration retryMax, Runnable stop, BooleanSupplier stopped) {
    this.check = check;
    this.schedule = schedule;
    this.retryMin = retryMin;
    this.retryMax = retryMax;
    this.stop = stop;
    this.stopped = stopped;
  }

  /** Whether a check has passed: the services that need a token may serve. */
  public boolean agreed() {
    return agreed;
  }

  /** Why the node may not serve yet (empty once a check passed). */
  public Optional<String> problem() {
    return problem;
  }

  /**
   * The first check: completes when it passes, fails with the disagreement, or completes when it
   * could not finish while checks go on in the background (a disagreement found then stops the node).
   */
  public CompletionStage<Void> first() {
    return check.get().handle((ok, failure) -> {
      if (failure == null) {
        passed();
        return CompletableFuture.<Void>completedFuture(null);
      }
      Throwable cause = Failures.unwrap(failure);
      if (cause instanceof ConfigException) {
        problem = Optional.of(cause.getMessage());
        return CompletableFuture.<Void>failedFuture(cause);
      }
      notYet(cause, retryMin);
      return CompletableFuture.<Void>completedFuture(null);
    }).thenCompose(next -> next);
  }

  private void again(Duration delay) {
    if (stopped.getAsBoolean()) {
      return;
    }
    check.get().whenComplete((ok, failure) -> {
      Throwable cause = Failures.unwrap(failure);
      if (cause == null) {
        passed();
        log.info("Instrument units agree with the journal: gRPC serves");
      } else if (cause instanceof ConfigException) {
        problem = Optional.of(cause.getMessage());
        log.error("Stopping: {}", cause.getMessage());
        stop.run();
      } else {
        Duration doubled = delay.multipliedBy(2);
        notYet(cause, doubled.compareTo(retryMax) > 0 ? retryMax : doubled);
      }
    });
  }

  private void passed() {
    agreed = true;
    problem = Optional.empty();
  }

  private void notYet(Throwable cause, Duration delay) {
    problem = Optional.of("the instruments' units could not be checked against the journal (" + cause
        + "); gRPC refuses every call that needs a token until they are, next check in " + delay.toMillis() + " ms");
    log.warn("Instrument units not checked ({}); gRPC refuses calls until they are, checking again in {} ms",
        cause.toString(), delay.toMillis());
    schedule.accept(delay, () -> again(delay));
  }
}
