package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.grpc.javadsl.MetadataBuilder;
import org.junit.jupiter.api.Test;

/** A caller's gRPC deadline shortens the node's own limit, never lengthens it; a malformed one is ignored. */
class DeadlinesTest {
  private static Duration within(String grpcTimeout, Duration limit) {
    MetadataBuilder metadata = new MetadataBuilder();
    if (grpcTimeout != null) {
      metadata.addText("grpc-timeout", grpcTimeout);
    }
    return Deadlines.within(metadata.build(), limit);
  }

  @Test
  void theSoonerOfTheCallersDeadlineAndTheLimit() {
    Duration limit = Duration.ofSeconds(5);
    assertEquals(limit, within(null, limit));
    assertEquals(Duration.ofMillis(250), within("250m", limit));
    assertEquals(Duration.ofNanos(1_500_000), within("1500u", limit));
    assertEquals(Duration.ofNanos(7), within("7n", limit));
    assertEquals(Duration.ofSeconds(4), within("4S", limit));
    assertEquals(limit, within("5S", limit));
    assertEquals(limit, within("1M", limit));
    assertEquals(limit, within("99999999H", limit));
    // Malformed: more than 8 digits, no unit, a negative, a fraction.
    assertEquals(limit, within("123456789m", limit));
    assertEquals(limit, within("100", limit));
    assertEquals(limit, within("-1S", limit));
    assertEquals(limit, within("0.5S", limit));
    assertEquals(Optional.empty(), Deadlines.callerTimeout(Optional.of("")));
  }
}
