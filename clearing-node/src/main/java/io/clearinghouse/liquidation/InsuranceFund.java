package io.clearinghouse.liquidation;

// Over 450 lines: the reserve ledger's protocol (commands, events, replies, state); its command and event handlers are in FundCommands and FundEvents.

import io.clearinghouse.common.Rejection;
import io.clearinghouse.margin.Position;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.money.Bucket;
import io.clearinghouse.persistence.CborSerializable;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One reserve ledger (DESIGN sections 6 and 7): an insurance fund (entity type
 * {@code InsuranceFund}, keyed by fund name) or one of the platform's reserves (type
 * {@code Reserve}, keyed by {@link PlatformReserve} name). It receives liquidation penalty shares
 * from the sagas' escrow, pays deficits back into it, takes operator top-ups and withdrawals, and
 * moves replenishments between reserves. An insurance fund also holds the positions it took over
 * at the bankruptcy price, until they are unwound ({@link FundUnwind}); their realized PnL is its.
 * Its balance never goes below zero: a payment is at most the balance not held for others, a
 * withdrawal is refused beyond it, and a takeover whose loss it could not pay is declined.
 * Every movement carries an idempotency key and is applied once; the ledger keeps its recent
 * history (at most {@code retainedHistory} entries) for operators, its operator keys for
 * {@code topUpKeyRetention} (whatever the history's size) and the movements of liquidations not
 * yet forgotten, for answering retries. The command rules are in {@link FundCommands}.
 */
public final class InsuranceFund
    extends EventSourcedBehaviorWithEnforcedReplies<InsuranceFund.Command, InsuranceFund.Event, InsuranceFund.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "InsuranceFund");
  /** The platform's reserves run the same ledger under their own type. */
  public static final EntityTypeKey<Command> RESERVE_TYPE_KEY = EntityTypeKey.create(Command.class, "Reserve");

  public sealed interface Command extends CborSerializable {}

  /** External money from the operator into the ledger. */
  /** {@code by}: the name of the operator token that asked (recorded on the event). */
  public record TopUp(String key, long amount, String by, ActorRef<Reply> replyTo) implements Command {
    public TopUp(String key, long amount, ActorRef<Reply> replyTo) {
      this(key, amount, "", replyTo);
    }
  }

  /** External money out of the ledger to the operator: at most what is not held. */
  public record Withdraw(String key, long amount, String by, ActorRef<Reply> replyTo) implements Command {
    public Withdraw(String key, long amount, ActorRef<Reply> replyTo) {
      this(key, amount, "", replyTo);
    }
  }

  /** A liquidation's penalty share (or surplus) from the saga's escrow into the ledger. */
  public record Receive(String key, String liquidationId, long amount, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Pays at most {@code requested} out of the ledger into the saga's escrow; replies what was paid.
   * With {@code dailyLimit} above zero (the operator's capital), at most that much a UTC day for
   * {@code instrument}.
   */
  public record Pay(String key, String liquidationId, long requested, String instrument, long dailyLimit,
      ActorRef<Reply> replyTo) implements Command {
    public Pay(String key, String liquidationId, long requested, ActorRef<Reply> replyTo) {
      this(key, liquidationId, requested, null, 0, replyTo);
    }
  }

  /**
   * Holds {@code amount} of the balance for a liquidation that is about to close at a loss beyond
   * bankruptcy (or an unwind about to close at a loss): granted only if that much is not already
   * held for others, and (with {@code dailyLimit} above zero: the operator's capital) if that much
   * is left of the day's amount for {@code instrument} after what was paid and what others hold. One hold per liquidation: a later Reserve of the same liquidation replaces
   * its hold with the new amount and is never refused against its own earlier hold; a refused one
   * leaves the earlier hold as it was. Its later payment (or loss) draws on the hold first; what
   * is left of the hold goes when the liquidation is forgotten.
   */
  public record Reserve(String key, String liquidationId, long amount, String instrument, long dailyLimit,
      ActorRef<Reply> replyTo) implements Command {
    public Reserve(String key, String liquidationId, long amount, ActorRef<Reply> replyTo) {
      this(key, liquidationId, amount, null, 0, replyTo);
    }
  }

  /**
   * Like {@link Reserve}, but holds as much of {@code amount} as is not held for others (the
   * insurance fund's part when the operator's capital is to hold the rest); replies what it holds
   * ({@code granted} false and 0 when nothing is free).
   */
  public record ReserveUpTo(String key, String liquidationId, long amount, ActorRef<Reply> replyTo) implements Command {}

  /**
   * The liquidation's hold is let go (a plan that could not be carried out in the end): answered
   * with a Reservation of 0, whether it held anything or not.
   */
  public record ReleaseHold(String key, String liquidationId, ActorRef<Reply> replyTo) implements Command {}

  /** Drop a finished liquidation's keys and hold; {@code replyTo} (may be null) hears when it is done. */
  public record Forget(String liquidationId, ActorRef<org.apache.pekko.Done> replyTo) implements Command {
    public Forget(String liquidationId) {
      this(liquidationId, null);
    }
  }

  /** The balance and the page {@code [offset, offset + limit)} of the retained history, newest first. */
  public record Get(int offset, int limit, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Replenishment, first half: moves {@code floor(available * sharePpm)} (at most {@code maxAmount})
   * out of this ledger towards {@code to}; the move waits in transit until confirmed delivered.
   */
  public record MoveOut(String key, String to, long sharePpm, long maxAmount, ActorRef<Reply> replyTo)
      implements Command {}

  /** Replenishment, second half: the moved amount arrives from {@code from}. */
  public record MoveIn(String key, String from, long amount, ActorRef<Reply> replyTo) implements Command {}

  /**
   * An account's fee sweep number {@code sweep} (platform revenue only): taken in once; a sweep
   * at or below the last one taken from that account is answered as done, moving nothing. A
   * negative amount is a net rebate claimed by the account: paid out of the free balance or refused
   * (INSUFFICIENT_RESERVE) until it can be.
   */
  public record CollectFees(String accountId, long sweep, long amount, ActorRef<Reply> replyTo) implements Command {}

  /** The moves out not yet confirmed delivered. */
  public record ListOutgoing(ActorRef<Reply> replyTo) implements Command {}

  /** The move {@code key} arrived at its destination: no longer outgoing. */
  public record ConfirmMove(String key, ActorRef<Reply> replyTo) implements Command {}

  /**
   * The fund's side of a close: it takes {@code signedLots} at {@code priceTicks} into its position
   * in {@code instrument}. {@code checked}: refused (BACKSTOP_DECLINED) when the position's notional
   * would exceed {@code maxNetNotional}, or when a loss it realizes is more than it can pay.
   */
  public record TakeOver(String key, String liquidationId, String instrument, long signedLots, long priceTicks,
      long multiplier, long maxNetNotional, boolean checked, ActorRef<Reply> replyTo) implements Command {}

  public sealed interface Reply extends CborSerializable {}

  /** A movement applied now or ({@code replayed}) before. */
  public record Moved(Entry entry, boolean replayed) implements Reply {}

  /** {@code insuranceFund}: an insurance fund (else a platform reserve); {@link #reserveName} is its API name. */
  public record View(String fundId, long balance, long reserved, long totalIn, long totalOut, long entries,
      List<Entry> page, Map<String, Position> positions, boolean insuranceFund) implements Reply {
    public View {
      positions = positions == null ? Map.of() : Map.copyOf(positions);
    }

    public String reserveName() {
      return insuranceFund ? ReserveRef.FUND_PREFIX + fundId : fundId;
    }
  }

  /** A hold asked for: {@code granted} or not (nothing held then). */
  public record Reservation(String key, boolean granted, long amount) implements Reply {}

  /** The moves out not yet confirmed delivered. */
  public record Outgoing(List<Entry> moves) implements Reply {}

  /** The fund's side of a close, applied now or ({@code replayed}) before. */
  public record PositionMoved(PositionTaken taken, boolean replayed) implements Reply {}

  /** Part of the balance held for one liquidation (its only hold: a new one replaces it). */
  public record Hold(String key, String liquidationId, long amount) implements CborSerializable {}

  public record Rejected(Rejection reason, String message) implements Reply {}

  /** Names are stored in journals: never rename. */
  public enum Kind {
    TOP_UP, PENALTY, DEFICIT_PAID, WITHDRAWAL, MOVED_OUT, MOVED_IN, POSITION_GAIN, POSITION_LOSS,
    /** An account's swept trading fees (platform revenue). */
    FEES,
    /** An account's net maker rebates, paid out of platform revenue. */
    REBATES;

    /** Whether the movement brought money in. */
    boolean in() {
      return this == TOP_UP || this == PENALTY || this == MOVED_IN || this == POSITION_GAIN || this == FEES;
    }
  }

  /**
   * One movement: {@code amount} in or out (see {@link Kind#in}), and the balance after. For a
   * move, {@code liquidationId} names the other reserve.
   */
  public record Entry(Kind kind, String key, String liquidationId, long requested, long amount, long balanceAfter,
      long epochMillis) implements CborSerializable {}

  public sealed interface Event extends CborSerializable {}

  /** {@code by}: the operator token's name ("" in events written before it was recorded). */
  public record ToppedUp(String key, long amount, long epochMillis, String by) implements Event {
    public ToppedUp {
      by = by == null ? "" : by;
    }

    public ToppedUp(String key, long amount, long epochMillis) {
      this(key, amount, epochMillis, "");
    }
  }

  public record Received(String key, String liquidationId, long amount, long epochMillis) implements Event {}

  /** {@code instrument} is set when a daily limit applied (the operator's capital). */
  public record Paid(String key, String liquidationId, long requested, long amount, long epochMillis, String instrument)
      implements Event {
    public Paid(String key, String liquidationId, long requested, long amount, long epochMillis) {
      this(key, liquidationId, requested, amount, epochMillis, null);
    }
  }

  public record Forgotten(String liquidationId) implements Event {}

  public record Reserved(String key, String liquidationId, long amount, long epochMillis) implements Event {}

  /** {@code by}: the operator token's name ("" in events written before it was recorded). */
  public record Withdrawn(String key, long amount, long epochMillis, String by) implements Event {
    public Withdrawn {
      by = by == null ? "" : by;
    }

    public Withdrawn(String key, long amount, long epochMillis) {
      this(key, amount, epochMillis, "");
    }
  }

  public record MovedOut(String key, String to, long amount, long epochMillis) implements Event {}

  public record MoveConfirmed(String key) implements Event {}

  public record MovedIn(String key, String from, long amount, long epochMillis) implements Event {}

  /** An account's fee sweep taken in (its key: {@link io.clearinghouse.account.FeeSweep#key}). */
  public record FeesReceived(String accountId, long sweep, long amount, long epochMillis) implements Event {}

  /**
   * An account's rebate claim (a negative sweep) refused for good: that sweep number is never taken
   * later, and the account takes the amount back from transit and claims it again, netted with its
   * later fees, under the next number. Nothing moves here.
   */
  public record FeeSweepVoided(String accountId, long sweep, long epochMillis) implements Event {}

  /**
   * The fund's side of a close: its position in {@code instrument} changed by {@code signedLots}
   * at {@code priceTicks}, its cost by {@code costDelta}, and {@code realizedPnl} moved between
   * the position and its balance.
   */
  public record PositionTaken(String key, String liquidationId, String instrument, long signedLots, long priceTicks,
      long costDelta, long realizedPnl, long epochMillis) implements Event {}

  // --- wiring ---------------------------------------------------------------------------

  /** The insurance funds. */
  public static void init(ActorSystem<?> system, int retainedHistory, Duration topUpKeyRetention, Metrics metrics,
      Clock clock) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, context ->
        new InsuranceFund(TYPE_KEY, context.getEntityId(), retainedHistory, topUpKeyRetention, metrics, clock)));
  }

  /** The platform's reserves. */
  public static void initReserves(ActorSystem<?> system, int retainedHistory, Duration topUpKeyRetention,
      Metrics metrics, Clock clock) {
    ClusterSharding.get(system).init(Entity.of(RESERVE_TYPE_KEY, context ->
        new InsuranceFund(RESERVE_TYPE_KEY, context.getEntityId(), retainedHistory, topUpKeyRetention, metrics, clock)));
  }

  /** For tests: an insurance fund's behaviour without sharding. */
  public static Behavior<Command> create(String fundId, int retainedHistory, Duration topUpKeyRetention,
      Metrics metrics, Clock clock) {
    return new InsuranceFund(TYPE_KEY, fundId, retainedHistory, topUpKeyRetention, metrics, clock);
  }

  /** For tests: a platform reserve's behaviour without sharding. */
  public static Behavior<Command> createReserve(String name, int retainedHistory, Duration topUpKeyRetention,
      Metrics metrics, Clock clock) {
    return new InsuranceFund(RESERVE_TYPE_KEY, name, retainedHistory, topUpKeyRetention, metrics, clock);
  }

  public static PersistenceId persistenceId(String fundId) {
    return PersistenceId.of(TYPE_KEY.name(), fundId);
  }

  /** The ledger bucket of the entity with this persistence id (an insurance fund or a reserve). */
  public static Bucket ledger(String persistenceId) {
    int bar = persistenceId.indexOf('|');
    String type = persistenceId.substring(0, bar);
    String id = persistenceId.substring(bar + 1);
    return type.equals(RESERVE_TYPE_KEY.name()) ? Bucket.reserve(id) : Bucket.insuranceFund(id);
  }

  private final String fundId;
  private final boolean insuranceFund;
  private final Bucket ledger;
  private final int retainedHistory;
  private final long keyRetentionMillis;
  private final Metrics metrics;
  private final Clock clock;

  private InsuranceFund(EntityTypeKey<Command> type, String fundId, int retainedHistory, Duration topUpKeyRetention,
      Metrics metrics, Clock clock) {
    super(PersistenceId.of(type.name(), fundId));
    this.fundId = fundId;
    this.insuranceFund = type == TYPE_KEY;
    this.ledger = insuranceFund ? Bucket.insuranceFund(fundId) : Bucket.reserve(fundId);
    this.retainedHistory = retainedHistory;
    this.keyRetentionMillis = topUpKeyRetention.toMillis();
    this.metrics = metrics;
    this.clock = clock;
  }

  private void report(long balance) {
    if (ledger.kind() == Bucket.Kind.RESERVE) {
      metrics.reserveBalance(fundId, balance);
    } else {
      metrics.insuranceFundBalance(fundId, balance);
    }
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(500, 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> report(state.balance()))
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    FundCommands commands = new FundCommands(Effect(), fundId, insuranceFund, clock, state -> report(state.balance()));
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(TopUp.class, commands::topUp)
        .onCommand(Withdraw.class, commands::withdraw)
        .onCommand(Receive.class, commands::receive)
        .onCommand(Pay.class, commands::pay)
        .onCommand(Reserve.class, commands::reserve)
        .onCommand(ReserveUpTo.class, commands::reserveUpTo)
        .onCommand(ReleaseHold.class, commands::releaseHold)
        .onCommand(Forget.class, commands::forget)
        .onCommand(Get.class, commands::get)
        .onCommand(MoveOut.class, commands::moveOut)
        .onCommand(MoveIn.class, commands::moveIn)
        .onCommand(CollectFees.class, commands::collectFees)
        .onCommand(ListOutgoing.class, (state, cmd) -> Effect().reply(cmd.replyTo(), new Outgoing(state.outgoing())))
        .onCommand(ConfirmMove.class, commands::confirmMove)
        .onCommand(TakeOver.class, commands::takeOver)
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onAnyEvent((state, event) -> FundEvents.apply(state, event, retainedHistory, keyRetentionMillis));
  }

  /** What a ledger's journal adds up to, for readers outside the entity (the audit). */
  public static State replay(List<Object> events) {
    State state = State.EMPTY;
    for (Object event : events) {
      state = FundEvents.apply(state, (Event) event, 1, Long.MAX_VALUE);
    }
    return state;
  }

  // --- state ----------------------------------------------------------------------------

  /**
   * Immutable. {@code recent}: the history, oldest first, at most the retained number of entries;
   * {@code open}: the movements of liquidations whose sagas have not said to forget them yet,
   * kept whatever the history's size so that a saga's retry is never applied twice;
   * {@code topUps}: the operator's top-ups and withdrawals and the replenishment moves of the key
   * retention, kept whatever the history's size, so that a retry within it is never applied twice;
   * {@code positions}: what an insurance fund took over and has not unwound, by instrument;
   * {@code takeovers}: its sides of closes of liquidations (and unwinds) not yet forgotten;
   * {@code drawnToday}: per instrument, what payments under a daily limit drew on UTC day
   * {@code day}; {@code outgoing}: moves out not yet confirmed delivered.
   */
  public record State(long balance, long totalIn, long totalOut, long entries, List<Entry> recent, List<Entry> open,
      List<Hold> holds, List<Entry> topUps, Map<String, Position> positions, List<PositionTaken> takeovers, long day,
      Map<String, Long> drawnToday, List<Entry> outgoing, Map<String, Long> feeSweeps) implements CborSerializable {
    static final State EMPTY = new State(0, 0, 0, 0, List.of(), List.of(), List.of(), List.of(), Map.of(), List.of(), 0,
        Map.of(), List.of(), Map.of());

    public State {
      recent = List.copyOf(recent);
      open = open == null ? List.of() : List.copyOf(open);
      holds = holds == null ? List.of() : List.copyOf(holds);
      topUps = topUps == null ? List.of() : List.copyOf(topUps);
      positions = positions == null ? Map.of() : Map.copyOf(positions);
      takeovers = takeovers == null ? List.of() : List.copyOf(takeovers);
      drawnToday = drawnToday == null ? Map.of() : Map.copyOf(drawnToday);
      outgoing = outgoing == null ? List.of() : List.copyOf(outgoing);
      // Per account, the last fee sweep taken in (an account sends sweep n + 1 only once n is here);
      // negative: that sweep was voided (a rebate claim refused).
      feeSweeps = feeSweeps == null ? Map.of() : Map.copyOf(feeSweeps);
    }

    long reserved() {
      return holds.stream().mapToLong(Hold::amount).reduce(0, Math::addExact);
    }

    /** What the holds of every liquidation but {@code liquidationId} keep. */
    long heldForOthers(String liquidationId) {
      return holds.stream().filter(h -> !h.liquidationId().equals(liquidationId)).mapToLong(Hold::amount)
          .reduce(0, Math::addExact);
    }

    Optional<Hold> holdOf(String liquidationId) {
      return holds.stream().filter(h -> h.liquidationId().equals(liquidationId)).findFirst();
    }

    /** What a payment for {@code liquidationId} may draw on: its own holds and what nobody holds. */
    long availableTo(String liquidationId) {
      return Math.max(0, balance - heldForOthers(liquidationId));
    }

    Optional<Entry> entry(String key) {
      for (List<Entry> entries : List.of(open, topUps, recent)) {
        for (int i = entries.size() - 1; i >= 0; i--) {
          if (entries.get(i).key().equals(key)) {
            return Optional.of(entries.get(i));
          }
        }
      }
      return Optional.empty();
    }

    Optional<PositionTaken> takeover(String key) {
      return takeovers.stream().filter(t -> t.key().equals(key)).findFirst();
    }

    public Position position(String instrument) {
      return positions.getOrDefault(instrument, Position.FLAT);
    }

    /** What payments under a daily limit drew for {@code instrument} on UTC day {@code epochDay}. */
    long drawn(String instrument, long epochDay) {
      return epochDay == day ? drawnToday.getOrDefault(instrument, 0L) : 0;
    }

    boolean remembers(String liquidationId) {
      return open.stream().anyMatch(e -> liquidationId.equals(e.liquidationId()))
          || holds.stream().anyMatch(h -> h.liquidationId().equals(liquidationId))
          || takeovers.stream().anyMatch(t -> liquidationId.equals(t.liquidationId()));
    }
  }
}
