package io.clearinghouse.ops.console;

import io.clearinghouse.api.AdminGrpcService;
import io.clearinghouse.api.Quotas;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.MarkPrices;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * What the operator console needs of the running node: the operator gRPC service itself (every
 * panel's data comes from its calls, so the console shows exactly what the API answers), the
 * instruments and configured index sources, whether the journal's units agreed (until then the
 * console refuses, as gRPC does), the last hour of marks it has heard since the node started, and
 * the node's per-token quotas (the console's calls count against the operator token's, as gRPC calls do),
 * and the node's one shared reader of liquidations, cascade counts and risk signals that every open
 * console's events stream listens to ({@link ConsoleFeed}).
 */
public record ConsoleBackend(AdminGrpcService admin, Instruments instruments, Set<String> sources,
    BooleanSupplier unitsAgreed, MarkHistory history, Quotas quotas, ConsoleFeed feed) {

  public ConsoleBackend {
    sources = Set.copyOf(sources);
  }

  /** A backend of {@code system}'s node whose mark history listens to {@code marks} from now on. */
  public static ConsoleBackend start(org.apache.pekko.actor.typed.ActorSystem<?> system, AdminGrpcService admin,
      Instruments instruments, Set<String> sources, BooleanSupplier unitsAgreed, MarkPrices marks, Quotas quotas) {
    return new ConsoleBackend(admin, instruments, sources, unitsAgreed, MarkHistory.listening(marks, instruments),
        quotas, ConsoleFeed.start(system, admin, instruments));
  }
}
