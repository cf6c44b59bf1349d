package io.clearinghouse.instrument;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * How a dated future ends (issue 17, expiry): trading stops at {@code expiry}; the settlement
 * price is the average of the index over the {@code settlementWindow} before it; every position is
 * closed at that price, paying {@code deliveryFeePpm} of its notional as a delivery fee; and
 * {@code next} (null: none) is the contract of the series that is listed (tradable) from this
 * one's expiry on.
 */
public record ExpiryTerms(Instant expiry, Duration settlementWindow, long deliveryFeePpm, String next) {
  /** The default settlement window: the last 30 minutes before expiry. */
  public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(30);

  public ExpiryTerms {
    Objects.requireNonNull(expiry, "expiry");
    Objects.requireNonNull(settlementWindow, "settlement window");
    if (expiry.getNano() != 0) {
      throw new IllegalArgumentException("expiry must be a whole second, was " + expiry);
    }
    if (settlementWindow.compareTo(Duration.ofSeconds(1)) < 0 || settlementWindow.compareTo(Duration.ofDays(1)) > 0
        || settlementWindow.toMillis() % 1_000 != 0) {
      throw new IllegalArgumentException("settlement window must be whole seconds from 1s to 24h, was "
          + settlementWindow);
    }
    if (deliveryFeePpm < 0 || deliveryFeePpm > 10_000) {
      throw new IllegalArgumentException("delivery fee must be from 0% to 1%, was " + deliveryFeePpm + " ppm");
    }
  }

  /** The terms of a future defined without configuration: a 30-minute window, no fee, no next contract. */
  public static ExpiryTerms defaults(Instant expiry) {
    return new ExpiryTerms(expiry, DEFAULT_WINDOW, 0, null);
  }

  public long expiryMillis() {
    return expiry.toEpochMilli();
  }

  /** When the settlement window opens. */
  public long windowStartMillis() {
    return Math.subtractExact(expiryMillis(), settlementWindow.toMillis());
  }

  /** True from the expiry on: no trade, no reservation. */
  public boolean expired(long nowMillis) {
    return nowMillis >= expiryMillis();
  }
}
