package io.clearinghouse.api;

import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A stream opened with a token that expires ends when the token does: a token is checked once, when
 * the stream opens, so without this an account or price stream (or the console's events) would go
 * on serving a caller whose token is no longer valid. A gRPC stream then fails with {@code
 * UNAUTHENTICATED TOKEN_EXPIRED} (the caller reconnects with a new token); a token without an
 * expiry leaves the stream as it is.
 */
public final class ExpiringStreams {
  private ExpiringStreams() {}

  /** {@code source}, failed with UNAUTHENTICATED TOKEN_EXPIRED after {@code remaining} if still running. */
  public static <T> Source<T, NotUsed> untilExpiry(Source<T, NotUsed> source, Optional<Duration> remaining) {
    if (remaining.isEmpty()) {
      return source;
    }
    Source<T, NotUsed> expiry = Source.single(0).initialDelay(atLeastZero(remaining.get())).map(tick -> {
      throw GrpcErrors.toGrpc(new RejectedException(Rejection.TOKEN_EXPIRED, "the token of this stream expired: "
          + "open it again with a valid token"));
    });
    return source.merge(expiry, true);
  }

  /** {@code source}, ended after {@code remaining} with {@code last} as its final element, if still running. */
  public static <T> Source<T, NotUsed> untilExpiry(Source<T, NotUsed> source, Optional<Duration> remaining, T last) {
    if (remaining.isEmpty()) {
      return source;
    }
    return source.merge(Source.single(last).initialDelay(atLeastZero(remaining.get())), true);
  }

  private static Duration atLeastZero(Duration d) {
    return d.isNegative() ? Duration.ZERO : d;
  }
}
