package io.clearinghouse.api;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.Receipt;
import io.clearinghouse.money.Asset;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.TransferKind;
import io.clearinghouse.protocol.v1.TransferReceipt;

/** Domain values to API messages: minor units become decimal strings at the asset's scale. */
final class ProtoMapping {
  private final Asset asset;

  ProtoMapping(Asset asset) {
    this.asset = asset;
  }

  AccountView view(AccountSummary account) {
    return AccountView.newBuilder()
        .setAccountId(account.accountId())
        .setAsset(asset.code())
        .setScale(asset.scale())
        .setCash(asset.format(account.cash()))
        .setEquity(asset.format(account.equity()))
        .setAvailable(asset.format(account.available()))
        .setWithdrawable(asset.format(account.withdrawable()))
        .build();
  }

  TransferReceipt receipt(String accountId, AccountEntity.Transferred transferred) {
    Receipt receipt = transferred.receipt();
    return TransferReceipt.newBuilder()
        .setAccountId(accountId)
        .setIdempotencyKey(receipt.idempotencyKey())
        .setKind(switch (receipt.kind()) {
          case DEPOSIT -> TransferKind.DEPOSIT;
          case WITHDRAWAL -> TransferKind.WITHDRAWAL;
        })
        .setAmount(asset.format(receipt.amount()))
        .setCashAfter(asset.format(receipt.cashAfter()))
        .setReplayed(transferred.replayed())
        .build();
  }
}
