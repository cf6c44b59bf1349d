package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.Deposit;
import io.clearinghouse.account.AccountEntity.Deposited;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.Rejected;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.account.AccountEntity.Transferred;
import io.clearinghouse.account.AccountEntity.Withdraw;
import io.clearinghouse.account.AccountEntity.Withdrawn;
import io.clearinghouse.common.Rejection;
import java.time.Clock;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.ToLongFunction;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * Deposits (the operator's) and withdrawals (the client's), each applied once per key of its
 * owner for the configured retention: a retry within it gets the first receipt. Keys are never
 * evicted by count: when an owner has {@code max-retained-keys} keys within the retention, its
 * next transfer is refused until the oldest expire.
 */
final class TransferHandlers {
  private final EffectFactories<Event, State> effect;
  private final RiskView risk;
  private final AccountSettings settings;
  private final Clock clock;
  private final Consumer<State> changed;
  private final PendingSides pending;
  private final Settling settling;

  /**
   * The sides whose trades may still be unwound, for withdrawals: which they are
   * ({@code sides}; null: never asked, as with no register), how to ask their registers (the
   * answer comes back as the withdrawal again, {@code asked}), and the views of an account with some
   * of them reversed in which a withdrawal must fit (TradingHandlers.settlingViews).
   */
  record Settling(SettlingSides sides, BiConsumer<Withdraw, List<Long>> ask, Views views) {}

  /** TradingHandlers.settlingViews. */
  @FunctionalInterface
  interface Views {
    List<Account> of(Account base, String instrument, List<ToLongFunction<Account>> measures);
  }

  TransferHandlers(EffectFactories<Event, State> effect, RiskView risk, AccountSettings settings, Clock clock, PendingSides pending,
      Settling settling, Consumer<State> changed) {
    this.effect = effect;
    this.settling = settling;
    this.risk = risk;
    this.settings = settings;
    this.clock = clock;
    this.changed = changed;
    this.pending = pending;
  }

