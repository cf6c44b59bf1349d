package io.clearinghouse.account;

import io.clearinghouse.persistence.CborSerializable;

/** The outcome of one deposit or withdrawal, kept so a retried request gets it again. */
public record Receipt(String idempotencyKey, TransferKind kind, long amount, long cashAfter) implements CborSerializable {}
