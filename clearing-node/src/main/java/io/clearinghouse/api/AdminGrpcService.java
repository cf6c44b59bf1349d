package io.clearinghouse.api;

import io.clearinghouse.account.Accounts;
import io.clearinghouse.common.Identifiers;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.money.Asset;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.liquidation.Liquidations;
import io.clearinghouse.protocol.v1.AdminListLiquidationsRequest;
import io.clearinghouse.protocol.v1.BackstopProviderRegistration;
import io.clearinghouse.protocol.v1.GetInsuranceFundRequest;
import io.clearinghouse.protocol.v1.GetLiquidationRequest;
import io.clearinghouse.protocol.v1.InsuranceFundView;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationHaltStatus;
import io.clearinghouse.protocol.v1.LiquidationList;
import io.clearinghouse.protocol.v1.RegisterBackstopProviderRequest;
import io.clearinghouse.protocol.v1.SetLiquidationHaltRequest;
import io.clearinghouse.protocol.v1.TopUpInsuranceFundRequest;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.SetLeverageCapRequest;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.AdminServicePowerApi;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.TransferReceipt;
import io.clearinghouse.protocol.v1.FundFlowSummaryRequest;
import io.clearinghouse.protocol.v1.FundFlowSummaryView;
import io.clearinghouse.protocol.v1.FundUnwindView;
import io.clearinghouse.protocol.v1.GetFundUnwindRequest;
import io.clearinghouse.protocol.v1.GetReservesRequest;
import io.clearinghouse.protocol.v1.ListReserveMovementsRequest;
import io.clearinghouse.protocol.v1.ReserveList;
import io.clearinghouse.protocol.v1.ReserveTransferRequest;
import io.clearinghouse.price.MarkPrices;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.grpc.javadsl.Metadata;

/** clearing.v1.AdminService: exchange operators only. */
public final class AdminGrpcService implements AdminServicePowerApi {
  private final io.clearinghouse.funding.Fundings fundings;
  private final Accounts accounts;
  private final Authenticator auth;
  private final Asset asset;
  private final ProtoMapping mapping;
  private final LedgerAudit audit;

  private final Metrics metrics;

  private final Liquidations liquidations;
  private final Instruments instruments;

  private final MarkPrices marks;

  public AdminGrpcService(Accounts accounts, Authenticator auth, Asset asset, Instruments instruments, LedgerAudit audit,
      Liquidations liquidations, Metrics metrics) {
    this(accounts, auth, asset, instruments, audit, liquidations, metrics, null);
  }

  /** {@code marks} (may be null) values the insurance funds' positions. */
  public AdminGrpcService(Accounts accounts, Authenticator auth, Asset asset, Instruments instruments, LedgerAudit audit,
      Liquidations liquidations, Metrics metrics, MarkPrices marks) {
    this(accounts, auth, asset, instruments, audit, liquidations, metrics, marks, io.clearinghouse.funding.Fundings.NONE);
  }

  /** {@code fundings}: the funding clocks' histories and quotes. */
  public AdminGrpcService(Accounts accounts, Authenticator auth, Asset asset, Instruments instruments, LedgerAudit audit,
      Liquidations liquidations, Metrics metrics, MarkPrices marks, io.clearinghouse.funding.Fundings fundings) {
    this.fundings = fundings;
    this.marks = marks;
    this.liquidations = liquidations;
    this.instruments = instruments;
    this.metrics = metrics;
    this.accounts = accounts;
    this.auth = auth;
    this.asset = asset;
    this.mapping = new ProtoMapping(asset, instruments, fundings);
    this.audit = audit;
  }

