package io.clearinghouse.account;

/**
 * Who chooses an idempotency key. Each owner's keys are its own: a client's key equal to one the
 * operator's custody system uses (or will use) is another key, so a client can never take,
 * block or crowd out an operator's key, and the retention limits of one never evict the other's.
 */
public enum KeyOwner {
  /** Exchange operators and their custody systems (deposits, through AdminService). */
  OPERATOR,
  /** Trading clients, each for its own accounts (withdrawals, through AccountService). */
  CLIENT
}
