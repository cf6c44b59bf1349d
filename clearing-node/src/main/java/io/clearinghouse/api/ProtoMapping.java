package io.clearinghouse.api;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.PositionSummary;
import io.clearinghouse.account.Receipt;
import io.clearinghouse.account.Reservation;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.money.Asset;
import io.clearinghouse.liquidation.FundFlow;
import io.clearinghouse.liquidation.InsuranceFund;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.FundMovement;
import io.clearinghouse.protocol.v1.InsuranceFundEntry;
import io.clearinghouse.protocol.v1.InsuranceFundView;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationClose;
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

  private final io.clearinghouse.funding.Fundings fundings;
  /** The volatility index shown with each position (none: 0). */
  private io.clearinghouse.price.VolatilityBoard volatility;

  /** This mapping showing {@code board}'s volatility index with each position. */
  public ProtoMapping withVolatility(io.clearinghouse.price.VolatilityBoard board) {
    ProtoMapping mapping = new ProtoMapping(asset, instruments, fundings);
    mapping.volatility = board;
    return mapping;
  }

  public ProtoMapping(Asset asset, Instruments instruments) {
    this(asset, instruments, io.clearinghouse.funding.Fundings.NONE);
  }

  /** {@code fundings}: where a perpetual position's predicted funding rate is read. */
  public ProtoMapping(Asset asset, Instruments instruments, io.clearinghouse.funding.Fundings fundings) {
    this.asset = asset;
    this.instruments = instruments;
    this.fundings = fundings;
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
        .setLeverageCap(account.leverageCap())
        .setLeverageProfile(account.beginner() ? "beginner" : "standard");
    if (account.marginRatioPpm() == AccountSummary.INFINITE_RATIO) {
      view.setMarginRatio("inf");
    } else if (account.marginRatioPpm() != AccountSummary.NO_RATIO) {
      view.setMarginRatio(RATIO.format(account.marginRatioPpm()));
    }
    if (account.liquidationId() != null) {
      view.setLiquidationId(account.liquidationId());
    }
    for (PositionSummary position : account.positions()) {
      PositionView p = position(position, account.stops().getOrDefault(position.instrument(), 0L));
      if (instruments.spec(position.instrument()).funding() != null) {
        PositionView.Builder perpetual = p.toBuilder().setFundingPaid(money(Math.negateExact(
            account.fundingReceived().getOrDefault(position.instrument(), 0L))));
        fundings.quote(position.instrument()).ifPresent(q -> perpetual
            .setPredictedFundingRate(FundingPages.rate(q.predictedRate())).setNextFundingTime(q.nextFundingTime()));
        p = perpetual.build();
      }
      view.addPositions(p);
    }
    view.setDebt(money(account.debt()));
    view.addAllLiquidationHaltedInstruments(account.haltedInstruments());
    return view.build();
  }

  private PositionView position(PositionSummary p, long stopTicks) {
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
    if (stopTicks > 0) {
      view.setStopPrice(instrument.formatPrice(stopTicks));
    }
    if (volatility != null) {
      var index = volatility.index(p.instrument());
      view.setVolatilityShortPpm(index.shortPpm()).setVolatilityLongPpm(index.longPpm());
    }
    return view.build();
  }

  io.clearinghouse.protocol.v1.FundingPaymentList payments(String accountId,
      io.clearinghouse.account.AccountEntity.FundingPayments page) {
    var out = io.clearinghouse.protocol.v1.FundingPaymentList.newBuilder().setAccountId(accountId);
    for (io.clearinghouse.account.FundingLedger.Payment p : page.newestFirst()) {
      Instrument instrument = instruments.require(p.instrument());
      out.addPayments(io.clearinghouse.protocol.v1.FundingPayment.newBuilder()
          .setInstrument(p.instrument())
          .setFundingTime(p.fundingTime())
          .setRate(FundingPages.rate(p.rate()))
          .setMarkPrice(instrument.formatPrice(p.markTicks()))
          .setSize(instrument.formatQuantity(p.lots()))
          .setAmount(money(p.paid()))
          .setAppliedAt(p.epochMillis()));
    }
    if (page.more() && !page.newestFirst().isEmpty()) {
      var last = page.newestFirst().get(page.newestFirst().size() - 1);
      out.setNextPageToken(new FundingPages.PaymentCursor(last.fundingTime(), last.instrument()).token());
    }
    return out.build();
  }

  io.clearinghouse.protocol.v1.FundingIntervalList intervals(String symbol,
      io.clearinghouse.funding.FundingClock.History history, io.clearinghouse.funding.FundingClock.Quote quote) {
    Instrument instrument = instruments.require(symbol);
    var out = io.clearinghouse.protocol.v1.FundingIntervalList.newBuilder().setInstrument(symbol)
        .setPredictedRate(FundingPages.rate(quote.predictedRate())).setNextFundingTime(quote.nextFundingTime())
        .setSamples(quote.samples());
    for (io.clearinghouse.funding.FundingClock.IntervalRecord r : history.newestFirst()) {
      out.addIntervals(io.clearinghouse.protocol.v1.FundingInterval.newBuilder()
          .setFundingTime(r.fundingTime())
          .setRate(FundingPages.rate(r.rate()))
          .setAveragePremium(FundingPages.rate(r.averagePremium()))
          .setSamples(r.samples())
          .setMarkPrice(instrument.formatPrice(r.markTicks()))
          .setAccounts(r.accounts())
          .setPaid(money(r.paid()))
          .setReceived(money(r.received()))
          .setResidue(money(r.residue()))
          .setOpen(r.closedAt() == 0)
          .setFixedAt(r.fixedAt())
          .setClosedAt(r.closedAt()));
    }
    if (history.more() && !history.newestFirst().isEmpty()) {
      out.setNextPageToken(Long.toString(history.newestFirst().get(history.newestFirst().size() - 1).fundingTime()));
    }
    return out.build();
  }

  Liquidation liquidation(FundFlow flow) {
    Liquidation.Builder out = Liquidation.newBuilder()
        .setLiquidationId(flow.liquidationId())
        .setAccountId(flow.accountId())
        .setTriggerMarkSequence(flow.triggerMarkSequence())
        .setEquityAtTrigger(money(flow.equityAtTrigger()))
        .setMaintenanceMarginAtTrigger(money(flow.maintenanceMarginAtTrigger()))
        .setTriggeredAtEpochMillis(flow.triggeredAtMillis())
        .setPenalty(money(flow.penalty()))
        .setTradingFees(money(flow.tradingFees()))
        .setInsuranceFundIn(money(flow.insuranceFundIn()))
        .setInsuranceFundOut(money(flow.insuranceFundOut()))
        .setLeftToTrader(money(flow.leftToTrader()))
        .setDebt(money(flow.debt()))
        .setEscrow(money(flow.escrow()))
        .setFinishedAtEpochMillis(flow.finishedAtMillis());
    FundFlow.Shares shares = flow.shares();
    out.setToProviders(money(shares.toProviders()))
        .setToFundTakeovers(money(shares.toFundTakeovers()))
        .setToDeleveraged(money(shares.toDeleveraged()))
        .setPenaltyToInsuranceFund(money(shares.penaltyToInsuranceFunds()))
        .setPenaltyToMarketMaking(money(shares.penaltyToMarketMaking()))
        .setPenaltyToPlatformRevenue(money(shares.penaltyToPlatformRevenue()))
        .setPenaltyToInvestorProtection(money(shares.penaltyToInvestorProtection()))
        .setPenaltyToLiquidators(money(shares.penaltyToLiquidators()))
        .setPenaltyApplied(money(shares.penaltyApplied()))
        .setOperatorCapitalPaid(money(shares.operatorCapitalPaid()))
        .setPenaltyCut(money(shares.penaltyCut()))
        .setSocialized(money(shares.socialized()))
        .setTradersLoss(money(shares.tradersLoss()));
    flow.triggerMarks().forEach((symbol, ticks) ->
        out.putTriggerMarks(symbol, instruments.require(symbol).formatPrice(ticks)));
    if (flow.outcome() != null) {
      out.setOutcome(flow.outcome().wire());
    }
    if (flow.insuranceFund() != null) {
      out.setInsuranceFund(flow.insuranceFund());
    }
    if (flow.note() != null) {
      out.setNote(flow.note());
    }
    flow.closes().forEach(c -> out.addCloses(close(c)));
    flow.deleveraged().forEach(c -> out.addDeleveraged(close(c)));
    flow.movements().forEach(m -> out.addMovements(FundMovement.newBuilder()
        .setParty(m.party()).setBucket(m.bucket()).setAmount(money(m.amount()))));
    return out.build();
  }

  private LiquidationClose close(FundFlow.CloseLine c) {
    Instrument instrument = instruments.require(c.instrument());
    return LiquidationClose.newBuilder()
        .setStep(c.step())
        .setInstrument(c.instrument())
        .setVenue(c.venue())
        .setCounterparty(c.counterparty())
        .setQuantity(instrument.formatQuantity(c.signedLots()))
        .setPrice(instrument.formatPrice(c.priceTicks()))
        .setMarkPrice(instrument.formatPrice(c.markTicks()))
        .setBankruptcyPrice(instrument.formatPrice(c.bankruptcyTicks()))
        .setRealizedPnl(money(c.realizedPnl()))
        .setPenalty(money(c.penalty()))
        .setShortfall(money(c.shortfall()))
        .setPenaltyCut(money(c.penaltyCut()))
        .setCounterpartyGain(money(c.counterpartyGain()))
        .build();
  }

  io.clearinghouse.protocol.v1.FundFlowSummaryView summary(io.clearinghouse.liquidation.FundFlowSummary s) {
    return io.clearinghouse.protocol.v1.FundFlowSummaryView.newBuilder()
        .setLiquidations(s.liquidations())
        .setTradersLosses(money(s.tradersLosses()))
        .setToProviders(money(s.toProviders()))
        .setToFundTakeovers(money(s.toFundTakeovers()))
        .setToDeleveraged(money(s.toDeleveraged()))
        .setToInsuranceFunds(money(s.toInsuranceFunds()))
        .setToMarketMaking(money(s.toMarketMaking()))
        .setToPlatformRevenue(money(s.toPlatformRevenue()))
        .setToInvestorProtection(money(s.toInvestorProtection()))
        .setToLiquidators(money(s.toLiquidators()))
        .setTradingFees(money(s.tradingFees()))
        .setInsuranceFundPaid(money(s.insuranceFundPaid()))
        .setOperatorCapitalPaid(money(s.operatorCapitalPaid()))
        .setPenaltyApplied(money(s.penaltyApplied()))
        .setSocialized(money(s.socialized()))
        .setDebt(money(s.debt()))
        .setTradersKept(money(s.tradersKept()))
        .setPenaltyCut(money(s.penaltyCut()))
        .setPenalties(money(s.penalties()))
        .addAllLiquidationIds(s.liquidationIds())
        .build();
  }

  io.clearinghouse.protocol.v1.FundUnwindView unwind(io.clearinghouse.liquidation.Liquidations.UnwindRecord record) {
    var view = record.view();
    Instrument instrument = instruments.require(view.instrument());
    var out = io.clearinghouse.protocol.v1.FundUnwindView.newBuilder()
        .setFund(view.fund())
        .setInstrument(view.instrument())
        .setPosition(instrument.formatQuantity(record.position().lots()));
    if (view.note() != null) {
      out.setNote(view.note());
    }
    for (var round : view.rounds()) {
      if (round.fundSide() == null) {
        continue;
      }
      out.addCloses(io.clearinghouse.protocol.v1.FundUnwindClose.newBuilder()
          .setRound(round.round())
          .setProvider(round.provider())
          .setQuantity(instrument.formatQuantity(round.fundSide().signedLots()))
          .setPrice(instrument.formatPrice(round.fundSide().priceTicks()))
          .setMarkPrice(instrument.formatPrice(round.markTicks()))
          .setFundRealizedPnl(money(round.fundSide().realizedPnl()))
          .setEpochMillis(round.fundSide().epochMillis()));
    }
    return out.build();
  }

  /** A reserve's view with its positions valued at {@code marks} (a mark per instrument, if the node has one). */
  InsuranceFundView fund(InsuranceFund.View v, java.util.function.Function<String, java.util.OptionalLong> marks) {
    InsuranceFundView.Builder out = fund(v).toBuilder();
    new java.util.TreeMap<>(v.positions()).forEach((symbol, position) -> {
      Instrument instrument = instruments.require(symbol);
      var view = io.clearinghouse.protocol.v1.FundPositionView.newBuilder()
          .setInstrument(symbol)
          .setSize(instrument.formatQuantity(position.lots()));
      position.entryPriceTicks(instrument.notionalMultiplier())
          .ifPresent(entry -> view.setEntryPrice(instrument.formatPrice(entry)));
      java.util.OptionalLong mark = marks.apply(symbol);
      if (mark.isPresent()) {
        view.setMarkPrice(instrument.formatPrice(mark.getAsLong()));
        view.setUnrealizedPnl(money(io.clearinghouse.margin.MarginMath.unrealizedPnl(position.lots(), position.cost(),
            mark.getAsLong(), instrument.notionalMultiplier())));
      }
      out.addPositions(view);
    });
    return out.build();
  }

  InsuranceFundView fund(InsuranceFund.View v) {
    InsuranceFundView.Builder out = InsuranceFundView.newBuilder()
        .setFund(v.fundId())
        .setBalance(money(v.balance()))
        .setReserved(money(v.reserved()))
        .setTotalIn(money(v.totalIn()))
        .setTotalOut(money(v.totalOut()))
        .setEntries(v.entries());
    for (InsuranceFund.Entry e : v.page()) {
      InsuranceFundEntry.Builder entry = InsuranceFundEntry.newBuilder()
          .setKind(e.kind().name())
          .setKey(e.key())
          .setAmount(money(e.amount()))
          .setRequested(money(e.requested()))
          .setBalanceAfter(money(e.balanceAfter()))
          .setEpochMillis(e.epochMillis());
      if (e.liquidationId() != null) {
        entry.setLiquidationId(e.liquidationId());
      }
      out.addHistory(entry);
    }
    return out.build();
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