  @Override
  public CompletionStage<AccountView> setLeverageCap(SetLeverageCapRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      Principal operator = auth.require(metadata, Role.OPERATOR);
      String accountId = Identifiers.accountId(in.getAccountId());
      if (in.getMaxLeverage() < 0) {
        throw new RejectedException(Rejection.INVALID_LEVERAGE, "a leverage cap must be 0 (none) or positive");
      }
      return accounts.setLeverageCap(accountId, in.getMaxLeverage(), operator.name()).thenApply(mapping::view);
    });
  }

  @Override
  public CompletionStage<AuditReport> audit(AuditRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      return audit.run().thenApply(report -> AuditReport.newBuilder()
          .setClean(report.clean())
          .setAccounts(report.accounts())
          .setTotalCash(mapping.money(report.totalCash()))
          .setTotalIsolatedMargin(mapping.money(report.totalIsolatedMargin()))
          .setTotalPositionCost(mapping.money(report.totalPositionCost()))
          .setFeeRevenue(mapping.money(report.feeRevenue()))
          .setDeposits(mapping.money(report.deposits()))
          .setWithdrawals(mapping.money(report.withdrawals()))
          .setTradesApplied(report.tradeSidesApplied())
          .setInsuranceFunds(mapping.money(report.insuranceFunds()))
          .setFundTopUps(mapping.money(report.fundTopUps()))
          .setSagaEscrow(mapping.money(report.sagaEscrow()))
          .setDebt(mapping.money(report.debt()))
          .setLiquidations(report.liquidations())
          .setReserves(mapping.money(report.reserves()))
          .setReserveWithdrawals(mapping.money(report.reserveWithdrawals()))
          .setFundPositionCost(mapping.money(report.fundPositionCost()))
          .setInTransit(mapping.money(report.inTransit()))
          .setFundingPools(mapping.money(report.fundingPools()))
          .addAllViolations(report.violations())
          .build());
    });
  }

  @Override
  public CompletionStage<AccountView> openAccount(OpenAccountRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      return accounts.open(Identifiers.accountId(in.getAccountId())).thenApply(mapping::view);
    });
  }

  @Override
  public CompletionStage<TransferReceipt> deposit(DepositRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      Principal operator = auth.require(metadata, Role.OPERATOR);
      String accountId = Identifiers.accountId(in.getAccountId());
      String key = Identifiers.idempotencyKey(in.getIdempotencyKey());
      long amount = asset.parsePositive(in.getAmount());
      return accounts.deposit(accountId, key, amount, operator.name()).thenApply(done -> mapping.receipt(accountId, done));
    });
  }

  @Override
  public CompletionStage<AccountView> getAccount(GetAccountRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      return accounts.get(Identifiers.accountId(in.getAccountId())).thenApply(mapping::view);
    });
  }

  @Override
  public CompletionStage<InsuranceFundView> topUpInsuranceFund(TopUpInsuranceFundRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      Principal operator = auth.require(metadata, Role.OPERATOR);
      String fund = Identifiers.fundId(in.getFund());
      String key = Identifiers.idempotencyKey(in.getIdempotencyKey());
      long amount = asset.parsePositive(in.getAmount());
      return liquidations.topUp(fund, key, amount, operator.name()).thenCompose(moved -> liquidations.fund(fund, 0, 1)
          .thenApply(view -> mapping.fund(view).toBuilder().setReplayed(moved.replayed()).build()));
    });
  }

  @Override
  public CompletionStage<InsuranceFundView> getInsuranceFund(GetInsuranceFundRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      String fund = Identifiers.fundId(in.getFund());
      return liquidations.fund(fund, Math.max(0, in.getOffset()), pageSize(in.getLimit())).thenApply(mapping::fund);
    });
  }

  @Override
  public CompletionStage<BackstopProviderRegistration> registerBackstopProvider(RegisterBackstopProviderRequest in,
      Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      String accountId = Identifiers.accountId(in.getAccountId());
      long maxNotional = "0".equals(in.getMaxNotional().trim()) ? 0 : asset.parsePositive(in.getMaxNotional());
      return liquidations.registerProvider(accountId, in.getInstrumentsList(), maxNotional)
          .thenApply(symbols -> BackstopProviderRegistration.newBuilder().setAccountId(accountId)
              .addAllInstruments(symbols).setMaxNotional(mapping.money(maxNotional)).build());
    });
  }

  @Override
  public CompletionStage<LiquidationHaltStatus> setLiquidationHalt(SetLiquidationHaltRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      Principal operator = auth.require(metadata, Role.OPERATOR);
      return liquidations.setHalt(in.getInstrument(), in.getHalted(), operator.name()).thenApply(status -> LiquidationHaltStatus
          .newBuilder().setInstrument(status.instrument()).setHalted(status.liquidationsHalted()).build());
    });
  }

  @Override
  public CompletionStage<LiquidationList> listLiquidations(AdminListLiquidationsRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      String accountId = in.getAccountId().isEmpty() ? null : Identifiers.accountId(in.getAccountId());
      String instrument = in.getInstrument().isEmpty() ? null : instruments.require(in.getInstrument()).symbol();
      return liquidations.list(new Liquidations.Filter(accountId, instrument, Math.max(0, in.getFromEpochMillis()),
              Math.max(0, in.getToEpochMillis()), pageSize(in.getLimit())),
              Deadlines.within(metadata, liquidations.listDeadline()))
          .thenApply(flows -> LiquidationList.newBuilder()
              .addAllLiquidations(flows.stream().map(mapping::liquidation).toList()).build());
    });
  }

  @Override
  public CompletionStage<Liquidation> getLiquidation(GetLiquidationRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      return liquidations.get(Identifiers.liquidationId(in.getLiquidationId())).thenApply(mapping::liquidation);
    });
  }

  @Override
  public CompletionStage<ReserveList> getReserves(GetReservesRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      return liquidations.views().thenApply(views -> ReserveList.newBuilder()
          .addAllReserves(views.stream().map(this::reserveView).toList()).build());
    });
  }

  @Override
  public CompletionStage<InsuranceFundView> listReserveMovements(ListReserveMovementsRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      var reserve = liquidations.reserve(in.getReserve());
      return liquidations.view(reserve, Math.max(0, in.getOffset()), pageSize(in.getLimit()))
          .thenApply(this::reserveView);
    });
  }

  @Override
  public CompletionStage<InsuranceFundView> topUpReserve(ReserveTransferRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      Principal operator = auth.require(metadata, Role.OPERATOR);
      var reserve = liquidations.reserve(in.getReserve());
      String key = Identifiers.idempotencyKey(in.getIdempotencyKey());
      long amount = asset.parsePositive(in.getAmount());
      return liquidations.topUp(reserve, key, amount, operator.name()).thenCompose(moved -> liquidations.view(reserve, 0, 1)
          .thenApply(view -> reserveView(view).toBuilder().setReplayed(moved.replayed()).build()));
    });
  }

  @Override
  public CompletionStage<InsuranceFundView> withdrawReserve(ReserveTransferRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      var reserve = liquidations.reserve(in.getReserve());
      String key = Identifiers.idempotencyKey(in.getIdempotencyKey());
      long amount = asset.parsePositive(in.getAmount());
      return liquidations.withdraw(reserve, key, amount).thenCompose(moved -> liquidations.view(reserve, 0, 1)
          .thenApply(view -> reserveView(view).toBuilder().setReplayed(moved.replayed()).build()));
    });
  }

  @Override
  public CompletionStage<FundFlowSummaryView> fundFlowSummary(FundFlowSummaryRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      String accountId = in.getAccountId().isEmpty() ? null : Identifiers.accountId(in.getAccountId());
      String instrument = in.getInstrument().isEmpty() ? null : instruments.require(in.getInstrument()).symbol();
      return liquidations.summary(new Liquidations.Filter(accountId, instrument, Math.max(0, in.getFromEpochMillis()),
          Math.max(0, in.getToEpochMillis()), Integer.MAX_VALUE), Deadlines.within(metadata, liquidations.listDeadline()))
          .thenApply(mapping::summary);
    });
  }

  @Override
  public CompletionStage<FundUnwindView> getFundUnwind(GetFundUnwindRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      String fund = liquidations.reserve(io.clearinghouse.liquidation.ReserveRef.FUND_PREFIX + in.getFund()).id();
      String instrument = instruments.require(in.getInstrument()).symbol();
      return liquidations.unwind(fund, instrument, pageSize(in.getLimit())).thenApply(mapping::unwind);
    });
  }

  /** A reserve with its positions valued at this node's marks. */
  private InsuranceFundView reserveView(io.clearinghouse.liquidation.InsuranceFund.View view) {
    return mapping.fund(view, symbol -> marks == null ? OptionalLong.empty()
        : marks.get(symbol).map(m -> OptionalLong.of(m.priceTicks())).orElse(OptionalLong.empty()))
        .toBuilder().setFund(view.reserveName()).build();
  }

  @Override
  public CompletionStage<io.clearinghouse.protocol.v1.FundingIntervalList> listFundingIntervals(
      io.clearinghouse.protocol.v1.ListFundingIntervalsRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      String instrument = instruments.require(in.getInstrument()).symbol();
      if (instruments.spec(instrument).funding() == null) {
        throw new io.clearinghouse.common.RejectedException(io.clearinghouse.common.Rejection.NOT_PERPETUAL,
            instrument + " is not a perpetual: it has no funding");
      }
      int size = FundingPages.size(in.getPageSize());
      long before = FundingPages.intervalCursor(in.getPageToken());
      return fundings.history(instrument, before, size).thenCombine(fundings.currentQuote(instrument),
          (history, quote) -> mapping.intervals(instrument, history, quote));
    });
  }

  /** A page size: 50 unless asked, at most 1000. */
  static int pageSize(int requested) {
    return requested <= 0 ? 50 : Math.min(requested, 1000);
  }
}
