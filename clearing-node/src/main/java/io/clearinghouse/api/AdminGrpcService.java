package io.clearinghouse.api;

import io.clearinghouse.account.Accounts;
import io.clearinghouse.common.Identifiers;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.money.Asset;
import io.clearinghouse.ops.LedgerAudit;
import io.clearinghouse.ops.Metrics;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.SetLeverageCapRequest;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.AdminServicePowerApi;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.TransferReceipt;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.grpc.javadsl.Metadata;

/** clearing.v1.AdminService: exchange operators only. */
public final class AdminGrpcService implements AdminServicePowerApi {
  private final Accounts accounts;
  private final Authenticator auth;
  private final Asset asset;
  private final ProtoMapping mapping;
  private final LedgerAudit audit;

  private final Metrics metrics;

  public AdminGrpcService(Accounts accounts, Authenticator auth, Asset asset, Instruments instruments, LedgerAudit audit,
      Metrics metrics) {
    this.metrics = metrics;
    this.accounts = accounts;
    this.auth = auth;
    this.asset = asset;
    this.mapping = new ProtoMapping(asset, instruments);
    this.audit = audit;
  }

  @Override
  public CompletionStage<AccountView> setLeverageCap(SetLeverageCapRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      String accountId = Identifiers.accountId(in.getAccountId());
      if (in.getMaxLeverage() < 0) {
        throw new RejectedException(Rejection.INVALID_LEVERAGE, "a leverage cap must be 0 (none) or positive");
      }
      return accounts.setLeverageCap(accountId, in.getMaxLeverage()).thenApply(mapping::view);
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
      auth.require(metadata, Role.OPERATOR);
      String accountId = Identifiers.accountId(in.getAccountId());
      String key = Identifiers.idempotencyKey(in.getIdempotencyKey());
      long amount = asset.parsePositive(in.getAmount());
      return accounts.deposit(accountId, key, amount).thenApply(done -> mapping.receipt(accountId, done));
    });
  }

  @Override
  public CompletionStage<AccountView> getAccount(GetAccountRequest in, Metadata metadata) {
    return GrpcErrors.call(metrics, () -> {
      auth.require(metadata, Role.OPERATOR);
      return accounts.get(Identifiers.accountId(in.getAccountId())).thenApply(mapping::view);
    });
  }
}
