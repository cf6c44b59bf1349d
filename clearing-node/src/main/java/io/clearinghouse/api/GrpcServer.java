package io.clearinghouse.api;

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
import io.clearinghouse.ops.Metrics;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.javadsl.ServerReflection;
import org.apache.pekko.grpc.javadsl.ServiceHandler;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;

/** Binds every gRPC service of the node, with server reflection and grpc.health.v1, on one port. */
public final class GrpcServer {
  private GrpcServer() {}

  public static CompletionStage<ServerBinding> start(
      ActorSystem<?> system, String host, int port,
      AccountGrpcService accounts, AdminGrpcService admin, ClearingGrpcService clearing, PriceGrpcService prices,
      BooleanSupplier serving, Authenticator auth, Quotas quotas, Metrics metrics) {
    HealthGrpcService health = new HealthGrpcService(
        Set.of(AccountService.name, AdminService.name, ClearingService.name, PriceService.name), serving);
    var handler = ServiceHandler.concatOrNotFound(
        AccountServicePowerApiHandlerFactory.create(accounts, system),
        AdminServicePowerApiHandlerFactory.create(admin, system),
        ClearingServicePowerApiHandlerFactory.create(clearing, system),
        PriceServicePowerApiHandlerFactory.create(prices, system),
        HealthHandlerFactory.create(health, system),
        ServerReflection.create(List.of(AccountService.description, AdminService.description,
            ClearingService.description, PriceService.description, Health.description), system));
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
    return Http.get(system).newServerAt(host, port)
        .bind(new QuotaGuard(handler, auth, quotas, streaming, metrics, system));
  }
}
