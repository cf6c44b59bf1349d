package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Asks account entities wherever they live in the cluster and turns their replies into results
 * or {@link RejectedException}s. Callers validate input before calling.
 */
public final class Accounts {
  private final ClusterSharding sharding;
  private final Duration askTimeout;

  public Accounts(ActorSystem<?> system, Duration askTimeout) {
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
  }

  public CompletionStage<AccountSummary> open(String accountId) {
    return ask(accountId, AccountEntity.Open::new).thenApply(Accounts::summary);
  }

  public CompletionStage<AccountSummary> get(String accountId) {
    return ask(accountId, AccountEntity.Get::new).thenApply(Accounts::summary);
  }

  public CompletionStage<AccountEntity.Transferred> deposit(String accountId, String idempotencyKey, long amount) {
    return ask(accountId, replyTo -> new AccountEntity.Deposit(idempotencyKey, amount, replyTo))
        .thenApply(Accounts::transferred);
  }

  public CompletionStage<AccountEntity.Transferred> withdraw(String accountId, String idempotencyKey, long amount) {
    return ask(accountId, replyTo -> new AccountEntity.Withdraw(idempotencyKey, amount, replyTo))
        .thenApply(Accounts::transferred);
  }

  private CompletionStage<Reply> ask(String accountId, Function<ActorRef<Reply>, Command> command) {
    return sharding.entityRefFor(AccountEntity.TYPE_KEY, accountId)
        .ask(command::apply, askTimeout)
        .exceptionallyCompose(failure -> CompletableFuture.failedFuture(timeoutAsRejection(failure)));
  }

  private static Throwable timeoutAsRejection(Throwable failure) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    if (cause instanceof TimeoutException) {
      return new RejectedException(Rejection.TIMEOUT,
          "the account did not answer in time; retrying with the same idempotency key is safe");
    }
    return cause;
  }

  private static AccountSummary summary(Reply reply) {
    if (reply instanceof AccountEntity.Snapshot snapshot) {
      return snapshot.account();
    }
    throw rejection(reply);
  }

  private static AccountEntity.Transferred transferred(Reply reply) {
    if (reply instanceof AccountEntity.Transferred transferred) {
      return transferred;
    }
    throw rejection(reply);
  }

  private static RuntimeException rejection(Reply reply) {
    if (reply instanceof AccountEntity.Rejected rejected) {
      return new RejectedException(rejected.reason(), rejected.message());
    }
    return new IllegalStateException("unexpected reply " + reply.getClass().getSimpleName());
  }
}