  ReplyEffect<Event, State> deposit(Account account, Deposit cmd) {
    var previous = account.receipt(KeyOwner.OPERATOR, cmd.idempotencyKey());
    if (previous.isPresent()) {
      return replay(previous.get(), TransferKind.DEPOSIT, cmd.amount(), cmd.replyTo());
    }
    if (cmd.amount() <= 0) {
      return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "amount must be greater than zero");
    }
    if (!account.canCredit(cmd.amount())) {
      return reject(cmd.replyTo(), Rejection.BALANCE_OVERFLOW, "deposit would overflow the account's cash");
    }
    long now = clock.millis();
    if (windowFull(account, KeyOwner.OPERATOR, now)) {
      return windowFullRefusal(cmd.replyTo());
    }
    // Recorded debt of isolated positions is repaid first (never while a liquidation may still cover it).
    long owedRepaid = account.liquidating() ? 0 : Math.min(cmd.amount(), account.owed());
    return effect.persist(new Deposited(cmd.idempotencyKey(), cmd.amount(), now, owedRepaid, cmd.by()))
        .thenRun(changed::accept)
        .thenReply(cmd.replyTo(), state -> transferred(state, KeyOwner.OPERATOR, cmd.idempotencyKey()));
  }

  /**
   * A withdrawal: {@code asked} once the registers of the sides still settling answered (or
   * failed to), and only then judged; the first time it asks them when there are such sides.
   */
  ReplyEffect<Event, State> withdraw(Account account, Withdraw cmd, boolean asked) {
    var previous = account.receipt(KeyOwner.CLIENT, cmd.idempotencyKey());
    if (previous.isPresent()) {
      return replay(previous.get(), TransferKind.WITHDRAWAL, cmd.amount(), cmd.replyTo());
    }
    if (cmd.amount() <= 0) {
      return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "amount must be greater than zero");
    }
    if (account.liquidating()) {
      return reject(cmd.replyTo(), Rejection.ACCOUNT_LIQUIDATING, "the account is being liquidated");
    }
    if (account.inDebt()) {
      return reject(cmd.replyTo(), Rejection.ACCOUNT_IN_DEBT, "the account owes " + format(account.debt())
          + " from a liquidation: deposit to repay it first");
    }
    if (risk.anyPositionStale(account)) {
      return reject(cmd.replyTo(), Rejection.MARK_STALE, "a position's index is stale: retry when marks are fresh");
    }
    List<Long> unsettled = settling.sides() == null ? List.of() : settling.sides().unconfirmed(account);
    if (!unsettled.isEmpty() && !asked) {
      return effect.none().thenRun(state -> settling.ask().accept(cmd, unsettled)).thenNoReply();
    }
    // Sides passed in a check and not yet applied count as applied: a withdrawal never takes what they need.
    // A held side that closes at a profit adds nothing until it is applied: the lower of the two.
    Account held = pending.view(account, PendingSides.NONE);
    long withdrawable = Math.min(risk.evaluate(account).withdrawable(), risk.evaluate(held).withdrawable());
    // A side whose trade may still be unwound counts as reversed too: what it realized stays
    // until the trade settles (a reversal after a withdrawal of it would leave the account short).
    long whileSettling = withdrawable;
    if (!unsettled.isEmpty()) {
      try {
        // Each reversal on its own terms too: what one realized is never netted against another's
        // give-back, and every mix of them reversed and settled is judged by its worst (a settling
        // loss given back in the all-reversed view funds nothing: review rev10h, finding 5).
        // Worst views by cash and by available margin: withdrawable is the lower of the two, floored at 0.
        List<ToLongFunction<Account>> measures = List.of(Account::cash, view -> risk.evaluate(view).available());
        List<Account> views = new java.util.ArrayList<>(settling.views().of(account, null, measures));
        if (held != account) {
          views.addAll(settling.views().of(held, null, measures));
        }
        whileSettling = Math.subtractExact(withdrawable, settling.sides().settlingProfit(account, PendingSides.NONE));
        for (Account view : views) {
          if (risk.anyPositionStale(view)) {
            return reject(cmd.replyTo(), Rejection.MARK_STALE, "the index of a position a trade still settling may"
                + " give back is stale: retry when marks are fresh");
          }
          whileSettling = Math.min(whileSettling, risk.evaluate(view).withdrawable());
        }
      } catch (ArithmeticException e) {
        whileSettling = 0;
      }
    }
    if (cmd.amount() > Math.min(withdrawable, whileSettling)) {
      String settlingNote = whileSettling < withdrawable ? " while " + unsettled.size() + " trade(s) this account bought in"
          + " are still settling (" + format(withdrawable) + " once they settle): retry shortly" : "";
      return reject(cmd.replyTo(), Rejection.INSUFFICIENT_WITHDRAWABLE, "withdrawal of " + format(cmd.amount())
          + " exceeds the withdrawable " + format(Math.min(withdrawable, whileSettling)) + settlingNote);
    }
    long now = clock.millis();
    if (windowFull(account, KeyOwner.CLIENT, now)) {
      return windowFullRefusal(cmd.replyTo());
    }
    return effect.persist(new Withdrawn(cmd.idempotencyKey(), cmd.amount(), now))
        .thenRun(changed::accept)
        .thenReply(cmd.replyTo(), state -> transferred(state, KeyOwner.CLIENT, cmd.idempotencyKey()));
  }

  private boolean windowFull(Account account, KeyOwner owner, long now) {
    return account.retainedKeys(owner, now, settings.idempotencyKeyRetention().toMillis())
        >= settings.maxRetainedKeys();
  }

  private ReplyEffect<Event, State> windowFullRefusal(ActorRef<Reply> replyTo) {
    return reject(replyTo, Rejection.IDEMPOTENCY_WINDOW_FULL, "this account already holds "
        + settings.maxRetainedKeys() + " of your keys from the last " + settings.idempotencyKeyRetention()
        + ": retry later");
  }

  /** A repeated key: the first result if the content matches, a refusal if it does not. */
  private ReplyEffect<Event, State> replay(Receipt first, TransferKind kind, long amount, ActorRef<Reply> replyTo) {
    if (first.kind() == kind && first.amount() == amount) {
      return effect.reply(replyTo, new Transferred(first, true));
    }
    return reject(replyTo, Rejection.IDEMPOTENCY_KEY_REUSED, "idempotency key " + first.idempotencyKey()
        + " was already used for a " + first.kind().name().toLowerCase() + " of " + format(first.amount()));
  }

  private String format(long amount) {
    return settings.asset().format(amount) + " " + settings.asset().code();
  }

  private static Reply transferred(State state, KeyOwner owner, String idempotencyKey) {
    return new Transferred(((Account) state).receipt(owner, idempotencyKey).orElseThrow(), false);
  }

  private ReplyEffect<Event, State> reject(ActorRef<Reply> replyTo, Rejection reason, String message) {
    return effect.reply(replyTo, new Rejected(reason, message));
  }
}
