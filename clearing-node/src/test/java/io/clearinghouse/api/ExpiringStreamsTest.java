package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.grpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 18, finding 4: a stream outlives no token. It ends when the token it was opened
 * with expires: a gRPC stream with UNAUTHENTICATED TOKEN_EXPIRED, the console's events with a last
 * event; a token without an expiry leaves it running.
 */
class ExpiringStreamsTest {
  private static final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString(
      "pekko.actor.provider = local"));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void aGrpcStreamFailsUnauthenticatedWhenItsTokenExpires() throws Exception {
    List<Integer> seen = new CopyOnWriteArrayList<>();
    var done = ExpiringStreams.untilExpiry(Source.single(1).concat(Source.never()), Optional.of(Duration.ofMillis(300)))
        .runWith(Sink.foreach(seen::add), testKit.system());
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> done.toCompletableFuture().get(10, TimeUnit.SECONDS));
    GrpcServiceException grpc = (GrpcServiceException) e.getCause();
    assertEquals(Status.Code.UNAUTHENTICATED, grpc.getStatus().getCode());
    assertEquals(Optional.of("TOKEN_EXPIRED"), grpc.getMetadata().getText(GrpcErrors.REASON_TRAILER));
    assertEquals(List.of(1), seen);
  }

  @Test
  void theConsoleEventsEndWithALastEventAndAStreamThatEndsFirstIsUntouched() throws Exception {
    assertEquals(List.of("a", "expired"), ExpiringStreams.untilExpiry(Source.single("a").concat(Source.never()),
        Optional.of(Duration.ofMillis(200)), "expired").runWith(Sink.seq(), testKit.system())
        .toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertEquals(List.of(1, 2), ExpiringStreams.untilExpiry(Source.from(List.of(1, 2)),
        Optional.of(Duration.ofHours(1))).runWith(Sink.seq(), testKit.system())
        .toCompletableFuture().get(10, TimeUnit.SECONDS));
  }

  @Test
  void whatATokenHasLeft() {
    Authenticator auth = Authenticator.fromConfig(ConfigFactory.parseString("clearinghouse.auth.tokens = [{ name = "
        + "desk, role = operator, sha256 = \"" + Authenticator.sha256Hex("t-1") + "\", expires = "
        + "\"2027-01-31T00:00:00Z\" }, { name = forever, role = operator, sha256 = \"" + Authenticator.sha256Hex("t-2")
        + "\" }]").withFallback(ConfigFactory.load()).resolve(),
        Clock.fixed(Instant.parse("2027-01-30T23:59:00Z"), ZoneOffset.UTC));
    assertEquals(Optional.of(Duration.ofMinutes(1)), auth.remaining(Optional.of("Bearer t-1")));
    // Padded past the header limit but accepted once trimmed: its expiry still counts (review of issue 18).
    assertEquals(Optional.of(Duration.ofMinutes(1)), auth.remaining(Optional.of("Bearer t-1" + " ".repeat(600))));
    assertEquals(Optional.empty(), auth.remaining(Optional.of("Bearer t-2")));
    assertEquals(Optional.empty(), auth.remaining(Optional.of("Bearer unknown")));
    assertEquals(Optional.empty(), auth.remaining(Optional.empty()));
    assertTrue(ExpiringStreams.untilExpiry(Source.single(1), Optional.empty()) != null);
  }

  /**
   * Review of issue 18 (high): a token expiring more than about 248 days out made Pekko's scheduler
   * refuse the stream's timer, so every stream of such a token failed at once. The stream now runs
   * (timers of at most LONGEST_TIMER, chained).
   */
  @Test
  void aTokenExpiringYearsAheadLeavesItsStreamRunning() throws Exception {
    List<Integer> seen = new CopyOnWriteArrayList<>();
    var done = ExpiringStreams.untilExpiry(Source.from(List.of(1, 2)), Optional.of(Duration.ofDays(800)))
        .runWith(Sink.foreach(seen::add), testKit.system());
    done.toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(List.of(1, 2), seen);
    assertEquals(List.of("x"), ExpiringStreams.untilExpiry(Source.single("x"), Optional.of(Duration.ofDays(400)),
        "expired").runWith(Sink.seq(), testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS));
  }
}
