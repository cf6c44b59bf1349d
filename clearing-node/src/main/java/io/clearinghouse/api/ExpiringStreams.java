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
    Source<T, NotUsed> expiry = after(atLeastZero(remaining.get())).map(tick -> {
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
    return source.merge(after(atLeastZero(remaining.get())).map(tick -> last), true);
  }

  /**
   * The longest delay one timer takes: Pekko's scheduler refuses delays beyond about 248 days (2^31
   * of its 10 ms ticks), and a token may expire later than that.
   */
  static final Duration LONGEST_TIMER = Duration.ofDays(100);

  /** One element after {@code delay}, however long, in timers of at most {@link #LONGEST_TIMER}. */
  static Source<Integer, NotUsed> after(Duration delay) {
    if (delay.compareTo(LONGEST_TIMER) <= 0) {
      return Source.single(0).initialDelay(delay);
    }
    Duration rest = delay.minus(LONGEST_TIMER);
    return Source.single(0).initialDelay(LONGEST_TIMER).flatMapConcat(tick -> after(rest));
  }

  private static Duration atLeastZero(Duration d) {
    return d.isNegative() ? Duration.ZERO : d;
  }
}
