package io.clearinghouse.account;

import com.typesafe.config.Config;
import io.clearinghouse.money.Asset;
import java.time.Duration;

/**
 * Account entity settings from {@code clearinghouse.account}.
 *
 * @param asset the settlement asset, to state amounts in refusals
 * @param snapshotEvery snapshot after this many events
 * @param idempotencyKeyRetention how long each account remembers a deposit or withdrawal key (and
 *     its receipt); a retry within it gets the first result, a key older than that is a new request
 * @param maxRetainedKeys at most this many keys per key owner (operator, client) within the
 *     retention; a transfer beyond it is refused (IDEMPOTENCY_WINDOW_FULL), never a key evicted
 * @param askTimeout how long the API waits for an account to answer
 * @param retainedTrades how many recent trades each account remembers to recognise resubmissions;
 *     a resubmitted trade older than all of them is refused as TRADE_TOO_OLD, never re-applied
 * @param defaultLeverage the leverage of an instrument until the account sets one
 * @param checkUnreservedFills whether a fill that no reservation covers is judged by the order-cost
 *     rule (refused INSUFFICIENT_MARGIN when the account cannot carry it); off only where the
 *     exchange's own pre-trade risk is trusted and every executed trade must be taken (the margin
 *     monitor then liquidates what cannot be carried)
 * @param beginnerLeverage the leverage cap new accounts open with (the beginner profile, until an
 *     operator sets their cap); 0: new accounts open without a cap
 * @param settlingWait how long after a trade side was applied a liquidation's plan waits for its
 *     register to settle or reverse it (review rev10e/rev10f): a close, a deficit cover or a debt
 *     judged on a side that is then reversed hands the trader back a loss the fund paid, while a
 *     wait without end (a counterparty's account away) lets the loss grow past the margin
 * @param askSidesAfter how long after a change an account asks the trade registers about the sides
 *     no SideSettled confirmed (a lost SideSettled otherwise holds a settled trade's profit back,
 *     and a liquidation's plan, until a withdrawal or a restart asks)
 */
public record AccountSettings(Asset asset, int snapshotEvery, Duration idempotencyKeyRetention, int maxRetainedKeys,
    Duration askTimeout,
    int retainedTrades, int defaultLeverage, boolean checkUnreservedFills, int beginnerLeverage,
    Duration settlingWait, Duration askSidesAfter) {
  /** The shipped {@code clearinghouse.account.settling-wait}. */
  public static final Duration DEFAULT_SETTLING_WAIT = Duration.ofSeconds(10);
  /** The shipped {@code clearinghouse.account.ask-sides-after}. */
  public static final Duration DEFAULT_ASK_SIDES_AFTER = Duration.ofSeconds(5);

  public AccountSettings(Asset asset, int snapshotEvery, Duration idempotencyKeyRetention, int maxRetainedKeys,
      Duration askTimeout, int retainedTrades, int defaultLeverage, boolean checkUnreservedFills, int beginnerLeverage,
      Duration settlingWait) {
    this(asset, snapshotEvery, idempotencyKeyRetention, maxRetainedKeys, askTimeout, retainedTrades, defaultLeverage,
        checkUnreservedFills, beginnerLeverage, settlingWait, DEFAULT_ASK_SIDES_AFTER);
  }

  public AccountSettings(Asset asset, int snapshotEvery, Duration idempotencyKeyRetention, int maxRetainedKeys,
      Duration askTimeout, int retainedTrades, int defaultLeverage, boolean checkUnreservedFills, int beginnerLeverage) {
    this(asset, snapshotEvery, idempotencyKeyRetention, maxRetainedKeys, askTimeout, retainedTrades, defaultLeverage,
        checkUnreservedFills, beginnerLeverage, DEFAULT_SETTLING_WAIT);
  }

  public AccountSettings(Asset asset, int snapshotEvery, Duration idempotencyKeyRetention, int maxRetainedKeys,
      Duration askTimeout, int retainedTrades, int defaultLeverage, boolean checkUnreservedFills) {
    this(asset, snapshotEvery, idempotencyKeyRetention, maxRetainedKeys, askTimeout, retainedTrades, defaultLeverage,
        checkUnreservedFills, 0);
  }

  public AccountSettings(Asset asset, int snapshotEvery, Duration idempotencyKeyRetention, int maxRetainedKeys,
      Duration askTimeout, int retainedTrades, int defaultLeverage) {
    this(asset, snapshotEvery, idempotencyKeyRetention, maxRetainedKeys, askTimeout, retainedTrades, defaultLeverage,
        true);
  }

  public AccountSettings {
    if (snapshotEvery < 1) {
      throw new IllegalArgumentException("clearinghouse.account.snapshot-every must be at least 1, was " + snapshotEvery);
    }
    if (idempotencyKeyRetention == null || idempotencyKeyRetention.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException(
          "clearinghouse.account.idempotency-key-retention must be at least 1s (custody systems retry for days: "
              + "keep it at 7d or more), was " + idempotencyKeyRetention);
    }
    if (maxRetainedKeys < 1) {
      throw new IllegalArgumentException(
          "clearinghouse.account.max-retained-keys must be at least 1, was " + maxRetainedKeys);
    }
    if (retainedTrades < 1) {
      throw new IllegalArgumentException("clearinghouse.account.retained-trades must be at least 1, was " + retainedTrades);
    }
    if (defaultLeverage < 1) {
      throw new IllegalArgumentException("clearinghouse.account.default-leverage must be at least 1, was " + defaultLeverage);
    }
    if (beginnerLeverage < 0 || beginnerLeverage > 125) {
      throw new IllegalArgumentException("clearinghouse.account.beginner-leverage must be 0 (off) to 125, was "
          + beginnerLeverage);
    }
    if (settlingWait == null || settlingWait.isNegative()) {
      throw new IllegalArgumentException("clearinghouse.account.settling-wait must be 0s or more, was " + settlingWait);
    }
    // At most a day: a re-ask is scheduled, and the scheduler refuses delays of months (rev12).
    if (askSidesAfter == null || askSidesAfter.compareTo(Duration.ofMillis(1)) < 0
        || askSidesAfter.compareTo(Duration.ofDays(1)) > 0) {
      throw new IllegalArgumentException("clearinghouse.account.ask-sides-after must be 1ms to 1d, was "
          + askSidesAfter);
    }
  }

  public static AccountSettings fromConfig(Config config, Asset asset) {
    Config c = config.getConfig("clearinghouse.account");
    return new AccountSettings(asset, c.getInt("snapshot-every"), c.getDuration("idempotency-key-retention"),
        c.getInt("max-retained-keys"),
        c.getDuration("ask-timeout"), c.getInt("retained-trades"), c.getInt("default-leverage"),
        c.getBoolean("check-unreserved-fills"), c.getInt("beginner-leverage"), c.getDuration("settling-wait"),
        c.getDuration("ask-sides-after"));
  }
}
