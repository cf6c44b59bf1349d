package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.metrics.Metrics;
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
  private final UnreadableJournals unreadable;
  private final ActorSystem<?> system;

  private final Metrics metrics;

  public Accounts(ActorSystem<?> system, Duration askTimeout, Metrics metrics) {
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
    this.unreadable = UnreadableJournals.get(system);
    this.system = system;
    this.metrics = metrics;
  }

  /** Without metrics of its own: for tools and tests that ask accounts from outside a node. */
  public Accounts(ActorSystem<?> system, Duration askTimeout) {
    this(system, askTimeout, new Metrics());
  }

  public CompletionStage<AccountSummary> open(String accountId) {
    return open(accountId, "");
  }

  /** {@code by}: the operator token's name, recorded on the account's first event. */
  public CompletionStage<AccountSummary> open(String accountId, String by) {
    return ask(accountId, replyTo -> new AccountEntity.Open(by, replyTo)).thenApply(Accounts::summary);
  }

  public CompletionStage<AccountSummary> get(String accountId) {
    return ask(accountId, AccountEntity.Get::new).thenApply(Accounts::summary);
  }

  /** The ids of the account's last liquidations, newest first, at most {@code limit}. */
  public CompletionStage<java.util.List<String>> liquidationIds(String accountId, int limit) {
    return ask(accountId, replyTo -> new AccountEntity.GetLiquidationIds(limit, replyTo))
        .thenApply(reply -> expect(reply, AccountEntity.LiquidationIds.class).newestFirst());
  }

  /** A page of the account's funding payments (see {@link AccountEntity.GetFundingPayments}). */
  public CompletionStage<AccountEntity.FundingPayments> fundingPayments(String accountId, String instrument,
      long beforeFundingTime, String beforeInstrument, int limit) {
    return ask(accountId, replyTo -> new AccountEntity.GetFundingPayments(instrument, beforeFundingTime,
        beforeInstrument, limit, replyTo)).thenApply(reply -> expect(reply, AccountEntity.FundingPayments.class));
  }

  public CompletionStage<AccountEntity.Transferred> deposit(String accountId, String idempotencyKey, long amount) {
    return deposit(accountId, idempotencyKey, amount, "");
  }

  /** {@code by}: the operator token's name, recorded on the deposit. */
  public CompletionStage<AccountEntity.Transferred> deposit(String accountId, String idempotencyKey, long amount,
      String by) {
    return ask(accountId, replyTo -> new AccountEntity.Deposit(idempotencyKey, amount, by, replyTo))
        .thenApply(Accounts::transferred);
  }

  public CompletionStage<AccountEntity.Transferred> withdraw(String accountId, String idempotencyKey, long amount) {
    return ask(accountId, replyTo -> new AccountEntity.Withdraw(idempotencyKey, amount, replyTo))
        .thenApply(Accounts::transferred);
  }

  /**
   * One trade side straight to its account, bypassing the trade register: for tools, benchmarks
   * and tests only (the engine's trades go through {@code clearing.TradeRegister}, which settles both
   * sides as one unit).
   */
  public CompletionStage<AccountEntity.TradeSideApplied> applyTrade(String accountId, String tradeId, long sequence,
      String instrument, long signedLots, long priceTicks, boolean taker, String orderId, String counterparty) {
    return ask(accountId, replyTo -> new AccountEntity.ApplyTrade(tradeId, sequence, instrument, signedLots, priceTicks,
        taker, orderId, counterparty, replyTo)).thenApply(reply -> expect(reply, AccountEntity.TradeSideApplied.class));
  }

  public CompletionStage<AccountEntity.Reserved> reserve(String accountId, String orderId, String instrument,
      long signedLots, long priceTicks) {
    return ask(accountId, replyTo -> new AccountEntity.ReserveMargin(orderId, instrument, signedLots, priceTicks, replyTo))
        .thenApply(reply -> expect(reply, AccountEntity.Reserved.class));
  }

  public CompletionStage<AccountEntity.Reserved> release(String accountId, String orderId) {
    return ask(accountId, replyTo -> new AccountEntity.ReleaseReservation(orderId, replyTo))
        .thenApply(reply -> expect(reply, AccountEntity.Reserved.class));
  }

  public CompletionStage<AccountSummary> setLeverage(String accountId, String instrument, int leverage) {
    return ask(accountId, replyTo -> new AccountEntity.SetLeverage(instrument, leverage, replyTo))
        .thenApply(Accounts::summary);
  }

  public CompletionStage<AccountSummary> setLeverageCap(String accountId, int maxLeverage) {
    return setLeverageCap(accountId, maxLeverage, "");
  }

  /** {@code by}: the operator token's name, recorded on the cap. */
  public CompletionStage<AccountSummary> setLeverageCap(String accountId, int maxLeverage, String by) {
    return ask(accountId, replyTo -> new AccountEntity.SetLeverageCap(maxLeverage, by, replyTo))
        .thenApply(Accounts::summary);
  }

  public CompletionStage<AccountSummary> setMarginMode(String accountId, String instrument, MarginMode mode) {
    return ask(accountId, replyTo -> new AccountEntity.SetMarginMode(instrument, mode, replyTo))
        .thenApply(Accounts::summary);
  }

  public CompletionStage<AccountSummary> adjustIsolatedMargin(String accountId, String instrument, long amount) {
    return ask(accountId, replyTo -> new AccountEntity.AdjustIsolatedMargin(instrument, amount, replyTo))
        .thenApply(Accounts::summary);
  }

  public CompletionStage<AccountSummary> setStop(String accountId, String instrument, long stopTicks) {
    return ask(accountId, replyTo -> new AccountEntity.SetStop(instrument, stopTicks, replyTo)).thenApply(Accounts::summary);
  }

  private CompletionStage<Reply> ask(String accountId, Function<ActorRef<Reply>, Command> command) {
    var cause = unreadable.cause(accountId);
    if (cause.isPresent()) {
      // Not the command (a write answered as refused must never happen later): a read, so that
      // the account is tried again; once it answers (its journal was repaired, wherever in the
      // cluster it now runs) it leaves this node's list too.
      if (unreadable.probing(accountId)) {
        sharding.entityRefFor(AccountEntity.TYPE_KEY, accountId).<Reply>ask(AccountEntity.Get::new, askTimeout)
            .whenComplete((reply, failure) -> unreadable.probed(accountId, failure == null));
      }
      return CompletableFuture.failedFuture(new RejectedException(Rejection.JOURNAL_UNREADABLE, "the journal of account "
          + accountId + " does not read (" + cause.get() + "): the account answers nothing until it is repaired"));
    }
    var timer = metrics.askStarted();
    return sharding.entityRefFor(AccountEntity.TYPE_KEY, accountId)
        .ask(command::apply, askTimeout)
        .whenComplete((reply, failure) -> timer.observeDuration())
        .exceptionallyCompose(failure -> CompletableFuture.failedFuture(timeoutAsRejection(failure)));
  }

  private static Throwable timeoutAsRejection(Throwable failure) {
    Throwable cause = io.clearinghouse.common.Failures.unwrap(failure);
    if (cause instanceof TimeoutException) {
      return new RejectedException(Rejection.TIMEOUT,
          "the account did not answer in time; retrying with the same idempotency key is safe");
    }
    return cause;
  }

  private static AccountSummary summary(Reply reply) {
    return expect(reply, AccountEntity.Snapshot.class).account();
  }

  private static AccountEntity.Transferred transferred(Reply reply) {
    return expect(reply, AccountEntity.Transferred.class);
  }

  private static <T extends Reply> T expect(Reply reply, Class<T> type) {
    if (type.isInstance(reply)) {
      return type.cast(reply);
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
