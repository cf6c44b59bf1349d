package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.Deposited;
import io.clearinghouse.account.AccountEntity.Withdrawn;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An open account's state: its cash, in minor units of the settlement asset, and the receipts of
 * its most recent deposits and withdrawals (oldest first, at most {@code retainedKeys}), which make
 * retries idempotent. Immutable; the event handlers below are the only way it changes.
 */
public record Account(String accountId, long cash, int retainedKeys, List<Receipt> recentTransfers)
    implements AccountEntity.State {

  public Account {
    recentTransfers = List.copyOf(recentTransfers);
  }

  static Account opened(String accountId, int retainedKeys) {
    return new Account(accountId, 0, retainedKeys, List.of());
  }

  Optional<Receipt> receipt(String idempotencyKey) {
    // Newest first: a retry usually follows its original closely.
    for (int i = recentTransfers.size() - 1; i >= 0; i--) {
      Receipt receipt = recentTransfers.get(i);
      if (receipt.idempotencyKey().equals(idempotencyKey)) {
        return Optional.of(receipt);
      }
    }
    return Optional.empty();
  }

  boolean canCredit(long amount) {
    return cash <= Long.MAX_VALUE - amount;
  }

  /** No positions or margin yet: everything in cash may leave. */
  long withdrawable() {
    return Math.max(0, cash);
  }

  AccountSummary summary() {
    return new AccountSummary(accountId, cash, cash, cash, withdrawable());
  }

  Account apply(Deposited event) {
    long after = Math.addExact(cash, event.amount());
    return withTransfer(after, new Receipt(event.idempotencyKey(), TransferKind.DEPOSIT, event.amount(), after));
  }

  Account apply(Withdrawn event) {
    long after = Math.subtractExact(cash, event.amount());
    return withTransfer(after, new Receipt(event.idempotencyKey(), TransferKind.WITHDRAWAL, event.amount(), after));
  }

  private Account withTransfer(long cashAfter, Receipt receipt) {
    List<Receipt> kept = new ArrayList<>(recentTransfers.size() + 1);
    int drop = Math.max(0, recentTransfers.size() + 1 - retainedKeys);
    kept.addAll(recentTransfers.subList(drop, recentTransfers.size()));
    kept.add(receipt);
    return new Account(accountId, cashAfter, retainedKeys, kept);
  }
}
