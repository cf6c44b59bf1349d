package io.clearinghouse.api;

import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.protocol.v1.AccountService;
import io.clearinghouse.protocol.v1.AccountServicePowerApiHandlerFactory;
import io.clearinghouse.protocol.v1.AdminService;
import io.clearinghouse.protocol.v1.AdminServicePowerApiHandlerFactory;
import io.clearinghouse.protocol.v1.ClearingService;
import io.clearinghouse.protocol.v1.ClearingServicePowerApiHandlerFactory;
import io.clearinghouse.protocol.v1.PriceService;
import io.clearinghouse.protocol.v1.PriceServicePowerApiHandlerFactory;
import io.grpc.health.v1.Health;
import io.grpc.health.v1.HealthHandlerFactory;
import com.google.protobuf.Descriptors;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.ServiceDescription;
import org.apache.pekko.grpc.javadsl.ServerReflection;
import org.apache.pekko.grpc.javadsl.ServiceHandler;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * Binds every gRPC service of the node, with server reflection and grpc.health.v1, on one port,
 * behind the {@link GrpcGuard}; failures become statuses in {@link GrpcErrors#exceptionHandler}.
 */
public final class GrpcServer {
  private GrpcServer() {}

  /**
   * {@code ready} says whether this node is ready for traffic (the same checks as the management
   * {@code /ready}); grpc.health.v1 answers SERVING while it holds.
   */
  public static CompletionStage<ServerBinding> start(
      ActorSystem<?> system, String host, int port, GrpcGuard.Settings limits, Authenticator auth, Metrics metrics,
      AccountGrpcService accounts, AdminGrpcService admin, ClearingGrpcService clearing, PriceGrpcService prices,
      BooleanSupplier ready, Quotas quotas) {
    return start(system, host, port, limits, auth, metrics, accounts, admin, clearing, prices, ready, quotas,
        java.util.Optional.empty(), () -> true);
  }

  /**
   * As above; with {@code https} the port speaks TLS only (HTTP/2 negotiated by ALPN), and the
   * services that need a token are refused (UNAVAILABLE, retryable) while {@code serving} is false.
   */
  public static CompletionStage<ServerBinding> start(
      ActorSystem<?> system, String host, int port, GrpcGuard.Settings limits, Authenticator auth, Metrics metrics,
      AccountGrpcService accounts, AdminGrpcService admin, ClearingGrpcService clearing, PriceGrpcService prices,
      BooleanSupplier ready, Quotas quotas, java.util.Optional<org.apache.pekko.http.javadsl.HttpsConnectionContext> https,
      BooleanSupplier serving) {
    HealthGrpcService health = new HealthGrpcService(
        Set.of(AccountService.name, AdminService.name, ClearingService.name, PriceService.name), ready);
    var errors = GrpcErrors.exceptionHandler(metrics);
    List<ServiceDescription> services = List.of(AccountService.description, AdminService.description,
        ClearingService.description, PriceService.description, Health.description);
    var handler = ServiceHandler.concatOrNotFound(
        AccountServicePowerApiHandlerFactory.create(accounts, errors, system),
        AdminServicePowerApiHandlerFactory.create(admin, errors, system),
        ClearingServicePowerApiHandlerFactory.create(clearing, errors, system),
        PriceServicePowerApiHandlerFactory.create(prices, errors, system),
        HealthHandlerFactory.create(health, errors, system),
        ServerReflection.create(services, system));
    GrpcGuard guard = new GrpcGuard(system, limits, auth, metrics, services, serving);
    Set<String> streaming = new HashSet<>();
    for (var description : List.of(AccountService.description, AdminService.description,
        ClearingService.description, PriceService.description)) {
      for (Descriptors.ServiceDescriptor service : description.descriptor().getServices()) {
        for (Descriptors.MethodDescriptor method : service.getMethods()) {
          if (method.isClientStreaming() || method.isServerStreaming()) {
            streaming.add("/" + service.getFullName() + "/" + method.getName());
          }
        }
      }
    }
    // Quotas counted first (before anything is read), then the transport guard, then the services.
    var server = Http.get(system).newServerAt(host, port);
    return (https.isPresent() ? server.enableHttps(https.get()) : server)
        .bind(new QuotaGuard(guard.wrap(handler), auth, quotas, streaming, metrics, system));
  }
}
