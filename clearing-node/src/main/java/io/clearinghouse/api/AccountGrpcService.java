package io.clearinghouse.api;

import io.clearinghouse.account.Accounts;
import io.clearinghouse.common.Identifiers;
import io.clearinghouse.money.Asset;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.PositionSummary;
import io.clearinghouse.liquidation.Liquidations;
import io.clearinghouse.monitor.AdlRanker;
import io.clearinghouse.monitor.AdlRankings;
import io.clearinghouse.margin.AdlRanking;
import io.clearinghouse.margin.MarginMode;
import java.util.ArrayList;
import java.util.List;
import io.clearinghouse.protocol.v1.GetLiquidationRequest;
import io.clearinghouse.protocol.v1.ListLiquidationsRequest;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationList;
import io.clearinghouse.protocol.v1.SetStopRequest;
import io.clearinghouse.protocol.v1.AccountServicePowerApi;
import io.clearinghouse.protocol.v1.AccountUpdate;
import io.clearinghouse.protocol.v1.StreamAccountRequest;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;
import io.clearinghouse.protocol.v1.AdjustIsolatedMarginRequest;
import io.clearinghouse.protocol.v1.SetLeverageRequest;
import io.clearinghouse.protocol.v1.SetMarginModeRequest;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.TransferReceipt;
import io.clearinghouse.protocol.v1.WithdrawRequest;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.grpc.javadsl.Metadata;

/** clearing.v1.AccountService: trading clients, each limited to the accounts its token owns. */
public final class AccountGrpcService implements AccountServicePowerApi {
  private final Accounts accounts;
  private final Authenticator auth;
  private final Asset asset;
  private final Instruments instruments;
  private final ProtoMapping mapping;

  private final AccountStreams streams;

  private final Metrics metrics;

  private final Liquidations liquidations;
  private final AdlRankings adl;

  private final Quotas quotas;

  public AccountGrpcService(Accounts accounts, Authenticator auth, Asset asset, Instruments instruments,
      AccountStreams streams, Liquidations liquidations, AdlRankings adl, Metrics metrics, Quotas quotas) {
    this(accounts, auth, asset, instruments, streams, liquidations, adl, metrics, quotas,
        io.clearinghouse.funding.Fundings.NONE);
  }

  /** {@code fundings}: the perpetuals' predicted funding rates shown with the positions. */
  public AccountGrpcService(Accounts accounts, Authenticator auth, Asset asset, Instruments instruments,
      AccountStreams streams, Liquidations liquidations, AdlRankings adl, Metrics metrics, Quotas quotas,
      io.clearinghouse.funding.Fundings fundings) {
    this.quotas = quotas;
    this.liquidations = liquidations;
    this.adl = adl;
    this.streams = streams;
    this.metrics = metrics;
    this.accounts = accounts;
    this.auth = auth;
    this.asset = asset;
    this.instruments = instruments;
    ProtoMapping base = new ProtoMapping(asset, instruments, fundings);
    this.mapping = streams == null || streams.volatility() == null ? base : base.withVolatility(streams.volatility());
  }

  /** Authenticates the client and checks it owns the account; returns the account id. */
  private String ownAccount(String accountId, Metadata metadata) {
    Principal client = auth.require(metadata, Role.CLIENT);
    String id = Identifiers.accountId(accountId);
    Authenticator.requireOwner(client, id);
    return id;
  }

  /**
   * The account's updates. Its stream counts against {@code client.streams-per-account} from the
   * moment it runs until it ends, however it ends.
   */
  @Override
  public Source<AccountUpdate, NotUsed> streamAccount(StreamAccountRequest in, Metadata metadata) {
    String accountId;
    try {
      accountId = ownAccount(in.getAccountId(), metadata);
    } catch (RejectedException e) {
      return Source.failed(GrpcErrors.toGrpc(e, metrics));
    }
    return Source.fromMaterializer((materializer, attributes) -> {
      Quotas.Permit permit;
      try {
        permit = quotas.openAccountStream(accountId);
      } catch (RejectedException e) {
        return Source.<AccountUpdate>failed(GrpcErrors.toGrpc(e, metrics));
      }
      return ExpiringStreams.untilExpiry(streams.updates(accountId, mapping), auth.remaining(metadata))
          .watchTermination((notUsed, done) -> {
            done.whenComplete((ended, failure) -> permit.release());
            return notUsed;
          });
    }).mapMaterializedValue(ignored -> NotUsed.getInstance());
  }

