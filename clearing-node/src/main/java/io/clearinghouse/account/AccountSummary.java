package io.clearinghouse.account;

import io.clearinghouse.persistence.CborSerializable;

/** What an account looks like from outside, in minor units of the settlement asset. */
public record AccountSummary(String accountId, long cash, long equity, long available, long withdrawable)
    implements CborSerializable {}
