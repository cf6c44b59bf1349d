package io.clearinghouse.api;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.PositionSummary;
import io.clearinghouse.account.Receipt;
import io.clearinghouse.account.Reservation;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.money.Asset;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.MarginMode;
import io.clearinghouse.protocol.v1.PositionView;
import io.clearinghouse.protocol.v1.ReservationView;
import io.clearinghouse.protocol.v1.Side;
import io.clearinghouse.protocol.v1.TransferKind;
import io.clearinghouse.protocol.v1.TransferReceipt;

/** Domain values to API messages: minor units, ticks and lots become decimal strings. */
public final class ProtoMapping {
  /** Ratios are shown as decimal fractions with 6 places, which is what ppm are. */
  private static final Asset RATIO = new Asset("ratio", 6);

  private final Asset asset;
  private final Instruments instruments;

  public ProtoMapping(Asset asset, Instruments instruments) {
    this.asset = asset;
    this.instruments = instruments;
  }

  String money(long units) {
    return asset.format(units);
  }

  AccountView view(AccountSummary account) {
    AccountView.Builder view = AccountView.newBuilder()
        .setAccountId(account.accountId())
        .setAsset(asset.code())
        .setScale(asset.scale())
        .setCash(money(account.cash()))
        .setEquity(money(account.equity()))
        .setAvailable(money(account.available()))
        .setWithdrawable(money(account.withdrawable()))
        .setReserved(money(account.reserved()))
        .setLeverageCap(account.leverageCap());
    if (account.marginRatioPpm() == AccountSummary.INFINITE_RATIO) {
      view.setMarginRatio("inf");
    } else if (account.marginRatioPpm() != AccountSummary.NO_RATIO) {
      view.setMarginRatio(RATIO.format(account.marginRatioPpm()));
    }
    if (account.liquidationId() != null) {
      view.setLiquidationId(account.liquidationId());
    }
    for (PositionSummary position : account.positions()) {
      view.addPositions(position(position));
    }
    return view.build();
  }

  private PositionView position(PositionSummary p) {
    Instrument instrument = instruments.require(p.instrument());
    PositionView.Builder view = PositionView.newBuilder()
        .setInstrument(p.instrument())
        .setSize(instrument.formatQuantity(p.lots()))
        .setMarkPrice(instrument.formatPrice(p.markTicks()))
        .setNotional(money(p.notional()))
        .setUnrealizedPnl(money(p.unrealizedPnl()))
        .setInitialMargin(money(p.initialMargin()))
        .setMaintenanceMargin(money(p.maintenanceMargin()))
        .setLeverage(p.leverage())
        .setMarginMode(p.mode() == io.clearinghouse.margin.MarginMode.ISOLATED ? MarginMode.ISOLATED : MarginMode.CROSS);
    if (p.entryPriceTicks() > 0) {
      view.setEntryPrice(instrument.formatPrice(p.entryPriceTicks()));
    }
    if (p.mode() == io.clearinghouse.margin.MarginMode.ISOLATED) {
      view.setIsolatedMargin(money(p.isolatedMargin()));
    }
    if (p.liquidationPriceTicks() > 0) {
      view.setLiquidationPrice(instrument.formatPrice(p.liquidationPriceTicks()));
    }
    return view.build();
  }

  ReservationView reservation(String accountId, AccountEntity.Reserved reserved) {
    Reservation r = reserved.reservation();
    Instrument instrument = instruments.require(r.instrument());
    return ReservationView.newBuilder()
        .setAccountId(accountId)
        .setOrderId(r.orderId())
        .setInstrument(r.instrument())
        .setSide(r.remainingLots() < 0 ? Side.SELL : Side.BUY)
        .setRemainingQuantity(instrument.formatQuantity(Math.abs(r.remainingLots())))
        .setReserved(money(r.amount()))
        .setAvailableAfter(money(reserved.availableAfter()))
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
        .setAmount(money(receipt.amount()))
        .setCashAfter(money(receipt.cashAfter()))
        .setReplayed(transferred.replayed())
        .build();
  }
}
