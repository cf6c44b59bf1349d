package io.clearinghouse.account;

import com.typesafe.config.Config;
import io.clearinghouse.money.Asset;
import java.time.Duration;

/**
 * Account entity settings from {@code clearinghouse.account}.
 *
 * @param asset the settlement asset, to state amounts in refusals
 * @param snapshotEvery snapshot after this many events
 * @param retainedIdempotencyKeys how many recent deposit/withdrawal keys each account
 *     remembers; a key older than that is no longer recognised as a retry
 * @param askTimeout how long the API waits for an account to answer
 * @param retainedTrades how many recent trades each account remembers to recognise resubmissions;
 *     a resubmitted trade older than all of them is refused as TRADE_TOO_OLD, never re-applied
 * @param defaultLeverage the leverage of an instrument until the account sets one
 */
public record AccountSettings(Asset asset, int snapshotEvery, int retainedIdempotencyKeys, Duration askTimeout,
    int retainedTrades, int defaultLeverage) {
  public AccountSettings {
    if (snapshotEvery < 1) {
      throw new IllegalArgumentException("clearinghouse.account.snapshot-every must be at least 1, was " + snapshotEvery);
    }
    if (retainedIdempotencyKeys < 1) {
      throw new IllegalArgumentException(
          "clearinghouse.account.retained-idempotency-keys must be at least 1, was " + retainedIdempotencyKeys);
    }
    if (retainedTrades < 1) {
      throw new IllegalArgumentException("clearinghouse.account.retained-trades must be at least 1, was " + retainedTrades);
    }
    if (defaultLeverage < 1) {
      throw new IllegalArgumentException("clearinghouse.account.default-leverage must be at least 1, was " + defaultLeverage);
    }
  }

  public static AccountSettings fromConfig(Config config, Asset asset) {
    Config c = config.getConfig("clearinghouse.account");
    return new AccountSettings(asset, c.getInt("snapshot-every"), c.getInt("retained-idempotency-keys"),
        c.getDuration("ask-timeout"), c.getInt("retained-trades"), c.getInt("default-leverage"));
  }
}
