package io.clearinghouse.clearing;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Trade register settings from {@code clearinghouse.clearing}.
 *
 * @param buckets how many registers share the trades, by {@code sequence % buckets}; fixed for the
 *     life of the journal (changing it would look a recorded sequence up in another register)
 * @param retainedTrades trades each register remembers; a sequence at or below the highest it has
 *     forgotten is refused as TRADE_TOO_OLD, never applied
 * @param snapshotEvery snapshot a register after this many events
 * @param stepTimeout how long a register waits for an account's answer before asking again
 * @param retryInterval the first pause before asking again; doubled on each retry up to
 *     {@code maxRetryInterval}
 * @param confirmTimeout how long a trade stream waits for a trade's outcome before answering it
 *     UNCONFIRMED (its register goes on driving it; a resend gets the outcome)
 */
public record RegisterSettings(int buckets, int retainedTrades, int snapshotEvery, Duration stepTimeout,
    Duration retryInterval, Duration maxRetryInterval, Duration confirmTimeout) {
  public RegisterSettings {
    if (buckets < 1) {
      throw new IllegalArgumentException("register-buckets must be at least 1, was " + buckets);
    }
    if (retainedTrades < 1) {
      throw new IllegalArgumentException("register-retained-trades must be at least 1, was " + retainedTrades);
    }
    if (snapshotEvery < 1) {
      throw new IllegalArgumentException("register-snapshot-every must be at least 1, was " + snapshotEvery);
    }
    if (confirmTimeout == null || confirmTimeout.compareTo(Duration.ofMillis(100)) < 0) {
      throw new IllegalArgumentException("confirm-timeout must be at least 100ms, was " + confirmTimeout);
    }
  }

  public static RegisterSettings fromConfig(Config config) {
    Config c = config.getConfig("clearinghouse.clearing");
    return new RegisterSettings(c.getInt("register-buckets"), c.getInt("register-retained-trades"),
        c.getInt("register-snapshot-every"), c.getDuration("register-step-timeout"),
        c.getDuration("register-retry-interval"), c.getDuration("register-max-retry-interval"),
        c.getDuration("confirm-timeout"));
  }

  /** The register of {@code sequence} (positive). */
  public String bucketOf(long sequence) {
    return Long.toString(sequence % buckets);
  }
}
