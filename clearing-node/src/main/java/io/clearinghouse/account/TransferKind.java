package io.clearinghouse.account;

/** Money entering (deposit) or leaving (withdrawal) the clearing house through an account. */
public enum TransferKind {
  DEPOSIT,
  WITHDRAWAL
}
