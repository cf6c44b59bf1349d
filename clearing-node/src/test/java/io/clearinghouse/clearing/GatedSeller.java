package io.clearinghouse.clearing;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.common.Rejection;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A register's network to the accounts in which the seller's trade side is held on the way until
 * the test lets it through, then refused (no hold behind it: the register reverses the buyer's
 * side) or applied, as the test says (the review tests of buyer-side reversals).
 */
final class GatedSeller implements TradeRegister.AccountAsker {
  final FakeAccounts accounts;
  final String seller;
  final CompletableFuture<Boolean> sellerGate = new CompletableFuture<>();
  final CompletableFuture<Void> sellerSideSent = new CompletableFuture<>();

  GatedSeller(FakeAccounts accounts, String seller) {
    this.accounts = accounts;
    this.seller = seller;
  }

  @Override
  public CompletionStage<AccountEntity.Reply> ask(String accountId,
      Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command, Duration timeout) {
    if (accountId.equals(seller) && command.apply(null) instanceof AccountEntity.ApplyTrade) {
      sellerSideSent.complete(null);
      return sellerGate.thenCompose(refuse -> refuse
          ? CompletableFuture.completedFuture(new AccountEntity.Rejected(Rejection.ACCOUNT_LIQUIDATING,
              "the seller's hold was lost and it is being liquidated now"))
          : accounts.ask(accountId, command, timeout));
    }
    return accounts.ask(accountId, command, timeout);
  }

  @Override
  public void tell(String accountId, AccountEntity.Command command) {
    accounts.tell(accountId, command);
  }
}