  @Override
  public CompletionStage<AccountView> setLeverage(SetLeverageRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      String accountId = ownAccount(in.getAccountId(), metadata);
      String instrument = instruments.require(in.getInstrument()).symbol();
      return accounts.setLeverage(accountId, instrument, TradeInput.leverage(in.getLeverage())).thenApply(mapping::view);
    });
  }

  @Override
  public CompletionStage<AccountView> setMarginMode(SetMarginModeRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      String accountId = ownAccount(in.getAccountId(), metadata);
      String instrument = instruments.require(in.getInstrument()).symbol();
      return accounts.setMarginMode(accountId, instrument, TradeInput.marginMode(in.getMarginMode()))
          .thenApply(mapping::view);
    });
  }

  @Override
  public CompletionStage<AccountView> adjustIsolatedMargin(AdjustIsolatedMarginRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      String accountId = ownAccount(in.getAccountId(), metadata);
      String instrument = instruments.require(in.getInstrument()).symbol();
      return accounts.adjustIsolatedMargin(accountId, instrument, asset.parseNonZero(in.getAmount()))
          .thenApply(mapping::view);
    });
  }

  @Override
  public CompletionStage<AccountView> getAccount(GetAccountRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      String accountId = ownAccount(in.getAccountId(), metadata);
      return accounts.get(accountId).thenCompose(this::withAdlQuintiles);
    });
  }

  @Override
  public CompletionStage<io.clearinghouse.protocol.v1.RiskReport> getRiskReport(
      io.clearinghouse.protocol.v1.GetRiskReportRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      String accountId = ownAccount(in.getAccountId(), metadata);
      return accounts.get(accountId).thenApply(this::riskReport);
    });
  }

  /** The risk review of issue 16 item 6, from the account's summary and this node's volatility index. */
  private io.clearinghouse.protocol.v1.RiskReport riskReport(AccountSummary s) {
    AccountView view = mapping.view(s);
    var report = io.clearinghouse.protocol.v1.RiskReport.newBuilder().setAccountId(s.accountId())
        .setMarginRatio(view.getMarginRatio()).setLeverageProfile(view.getLeverageProfile())
        .setLeverageCap(s.leverageCap());
    for (var p : s.positions()) {
      if (p.lots() == 0) {
        continue;
      }
      var instrument = instruments.require(p.instrument());
      var position = io.clearinghouse.protocol.v1.PositionRiskReport.newBuilder().setInstrument(p.instrument())
          .setSize(instrument.formatQuantity(p.lots())).setMarkPrice(instrument.formatPrice(p.markTicks()))
          .setLeverage(p.leverage()).setAtLeverageCap(s.leverageCap() > 0 && p.leverage() >= s.leverageCap());
      long stop = s.stops().getOrDefault(p.instrument(), 0L);
      if (stop > 0) {
        position.setStopPrice(instrument.formatPrice(stop));
      }
      long annual = streams == null || streams.volatility() == null ? 0
          : streams.volatility().index(p.instrument()).longPpm();
      long daily = io.clearinghouse.margin.RiskReview.dailyVolatilityPpm(annual);
      position.setDailyVolatilityPpm(daily);
      if (p.liquidationPriceTicks() > 0) {
        long distance = io.clearinghouse.margin.RiskReview.distancePpm(p.lots(), p.markTicks(),
            p.liquidationPriceTicks());
        position.setLiquidationPrice(instrument.formatPrice(p.liquidationPriceTicks()))
            .setDistanceToLiquidationPpm(distance);
        long moves = io.clearinghouse.margin.RiskReview.dailyMovesHundredths(distance, daily);
        if (moves != io.clearinghouse.margin.RiskReview.NONE) {
          position.setDistanceInDailyMoves(java.math.BigDecimal.valueOf(moves, 2).toPlainString());
        }
        long suggested = io.clearinghouse.margin.RiskReview.suggestedStopTicks(p.lots(), p.markTicks(),
            p.liquidationPriceTicks());
        if (suggested > 0) {
          position.setSuggestedStopPrice(instrument.formatPrice(suggested));
        }
      }
      report.addPositions(position);
    }
    return report.build();
  }

  /**
   * The view with each position's place in the auto-deleveraging queue of its side, across the
   * cluster: binary searches in the nodes' rankings of their last marks, never the monitors.
   */
  private CompletionStage<AccountView> withAdlQuintiles(AccountSummary summary) {
    AccountView view = mapping.view(summary);
    List<AdlRanker.Probe> probes = new ArrayList<>();
    for (PositionSummary p : summary.positions()) {
      int sign = Long.signum(p.lots());
      long cost = Math.subtractExact(sign * p.notional(), p.unrealizedPnl());
      long funds = p.mode() == MarginMode.ISOLATED ? Math.addExact(p.isolatedMargin(), p.unrealizedPnl())
          : summary.equity();
      probes.add(new AdlRanker.Probe(p.instrument(), sign, AdlRanking.score(p.notional(), p.unrealizedPnl(), cost,
          funds)));
    }
    return adl.quintiles(probes).thenApply(quintiles -> {
      AccountView.Builder out = view.toBuilder();
      for (int i = 0; i < quintiles.size(); i++) {
        out.setPositions(i, out.getPositions(i).toBuilder().setAdlQuintile(quintiles.get(i)));
      }
      return out.build();
    });
  }

  @Override
  public CompletionStage<TransferReceipt> withdraw(WithdrawRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      String accountId = ownAccount(in.getAccountId(), metadata);
      String key = Identifiers.idempotencyKey(in.getIdempotencyKey());
      long amount = asset.parsePositive(in.getAmount());
      return accounts.withdraw(accountId, key, amount).thenApply(done -> mapping.receipt(accountId, done));
    });
  }

  @Override
  public CompletionStage<LiquidationList> listLiquidations(ListLiquidationsRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      String accountId = ownAccount(in.getAccountId(), metadata);
      return liquidations.list(new Liquidations.Filter(accountId, null, 0, 0, AdminGrpcService.pageSize(in.getLimit())),
              Deadlines.within(metadata, liquidations.listDeadline()))
          .thenApply(flows -> LiquidationList.newBuilder()
              .addAllLiquidations(flows.stream().map(mapping::liquidation).map(PrivateViews::ownSide).toList()).build());
    });
  }

  @Override
  public CompletionStage<Liquidation> getLiquidation(GetLiquidationRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      Principal client = auth.require(metadata, Role.CLIENT);
      String id = Identifiers.liquidationId(in.getLiquidationId());
      // Ownership is judged from the id before anything is read, and "not yours" is answered
      // exactly as "does not exist": a client learns nothing of other accounts' liquidations.
      if (Liquidations.accountOf(id).filter(client::owns).isEmpty()) {
        throw Liquidations.notFound(id);
      }
      return liquidations.get(id).thenApply(flow -> {
        if (!client.owns(flow.accountId())) {
          throw Liquidations.notFound(id);
        }
        return PrivateViews.ownSide(mapping.liquidation(flow));
      });
    });
  }

  @Override
  public CompletionStage<io.clearinghouse.protocol.v1.FundFlowSummaryView> fundFlowSummary(
      io.clearinghouse.protocol.v1.FundFlowSummaryRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      String accountId = ownAccount(in.getAccountId(), metadata);
      String instrument = in.getInstrument().isEmpty() ? null : instruments.require(in.getInstrument()).symbol();
      return liquidations.summary(new Liquidations.Filter(accountId, instrument, Math.max(0, in.getFromEpochMillis()),
          Math.max(0, in.getToEpochMillis()), Integer.MAX_VALUE), Deadlines.within(metadata, liquidations.listDeadline()))
          .thenApply(summary -> PrivateViews.ownSide(mapping.summary(summary)));
    });
  }

  @Override
  public CompletionStage<io.clearinghouse.protocol.v1.FundingPaymentList> listFundingPayments(
      io.clearinghouse.protocol.v1.ListFundingPaymentsRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      String accountId = ownAccount(in.getAccountId(), metadata);
      String instrument = null;
      if (!in.getInstrument().isEmpty()) {
        instrument = instruments.require(in.getInstrument()).symbol();
        if (instruments.spec(instrument).funding() == null) {
          throw new RejectedException(io.clearinghouse.common.Rejection.NOT_PERPETUAL, instrument
              + " is not a perpetual: it has no funding");
        }
      }
      int size = FundingPages.size(in.getPageSize());
      FundingPages.PaymentCursor cursor = FundingPages.paymentCursor(in.getPageToken(), instruments);
      return accounts.fundingPayments(accountId, instrument, cursor.fundingTime(), cursor.instrument(), size)
          .thenApply(page -> mapping.payments(accountId, page));
    });
  }

  @Override
  public CompletionStage<AccountView> setStop(SetStopRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      String accountId = ownAccount(in.getAccountId(), metadata);
      var instrument = instruments.require(in.getInstrument());
      long stopTicks = in.getStopPrice().isEmpty() ? 0 : TradeInput.priceTicks(instrument, in.getStopPrice());
      return accounts.setStop(accountId, instrument.symbol(), stopTicks).thenApply(mapping::view);
    });
  }
}
