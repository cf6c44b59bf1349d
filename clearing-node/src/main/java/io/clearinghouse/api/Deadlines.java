package io.clearinghouse.api;

import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.grpc.javadsl.Metadata;

/** How long a call may take: the node's own limit, or the caller's gRPC deadline if that is sooner. */
final class Deadlines {
  private Deadlines() {}

  static Duration within(Metadata metadata, Duration limit) {
    return callerTimeout(metadata.getText("grpc-timeout")).filter(caller -> caller.compareTo(limit) < 0).orElse(limit);
  }

  /**
   * The {@code grpc-timeout} header (1 to 8 digits and a unit: H, M, S, m, u, n), or nothing when
   * it is absent or malformed.
   */
  static Optional<Duration> callerTimeout(Optional<String> header) {
    if (header.isEmpty() || !header.get().matches("[0-9]{1,8}[HMSmun]")) {
      return Optional.empty();
    }
    String value = header.get();
    long amount = Long.parseLong(value.substring(0, value.length() - 1));
    return Optional.of(switch (value.charAt(value.length() - 1)) {
      case 'H' -> Duration.ofHours(amount);
      case 'M' -> Duration.ofMinutes(amount);
      case 'S' -> Duration.ofSeconds(amount);
      case 'm' -> Duration.ofMillis(amount);
      case 'u' -> Duration.ofNanos(amount * 1_000);
      default -> Duration.ofNanos(amount);
    });
  }
}
