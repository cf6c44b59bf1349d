package io.clearinghouse.account;

import io.clearinghouse.persistence.CborSerializable;

/**
 * The outcome of one deposit or withdrawal, kept so a retried request gets it again, for the
 * account's {@code idempotency-key-retention} after {@code epochMillis}.
 */
public record Receipt(String idempotencyKey, TransferKind kind, long amount, long cashAfter, long epochMillis)
    implements CborSerializable {

  /** Older than the retention at {@code nowMillis}: no longer kept, so no longer recognised. */
  boolean expired(long nowMillis, long retentionMillis) {
    return nowMillis - epochMillis >= retentionMillis;
  }
}
