package io.clearinghouse.api;

import io.clearinghouse.common.Inputs;
import io.grpc.Status;
import io.grpc.health.v1.Health;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Source;

/**
 * grpc.health.v1 for load balancers and probes: SERVING while this node is ready (an Up member
 * of the cluster whose journal answers: the checks of the management {@code /ready}, never the
 * markets). Needs no token, as probes carry none; it reveals nothing about accounts.
 */
public final class HealthGrpcService implements Health {
  private static final Duration WATCH_INTERVAL = Duration.ofSeconds(1);

  private final Set<String> services;
  private final BooleanSupplier serving;

  public HealthGrpcService(Set<String> services, BooleanSupplier serving) {
    this.services = Set.copyOf(services);
    this.serving = serving;
  }

  @Override
  public CompletionStage<HealthCheckResponse> check(HealthCheckRequest in) {
    if (!known(in.getService())) {
      return CompletableFuture.failedFuture(
          new GrpcServiceException(Status.NOT_FOUND.withDescription("unknown service " + Inputs.quote(in.getService()))));
    }
    return CompletableFuture.completedFuture(response(current()));
  }

  @Override
  public Source<HealthCheckResponse, NotUsed> watch(HealthCheckRequest in) {
    if (!known(in.getService())) {
      return Source.single(response(ServingStatus.SERVICE_UNKNOWN));
    }
    return Source.tick(Duration.ZERO, WATCH_INTERVAL, NotUsed.getInstance())
        .map(tick -> current())
        // Watch semantics: send the status now and again whenever it changes.
        .statefulMap(() -> ServingStatus.UNKNOWN,
            (last, now) -> Pair.create(now, now == last ? Optional.<HealthCheckResponse>empty() : Optional.of(response(now))),
            last -> Optional.empty())
        .filter(Optional::isPresent)
        .map(Optional::get)
        .mapMaterializedValue(cancellable -> NotUsed.getInstance());
  }

  private boolean known(String service) {
    return service.isEmpty() || services.contains(service);
  }

  private ServingStatus current() {
    return serving.getAsBoolean() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  private static HealthCheckResponse response(ServingStatus status) {
    return HealthCheckResponse.newBuilder().setStatus(status).build();
  }
}
