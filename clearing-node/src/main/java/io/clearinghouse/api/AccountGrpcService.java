package io.clearinghouse.api;

import io.clearinghouse.account.Accounts;
import io.clearinghouse.common.Identifiers;
import io.clearinghouse.money.Asset;
import io.clearinghouse.protocol.v1.AccountServicePowerApi;
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
  private final ProtoMapping mapping;

  public AccountGrpcService(Accounts accounts, Authenticator auth, Asset asset) {
    this.accounts = accounts;
    this.auth = auth;
    this.asset = asset;
    this.mapping = new ProtoMapping(asset);
  }

  @Override
  public CompletionStage<AccountView> getAccount(GetAccountRequest in, Metadata metadata) {
    return GrpcErrors.call(() -> {
      Principal client = auth.require(metadata, Role.CLIENT);
      String accountId = Identifiers.accountId(in.getAccountId());
      Authenticator.requireOwner(client, accountId);
      return accounts.get(accountId).thenApply(mapping::view);
    });
  }

  @Override
  public CompletionStage<TransferReceipt> withdraw(WithdrawRequest in, Metadata metadata) {
    return GrpcErrors.call(() -> {
      Principal client = auth.require(metadata, Role.CLIENT);
      String accountId = Identifiers.accountId(in.getAccountId());
      Authenticator.requireOwner(client, accountId);
      String key = Identifiers.idempotencyKey(in.getIdempotencyKey());
      long amount = asset.parsePositive(in.getAmount());
      return accounts.withdraw(accountId, key, amount).thenApply(done -> mapping.receipt(accountId, done));
    });
  }
}
