package io.clearinghouse.account;

import io.clearinghouse.persistence.CborSerializable;

/**
 * A trade side an account has applied, remembered to answer a resubmission of it exactly once:
 * with the same fee if it is the same trade, refused if the same sequence comes with other content.
 */
public record TradeRef(long sequence, String tradeId, long signedLots, long priceTicks, long fee)
    implements CborSerializable {}
