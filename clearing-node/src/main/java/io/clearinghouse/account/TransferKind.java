package io.clearinghouse.account;

/** Money entering (deposit) or leaving (withdrawal) the clearing house through an account. */
public enum TransferKind {
  /** Only operators deposit (AdminService.Deposit). */
  DEPOSIT,
  /** Only the account's client withdraws (AccountService.Withdraw). */
  WITHDRAWAL;

  /** Whose key space this kind's idempotency keys live in. */
  public KeyOwner keyOwner() {
    return this == DEPOSIT ? KeyOwner.OPERATOR : KeyOwner.CLIENT;
  }
}
