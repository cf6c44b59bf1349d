package io.clearinghouse.account;

import io.clearinghouse.persistence.CborSerializable;

/**
 * An account's trading fees on their way to the platform-revenue reserve. Fees are charged inside
 * the trade's own event (nothing on the trade path waits for another entity); from time to time
 * the account sweeps what it has collected since the last sweep into the reserve: first its own
 * event moves the amount out of fee revenue into transit under the sweep's key, then the reserve
 * takes it in under the same key (once, whatever the retries), then the account records that it
 * arrived. A net rebate (maker rebates paid in the trades' own events beyond the fees the account
 * paid) is claimed back from the reserve the same way, as a sweep of a negative amount: the platform
 * pays its rebates out of its revenue.
 *
 * @param unswept fees collected since the last sweep, less rebates paid and fees refunded (negative: a net rebate)
 * @param pendingKey the sweep in transit, not yet confirmed by the reserve (null: none)
 * @param pendingAmount what that sweep carries
 * @param sweeps sweeps started so far (the next key's number)
 */
public record FeeSweep(long unswept, String pendingKey, long pendingAmount, long sweeps) implements CborSerializable {

  public static final FeeSweep NONE = new FeeSweep(0, null, 0, 0);

  /** The prefix of every sweep key: a caller's idempotency key can never contain '/'. */
  public static final String KEY_PREFIX = "fees/";

  /** After a fee of {@code fee} is charged (negative: a rebate paid, or a refund). */
  FeeSweep charged(long fee) {
    return new FeeSweep(Math.addExact(unswept, fee), pendingKey, pendingAmount, sweeps);
  }

  /** The key of sweep number {@code sweep} (from 1) of {@code accountId}: its transit bucket and the reserve's entry. */
  public static String key(String accountId, long sweep) {
    return KEY_PREFIX + accountId + "/" + sweep;
  }

  /** The key of the next sweep of {@code accountId}. */
  String nextKey(String accountId) {
    return key(accountId, sweeps + 1);
  }

  FeeSweep swept(String key, long amount) {
    return new FeeSweep(Math.subtractExact(unswept, amount), key, amount, sweeps + 1);
  }

  FeeSweep collected(String key) {
    return key.equals(pendingKey) ? new FeeSweep(unswept, null, 0, sweeps) : this;
  }

  /** A sweep is in transit or there is something to sweep (or a net rebate to claim). */
  boolean due() {
    return pendingKey != null || unswept != 0;
  }
}
