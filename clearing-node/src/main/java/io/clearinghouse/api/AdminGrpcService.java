package io.clearinghouse.api;

// Over 450 lines: one method per operator call of AdminService (each a few lines of checks and mapping); split by concern when the service is next changed.

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
import io.clearinghouse.monitor.StressEvaluation;
import io.clearinghouse.monitor.StressTest;
import io.clearinghouse.protocol.v1.Cover2;
import io.clearinghouse.protocol.v1.FundStress;
import io.clearinghouse.protocol.v1.InstrumentNotional;
import io.clearinghouse.protocol.v1.PriceShock;
import io.clearinghouse.protocol.v1.ShockedMark;
import io.clearinghouse.protocol.v1.StressScenarioResult;
import io.clearinghouse.protocol.v1.StressTestReport;
import io.clearinghouse.protocol.v1.StressTestRequest;
import io.clearinghouse.protocol.v1.StressedAccount;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

  private final StressTest stress;

  private final io.clearinghouse.monitor.ClosestToLiquidation closest;

  private final java.util.function.IntFunction<CompletionStage<io.clearinghouse.monitor.StressSchedule.History>>
      history;

  public AdminGrpcService(Accounts accounts, Authenticator auth, Asset asset, Instruments instruments, LedgerAudit audit,
      Liquidations liquidations, Metrics metrics) {
    this(accounts, auth, asset, instruments, audit, liquidations, metrics, null);
  }

  /** {@code marks} (may be null) values the insurance funds' positions. */
  public AdminGrpcService(Accounts accounts, Authenticator auth, Asset asset, Instruments instruments, LedgerAudit audit,
      Liquidations liquidations, Metrics metrics, MarkPrices marks) {
    this(accounts, auth, asset, instruments, audit, liquidations, metrics, marks, io.clearinghouse.funding.Fundings.NONE,
        Risk.NONE);
  }

  /**
   * The risk services of issue 16 (any may be null: its calls then answer UNAVAILABLE, or show
   * nothing): the stress test, the volatility index shown with each position of GetAccount, the
   * accounts closest to liquidation, and the scheduled stress tests' history.
   */
  public record Risk(StressTest stress, io.clearinghouse.price.VolatilityBoard volatility,
      io.clearinghouse.monitor.ClosestToLiquidation closest,
      java.util.function.IntFunction<CompletionStage<io.clearinghouse.monitor.StressSchedule.History>> history) {
    public static final Risk NONE = new Risk(null, null, null, null);
  }

  /** {@code fundings}: the funding clocks' histories and quotes; {@code risk}: the risk services. */
  public AdminGrpcService(Accounts accounts, Authenticator auth, Asset asset, Instruments instruments, LedgerAudit audit,
      Liquidations liquidations, Metrics metrics, MarkPrices marks, io.clearinghouse.funding.Fundings fundings,
      Risk risk) {
    this.fundings = fundings;
    StressTest stress = risk.stress();
    io.clearinghouse.price.VolatilityBoard volatility = risk.volatility();
    this.history = risk.history();
    this.closest = risk.closest();
    this.stress = stress;
    this.marks = marks;
    this.liquidations = liquidations;
    this.instruments = instruments;
    this.metrics = metrics;
    this.accounts = accounts;
    this.auth = auth;
    this.asset = asset;
    ProtoMapping base = new ProtoMapping(asset, instruments, fundings);
    this.mapping = volatility == null ? base : base.withVolatility(volatility);
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
      Principal operator = auth.require(metadata, Role.OPERATOR);
      return accounts.open(Identifiers.accountId(in.getAccountId()), operator.name()).thenApply(mapping::view);
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
      return liquidations.fund(fund, offset(in.getOffset()), pageSize(in.getLimit())).thenApply(mapping::fund);
    });
  }

  @Override
  public CompletionStage<BackstopProviderRegistration> registerBackstopProvider(RegisterBackstopProviderRequest in,
      Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      Principal operator = auth.require(metadata, Role.OPERATOR);
      String accountId = Identifiers.accountId(in.getAccountId());
      long maxNotional = "0".equals(in.getMaxNotional().trim()) ? 0 : asset.parsePositive(in.getMaxNotional());
      return liquidations.registerProvider(accountId, in.getInstrumentsList(), maxNotional, operator.name())
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
      return list(new Liquidations.Filter(accountId, instrument, Math.max(0, in.getFromEpochMillis()),
              Math.max(0, in.getToEpochMillis()), pageSize(in.getLimit())),
              Deadlines.within(metadata, liquidations.listDeadline()));
    });
  }

  /**
   * The liquidations triggered from {@code fromEpochMillis} on (at most {@code limit}), the records
   * {@code ListLiquidations} answers, read for the node itself: the operator console's one shared
   * reader ({@code ConsoleFeed}), whose event streams each checked their caller's operator token.
   */
  public CompletionStage<LiquidationList> recentLiquidations(long fromEpochMillis, int limit) {
    return GrpcErrors.call(metrics, () -> list(new Liquidations.Filter(null, null, Math.max(0, fromEpochMillis), 0,
        pageSize(limit)), liquidations.listDeadline()));
  }

  private CompletionStage<LiquidationList> list(Liquidations.Filter filter, java.time.Duration deadline) {
    return liquidations.list(filter, deadline).thenApply(flows -> LiquidationList.newBuilder()
        .addAllLiquidations(flows.stream().map(mapping::liquidation).toList()).build());
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
      return liquidations.view(reserve, offset(in.getOffset()), pageSize(in.getLimit()))
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
      Principal operator = auth.require(metadata, Role.OPERATOR);
      var reserve = liquidations.reserve(in.getReserve());
      String key = Identifiers.idempotencyKey(in.getIdempotencyKey());
      long amount = asset.parsePositive(in.getAmount());
      return liquidations.withdraw(reserve, key, amount, operator.name()).thenCompose(moved -> liquidations.view(reserve, 0, 1)
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

  @Override
  public CompletionStage<StressTestReport> stressTest(StressTestRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      if (stress == null) {
        throw new RejectedException(Rejection.TIMEOUT, "this node runs no stress tests");
      }
      List<StressTest.Shocks> scenarios = new ArrayList<>();
      if (in.getShocksCount() > 0) {
        Map<String, Long> shocks = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        for (PriceShock shock : in.getShocksList()) {
          String symbol = instruments.require(shock.getInstrument()).symbol();
          long ppm = StressTest.parseShock(shock.getMove());
          if (shocks.put(symbol, ppm) != null) {
            throw new RejectedException(Rejection.INVALID_SHOCK, symbol + " is shocked twice");
          }
          names.add(symbol + " " + io.clearinghouse.common.Ppm.format(ppm));
        }
        scenarios.add(new StressTest.Shocks(String.join(", ", names), shocks));
      }
      if (!in.getLadderInstrument().isEmpty()) {
        scenarios.addAll(stress.ladder(in.getLadderInstrument()));
      }
      for (String name : in.getScenariosList()) {
        scenarios.add(stress.scenario(name));
      }
      int limit = in.getAccountsLimit() <= 0 ? 20 : Math.min(in.getAccountsLimit(), 1000);
      return stress.run(scenarios, limit).thenApply(this::stressReport);
    });
  }

  @Override
  public CompletionStage<io.clearinghouse.protocol.v1.ClosestToLiquidationList> listClosestToLiquidation(
      io.clearinghouse.protocol.v1.ListClosestToLiquidationRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      var instrument = instruments.require(in.getInstrument());
      if (closest == null) {
        throw new RejectedException(Rejection.TIMEOUT, "this node lists no accounts closest to liquidation");
      }
      int limit = pageSize(in.getLimit());
      // At most the nearest 10,000: a page beyond them is empty.
      int offset = Math.min(offset(in.getOffset()), 10_000);
      int count = Math.max(0, Math.min(limit, 10_000 - offset));
      return closest.page(instrument.symbol(), offset, count).thenApply(entries -> {
        var list = io.clearinghouse.protocol.v1.ClosestToLiquidationList.newBuilder();
        for (var e : entries) {
          list.addPositions(io.clearinghouse.protocol.v1.ClosestPosition.newBuilder().setAccountId(e.accountId())
              .setSize(instrument.formatQuantity(e.lots())).setMarkPrice(instrument.formatPrice(e.markTicks()))
              .setLiquidationPrice(instrument.formatPrice(e.liquidationTicks()))
              .setDistanceToLiquidationPpm(e.distancePpm()));
        }
        return list.build();
      });
    });
  }

  @Override
  public CompletionStage<io.clearinghouse.protocol.v1.RiskHistogram> getRiskHistogram(
      io.clearinghouse.protocol.v1.GetRiskHistogramRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      var instrument = instruments.require(in.getInstrument());
      if (closest == null) {
        throw new RejectedException(Rejection.TIMEOUT, "this node counts no positions by distance to liquidation");
      }
      return closest.histogram(instrument.symbol()).thenApply(counts -> {
        var out = io.clearinghouse.protocol.v1.RiskHistogram.newBuilder().setInstrument(instrument.symbol())
            .setWithoutLiquidationPrice(counts.withoutLiquidationPrice());
        long[] buckets = counts.buckets();
        long[] edges = io.clearinghouse.monitor.ClosestToLiquidation.HISTOGRAM_EDGES_PPM;
        long positions = counts.withoutLiquidationPrice();
        for (int i = 0; i < buckets.length; i++) {
          long from = i == 0 ? 0 : edges[i - 1];
          long to = i == 0 ? 0 : i < edges.length ? edges[i] : -1;
          String label = i == 0 ? "at or past" : to < 0 ? ">=" + from / 10_000 + "%" : from / 10_000 + "-" + to / 10_000 + "%";
          out.addBuckets(io.clearinghouse.protocol.v1.RiskBucket.newBuilder().setLabel(label).setFromPpm(from)
              .setToPpm(to).setPositions(buckets[i]));
          positions = Math.addExact(positions, buckets[i]);
        }
        return out.setPositions(positions).build();
      });
    });
  }

  @Override
  public CompletionStage<io.clearinghouse.protocol.v1.StressHistory> getStressHistory(
      io.clearinghouse.protocol.v1.GetStressHistoryRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      if (history == null) {
        return java.util.concurrent.CompletableFuture.completedFuture(
            io.clearinghouse.protocol.v1.StressHistory.getDefaultInstance());
      }
      return history.apply(pageSize(in.getLimit())).thenApply(h -> {
        var out = io.clearinghouse.protocol.v1.StressHistory.newBuilder();
        for (var run : h.runs()) {
          var b = io.clearinghouse.protocol.v1.StressRun.newBuilder().setEpochMillis(run.epochMillis())
              .setScenario(run.scenario()).setAccountsLiquidated(run.accountsLiquidated())
              .setNotionalToClose(mapping.money(run.notional())).setDeficits(mapping.money(run.deficits()))
              .setLevel(run.level().name()).setNodes(run.nodes()).setNodesAnswered(run.nodesAnswered())
              .setApproximate(run.approximate());
          for (var f : run.funds()) {
            b.addFunds(io.clearinghouse.protocol.v1.StressFundLevel.newBuilder().setFund(f.fund())
                .setFreeBalance(mapping.money(f.freeBalance())).setDeficit(mapping.money(f.deficit()))
                .setShare(f.sharePpm() == Long.MAX_VALUE ? "inf" : io.clearinghouse.common.Ppm.format(f.sharePpm()))
                .setLevel(f.level().name()));
          }
          out.addRuns(b);
        }
        return out.build();
      });
    });
  }

  private StressTestReport stressReport(StressTest.Report report) {
    StressTestReport.Builder out = StressTestReport.newBuilder().setNodes(report.nodes())
        .setNodesAnswered(report.nodesAnswered());
    for (StressTest.ScenarioReport r : report.scenarios()) {
      StressScenarioResult.Builder b = StressScenarioResult.newBuilder().setName(r.name())
          .setAccountsEvaluated(r.accountsEvaluated()).setAccountsLiquidated(r.accountsLiquidated())
          .setAccountsWaiting(r.waiting()).setCloses(r.closes())
          .setNotionalToClose(mapping.money(r.notional().values().stream().mapToLong(Long::longValue)
              .reduce(0, Math::addExact)))
          .setPenalties(mapping.money(r.penalties())).setDeficits(mapping.money(r.deficits()))
          .setFundTakeoverNotional(mapping.money(r.takeoverNotional())).setAdlNotional(mapping.money(r.adlNotional()))
          .setDebt(mapping.money(r.debt())).setApproximate(r.approximate());
      for (StressTest.ShockedMark m : r.marks()) {
        var instrument = instruments.require(m.instrument());
        b.addMarks(ShockedMark.newBuilder().setInstrument(m.instrument())
            .setMarkBefore(instrument.formatPrice(m.beforeTicks())).setMarkAfter(instrument.formatPrice(m.afterTicks())));
      }
      r.notional().forEach((symbol, notional) -> b.addNotionalByInstrument(InstrumentNotional.newBuilder()
          .setInstrument(symbol).setNotional(mapping.money(notional))));
      for (StressTest.FundFigures f : r.funds()) {
        b.addFunds(FundStress.newBuilder().setFund(f.fund()).setFreeBalance(mapping.money(f.freeBalance()))
            .setPenaltyIn(mapping.money(f.penaltyIn())).setDeficit(mapping.money(f.deficit()))
            .setPenaltyApplied(mapping.money(f.penaltyApplied())).setFundDraw(mapping.money(f.fundDraw()))
            .setOperatorCapitalDraw(mapping.money(f.capitalDraw())).setDebt(mapping.money(f.debt()))
            .setTakeoverNotional(mapping.money(f.takeoverNotional()))
            .setTakeoverCapacity(mapping.money(f.takeoverCapacity())).setAdlNotional(mapping.money(f.adlNotional()))
            .setHoldsRefused(f.holdsRefused()).setLoss(mapping.money(f.loss())));
      }
      Cover2.Builder cover2 = Cover2.newBuilder().setLosses(mapping.money(r.cover2().losses()))
          .setResources(mapping.money(r.cover2().resources())).setCovered(r.cover2().covered());
      r.cover2().accounts().forEach(a -> cover2.addAccounts(stressed(a)));
      b.setCover2(cover2);
      r.accounts().forEach(a -> b.addAccounts(stressed(a)));
      out.addScenarios(b);
    }
    return out.build();
  }

  private StressedAccount stressed(StressEvaluation.AccountFigures a) {
    return StressedAccount.newBuilder().setAccountId(a.accountId()).setCloses(a.closes())
        .setNotional(mapping.money(a.notional())).setPenalties(mapping.money(a.penalties()))
        .setDeficit(mapping.money(a.need())).build();
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

  private SettlementCalls settlementCalls;

  /** With the dated futures' settlements (issue 17, expiry); without, their calls answer UNAVAILABLE. */
  public AdminGrpcService withSettlements(io.clearinghouse.expiry.Settlements settlements) {
    this.settlementCalls = new SettlementCalls(settlements, instruments, asset);
    return this;
  }

  @Override
  public CompletionStage<io.clearinghouse.protocol.v1.SettlementView> getSettlement(
      io.clearinghouse.protocol.v1.GetSettlementRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      return settlements().get(in);
    });
  }

  @Override
  public CompletionStage<io.clearinghouse.protocol.v1.SettlementView> setSettlementPrice(
      io.clearinghouse.protocol.v1.SetSettlementPriceRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      String operator = auth.require(metadata, Role.OPERATOR).name();
      return settlements().setPrice(in, operator);
    });
  }

  private SettlementCalls settlements() {
    if (settlementCalls == null) {
      throw new io.clearinghouse.common.RejectedException(io.clearinghouse.common.Rejection.TIMEOUT,
          "this node runs no settlements");
    }
    return settlementCalls;
  }

  /** A page size: 50 unless asked, at most 1000. */
  /** The settlement asset the amounts are in (the console formats depth with it). */
  public Asset asset() {
    return asset;
  }

  /** A listing's limit: 0 means 50, above 1,000 means 1,000; negative is refused (INVALID_PAGE), never guessed. */
  static int pageSize(int requested) {
    if (requested < 0) {
      throw new RejectedException(Rejection.INVALID_PAGE, "limit must be 0 (the default, 50) or positive, was "
          + requested);
    }
    return requested == 0 ? 50 : Math.min(requested, 1000);
  }

  /** A listing's offset: 0 or positive; negative is refused (INVALID_PAGE). */
  static int offset(int requested) {
    if (requested < 0) {
      throw new RejectedException(Rejection.INVALID_PAGE, "offset must be 0 or positive, was " + requested);
    }
    return requested;
  }
}
