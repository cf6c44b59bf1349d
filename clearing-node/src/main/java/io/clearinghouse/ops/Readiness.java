package io.clearinghouse.ops;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * The node's readiness for the gRPC side (grpc.health.v1): the same checks as the management
 * {@code /ready} ({@link ClusterUpCheck}, {@link JournalHealthCheck}, {@link UnitsCheck}), run every
 * {@code clearinghouse.readiness.refresh-interval} rather than per probe, so that any number of
 * health watchers costs one journal read per interval. Nothing about markets: a stale feed or a
 * halted instrument must never take every node out of the load balancer at once.
 */
public final class Readiness {
  private final List<ReadinessCheck> checks;
  private final AtomicBoolean checking = new AtomicBoolean();
  private volatile Optional<String> problem = Optional.of("not checked yet");

  public Readiness(List<ReadinessCheck> checks) {
    this.checks = List.copyOf(checks);
  }

  /** The node's checks, refreshed from now on. */
  public static Readiness start(ActorSystem<?> system) {
    var classic = Adapter.toClassic(system);
    Readiness readiness = new Readiness(List.of(new ClusterUpCheck(classic), new JournalHealthCheck(classic),
        new UnitsCheck(classic)));
    Duration interval = system.settings().config().getDuration("clearinghouse.readiness.refresh-interval");
    system.scheduler().scheduleWithFixedDelay(Duration.ZERO, interval, readiness::refresh, system.executionContext());
    return readiness;
  }

  /** Whether the last refresh found every check satisfied. */
  public boolean ready() {
    return problem.isEmpty();
  }

  /** What the last refresh found wrong, each check by name; empty when ready. */
  public Optional<String> problem() {
    return problem;
  }

  /** Runs every check now; completes with the problems found, each named, or empty. */
  public CompletionStage<Optional<String>> check() {
    List<CompletableFuture<Optional<String>>> results = new ArrayList<>();
    for (ReadinessCheck check : checks) {
      results.add(check.problem().toCompletableFuture()
          .thenApply(found -> found.map(text -> check.name() + ": " + text))
          .exceptionally(failure -> Optional.of(check.name() + ": " + failure.getMessage())));
    }
    return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).thenApply(done -> {
      String all = results.stream().map(CompletableFuture::join).flatMap(Optional::stream)
          .collect(Collectors.joining("; "));
      return all.isEmpty() ? Optional.<String>empty() : Optional.of(all);
    });
  }

  private void refresh() {
    if (checking.compareAndSet(false, true)) {
      check().whenComplete((found, failure) -> {
        problem = failure != null ? Optional.of(String.valueOf(failure.getMessage())) : found;
        checking.set(false);
      });
    }
  }
}
