package io.clearinghouse.account;

import io.clearinghouse.persistence.CborSerializable;

/** A trade an account has applied, remembered to answer resubmissions of it exactly once. */
public record TradeRef(long sequence, String tradeId) implements CborSerializable {}
