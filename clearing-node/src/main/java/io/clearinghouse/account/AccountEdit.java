package io.clearinghouse.account;

import io.clearinghouse.account.Account.Liquidation;
import java.util.List;
import java.util.Map;

/**
 * The one place an account is copied with changes: an event handler names only what its event
 * changes, and a new field is added here and in the record, nowhere else.
 */
final class AccountEdit {
  private final String accountId;
  private long cash;
  private int leverageCap;
  private Map<String, Holding> holdings;
  private Map<String, Reservation> reservations;
  private List<Receipt> recentTransfers;
  private final int retainedTrades;
  private List<TradeRef> recentTrades;
  private long tradesForgottenUpTo;
  private Liquidation liquidation;
  private long debt;
  private List<AccountEntity.LiquidationStep> liquidationSteps;
  private Map<String, Long> stops;
  private long owed;
  private List<String> liquidationIds;
  private FeeSweep fees;
  private FundingLedger funding;
  private boolean beginner;
  private Map<String, AccountEntity.SettlementApplied> settlements;
  private Map<String, Account.LateCloses> lateCloses;

  AccountEdit(Account a) {
    accountId = a.accountId();
    cash = a.cash();
    leverageCap = a.leverageCap();
    holdings = a.holdings();
    reservations = a.reservations();
    recentTransfers = a.recentTransfers();
    retainedTrades = a.retainedTrades();
    recentTrades = a.recentTrades();
    tradesForgottenUpTo = a.tradesForgottenUpTo();
    liquidation = a.liquidation();
    debt = a.debt();
    liquidationSteps = a.liquidationSteps();
    stops = a.stops();
    owed = a.owed();
    liquidationIds = a.liquidationIds();
    fees = a.fees();
    funding = a.funding();
    beginner = a.beginner();
    settlements = a.settlements();
    lateCloses = a.lateCloses();
  }

  AccountEdit lateCloses(Map<String, Account.LateCloses> value) {
    lateCloses = value;
    return this;
  }

  AccountEdit settlements(Map<String, AccountEntity.SettlementApplied> value) {
    settlements = value;
    return this;
  }

  AccountEdit cash(long value) {
    cash = value;
    return this;
  }

  AccountEdit leverageCap(int value) {
    leverageCap = value;
    return this;
  }

  AccountEdit holdings(Map<String, Holding> value) {
    holdings = value;
    return this;
  }

  AccountEdit reservations(Map<String, Reservation> value) {
    reservations = value;
    return this;
  }

  AccountEdit recentTransfers(List<Receipt> value) {
    recentTransfers = value;
    return this;
  }

  AccountEdit recentTrades(List<TradeRef> value) {
    recentTrades = value;
    return this;
  }

  AccountEdit tradesForgottenUpTo(long value) {
    tradesForgottenUpTo = value;
    return this;
  }

  AccountEdit liquidation(Liquidation value) {
    liquidation = value;
    return this;
  }

  AccountEdit debt(long value) {
    debt = value;
    return this;
  }

  AccountEdit liquidationSteps(List<AccountEntity.LiquidationStep> value) {
    liquidationSteps = value;
    return this;
  }

  AccountEdit stops(Map<String, Long> value) {
    stops = value;
    return this;
  }

  AccountEdit owed(long value) {
    owed = value;
    return this;
  }

  AccountEdit liquidationIds(List<String> value) {
    liquidationIds = value;
    return this;
  }

  AccountEdit fees(FeeSweep value) {
    fees = value;
    return this;
  }

  AccountEdit funding(FundingLedger value) {
    funding = value;
    return this;
  }

  AccountEdit beginner(boolean value) {
    beginner = value;
    return this;
  }

  Account build() {
    return new Account(accountId, cash, leverageCap, holdings, reservations, recentTransfers, retainedTrades,
        recentTrades, tradesForgottenUpTo, liquidation, debt, liquidationSteps, stops, owed, liquidationIds, fees,
        funding, beginner, settlements, lateCloses);
  }
}
