package io.clearinghouse.account;

// Over 450 lines: the protocol (commands, events, replies) and the wiring; the handlers are apart. To split with issue 12.
// It also runs the account's own timed work that needs its timers and context: fee sweeps, the release of
// reservations on expired futures and the reports of late closes to the settlements (issue 17).

import com.fasterxml.jackson.annotation.JsonCreator;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.account.RiskRegistry;
import io.clearinghouse.price.MarkPrices;
import java.time.Clock;
import java.util.concurrent.CompletionStage;
import java.util.List;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.RecoveryFailed;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import io.clearinghouse.persistence.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * One account: the only writer of its money. Sharded by account id, event-sourced, and
 * remembered, so an account that exists is always running somewhere in the cluster.
 *
 * <p>An account exists once the operator opens it. Messages to an id that was never opened
 * get {@code ACCOUNT_NOT_FOUND} and the entity passivates itself at once, so that probing
 * unknown ids does not leave remembered entities behind. (If an Open races with that
 * passivation, the opened account is simply started again by its next message.)
 */
public final class AccountEntity
    extends EventSourcedBehaviorWithEnforcedReplies<AccountEntity.Command, AccountEntity.Event, AccountEntity.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "Account");

  // --- protocol -------------------------------------------------------------------------

  public sealed interface Command extends CborSerializable {}

  /** {@code by}: the name of the operator token that asked (recorded on the event). */
  public record Open(String by, ActorRef<Reply> replyTo) implements Command {
    /** Opened by no named operator (tools and tests). */
    public static Open unattributed(ActorRef<Reply> replyTo) {
      return new Open("", replyTo);
    }
  }

  /** {@code by}: the name of the operator token that asked (recorded on the event). */
  public record Deposit(String idempotencyKey, long amount, String by, ActorRef<Reply> replyTo) implements Command {
    public Deposit(String idempotencyKey, long amount, ActorRef<Reply> replyTo) {
      this(idempotencyKey, amount, "", replyTo);
    }
  }

  public record Withdraw(String idempotencyKey, long amount, ActorRef<Reply> replyTo) implements Command {}

  public record Get(ActorRef<Reply> replyTo) implements Command {}

  /** The ids of the account's last liquidations and stop closes, newest first, at most {@code limit}. */
  public record GetLiquidationIds(int limit, ActorRef<Reply> replyTo) implements Command {}

  /**
   * One side of an executed trade: {@code signedLots} > 0 for the buyer. {@code orderId}, if not
   * null, names the order whose reservation the fill consumes; {@code counterparty} is the account
   * on the other side (compared, with everything else, when the same sequence comes again).
   */
  public record ApplyTrade(String tradeId, long sequence, String instrument, long signedLots, long priceTicks,
      boolean taker, String orderId, String counterparty, ActorRef<Reply> replyTo, long cutMillis) implements Command {
    /** Without a cut time: the account's clock when it applies the side is the funding cut. */
    public ApplyTrade(String tradeId, long sequence, String instrument, long signedLots, long priceTicks,
        boolean taker, String orderId, String counterparty, ActorRef<Reply> replyTo) {
      this(tradeId, sequence, instrument, signedLots, priceTicks, taker, orderId, counterparty, replyTo, 0);
    }
  }

  /**
   * Undoes this account's side of trade {@code sequence} exactly, because the trade's other side
   * was refused: from the trade register only. Idempotent; a sequence never applied here is marked
   * so that it is never applied later either.
   */
  /**
   * Undo the side of {@code sequence}. {@code instrument}, {@code buyLots}, {@code priceTicks} and
   * {@code fee} (the side as the register knows it applied it) let an account that has forgotten
   * the sequence still undo it, as the opposite fill; null instrument when not known. An account
   * that has forgotten the sequence cannot tell whether it reversed the side already: it undoes it
   * only when {@code verified} (the register read its journal: applied and not reversed), and
   * answers TRADE_TOO_OLD otherwise.
   */
  public record ReverseTradeSide(String tradeId, long sequence, String instrument, long buyLots, long priceTicks,
      long fee, boolean verified, ActorRef<Reply> replyTo) implements Command {
    public ReverseTradeSide(String tradeId, long sequence, String instrument, long buyLots, long priceTicks, long fee,
        ActorRef<Reply> replyTo) {
      this(tradeId, sequence, instrument, buyLots, priceTicks, fee, false, replyTo);
    }

    public ReverseTradeSide(String tradeId, long sequence, ActorRef<Reply> replyTo) {
      this(tradeId, sequence, null, 0, 0, 0, false, replyTo);
    }
  }

  /** {@code side}, whatever this account's own rules would now say: its trade's other side is applied. */
  public record ForceTradeSide(ApplyTrade side) implements Command {}

  /** Would {@code side} be applied now? Answered like the side itself, but nothing is applied. */
  public record CheckTrade(ApplyTrade side) implements Command {}

  /** The trade of a side passed in {@link CheckTrade} was refused by its other side: hold nothing for it. */
  public record ReleaseCheck(long sequence, ActorRef<Reply> replyTo) implements Command {}

  public record ReserveMargin(String orderId, String instrument, long signedLots, long priceTicks,
      ActorRef<Reply> replyTo) implements Command {}

  public record ReleaseReservation(String orderId, ActorRef<Reply> replyTo) implements Command {}

  public record SetLeverage(String instrument, int leverage, ActorRef<Reply> replyTo) implements Command {}

  public record SetLeverageCap(int maxLeverage, String by, ActorRef<Reply> replyTo) implements Command {
    public SetLeverageCap(int maxLeverage, ActorRef<Reply> replyTo) {
      this(maxLeverage, "", replyTo);
    }
  }

  public record SetMarginMode(String instrument, MarginMode mode, ActorRef<Reply> replyTo) implements Command {}

  public record AdjustIsolatedMargin(String instrument, long amount, ActorRef<Reply> replyTo) implements Command {}

  /**
   * From the node's margin monitor: the account looked at or below maintenance at mark
   * {@code markSequence}. The account re-checks with exact integers and the current marks.
   */
  public record StartLiquidation(long markSequence) implements Command {}

  // --- liquidation steps, sent by a LiquidationSaga; each carries the saga's key ------------

  /** Which position the liquidation {@code liquidationId} should close next, and how much of it. */
  public record PlanLiquidationClose(String liquidationId, ActorRef<Reply> replyTo) implements Command {}

  /**
   * The account as it stands ({@link Snapshot}), for the settlement of {@code liquidationId} once
   * its closes are done; refused TRADE_SETTLING while a side its register may still reverse could
   * change the cash the deficit is judged on (at most settling-wait after the side was applied).
   */
  public record AssessLiquidation(String liquidationId, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Moves {@code signedLots} of {@code instrument} at {@code priceTicks} into this account, as
   * {@code role}, under the saga's {@code key}; {@code mode} says how much of it the account takes.
   */
  /**
   * {@code cutMillis}: when the transfer happened for funding, the same for both sides of a close
   * (the saga sends the counterparty's take time with the liquidated account's close and with any
   * give-back); 0: when the account applies it.
   */
  public record ApplyLiquidationTransfer(String key, String liquidationId, LiquidationRole role, String counterparty,
      String instrument, long signedLots, long priceTicks, long maxNotional, TransferMode mode, long cutMillis,
      ActorRef<Reply> replyTo) implements Command {
    public ApplyLiquidationTransfer(String key, String liquidationId, LiquidationRole role, String counterparty,
        String instrument, long signedLots, long priceTicks, long maxNotional, TransferMode mode,
        ActorRef<Reply> replyTo) {
      this(key, liquidationId, role, counterparty, instrument, signedLots, priceTicks, maxNotional, mode, 0, replyTo);
    }
  }

  /** How much of a liquidation transfer an account applies. */
  public enum TransferMode {
    /** The liquidated account closing: clipped to what it still holds (penalty unless a stop). */
    CLOSE_CLIPPED,
    /**
     * A backstop provider taking the position over: all of it, or nothing if it would leave the
     * provider liquidatable or short of initial margin, above its notional limit
     * ({@code maxNotional}, 0: none), in liquidation or in debt.
     */
    TAKE_CHECKED,
    /** A deleveraged account: clipped to reducing the position it holds; nothing while it is liquidated. */
    REDUCE_CLIPPED,
    /** All of it: a counterparty giving back what the liquidated account no longer held. */
    FORCED
  }

  /** The liquidation ended: the keys of its steps may be dropped. From the saga, to each counterparty. */
  public record ForgetLiquidation(String liquidationId, ActorRef<org.apache.pekko.Done> replyTo) implements Command {
    public ForgetLiquidation(String liquidationId) {
      this(liquidationId, null);
    }
  }

  /** Re-hands a liquidation in progress to its saga, in case the first hand-over was lost. */
  private enum ResendBegin implements Command { INSTANCE }

  /** Time to sweep the fees collected since the last sweep (or to resend the sweep in transit). */
  private enum SweepFees implements Command { INSTANCE }

  /** Time to release the reservations on dated futures past their expiry (no order in them can fill). */
  private enum ReleaseExpired implements Command { INSTANCE }

  /** Time to report the late closes the settlements have not recorded yet (again, if unanswered). */
  private enum ReportLate implements Command { INSTANCE }

  /** The settlement of {@code instrument} recorded this account's late closes up to {@code upTo}, or {@code failure}. */
  private record LateReported(String instrument, int upTo, Throwable failure) implements Command {}

  /** The reserve's answer to the sweep {@code key}: arrived, voided (refused for good), or {@code failure}. */
  private record FeesAnswer(String key, boolean voided, String failure) implements Command {}

  /** The register settled trade {@code sequence}: this account's side of it stands (told, never answered). */
  public record SideSettled(long sequence) implements Command {}

  /**
   * Time to ask the registers which of the sides still unconfirmed settle: a register's
   * {@link SideSettled} is told once, and one lost would hold back a settled side's money.
   */
  private enum AskSides implements Command { INSTANCE }

  /** The registers' answer after recovery: which of the {@code asked} sides still settle, or why none came. */
  private record SidesAnswered(List<Long> asked, List<Long> unfinished, String failure) implements Command {}

  /** The registers' answer for a withdrawal: which of the {@code asked} sides are still settling, or why none came. */
  private record WithdrawSidesAnswered(Withdraw withdraw, List<Long> asked, List<Long> unfinished, String failure)
      implements Command {}

  /**
   * Money from the saga's escrow (the insurance fund's cover): at most {@code shortfallCovered} of
   * it pays what the account's closed isolated positions owe, the rest goes into the cash.
   */
  public record CreditLiquidation(String key, String liquidationId, long amount, long shortfallCovered,
      ActorRef<Reply> replyTo) implements Command {}

  /** Records what the cash is still short after the liquidation as debt. */
  public record RecordDebt(String key, String liquidationId, long amount, ActorRef<Reply> replyTo) implements Command {}

  /** The liquidation is over: the account trades again (unless in debt). */
  public record EndLiquidation(String liquidationId, ActorRef<Reply> replyTo) implements Command {}

  /** Sets (stopTicks > 0) or removes (0) the protective stop of the account's position in {@code instrument}. */
  public record SetStop(String instrument, long stopTicks, ActorRef<Reply> replyTo) implements Command {}

  /** From the monitor: the mark crossed the stop of {@code instrument}; the account re-checks. */
  public record TriggerStop(String instrument, long markSequence) implements Command {}

  /**
   * From an instrument's funding clock: pay or receive the funding of the interval ending at
   * {@code fundingTime} on the position held now, at {@code rate} (10^-8) and {@code markTicks}.
   * Applied once per (instrument, fundingTime): a repeat answers with the first payment.
   * {@code earlier}: the clock's last closed intervals, paid first if the account missed them.
   */
  public record ApplyFunding(String instrument, long fundingTime, long rate, long markTicks,
      ActorRef<Reply> replyTo, java.util.List<FundingLedger.Interval> earlier) implements Command {
    public ApplyFunding {
      earlier = earlier == null ? java.util.List.of() : java.util.List.copyOf(earlier);
    }

    public ApplyFunding(String instrument, long fundingTime, long rate, long markTicks, ActorRef<Reply> replyTo) {
      this(instrument, fundingTime, rate, markTicks, replyTo, java.util.List.of());
    }
  }

  /**
   * The account's funding payments, newest first: in {@code instrument} (null: all), with a
   * funding time and instrument ordered after the cursor ({@code beforeFundingTime} 0: from the
   * newest; ordered by funding time, then instrument, both descending), at most {@code limit}.
   */
  public record GetFundingPayments(String instrument, long beforeFundingTime, String beforeInstrument, int limit,
      ActorRef<Reply> replyTo) implements Command {}

  /**
   * From a dated future's settlement ({@link io.clearinghouse.expiry.ExpirySettlement}): close the
   * position in {@code instrument} at {@code priceTicks}, the settlement price of its expiry at
   * {@code expiryMillis}. Applied once per instrument: a repeat answers with the first result.
   */
  public record ApplySettlement(String instrument, long expiryMillis, long priceTicks, ActorRef<Reply> replyTo)
      implements Command {}

  /** Sends the account's state now and after every change to {@code subscriber}, until it stops. */
  public record Subscribe(ActorRef<Reply> subscriber) implements Command {}

  /** Sent by the shard when it passivates the entity. */
  private enum Stop implements Command { INSTANCE }

  public sealed interface Reply extends CborSerializable {}

  public record Snapshot(AccountSummary account) implements Reply {}

  /** Told to subscribers when something happens to the account that its state alone does not show. */
  public record Notice(NoticeKind kind, String liquidationId, String message) implements Reply {}

  public enum NoticeKind { DELEVERAGED, STOP_TRIGGERED, FUNDING }

  public record Transferred(Receipt receipt, boolean replayed) implements Reply {}

  public record Rejected(Rejection reason, String message) implements Reply {}

  public record LiquidationIds(java.util.List<String> newestFirst) implements Reply {}

  /**
   * A funding payment applied now, or before ({@code duplicate}): {@code amount} received (negative:
   * paid); {@code late}: earlier intervals the account had missed, paid with it (funding time to amount).
   */
  public record FundingPaid(long amount, long lots, boolean duplicate, java.util.Map<Long, Long> late)
      implements Reply {
    public FundingPaid {
      late = late == null ? java.util.Map.of() : java.util.Map.copyOf(late);
    }

    public FundingPaid(long amount, long lots, boolean duplicate) {
      this(amount, lots, duplicate, java.util.Map.of());
    }
  }

  /** A dated future's settlement applied to the account now, or before ({@code duplicate}). */
  public record SettlementDone(SettlementApplied settlement, boolean duplicate) implements Reply {}

  /** A page of funding payments, newest first; {@code more}: older ones are retained too. */
  public record FundingPayments(java.util.List<FundingLedger.Payment> newestFirst, boolean more) implements Reply {
    public FundingPayments {
      newestFirst = java.util.List.copyOf(newestFirst);
    }
  }

  /** A trade side is durable: applied now, or found applied before ({@code duplicate}). */
  public record TradeSideApplied(long fee, boolean duplicate) implements Reply {}

  /** A trade side is reversed: now, or before ({@code duplicate}). */
  public record TradeSideReverted(boolean duplicate) implements Reply {}

  /** Answer to {@link ReleaseCheck}. */
  public record CheckReleased() implements Reply {}

  /** A reservation after the call (remaining 0 once released), and the available margin left. */
  public record Reserved(Reservation reservation, long availableAfter) implements Reply {}

  /** The next close of a liquidation, in the liquidated account's terms; lots 0: nothing more to close. */
  public record ClosePlan(String instrument, long signedLots, long markTicks, long bankruptcyTicks, boolean isolated,
      long cash) implements Reply {}

  /** A liquidation transfer applied now or before, or (quote) accepted without persisting. */
  public record TransferApplied(LiquidationTransfer transfer) implements Reply {}

  /** A money step of a liquidation applied now or before. */
  public record StepApplied(long amount) implements Reply {}

  public sealed interface Event extends CborSerializable {}

  /**
   * {@code beginnerLeverage}: above 0, the account opens under the beginner profile, capped at that
   * leverage until an operator sets its cap (0 in events written before the profile existed).
   * {@code by}: the operator token's name ("" in events written before it was recorded).
   */
  public record AccountOpened(String accountId, int beginnerLeverage, String by) implements Event {
    public AccountOpened {
      by = by == null ? "" : by;
    }

    public AccountOpened(String accountId, int beginnerLeverage) {
      this(accountId, beginnerLeverage, "");
    }

    public AccountOpened(String accountId) {
      this(accountId, 0);
    }
  }

  /**
   * Trading fees out of fee revenue into transit under {@code key}, for the platform-revenue
   * reserve; a negative amount is a net rebate claimed from it.
   */
  public record FeesSwept(String key, long amount) implements Event {}

  /** The platform-revenue reserve holds the sweep {@code key}. */
  public record FeesCollected(String key) implements Event {}

  /**
   * The reserve refused the sweep {@code key} for good (a rebate claim it could not pay; it never
   * takes that number later): {@code amount} comes back from transit to fee revenue and is swept
   * again, netted with later fees, under the next number.
   */
  public record FeesSweepVoided(String key, long amount) implements Event {}

  /**
   * Money in from outside, at {@code epochMillis} (when its key's retention starts):
   * {@code owedRepaid} of it repays what isolated positions owe, the rest goes into the cash.
   */
  /** {@code by}: the operator token's name ("" in events written before it was recorded). */
  public record Deposited(String idempotencyKey, long amount, long epochMillis, long owedRepaid, String by)
      implements Event {
    public Deposited {
      by = by == null ? "" : by;
    }

    public Deposited(String idempotencyKey, long amount, long epochMillis, long owedRepaid) {
      this(idempotencyKey, amount, epochMillis, owedRepaid, "");
    }
  }

  public record Withdrawn(String idempotencyKey, long amount, long epochMillis) implements Event {}

  /**
   * One side of a trade, with every money movement it makes: the fee (cash to fee revenue), the
   * realized PnL (position cost to cash), the change of the position's cost, the margin moved
   * from cash into an isolated position (negative: back to cash), and the part of the order's
   * reservation the fill released.
   */
  public record TradeCleared(String tradeId, long sequence, String instrument, long signedLots, long priceTicks,
      long fee, long realizedPnl, long costDelta, long isolatedMarginDelta, String orderId, long reservationReleased,
      String counterparty, Boolean taker, String requestedOrderId, long cutMillis, long fundingInterval)
      implements Event {
    /**
     * Without funding cut: {@code cutMillis} is when the trade happened for funding (the same for
     * both sides), {@code fundingInterval} the perpetual's funding interval then (0: none).
     */
    public TradeCleared(String tradeId, long sequence, String instrument, long signedLots, long priceTicks,
        long fee, long realizedPnl, long costDelta, long isolatedMarginDelta, String orderId, long reservationReleased,
        String counterparty, Boolean taker, String requestedOrderId) {
      this(tradeId, sequence, instrument, signedLots, priceTicks, fee, realizedPnl, costDelta, isolatedMarginDelta,
          orderId, reservationReleased, counterparty, taker, requestedOrderId, 0, 0);
    }
  }

  /**
   * A trade side undone because the trade's other side was refused: the exact negation of its
   * {@link TradeCleared} (lots, cost, realized PnL, isolated margin), the fee back from fee revenue
   * into the cash ({@code feeRefund}), and the position's last trade price as it was before
   * ({@code lastPriceTicks}). The reservation the fill used is not restored: the engine was told the
   * trade was refused. All zero and {@code instrument} null: the side was never applied, and is
   * only marked so that it never will be.
   */
  public record TradeSideReversed(String tradeId, long sequence, String instrument, long signedLots, long priceTicks,
      long feeRefund, long realizedPnl, long costDelta, long isolatedMarginDelta, long lastPriceTicks) implements Event {}

  public record MarginReserved(String orderId, String instrument, long signedLots, long priceTicks, long amount)
      implements Event {}

  public record ReservationReleased(String orderId, long amount) implements Event {}

  /**
   * The settlement of {@code instrument} recorded this account's late closes of it numbered below
   * {@code upTo} ({@link SettledAfterExpiry}, numbered from 0 in the order of this journal).
   */
  public record LateClosesReported(String instrument, int upTo) implements Event {}

  public record LeverageSet(String instrument, int leverage) implements Event {}

  /** {@code by}: the operator token's name ("" in events written before it was recorded). */
  public record LeverageCapSet(int maxLeverage, String by) implements Event {
    public LeverageCapSet {
      by = by == null ? "" : by;
    }

    public LeverageCapSet(int maxLeverage) {
      this(maxLeverage, "");
    }
  }

  public record MarginModeSet(String instrument, MarginMode mode) implements Event {}

  /**
   * The account was found at or below maintenance: what triggered it (the marks per instrument,
   * equity and maintenance margin, exact at that moment). The account is reduce-only from here.
   */
  public record LiquidationStarted(String liquidationId, long markSequence, Map<String, Long> marks, long equity,
      long maintenanceMargin, long epochMillis, String stopInstrument) implements Event {}

  /** A protective stop set on a position (stopTicks > 0) or removed (0). */
  public record StopSet(String instrument, long stopTicks) implements Event {}

  /**
   * A position moving in a liquidation: {@code realizedPnl} and {@code costDelta} as in a trade
   * side, {@code isolatedMarginDelta} the isolated margin released (negative) into the cash,
   * {@code penalty} the liquidation penalty from the cash to the saga's escrow, and
   * {@code shortfall} how far an isolated position's loss went beyond its own margin: it is not
   * taken from the cash but owed by the account ({@link Account#owed()}), for the saga to have
   * covered by the insurance fund, or else recorded as debt, so that the rest of the account is
   * untouched.
   */
  /**
   * {@code epochMillis}: when the transfer counts for funding (the cut, the same for both sides of
   * a close); {@code fundingInterval}: the perpetual's funding interval then (0: none, or written
   * before transfers carried it).
   */
  public record LiquidationTransfer(String key, String liquidationId, LiquidationRole role, String counterparty,
      String instrument, long signedLots, long priceTicks, long realizedPnl, long costDelta, long isolatedMarginDelta,
      long penalty, long shortfall, long epochMillis, long fundingInterval) implements Event {
    public LiquidationTransfer(String key, String liquidationId, LiquidationRole role, String counterparty,
        String instrument, long signedLots, long priceTicks, long realizedPnl, long costDelta, long isolatedMarginDelta,
        long penalty, long shortfall, long epochMillis) {
      this(key, liquidationId, role, counterparty, instrument, signedLots, priceTicks, realizedPnl, costDelta,
          isolatedMarginDelta, penalty, shortfall, epochMillis, 0);
    }
  }

  /** The fund's cover from the saga's escrow: {@code shortfallCovered} of it pays owed isolated shortfalls. */
  public record LiquidationCredited(String key, String liquidationId, long amount, long shortfallCovered)
      implements Event {}

  public record DebtRecorded(String key, String liquidationId, long amount) implements Event {}

  public record LiquidationEnded(String liquidationId, long epochMillis) implements Event {}

  /** The steps of a finished liquidation this account took a side of are no longer remembered. */
  public record LiquidationForgotten(String liquidationId) implements Event {}

  /** An applied liquidation step, remembered to answer the saga's retries with the first result. */
  public record LiquidationStep(String key, LiquidationTransfer transfer, long amount) implements CborSerializable {}

  /**
   * The funding of the interval ending at {@code fundingTime} of {@code instrument}: {@code amount}
   * received from the instrument's funding pool (negative: paid into it, rounded up) on
   * {@code lots} held at {@code markTicks} and {@code rate} (10^-8). Lots 0: nothing moved, the
   * interval is only marked as applied.
   */
  public record FundingApplied(String instrument, long fundingTime, long rate, long markTicks, long lots, long amount,
      long epochMillis) implements Event {}

  /**
   * A position change cut before a funding time the account was already paid for arrived after
   * the payment (a trade side or a liquidation transfer held up by a node failure): the payment
   * for {@code fundingTime} is redone on the lots held then, {@code lots}, at the same
   * {@code rate} and {@code markTicks}; {@code amount} is the difference, received from
   * (positive) or paid into (negative) the instrument's funding pool. The time's payment then is
   * exactly what it would have been on time, so the interval still nets to its rounding residue.
   */
  public record FundingAdjusted(String instrument, long fundingTime, long rate, long markTicks, long lots, long amount,
      long epochMillis) implements Event {}

  /**
   * The position of {@code lots} with cost {@code cost} in the dated future {@code instrument}
   * closed at its settlement price {@code priceTicks} (expiry at {@code expiryMillis}):
   * {@code value = lots * price * multiplier} from the instrument's settlement pool (negative: paid
   * into it), realized PnL {@code value - cost} to the cash, the delivery {@code fee} to fee
   * revenue, the isolated margin {@code isolatedReleased} back to the cash, and {@code shortfall}
   * what an isolated position lost beyond its margin: owed by the account (as a liquidation's
   * isolated shortfall), not taken from the cash; the instrument's reservations and stop are
   * dropped. Lots 0: the account held nothing, only marked settled.
   */
  public record SettlementApplied(String instrument, long expiryMillis, long priceTicks, long lots, long value,
      long cost, long fee, long isolatedReleased, long epochMillis, long shortfall) implements Event {
    /** Without a shortfall (a cross position, or an isolated one its margin carried; journals before it had one). */
    public SettlementApplied(String instrument, long expiryMillis, long priceTicks, long lots, long value, long cost,
        long fee, long isolatedReleased, long epochMillis) {
      this(instrument, expiryMillis, priceTicks, lots, value, cost, fee, isolatedReleased, epochMillis, 0);
    }

    public long pnl() {
      return Math.subtractExact(value, cost);
    }

    /** What the account's cash gained (negative: lost); an isolated shortfall is owed, not taken from it. */
    public long cashDelta() {
      return Math.addExact(Math.addExact(Math.subtractExact(pnl(), fee), isolatedReleased), shortfall);
    }
  }

  /**
   * What a side applied after this account's settlement of a dated future left in it (a forced
   * side, a reversal, a liquidation give-back: paths that must not be refused) closed at once, in
   * the same batch, at the recorded settlement price, as {@link SettlementApplied} closed the rest:
   * its value from (short: into) the settlement pool, its isolated margin back, an isolated
   * shortfall owed (issue 17 review). No delivery fee: the side came after the settlement through
   * no act of the account's (a reversal would otherwise pay it twice).
   */
  public record SettledAfterExpiry(String instrument, long expiryMillis, long priceTicks, long lots, long value,
      long cost, long isolatedReleased, long shortfall, long epochMillis) implements Event {
    public long pnl() {
      return Math.subtractExact(value, cost);
    }

    public long cashDelta() {
      return Math.addExact(Math.addExact(pnl(), isolatedReleased), shortfall);
    }
  }

  /** Cash moved into (positive) or out of (negative) an isolated position's margin. */
  public record IsolatedMarginAdjusted(String instrument, long amount) implements Event {}

  // --- state ----------------------------------------------------------------------------

  public sealed interface State extends CborSerializable permits Unopened, Account {}

  /** Never opened: the state of every id until {@link AccountOpened}. */
  public enum Unopened implements State {
    INSTANCE;

    @JsonCreator
    public static Unopened create() {
      return INSTANCE;
    }
  }

  // --- wiring ---------------------------------------------------------------------------

  /** What an account needs from its node besides its own state. */
  /**
   * {@code openInterest}: the cluster's open interest of an instrument in lots as this node last
   * heard it, for the concentration and open-interest limits (issue 16).
   */
  /**
   * {@code unfinished}: which sides' trades their registers are still settling, asked before
   * a withdrawal ({@link UnfinishedTrades#NONE}: never asked, as with no register).
   */
  public record Environment(AccountSettings settings, Instruments instruments, MarkPrices marks, RiskRegistry monitor,
      Clock clock, LiquidationStarter liquidations, FeeCollector fees, java.util.function.ToLongFunction<String>
      openInterest, UnfinishedTrades unfinished, SettlementPrices settlementPrices) {
    public Environment {
      settlementPrices = settlementPrices == null ? SettlementPrices.NONE : settlementPrices;
    }

    /** Without the settlements' prices (no account settles itself, no late close is reported). */
    public Environment(AccountSettings settings, Instruments instruments, MarkPrices marks, RiskRegistry monitor,
        Clock clock, LiquidationStarter liquidations, FeeCollector fees, java.util.function.ToLongFunction<String>
        openInterest, UnfinishedTrades unfinished) {
      this(settings, instruments, marks, monitor, clock, liquidations, fees, openInterest, unfinished,
          SettlementPrices.NONE);
    }

    /** This environment with the node's settlement prices and its late closes' recipient. */
    public Environment withSettlementPrices(SettlementPrices prices) {
      return new Environment(settings, instruments, marks, monitor, clock, liquidations, fees, openInterest,
          unfinished, prices);
    }

    public Environment(AccountSettings settings, Instruments instruments, MarkPrices marks, RiskRegistry monitor,
        Clock clock, LiquidationStarter liquidations, FeeCollector fees, java.util.function.ToLongFunction<String>
        openInterest) {
      this(settings, instruments, marks, monitor, clock, liquidations, fees, openInterest, UnfinishedTrades.NONE);
    }

    /** Without open interest (no open-interest or share limit can be reached). */
    public Environment(AccountSettings settings, Instruments instruments, MarkPrices marks, RiskRegistry monitor,
        Clock clock, LiquidationStarter liquidations, FeeCollector fees) {
      this(settings, instruments, marks, monitor, clock, liquidations, fees, instrument -> 0L);
    }

    /** Without a fee collector: fees stay in the accounts' fee revenue. */
    public Environment(AccountSettings settings, Instruments instruments, MarkPrices marks, RiskRegistry monitor,
        Clock clock, LiquidationStarter liquidations) {
      this(settings, instruments, marks, monitor, clock, liquidations, FeeCollector.NONE);
    }
  }

  /** Hands a started liquidation to its saga; called again after recovery until the saga ends it. */
  @FunctionalInterface
  public interface LiquidationStarter {
    LiquidationStarter NONE = (accountId, liquidation) -> {};

    void begin(String accountId, Account.Liquidation liquidation);
  }

  public static void init(ActorSystem<?> system, Environment environment) {
    ClusterSharding.get(system).init(
        Entity.of(TYPE_KEY, context -> Behaviors.<Command>setup(ctx -> Behaviors.<Command>withTimers(timers ->
                new AccountEntity(context.getEntityId(), environment, ctx, timers,
                    () -> context.getShard().tell(new ClusterSharding.Passivate<>(ctx.getSelf()))))))
            .withStopMessage(Stop.INSTANCE));
  }

  /** For tests: the behaviour without sharding. */
  public static Behavior<Command> create(String accountId, Environment environment) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new AccountEntity(accountId, environment, ctx, timers,
        () -> {})));
  }

  public static PersistenceId persistenceId(String accountId) {
    return PersistenceId.of(TYPE_KEY.name(), accountId);
  }

  private final String accountId;
  private final AccountSettings settings;
  private final Runnable passivate;
  private final RiskView risk;
  private final Environment environment;
  private final ActorContext<Command> context;
  /** Live subscribers of this account's state; in memory only, they re-subscribe after a move. */
  private final Set<ActorRef<Reply>> subscribers = new HashSet<>();
  private static final java.time.Duration RESEND_BEGIN_EVERY = java.time.Duration.ofSeconds(5);
  private final org.apache.pekko.actor.typed.javadsl.TimerScheduler<Command> timers;
  /** The liquidation this incarnation handed to its saga (after recovery: again, which is harmless). */
  private String beganLiquidation = "";
  /** Trade sides passed in a check and not yet applied; in memory, held for at most the ask timeout. */
  private final PendingSides pending;
  private final SettlingSides settlingSides;
  /** Recovered and asking the registers about the remembered sides: other commands are stashed until they answer. */
  private boolean awaitingSides;
  /** Per dated future, how far this incarnation has sent its late closes to the settlement (in memory). */
  private final Map<String, Integer> lateSent = new java.util.HashMap<>();
  private final long keyRetentionMillis;

  private AccountEntity(String accountId, Environment environment, ActorContext<Command> context,
      org.apache.pekko.actor.typed.javadsl.TimerScheduler<Command> timers, Runnable passivate) {
    super(persistenceId(accountId));
    this.timers = timers;
    this.accountId = accountId;
    this.settings = environment.settings();
    this.environment = environment;
    this.context = context;
    this.passivate = passivate;
    this.risk = new RiskView(environment.instruments(), environment.marks(), settings.defaultLeverage());
    this.pending = new PendingSides(settings.askTimeout(), System::nanoTime);
    this.settlingSides = environment.unfinished() == UnfinishedTrades.NONE ? null
        : new SettlingSides(environment.clock().millis());
    this.keyRetentionMillis = settings.idempotencyKeyRetention().toMillis();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          UnreadableJournals.get(context.getSystem()).recovered(accountId);
          changed(state);
          if (settlingSides != null && state instanceof Account account) {
            List<Long> unconfirmed = settlingSides.unconfirmed(account);
            if (!unconfirmed.isEmpty()) {
              // Commands wait for the answer (or the ask's timeout), then run in their order.
              awaitingSides = true;
              askRegisters(unconfirmed, (unfinished, failure) -> new SidesAnswered(unconfirmed, unfinished, failure));
            }
          }
        })
        // A journal that does not read stops this account alone; callers are told so at once.
        .onSignal(RecoveryFailed.class, (state, failed) ->
            UnreadableJournals.get(context.getSystem()).failed(accountId, failed.getFailure()))
        .onSignal(PostStop.instance(), state -> environment.monitor().untrack(accountId, context.getSelf()))
        .onSignal(Terminated.class, (state, terminated) -> subscribers.remove(terminated.getRef()))
        .build();
  }

  /** After recovery and every persisted change: the monitor and the subscribers hear of it. */
  private void changed(State state) {
    if (state instanceof Account account) {
      if (account.liquidating() && !beganLiquidation.equals(account.liquidation().liquidationId())) {
        beganLiquidation = account.liquidation().liquidationId();
        environment.liquidations().begin(accountId, account.liquidation());
        // Again every few seconds until the saga ends it: a hand-over lost with a node is repeated.
        timers.startTimerWithFixedDelay(ResendBegin.INSTANCE, RESEND_BEGIN_EVERY);
      } else if (!account.liquidating() && !beganLiquidation.isEmpty()) {
        beganLiquidation = "";
        timers.cancel(ResendBegin.INSTANCE);
      }
      environment.monitor().track(accountId, account.exposure(), context.getSelf());
      if (settlingSides != null) {
        settlingSides.observe(account, environment.clock().millis());
      }
      askSidesLater();
      releaseExpiredLater(account);
      if (lateToSend(account)) {
        reportLate(account);
      } else if (account.lateUnreported().isEmpty()) {
        timers.cancel(ReportLate.INSTANCE);
      }
      if (environment.fees() != FeeCollector.NONE && account.fees().due()
          && !timers.isTimerActive(SweepFees.INSTANCE)) {
        timers.startSingleTimer(SweepFees.INSTANCE, environment.fees().interval());
      }
      if (!subscribers.isEmpty()) {
        Reply snapshot = snapshot(account);
        subscribers.forEach(s -> s.tell(snapshot));
      }
    }
  }

  @Override
  public State emptyState() {
    return Unopened.INSTANCE;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  /*
   * The handlers dispatch by hand (instanceof, the frequent commands first) rather than through
   * Pekko's handler builders: a builder's table of cases is built again for every entity instance
   * and cost about 6 KB of heap per remembered account (issue 15, P7); this costs one lambda.
   */
  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    Handlers handlers = new Handlers();
    return (state, command) -> {
      // Reversals, check releases and reads judge no money: they never wait.
      if (awaitingSides && !(command instanceof SidesAnswered || command instanceof SideSettled
          || command instanceof AskSides || command instanceof ReverseTradeSide || command instanceof ReleaseCheck
          || command instanceof Get || command instanceof Subscribe)) {
        // Recovered with sides whose registers may still undo them, not yet asked about: nothing
        // is judged as if every remembered side could be undone (they were settled long ago).
        return Effect().stash();
      }
      return state instanceof Account account ? handlers.opened(account, command) : unopened(command);
    };
  }

  /** Commands to an id that was never opened: only Open opens it; everything else is refused or ignored. */
  private ReplyEffect<Event, State> unopened(Command command) {
    if (command instanceof Open cmd) {
      return Effect().persist(new AccountOpened(accountId, settings.beginnerLeverage(), cmd.by()))
          .thenRun(this::changed)
          .thenReply(cmd.replyTo(), state -> snapshot((Account) state));
    } else if (command instanceof ApplyTrade cmd) {
      return notFound(cmd.replyTo());
    } else if (command instanceof CheckTrade cmd) {
      return notFound(cmd.side().replyTo());
    } else if (command instanceof ForceTradeSide cmd) {
      return notFound(cmd.side().replyTo());
    } else if (command instanceof ReleaseCheck cmd) {
      return Effect().reply(cmd.replyTo(), new CheckReleased());
    } else if (command instanceof Subscribe cmd) {
      return notFound(cmd.subscriber());
    } else if (command instanceof ForgetLiquidation cmd) {
      return cmd.replyTo() == null ? Effect().noReply() : Effect().reply(cmd.replyTo(), org.apache.pekko.Done.done());
    } else if (command instanceof StartLiquidation || command instanceof TriggerStop
        || command instanceof ResendBegin || command instanceof SweepFees || command instanceof FeesAnswer
        || command instanceof ReleaseExpired || command instanceof ReportLate || command instanceof LateReported
        || command instanceof SideSettled || command instanceof SidesAnswered || command instanceof AskSides) {
      return Effect().noReply();
    } else if (command instanceof Stop) {
      return Effect().stop().thenNoReply();
    }
    ActorRef<Reply> replyTo = replyTo(command);
    if (replyTo == null) {
      throw new IllegalStateException("no handler for " + command.getClass().getName() + " before the account opened");
    }
    return notFound(replyTo);
  }

  /** Where the answer of a command that carries a plain reply address goes (null: none). */
  private static ActorRef<Reply> replyTo(Command command) {
    if (command instanceof Deposit c) {
      return c.replyTo();
    } else if (command instanceof Withdraw c) {
      return c.replyTo();
    } else if (command instanceof WithdrawSidesAnswered c) {
      return c.withdraw().replyTo();
    } else if (command instanceof Get c) {
      return c.replyTo();
    } else if (command instanceof GetLiquidationIds c) {
      return c.replyTo();
    } else if (command instanceof ReverseTradeSide c) {
      return c.replyTo();
    } else if (command instanceof ReserveMargin c) {
      return c.replyTo();
    } else if (command instanceof ReleaseReservation c) {
      return c.replyTo();
    } else if (command instanceof SetLeverage c) {
      return c.replyTo();
    } else if (command instanceof SetLeverageCap c) {
      return c.replyTo();
    } else if (command instanceof SetMarginMode c) {
      return c.replyTo();
    } else if (command instanceof AdjustIsolatedMargin c) {
      return c.replyTo();
    } else if (command instanceof PlanLiquidationClose c) {
      return c.replyTo();
    } else if (command instanceof AssessLiquidation c) {
      return c.replyTo();
    } else if (command instanceof SetStop c) {
      return c.replyTo();
    } else if (command instanceof ApplyLiquidationTransfer c) {
      return c.replyTo();
    } else if (command instanceof CreditLiquidation c) {
      return c.replyTo();
    } else if (command instanceof RecordDebt c) {
      return c.replyTo();
    } else if (command instanceof EndLiquidation c) {
      return c.replyTo();
    } else if (command instanceof ApplyFunding c) {
      return c.replyTo();
    } else if (command instanceof GetFundingPayments c) {
      return c.replyTo();
    } else if (command instanceof ApplySettlement c) {
      return c.replyTo();
    }
    return null;
  }

  /** The handlers of an open account, made once per entity instance. */
  private final class Handlers {
    private final TradingHandlers trading = new TradingHandlers(Effect(), risk, environment.instruments(),
        settings.asset(), pending, settings.checkUnreservedFills(), AccountEntity.this::changed,
        () -> environment.clock().millis(), () -> lastSequenceNumber(context), settlingSides,
        environment.settlementPrices());
    private final ReservationHandlers reservations = new ReservationHandlers(Effect(), risk, environment.instruments(),
        settings.asset(), pending, trading, AccountEntity.this::changed, environment.openInterest());
    private final LiquidationHandlers liquidation = new LiquidationHandlers(Effect(), risk, environment.instruments(),
        trading, environment.clock(), AccountEntity.this::changed, accountId, AccountEntity.this::notice,
        () -> lastSequenceNumber(context), settings.settlingWait());
    private final TriggerHandlers triggers = new TriggerHandlers(Effect(), risk, environment.instruments(),
        environment.marks(), environment.clock(), AccountEntity.this::changed, () -> lastSequenceNumber(context),
        accountId, AccountEntity.this::notice);
    private final TransferHandlers transfers = new TransferHandlers(Effect(), risk, settings, environment.clock(),
        pending, new TransferHandlers.Settling(settlingSides, AccountEntity.this::askSettling, trading::settlingViews),
        AccountEntity.this::changed);
    private final FundingHandlers funding = new FundingHandlers(Effect(), environment.instruments(),
        environment.clock(), AccountEntity.this::changed, AccountEntity.this::notice, () -> lastSequenceNumber(context));
    private final SettlementHandlers settlement = new SettlementHandlers(Effect(), environment.instruments(),
        environment.clock(), AccountEntity.this::changed, () -> lastSequenceNumber(context));

    ReplyEffect<Event, State> opened(Account account, Command command) {
      if (command instanceof CheckTrade cmd) {
        return trading.checkTrade(account, cmd);
      } else if (command instanceof ApplyTrade cmd) {
        return trading.applyTrade(account, cmd);
      } else if (command instanceof ReleaseCheck cmd) {
        return trading.releaseCheck(cmd);
      } else if (command instanceof ReserveMargin cmd) {
        return reservations.reserve(account, cmd);
      } else if (command instanceof ReleaseReservation cmd) {
        return reservations.release(account, cmd);
      } else if (command instanceof Get cmd) {
        return Effect().reply(cmd.replyTo(), snapshot(account));
      } else if (command instanceof Subscribe cmd) {
        subscribers.add(cmd.subscriber());
        context.watch(cmd.subscriber());
        return Effect().reply(cmd.subscriber(), snapshot(account));
      } else if (command instanceof Deposit cmd) {
        return transfers.deposit(account, cmd);
      } else if (command instanceof Withdraw cmd) {
        return transfers.withdraw(account, cmd, false);
      } else if (command instanceof SideSettled cmd) {
        if (settlingSides != null) {
          settlingSides.settled(cmd.sequence());
        }
        return Effect().noReply();
      } else if (command instanceof SidesAnswered cmd) {
        if (cmd.failure() == null) {
          settlingSides.answered(cmd.asked(), cmd.unfinished());
        } else {
          context.getLog().debug("Trade registers of {} did not say which of {} still settle: {}", accountId,
              cmd.asked(), cmd.failure());
        }
        if (!settlingSides.unconfirmed(account).isEmpty()) {
          askSidesLater();
        }
        awaitingSides = false;
        return Effect().noReply().thenUnstashAll();
      } else if (command instanceof AskSides) {
        List<Long> unconfirmed = settlingSides == null ? List.of() : settlingSides.unconfirmed(account);
        if (!unconfirmed.isEmpty()) {
          askRegisters(unconfirmed, (unfinished, failure) -> new SidesAnswered(unconfirmed, unfinished, failure));
        }
        return Effect().noReply();
      } else if (command instanceof WithdrawSidesAnswered cmd) {
        if (cmd.failure() == null) {
          settlingSides.answered(cmd.asked(), cmd.unfinished());
        } else {
          context.getLog().warn("Trade registers of {} did not say which of {} still settle: {}", accountId, cmd.asked(),
              cmd.failure());
        }
        return transfers.withdraw(account, cmd.withdraw(), true);
      } else if (command instanceof ApplyFunding cmd) {
        return funding.apply(account, cmd);
      } else if (command instanceof ApplySettlement cmd) {
        return settlement.apply(account, cmd);
      } else if (command instanceof GetFundingPayments cmd) {
        return funding.list(account, cmd);
      } else if (command instanceof Open cmd) {
        return Effect().reply(cmd.replyTo(), snapshot(account));
      } else if (command instanceof GetLiquidationIds cmd) {
        return Effect().reply(cmd.replyTo(), new LiquidationIds(account.recentLiquidationIds(Math.max(0, cmd.limit()))));
      } else if (command instanceof ForceTradeSide cmd) {
        return trading.forceTrade(account, cmd);
      } else if (command instanceof ReverseTradeSide cmd) {
        return trading.reverseTrade(account, cmd);
      } else if (command instanceof SetLeverage cmd) {
        return trading.setLeverage(account, cmd);
      } else if (command instanceof SetLeverageCap cmd) {
        return trading.setLeverageCap(account, cmd);
      } else if (command instanceof SetMarginMode cmd) {
        return trading.setMarginMode(account, cmd);
      } else if (command instanceof AdjustIsolatedMargin cmd) {
        return trading.adjustIsolatedMargin(account, cmd);
      } else if (command instanceof StartLiquidation cmd) {
        return triggers.startLiquidation(account, cmd);
      } else if (command instanceof SetStop cmd) {
        return triggers.setStop(account, cmd);
      } else if (command instanceof TriggerStop cmd) {
        return triggers.triggerStop(account, cmd);
      } else if (command instanceof PlanLiquidationClose cmd) {
        return liquidation.plan(account, cmd);
      } else if (command instanceof AssessLiquidation cmd) {
        return liquidation.assess(account, cmd, snapshot(account));
      } else if (command instanceof ApplyLiquidationTransfer cmd) {
        return liquidation.transfer(account, cmd);
      } else if (command instanceof CreditLiquidation cmd) {
        return liquidation.credit(account, cmd);
      } else if (command instanceof RecordDebt cmd) {
        return liquidation.recordDebt(account, cmd);
      } else if (command instanceof EndLiquidation cmd) {
        return liquidation.end(account, cmd);
      } else if (command instanceof ForgetLiquidation cmd) {
        return liquidation.forget(account, cmd);
      } else if (command instanceof ResendBegin) {
        if (account.liquidating()) {
          environment.liquidations().begin(accountId, account.liquidation());
        }
        return Effect().noReply();
      } else if (command instanceof SweepFees cmd) {
        return sweepFees(account, cmd);
      } else if (command instanceof ReleaseExpired) {
        return releaseExpired(account);
      } else if (command instanceof ReportLate) {
        reportLate(account);
        return Effect().noReply();
      } else if (command instanceof LateReported cmd) {
        return lateReported(account, cmd);
      } else if (command instanceof FeesAnswer cmd) {
        return feesAnswered(account, cmd);
      } else if (command instanceof Stop) {
        return Effect().stop().thenNoReply();
      }
      throw new IllegalStateException("no handler for " + command.getClass().getName());
    }
  }

  private void notice(Reply notice) {
    subscribers.forEach(s -> s.tell(notice));
  }

  /**
   * Sends the sweep in transit again, or starts one with what was collected since the last: first
   * its own event (the fees into transit), then the reserve's receipt. Crash-safe: a sweep in
   * transit is resent after recovery under the same key, which the reserve takes once.
   */
  /** The longest a timer waits: a dated future may expire further off than a timer can be scheduled. */
  private static final java.time.Duration RECHECK_EXPIRY_AT_MOST = java.time.Duration.ofHours(1);
  /** How soon an unanswered report of late closes is sent again. */
  static final java.time.Duration REPORT_LATE_AGAIN = java.time.Duration.ofSeconds(5);

  /**
   * Issue 17 (expiry, known limit 1): a reservation on a dated future past its expiry can never be
   * used (the registers refuse its trades), and the settlement releases reservations only of the
   * accounts it settles (holders). So the account releases them itself: at the expiry (a timer,
   * or after its next start, which runs this from recovery), each by a {@link ReservationReleased}.
   * Exactly once: a released reservation is gone from the state, so a repeat finds nothing.
   */
  private void releaseExpiredLater(Account account) {
    long now = environment.clock().millis();
    long next = Long.MAX_VALUE;
    for (Reservation r : account.reservations().values()) {
      io.clearinghouse.instrument.ExpiryTerms terms = expiryOf(r.instrument());
      if (terms != null) {
        next = Math.min(next, terms.expiryMillis());
      }
    }
    if (next == Long.MAX_VALUE) {
      timers.cancel(ReleaseExpired.INSTANCE);
    } else if (next <= now) {
      timers.startSingleTimer(ReleaseExpired.INSTANCE, java.time.Duration.ZERO);
    } else {
      long wait = Math.min(next - now, RECHECK_EXPIRY_AT_MOST.toMillis());
      timers.startSingleTimer(ReleaseExpired.INSTANCE, java.time.Duration.ofMillis(wait));
    }
  }

  private io.clearinghouse.instrument.ExpiryTerms expiryOf(String instrument) {
    try {
      return environment.instruments().spec(instrument).expiry();
    } catch (RuntimeException e) {
      return null;
    }
  }

  private ReplyEffect<Event, State> releaseExpired(Account account) {
    long now = environment.clock().millis();
    List<Event> released = new java.util.ArrayList<>();
    new java.util.TreeMap<>(account.reservations()).forEach((orderId, r) -> {
      io.clearinghouse.instrument.ExpiryTerms terms = expiryOf(r.instrument());
      if (terms != null && terms.expired(now)) {
        released.add(new ReservationReleased(orderId, r.amount()));
      }
    });
    if (released.isEmpty()) {
      releaseExpiredLater(account);
      return Effect().noReply();
    }
    context.getLog().info("{} releases {} reservations on expired dated futures", accountId, released.size());
    return Effect().persist(released).thenRun(this::changed).thenNoReply();
  }

  /**
   * Issue 17 (expiry, known limit 3): this account's late closes are recorded by the instrument's
   * settlement, by (account, number), so its record's values sum to zero. Reported after each
   * change that leaves some unrecorded and after recovery, and again every few seconds until the
   * settlement answers; each answer is persisted ({@link LateClosesReported}).
   */
  /** Whether a late close is not even sent yet (sent ones are sent again by the timer until recorded). */
  private boolean lateToSend(Account account) {
    for (String instrument : account.lateUnreported()) {
      Account.LateCloses late = account.lateCloses().get(instrument);
      if (late.reported() + late.unreported().size() > lateSent.getOrDefault(instrument, -1)) {
        return true;
      }
    }
    return false;
  }

  private void reportLate(Account account) {
    Set<String> instruments = account.lateUnreported();
    if (instruments.isEmpty()) {
      timers.cancel(ReportLate.INSTANCE);
      return;
    }
    timers.startSingleTimer(ReportLate.INSTANCE, REPORT_LATE_AGAIN);
    for (String instrument : instruments) {
      Account.LateCloses late = account.lateCloses().get(instrument);
      int upTo = late.reported() + late.unreported().size();
      lateSent.put(instrument, upTo);
      context.pipeToSelf(environment.settlementPrices().reportLate(instrument, accountId,
          account.settlements().get(instrument), late.reported(), late.unreported()), (done, failure) -> new LateReported(instrument, upTo, failure));
    }
  }

  private ReplyEffect<Event, State> lateReported(Account account, LateReported cmd) {
    if (cmd.failure() != null) {
      context.getLog().warn("{} could not report its late closes of {} to the settlement, reported again: {}",
          accountId, cmd.instrument(), cmd.failure().toString());
      return Effect().noReply();
    }
    Account.LateCloses late = account.lateCloses().get(cmd.instrument());
    if (late == null || cmd.upTo() <= late.reported()) {
      return Effect().noReply();
    }
    return Effect().persist(new LateClosesReported(cmd.instrument(), cmd.upTo())).thenRun(this::changed)
        .thenNoReply();
  }

  private ReplyEffect<Event, State> sweepFees(Account account, SweepFees cmd) {
    FeeSweep fees = account.fees();
    if (fees.pendingKey() != null) {
      collect(fees.pendingKey(), fees.sweeps(), fees.pendingAmount());
      return Effect().noReply();
    }
    if (fees.unswept() == 0 || environment.fees() == FeeCollector.NONE) {
      return Effect().noReply();
    }
    FeesSwept swept = new FeesSwept(fees.nextKey(accountId), fees.unswept());
    return Effect().persist(swept).thenRun(after -> collect(swept.key(), fees.sweeps() + 1, swept.amount()))
        .thenNoReply();
  }

  /** Asks the registers which of {@code sequences} still settle; the answer comes back with the withdrawal. */
  /** Asks the registers about the unconfirmed sides {@code ask-sides-after} from now, unless already due. */
  private void askSidesLater() {
    if (settlingSides != null && !timers.isTimerActive(AskSides.INSTANCE)) {
      timers.startSingleTimer(AskSides.INSTANCE, settings.askSidesAfter());
    }
  }

  private void askSettling(Withdraw withdraw, List<Long> sequences) {
    askRegisters(sequences, (unfinished, failure) -> new WithdrawSidesAnswered(withdraw, sequences, unfinished, failure));
  }

  /** Asks the registers which of {@code sequences} still settle; {@code answer} makes the command it comes back as. */
  private void askRegisters(List<Long> sequences,
      java.util.function.BiFunction<List<Long>, String, Command> answer) {
    CompletionStage<List<Long>> asked;
    try {
      asked = environment.unfinished().of(sequences);
    } catch (RuntimeException e) {
      asked = java.util.concurrent.CompletableFuture.failedFuture(e);
    }
    // Never longer than an ask: commands stashed after a recovery wait at most this long.
    asked = asked.toCompletableFuture().orTimeout(settings.askTimeout().toMillis(),
        java.util.concurrent.TimeUnit.MILLISECONDS);
    context.pipeToSelf(asked, (unfinished, failure) -> answer.apply(unfinished == null ? List.of() : unfinished,
        failure == null ? null : failure.toString()));
  }

  private void collect(String key, long sweep, long amount) {
    CompletionStage<Void> collected;
    try {
      collected = environment.fees().collect(accountId, sweep, amount);
    } catch (RuntimeException e) {
      collected = java.util.concurrent.CompletableFuture.failedFuture(e);
    }
    context.pipeToSelf(collected, (done, failure) -> {
      Throwable cause = io.clearinghouse.common.Failures.unwrap(failure);
      boolean voided = cause instanceof io.clearinghouse.common.RejectedException refused
          && refused.reason() == Rejection.INSUFFICIENT_RESERVE;
      return new FeesAnswer(key, voided, failure == null ? null : failure.toString());
    });
  }

  private ReplyEffect<Event, State> feesAnswered(Account account, FeesAnswer answer) {
    if (!answer.key().equals(account.fees().pendingKey())) {
      return Effect().noReply();
    }
    if (answer.voided()) {
      // Refused for good: back from transit, and claimed again (netted with later fees) next time.
      return Effect().persist(new FeesSweepVoided(answer.key(), account.fees().pendingAmount()))
          .thenRun(this::changed).thenNoReply();
    }
    if (answer.failure() != null) {
      context.getLog().warn("Fee sweep {} of {} not taken yet, retrying: {}", answer.key(), accountId, answer.failure());
      timers.startSingleTimer(SweepFees.INSTANCE, environment.fees().interval());
      return Effect().noReply();
    }
    return Effect().persist(new FeesCollected(answer.key())).thenRun(this::changed).thenNoReply();
  }

  private Reply snapshot(Account account) {
    return new Snapshot(risk.summary(account));
  }

  private ReplyEffect<Event, State> reject(ActorRef<Reply> replyTo, Rejection reason, String message) {
    return Effect().reply(replyTo, new Rejected(reason, message));
  }

  /** Refuses, then passivates: an id that was never opened must not stay remembered by its shard. */
  private ReplyEffect<Event, State> notFound(ActorRef<Reply> replyTo) {
    return Effect().none()
        .thenRun(state -> passivate.run())
        .thenReply(replyTo, state -> new Rejected(Rejection.ACCOUNT_NOT_FOUND, "account " + accountId + " does not exist"));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return this::applied;
  }

  private State applied(State state, Event event) {
    if (state instanceof Account account) {
      return account.apply(event, keyRetentionMillis);
    } else if (event instanceof AccountOpened opened) {
      return Account.opened(opened.accountId(), settings.retainedTrades(), opened.beginnerLeverage());
    }
    throw new IllegalStateException("event " + event.getClass().getName() + " before the account opened");
  }
}
