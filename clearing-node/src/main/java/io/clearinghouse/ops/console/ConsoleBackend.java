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
 * the node's per-token quotas (the console's calls count against the operator token's, as gRPC calls do).
 */
public record ConsoleBackend(AdminGrpcService admin, Instruments instruments, Set<String> sources,
    BooleanSupplier unitsAgreed, MarkHistory history, Quotas quotas) {

  public ConsoleBackend {
    sources = Set.copyOf(sources);
  }

  /** A backend whose mark history listens to {@code marks} from now on. */
  public static ConsoleBackend start(AdminGrpcService admin, Instruments instruments, Set<String> sources,
      BooleanSupplier unitsAgreed, MarkPrices marks, Quotas quotas) {
    return new ConsoleBackend(admin, instruments, sources, unitsAgreed, MarkHistory.listening(marks, instruments),
        quotas);
  }
}
