package io.clearinghouse.clearing;

// Over 450 lines: the register's protocol, state and step machine; to split (state and steps apart) with issue 12.

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.persistence.CborSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trade register of one bucket of engine sequences ({@code sequence % buckets}): settles each
 * trade as one unit, so that it is applied to both its accounts or to neither.
 *
 * <p>A new trade is recorded first ({@link TradeRecorded}), then driven: the buyer side, then the
 * seller side (each account applies a sequence once), then {@link TradeSettled} with both fees. A
 * buyer side refused by its account refuses the trade ({@link TradeRefused}; nothing moved). A
 * seller side refused after the buyer side was applied makes the register record that it is
 * unwinding ({@link TradeUnwinding}), have the buyer's account reverse its side exactly, and only
 * then refuse the trade. A resend of a remembered sequence gets the first outcome if every field
 * matches, TRADE_CONFLICT (nothing changes) if any differs, and waits for the outcome while the
 * first is still being driven. After recovery every trade not yet settled or refused is driven on
 * (the accounts' idempotency by sequence makes asking again safe); an unanswered step is asked
 * again with back-off, for as long as it takes.
 */
public final class TradeRegister
    extends EventSourcedBehaviorWithEnforcedReplies<TradeRegister.Command, TradeRegister.Event, TradeRegister.State> {
  private static final Logger log = LoggerFactory.getLogger(TradeRegister.class);

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "TradeRegister");

  // --- protocol -------------------------------------------------------------------------

  public sealed interface Command extends CborSerializable {}

  /** A trade from the engine, checked; answered when it is settled or refused. */
  public record Submit(TradeContent trade, ActorRef<Reply> replyTo) implements Command {}

  /** An account's answer to the step {@code attempt} of trade {@code sequence}, or why there was none. */
  private record StepAnswered(long sequence, long attempt, AccountEntity.Reply reply, String failure)
      implements Command {}

  private record RetryStep(long sequence, long attempt) implements Command {}

  /** Which side's journal a register reads once that account forgot the sequence, and why. */
  private enum Lookup {
    /** The buyer's side was sent before (maybe applied) and the buyer refuses the sequence as too old. */
    BUYER_APPLIED,
    /** The seller's side was sent before (maybe applied) and the seller refuses the sequence as too old. */
    SELLER_APPLIED,
    /** The buyer's side is being reversed and the buyer cannot tell whether it reversed it already. */
    BUYER_REVERSED,
    /**
     * A refused trade's fenced account no longer remembers the sequence: whether a late send of
     * its side was applied (and must be reversed) before it forgot.
     */
    FENCED
  }

  /** What an account's journal says of its side (a fee if applied and not reversed). */
  private record SideRecordRead(long sequence, long attempt, Lookup lookup, Optional<Long> fee, String failure)
      implements Command {}

  /** The seller's answer to the check of attempt {@code attempt} (the first of a fresh drive), or why there was none. */
  private record SellerChecked(long sequence, long attempt, AccountEntity.Reply reply, String failure)
      implements Command {}

  /**
   * Which of {@code sequences} this register is still driving (recorded and neither settled nor
   * refused): a buyer side of those can still be reversed. A sequence it settled, refused, forgot
   * or never recorded can no longer be reversed by anyone.
   */
  public record AskUnfinished(List<Long> sequences, ActorRef<Unfinished> replyTo) implements Command {}

  /** The answer to {@link AskUnfinished}. */
  public record Unfinished(List<Long> sequences) implements CborSerializable {}

  /** Sent by the shard when it moves the register elsewhere. */
  private enum Stop implements Command { INSTANCE }

  public sealed interface Reply extends CborSerializable {}

  /** Applied to both sides, now or before ({@code duplicate}), with the fees charged the first time. */
  public record Settled(long buyerFee, long sellerFee, boolean duplicate) implements Reply {}

  /** Applied to neither side. */
  public record Refused(Rejection reason, String message) implements Reply {}

  public sealed interface Event extends CborSerializable {}

  /**
   * A new trade; {@code epochMillis} is when it was recorded: both sides' funding cut (a perpetual's
   * position at a funding time counts the trade on the same side of it for buyer and seller).
   */
  public record TradeRecorded(TradeContent trade, long epochMillis) implements Event {
    public TradeRecorded(TradeContent trade) {
      this(trade, 0);
    }
  }

  public record TradeSettled(long sequence, long buyerFee, long sellerFee) implements Event {}

  /**
   * The seller side was refused after the buyer side was applied: the buyer side is being reversed
   * ({@code buyerFee}, when known, lets a buyer that has forgotten the sequence still reverse it).
   */
  public record TradeUnwinding(long sequence, Rejection reason, String message, Long buyerFee) implements Event {
    public TradeUnwinding(long sequence, Rejection reason, String message) {
      this(sequence, reason, message, null);
    }
  }

  /**
   * The buyer side is applied and the seller has not answered at once: remembered, so that a
   * register that recovers goes on with the seller rather than asking the buyer again (which may
   * have forgotten the sequence by then).
   */
  public record BuyerApplied(long sequence, long buyerFee) implements Event {}

  public record TradeRefused(long sequence, Rejection reason, String message) implements Event {}

  // --- state ----------------------------------------------------------------------------

  public enum Status { RECORDED, BUYER_APPLIED, UNWINDING, SETTLED, REFUSED;

    boolean finished() {
      return this == SETTLED || this == REFUSED;
    }
  }

  /** One remembered trade and where it stands; fees once settled, reason and message once refused or unwinding. */
  public record Entry(TradeContent trade, Status status, long buyerFee, long sellerFee, Rejection reason,
      String message, long recordedAt) implements CborSerializable {
    public Entry(TradeContent trade, Status status, long buyerFee, long sellerFee, Rejection reason, String message) {
      this(trade, status, buyerFee, sellerFee, reason, message, 0);
    }
  }

  /** What a snapshot holds: the remembered trades by sequence and the forgotten-up-to mark. */
  public record Snapshot(List<Entry> trades, long forgottenUpTo) implements CborSerializable {}

  /**
   * The remembered trades by sequence (at most {@code retained} finished ones, lowest sequences
   * forgotten first; unfinished ones are never forgotten) and the highest forgotten sequence.
   *
   * <p>Mutable on purpose, unlike the other entities' states: a register remembers tens of thousands
   * of trades, and copying them on each of the two events of every trade would cost more than the
   * trade. Only the event handler changes it, deterministically; snapshots take a copy
   * ({@link #snapshot()}), and nothing else keeps a reference to it.
   */
  public static final class State {
    private final java.util.TreeMap<Long, Entry> trades = new java.util.TreeMap<>();
    private final int retained;
    private long forgottenUpTo;

    State(int retained) {
      this.retained = retained;
    }

    public Entry get(long sequence) {
      return trades.get(sequence);
    }

    public boolean tooOld(long sequence) {
      return sequence <= forgottenUpTo;
    }

    public long forgottenUpTo() {
      return forgottenUpTo;
    }

    public int size() {
      return trades.size();
    }

    List<Entry> unfinished() {
      return trades.values().stream().filter(e -> !e.status().finished()).toList();
    }

    /** Every trade a register's journal recorded, with its last status: for the ledger audit. */
    public static List<Entry> replay(List<?> events) {
      State state = new State(Integer.MAX_VALUE);
      events.forEach(event -> state.apply((Event) event));
      return List.copyOf(state.trades.values());
    }

    Snapshot snapshot() {
      return new Snapshot(List.copyOf(trades.values()), forgottenUpTo);
    }

    static State of(Snapshot snapshot, int retained) {
      State state = new State(retained);
      snapshot.trades().forEach(e -> state.trades.put(e.trade().sequence(), e));
      state.forgottenUpTo = snapshot.forgottenUpTo();
      return state;
    }

    /** The state after {@code event}: also how the ledger audit reads a register's journal. */
    public State apply(Event event) {
      if (event instanceof TradeRecorded e) {
        trades.put(e.trade().sequence(), new Entry(e.trade(), Status.RECORDED, 0, 0, null, null, e.epochMillis()));
        forget();
      } else if (event instanceof TradeSettled e) {
        Entry was = trades.get(e.sequence());
        trades.put(e.sequence(), new Entry(was.trade(), Status.SETTLED, e.buyerFee(), e.sellerFee(), null, null, was.recordedAt()));
      } else if (event instanceof BuyerApplied e) {
        Entry was = trades.get(e.sequence());
        trades.put(e.sequence(), new Entry(was.trade(), Status.BUYER_APPLIED, e.buyerFee(), 0, null, null, was.recordedAt()));
      } else if (event instanceof TradeUnwinding e) {
        Entry was = trades.get(e.sequence());
        long buyerFee = e.buyerFee() != null ? e.buyerFee() : was.buyerFee();
        trades.put(e.sequence(), new Entry(was.trade(), Status.UNWINDING, buyerFee, 0, e.reason(), e.message(), was.recordedAt()));
      } else if (event instanceof TradeRefused e) {
        Entry was = trades.get(e.sequence());
        trades.put(e.sequence(), new Entry(was.trade(), Status.REFUSED, 0, 0, e.reason(), e.message(), was.recordedAt()));
      }
      return this;
    }

    private void forget() {
      if (trades.size() <= retained) {
        return;
      }
      var it = trades.entrySet().iterator();
      while (trades.size() > retained && it.hasNext()) {
        var next = it.next();
        if (next.getValue().status().finished()) {
          forgottenUpTo = Math.max(forgottenUpTo, next.getKey());
          it.remove();
        }
      }
    }
  }

  // --- wiring ---------------------------------------------------------------------------

  /** How the register reaches accounts: through sharding on a node, directly in tests. */
  @FunctionalInterface
  public interface AccountAsker {
    CompletionStage<AccountEntity.Reply> ask(String accountId,
        Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command, Duration timeout);

    /**
     * Tells {@code accountId} something that needs no answer (lost with a node: nothing depends on
     * it); not sent at all by askers that only ask.
     */
    default void tell(String accountId, AccountEntity.Command command) {}
  }

  /** How long one read of an account's journal may take before it is tried again. */
  private static final Duration JOURNAL_READ_TIMEOUT = Duration.ofMinutes(1);

  public static void init(ActorSystem<?> system, RegisterSettings settings, MarketCheck market) {
    ClusterSharding sharding = ClusterSharding.get(system);
    AccountAsker accounts = new AccountAsker() {
      @Override
      public CompletionStage<AccountEntity.Reply> ask(String accountId,
          Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command, Duration timeout) {
        return sharding.entityRefFor(AccountEntity.TYPE_KEY, accountId).ask(command::apply, timeout);
      }

      @Override
      public void tell(String accountId, AccountEntity.Command command) {
        sharding.entityRefFor(AccountEntity.TYPE_KEY, accountId).tell(command);
      }
    };
    SideRecords sides = SideRecords.fromJournal(system, PersistenceQuery.get(system)
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier()), JOURNAL_READ_TIMEOUT);
    sharding.init(Entity.of(TYPE_KEY, context -> create(context.getEntityId(), settings, accounts, market, sides))
        .withStopMessage(Stop.INSTANCE));
  }

  public static Behavior<Command> create(String bucket, RegisterSettings settings, AccountAsker accounts) {
    return create(bucket, settings, accounts, MarketCheck.NONE, SideRecords.UNKNOWN);
  }

  public static Behavior<Command> create(String bucket, RegisterSettings settings, AccountAsker accounts,
      MarketCheck market, SideRecords sides) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new TradeRegister(bucket, settings, accounts, market,
        sides, ctx, timers)));
  }

  public static PersistenceId persistenceId(String bucket) {
    return PersistenceId.of(TYPE_KEY.name(), bucket);
  }

  /** A trade being driven by this incarnation: its current step, and who waits for the outcome. */
  private static final class Drive {
    long attempt;
    int retries;
    /** The buyer side's fee once its account applied it (in memory: after recovery it is asked again). */
    Long buyerFee;
    /** The seller refused its side by its own rules after the buyer's was applied: it is made to take it. */
    boolean forceSeller;
    /** The seller's check passed in this drive, just before the buyer's side was applied. */
    boolean sellerChecked;
    /** How often the buyer's side was sent in this drive (more than once: an earlier one may have been applied). */
    int buyerAsks;
    /** The buyer's journal holds its side applied and not reversed: a reversal of a forgotten sequence may go ahead. */
    boolean reversalVerified;
    /**
     * Recorded by this incarnation and not yet sent to either account: the first attempt asks the
     * seller whether it would take its side before the buyer's side is applied.
     */
    boolean fresh;
    /**
     * A refusal waiting for the account that did not take its side ({@link #fenced}) to mark the
     * sequence as never to be applied: a side an earlier send (another incarnation, a timed-out ask)
     * may still bring is then refused, not applied one-sided. Null: none. In memory: a restart
     * drives the trade to the refusal again and fences again.
     */
    TradeRefused refusal;
    String fenced;
    /** The fenced account's journal holds the side applied with this fee: the next fence send is verified (once). */
    Long fencedFee;
    final List<ActorRef<Reply>> waiters = new ArrayList<>();
  }

  /** A seller's refusals by its own rules, which never undo a trade whose buyer side is applied. */
  private static final java.util.Set<Rejection> FORCIBLE = java.util.EnumSet.of(Rejection.POSITION_LIMIT,
      Rejection.INSUFFICIENT_MARGIN);

  /** How a refusal of the seller's check (before the buyer's side was sent) is told. */
  private static final String SELLER_CHECKED = "seller side (checked before the buyer's): ";

  private final String bucket;
  private final RegisterSettings settings;
  private final AccountAsker accounts;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final Map<Long, Drive> driving = new HashMap<>();

  private final MarketCheck market;
  private final SideRecords sides;

  private TradeRegister(String bucket, RegisterSettings settings, AccountAsker accounts, MarketCheck market,
      SideRecords sides, ActorContext<Command> context, TimerScheduler<Command> timers) {
    super(persistenceId(bucket));
    this.market = market;
    this.sides = sides;
    this.bucket = bucket;
    this.settings = settings;
    this.accounts = accounts;
    this.context = context;
    this.timers = timers;
  }

  @Override
  public State emptyState() {
    return new State(settings.retainedTrades());
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public SnapshotAdapter<State> snapshotAdapter() {
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(State state) {
        return state.snapshot();
      }

      @Override
      public State fromJournal(Object from) {
        return State.of((Snapshot) from, settings.retainedTrades());
      }
    };
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> state.unfinished().forEach(e -> {
          log.info("Trade register {}: driving trade {} (sequence {}) on from {}", bucket, e.trade().tradeId(),
              e.trade().sequence(), e.status());
          driving.put(e.trade().sequence(), new Drive());
          step(state, e.trade().sequence());
        }))
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Submit.class, this::submit)
        .onCommand(StepAnswered.class, this::answered)
        .onCommand(SideRecordRead.class, this::sideRecordRead)
        .onCommand(SellerChecked.class, this::sellerChecked)
        .onCommand(RetryStep.class, (state, retry) -> {
          Drive drive = driving.get(retry.sequence());
          if (drive != null && drive.attempt == retry.attempt()) {
            step(state, retry.sequence());
          }
          return Effect().noReply();
        })
        .onCommand(AskUnfinished.class, (state, ask) -> Effect().reply(ask.replyTo(), new Unfinished(
            ask.sequences().stream().filter(sequence -> {
              Entry entry = state.get(sequence);
              return entry != null && !entry.status().finished();
            }).toList())))
        .onCommand(Stop.class, (state, stop) -> Effect().stop().thenNoReply())
        .build();
  }

  private ReplyEffect<Event, State> submit(State state, Submit cmd) {
    TradeContent trade = cmd.trade();
    long sequence = trade.sequence();
    Entry first = state.get(sequence);
    if (first != null) {
      if (!first.trade().equals(trade)) {
        return Effect().reply(cmd.replyTo(), new Refused(Rejection.TRADE_CONFLICT, "sequence " + sequence
            + " is already trade " + first.trade().tradeId() + " with other content: "
            + first.trade().differences(trade)));
      }
      return switch (first.status()) {
        case SETTLED -> Effect().reply(cmd.replyTo(), new Settled(first.buyerFee(), first.sellerFee(), true));
        case REFUSED -> Effect().reply(cmd.replyTo(), new Refused(first.reason(), first.message()));
        default -> {
          Drive drive = driving.get(sequence);
          if (drive == null) {
            drive = new Drive();
            driving.put(sequence, drive);
            step(state, sequence);
          }
          drive.waiters.add(cmd.replyTo());
          yield Effect().noReply();
        }
      };
    }
    if (state.tooOld(sequence)) {
      return Effect().reply(cmd.replyTo(), new Refused(Rejection.TRADE_TOO_OLD, "sequence " + sequence
          + " is older than every trade this register remembers; it cannot be verified"));
    }
    var refusal = market.trade(trade);
    if (refusal.isPresent()) {
      RejectedException refused = refusal.get();
      if (refused.reason() == Rejection.MARK_STALE) {
        // For now only: a resend once the mark is there is a new trade.
        return Effect().reply(cmd.replyTo(), new Refused(refused.reason(), refused.getMessage()));
      }
      // For good: a resend gets the same answer, whatever the mark by then.
      return Effect().persist(List.of(new TradeRecorded(trade),
              new TradeRefused(sequence, refused.reason(), refused.getMessage())))
          .thenReply(cmd.replyTo(), after -> new Refused(refused.reason(), refused.getMessage()));
    }
    return Effect().persist(new TradeRecorded(trade, System.currentTimeMillis())).thenRun(after -> {
      Drive drive = new Drive();
      drive.fresh = true;
      drive.waiters.add(cmd.replyTo());
      driving.put(sequence, drive);
      step(after, sequence);
    }).thenNoReply();
  }

  /** Asks for the next step of trade {@code sequence}, as its entry and drive say. */
  private void step(State state, long sequence) {
    Drive drive = driving.get(sequence);
    Entry entry = state.get(sequence);
    if (drive == null || entry == null || entry.status().finished()) {
      return;
    }
    TradeContent t = entry.trade();
    long attempt = ++drive.attempt;
    if (drive.buyerFee == null && entry.status() == Status.BUYER_APPLIED) {
      drive.buyerFee = entry.buyerFee();
    }
    CompletionStage<AccountEntity.Reply> answer;
    if (drive.refusal != null) {
      // Reversing a sequence an account never applied marks it never to be applied (and undoes it
      // if a late send brought it in meanwhile: then neither side stands, as the refusal says).
      Long fee = drive.fencedFee;
      drive.fencedFee = null;
      // Forgotten but applied (its journal says so): undone on the register's word, as the opposite fill.
      long buyLots = drive.fenced.equals(t.buyer()) ? t.lots() : -t.lots();
      answer = accounts.ask(drive.fenced, r -> fee == null
          ? new AccountEntity.ReverseTradeSide(t.tradeId(), sequence, r)
          : new AccountEntity.ReverseTradeSide(t.tradeId(), sequence, t.instrument(), buyLots, t.priceTicks(), fee,
              true, r), settings.stepTimeout());
    } else if (entry.status() == Status.UNWINDING) {
      // With the side's content and fee: a buyer that has forgotten the sequence still reverses it
      // (the register knows it applied it).
      long fee = drive.buyerFee != null ? drive.buyerFee : entry.buyerFee();
      // The register's word is good for one send: a retry (its answer lost) goes out unverified,
      // and the journal is read again, which then shows the side reversed.
      boolean verified = drive.reversalVerified;
      drive.reversalVerified = false;
      answer = accounts.ask(t.buyer(), r -> new AccountEntity.ReverseTradeSide(t.tradeId(), sequence, t.instrument(),
          t.lots(), t.priceTicks(), fee, verified, r), settings.stepTimeout());
    } else if (drive.buyerFee == null) {
      Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> buyerSide = r -> new AccountEntity.ApplyTrade(
          t.tradeId(), sequence, t.instrument(), t.lots(), t.priceTicks(), t.buyerAggressor(), t.buyerOrderId(),
          t.seller(), r, entry.recordedAt());
      if (drive.fresh && attempt == 1) {
        // Neither side has been sent yet: a seller that would refuse refuses the trade before
        // anything moves (the reversal below stays for a seller whose state changes in between).
        // The buyer is asked by this actor once the check is back (sellerChecked): never by an
        // incarnation that was stopped or moved meanwhile.
        context.pipeToSelf(accounts.ask(t.seller(), r -> new AccountEntity.CheckTrade(new AccountEntity.ApplyTrade(
                t.tradeId(), sequence, t.instrument(), -t.lots(), t.priceTicks(), !t.buyerAggressor(), t.sellerOrderId(),
                t.buyer(), r, entry.recordedAt())), settings.stepTimeout()),
            (reply, failure) -> new SellerChecked(sequence, attempt, reply, failure == null ? null : failure.toString()));
        return;
      } else {
        answer = askBuyer(drive, t, buyerSide);
      }
    } else {
      Function<ActorRef<AccountEntity.Reply>, AccountEntity.ApplyTrade> sellerSide = r -> new AccountEntity.ApplyTrade(
          t.tradeId(), sequence, t.instrument(), -t.lots(), t.priceTicks(), !t.buyerAggressor(), t.sellerOrderId(),
          t.buyer(), r, entry.recordedAt());
      answer = drive.forceSeller
          ? accounts.ask(t.seller(), r -> new AccountEntity.ForceTradeSide(sellerSide.apply(r)), settings.stepTimeout())
          : accounts.ask(t.seller(), sellerSide::apply, settings.stepTimeout());
    }
    context.pipeToSelf(answer, (reply, failure) -> new StepAnswered(sequence, attempt, reply,
        failure == null ? null : failure.toString()));
  }

  private CompletionStage<AccountEntity.Reply> askBuyer(Drive drive, TradeContent t,
      Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> buyerSide) {
    drive.buyerAsks++;
    return accounts.ask(t.buyer(), buyerSide, settings.stepTimeout());
  }

  /** The first step of a fresh drive: the seller's check is back; the buyer's side is sent if it passed. */
  private ReplyEffect<Event, State> sellerChecked(State state, SellerChecked checked) {
    long sequence = checked.sequence();
    Drive drive = driving.get(sequence);
    Entry entry = state.get(sequence);
    if (drive == null || drive.attempt != checked.attempt() || entry == null || entry.status().finished()) {
      return Effect().noReply();
    }
    if (checked.failure() != null) {
      return answered(state, new StepAnswered(sequence, checked.attempt(), null, checked.failure()));
    }
    if (checked.reply() instanceof AccountEntity.Rejected refused) {
      return answered(state, new StepAnswered(sequence, checked.attempt(),
          new AccountEntity.Rejected(refused.reason(), SELLER_CHECKED + refused.message()), null));
    }
    TradeContent t = entry.trade();
    long attempt = checked.attempt();
    context.pipeToSelf(askBuyer(drive, t, r -> new AccountEntity.ApplyTrade(t.tradeId(), sequence, t.instrument(),
            t.lots(), t.priceTicks(), t.buyerAggressor(), t.buyerOrderId(), t.seller(), r, entry.recordedAt())),
        (reply, failure) -> new StepAnswered(sequence, attempt, reply, failure == null ? null : failure.toString()));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> answered(State state, StepAnswered answer) {
    long sequence = answer.sequence();
    Drive drive = driving.get(sequence);
    Entry entry = state.get(sequence);
    if (drive == null || drive.attempt != answer.attempt() || entry == null || entry.status().finished()) {
      return Effect().noReply();
    }
    if (answer.failure() != null) {
      if (drive.buyerFee != null && entry.status() == Status.RECORDED) {
        // The seller has not answered: remember that the buyer's side is applied before waiting.
        String why = answer.failure();
        return Effect().persist(new BuyerApplied(sequence, drive.buyerFee))
            .thenRun(after -> scheduleRetry(sequence, drive, why)).thenNoReply();
      }
      return retryLater(sequence, drive, answer.failure());
    }
    AccountEntity.Reply reply = answer.reply();
    TradeContent t = entry.trade();
    if (drive.refusal != null) {
      if (reply instanceof AccountEntity.TradeSideReverted || reply instanceof AccountEntity.Rejected fenced
          && fenced.reason() == Rejection.ACCOUNT_NOT_FOUND) {
        // Marked (or no account to apply it): the trade is refused for good.
        return finish(drive.refusal);
      }
      if (reply instanceof AccountEntity.Rejected tooOld && tooOld.reason() == Rejection.TRADE_TOO_OLD) {
        // Forgotten: a late side may have been applied before; the account's journal says.
        return readSide(t, sequence, answer.attempt(), Lookup.FENCED);
      }
      log.error("Trade {} (sequence {}): {} cannot mark the refused sequence yet: {}", t.tradeId(), sequence,
          drive.fenced, reply);
      return retryLater(sequence, drive, String.valueOf(reply));
    }
    if (entry.status() == Status.UNWINDING) {
      if (reply instanceof AccountEntity.TradeSideReverted) {
        // The seller's side was refused: a send of it still on its way must find the sequence marked.
        return refuseOnceFenced(state, sequence, drive, t.seller(),
            new TradeRefused(sequence, entry.reason(), entry.message()));
      }
      if (reply instanceof AccountEntity.Rejected tooOld && tooOld.reason() == Rejection.TRADE_TOO_OLD) {
        // Forgotten: it may have reversed the side already (an answer lost) and must not twice.
        return readSide(t, sequence, answer.attempt(), Lookup.BUYER_REVERSED);
      }
      log.error("Trade {} (sequence {}): the buyer side of {} cannot be reversed yet: {}", t.tradeId(), sequence,
          t.buyer(), reply);
      return retryLater(sequence, drive, String.valueOf(reply));
    }
    boolean buyerStep = drive.buyerFee == null;
    if (reply instanceof AccountEntity.TradeSideApplied applied) {
      if (buyerStep) {
        drive.sellerChecked = drive.fresh && answer.attempt() == 1;
        drive.buyerFee = applied.fee();
        drive.retries = 0;
        step(state, sequence);
        return Effect().noReply();
      }
      return finish(new TradeSettled(sequence, drive.buyerFee, applied.fee()));
    }
    if (reply instanceof AccountEntity.Rejected rejected) {
      String message = rejected.message().startsWith(SELLER_CHECKED) ? rejected.message()
          : (buyerStep ? "buyer " : "seller ") + "side: " + rejected.message();
      if (buyerStep && rejected.reason() == Rejection.TRADE_TOO_OLD && (!drive.fresh || drive.buyerAsks > 1)) {
        // Asked before (an earlier attempt or incarnation may have applied it) and now forgotten by
        // the buyer, which never applies that sequence from now on: its journal says whether the
        // side is applied, and the trade goes on from there (settled or refused, never one-sided).
        return readSide(t, sequence, answer.attempt(), Lookup.BUYER_APPLIED);
      }
      if (!buyerStep && rejected.reason() == Rejection.TRADE_TOO_OLD) {
        // The seller no longer remembers the sequence: it may have applied its side (an answer lost
        // before a crash) and never applies it now. Its journal says which, before anything is undone.
        return readSide(t, sequence, answer.attempt(), Lookup.SELLER_APPLIED);
      }
      if (buyerStep) {
        if (drive.fresh && !rejected.message().startsWith(SELLER_CHECKED)) {
          // The seller passed its check and holds its side for this trade: it may let go now.
          accounts.ask(t.seller(), r -> new AccountEntity.ReleaseCheck(sequence, r), settings.stepTimeout());
        }
        TradeRefused refused = new TradeRefused(sequence, rejected.reason(), message);
        // Sent once by this drive and answered: no other send of the buyer's side can be on its way.
        return drive.fresh && drive.buyerAsks <= 1 ? finish(refused)
            : refuseOnceFenced(state, sequence, drive, t.buyer(), refused);
      }
      if (!drive.forceSeller && drive.sellerChecked && FORCIBLE.contains(rejected.reason())) {
        // Its check passed a moment ago in this drive; its own rules now refuse (its state moved in
        // between): the trade stands, the seller takes its side, the monitor liquidates it if it
        // must. Without a check in this drive (a retried first attempt, a restart), the buyer's
        // side is reversed instead: a refusal the check would have given is never forced.
        log.warn("Trade {} (sequence {}): seller side refused after the buyer side was applied; the seller takes it: {}",
            t.tradeId(), sequence, message);
        drive.forceSeller = true;
        drive.retries = 0;
        step(state, sequence);
        return Effect().noReply();
      }
      log.warn("Trade {} (sequence {}): seller side refused after the buyer side was applied; reversing it: {}",
          t.tradeId(), sequence, message);
      // The seller may still hold its side from its check: it never will be applied.
      accounts.ask(t.seller(), r -> new AccountEntity.ReleaseCheck(sequence, r), settings.stepTimeout());
      return Effect().persist(new TradeUnwinding(sequence, rejected.reason(), message, drive.buyerFee))
          .thenRun(after -> step(after, sequence)).thenNoReply();
    }
    return retryLater(sequence, drive, "unexpected answer " + reply);
  }

  /** Reads the journal of the account {@code lookup} names, for the trade at {@code sequence}. */
  private ReplyEffect<Event, State> readSide(TradeContent t, long sequence, long attempt, Lookup lookup) {
    boolean buyer = lookup == Lookup.FENCED ? t.buyer().equals(driving.get(sequence).fenced)
        : lookup != Lookup.SELLER_APPLIED;
    log.warn("Trade {} (sequence {}): {} no longer remembers the sequence; reading its journal ({})", t.tradeId(),
        sequence, buyer ? t.buyer() : t.seller(), lookup);
    context.pipeToSelf(sides.sideFee(t, buyer), (fee, failure) -> new SideRecordRead(sequence, attempt, lookup,
        fee == null ? Optional.empty() : fee, failure == null ? null : failure.toString()));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> sideRecordRead(State state, SideRecordRead read) {
    long sequence = read.sequence();
    Drive drive = driving.get(sequence);
    Entry entry = state.get(sequence);
    if (drive == null || drive.attempt != read.attempt() || entry == null || entry.status().finished()) {
      return Effect().noReply();
    }
    TradeContent t = entry.trade();
    if (read.failure() != null) {
      log.error("Trade {} (sequence {}): a journal could not be read ({}); held unsettled, retrying: {}",
          t.tradeId(), sequence, read.lookup(), read.failure());
      return retryLater(sequence, drive, "journal unread");
    }
    Optional<Long> fee = read.fee();
    switch (read.lookup()) {
      case BUYER_APPLIED -> {
        if (entry.status() != Status.RECORDED) {
          return Effect().noReply();
        }
        if (fee.isPresent()) {
          log.warn("Trade {} (sequence {}): the buyer {}'s journal holds its side applied; going on with the seller",
              t.tradeId(), sequence, t.buyer());
          drive.buyerFee = fee.get();
          drive.sellerChecked = false;
          drive.retries = 0;
          return Effect().persist(new BuyerApplied(sequence, fee.get())).thenRun(after -> step(after, sequence))
              .thenNoReply();
        }
        log.warn("Trade {} (sequence {}): the buyer {}'s journal holds no side of it; refusing the trade",
            t.tradeId(), sequence, t.buyer());
        accounts.ask(t.seller(), r -> new AccountEntity.ReleaseCheck(sequence, r), settings.stepTimeout());
        return finish(new TradeRefused(sequence, Rejection.TRADE_TOO_OLD, "buyer side: sequence " + sequence
            + " was never applied to " + t.buyer() + ", which no longer takes it (more newer trades than it keeps)"));
      }
      case SELLER_APPLIED -> {
        if (entry.status() == Status.UNWINDING || drive.buyerFee == null) {
          return Effect().noReply();
        }
        if (fee.isPresent()) {
          log.warn("Trade {} (sequence {}): the seller {}'s journal holds its side applied; the trade is settled",
              t.tradeId(), sequence, t.seller());
          return finish(new TradeSettled(sequence, drive.buyerFee, fee.get()));
        }
        String message = "seller side: sequence " + sequence + " was never applied to " + t.seller()
            + ", which no longer takes it (more newer trades than it keeps)";
        log.warn("Trade {} (sequence {}): {}; reversing the buyer's side", t.tradeId(), sequence, message);
        return Effect().persist(new TradeUnwinding(sequence, Rejection.TRADE_TOO_OLD, message, drive.buyerFee))
            .thenRun(after -> step(after, sequence)).thenNoReply();
      }
      case BUYER_REVERSED -> {
        if (entry.status() != Status.UNWINDING) {
          return Effect().noReply();
        }
        if (fee.isPresent()) {
          // Applied and not reversed: the buyer may reverse it now, on the register's word.
          drive.reversalVerified = true;
          drive.retries = 0;
          step(state, sequence);
          return Effect().noReply();
        }
        log.warn("Trade {} (sequence {}): the buyer {}'s journal holds its side reversed (or never applied)",
            t.tradeId(), sequence, t.buyer());
        return refuseOnceFenced(state, sequence, drive, t.seller(),
            new TradeRefused(sequence, entry.reason(), entry.message()));
      }
      case FENCED -> {
        if (drive.refusal == null) {
          return Effect().noReply();
        }
        if (fee.isEmpty()) {
          // Never applied, or reversed already: nothing of the trade stands on that account.
          return finish(drive.refusal);
        }
        log.warn("Trade {} (sequence {}): {} applied a late side before it forgot the sequence; reversing it",
            t.tradeId(), sequence, drive.fenced);
        drive.fencedFee = fee.get();
        drive.retries = 0;
        step(state, sequence);
        return Effect().noReply();
      }
      default -> throw new IllegalStateException("unknown lookup " + read.lookup());
    }
  }

  /** Persists the trade's outcome and answers everyone waiting for it. */
  private ReplyEffect<Event, State> finish(Event outcome) {
    long sequence = outcome instanceof TradeSettled s ? s.sequence() : ((TradeRefused) outcome).sequence();
    return Effect().persist(outcome).thenRun(after -> {
      Drive drive = driving.remove(sequence);
      timers.cancel(sequence);
      Entry entry = after.get(sequence);
      Reply reply = entry.status() == Status.SETTLED
          ? new Settled(entry.buyerFee(), entry.sellerFee(), false)
          : new Refused(entry.reason(), entry.message());
      if (drive != null) {
        drive.waiters.forEach(w -> w.tell(reply));
      }
      if (entry.status() == Status.SETTLED) {
        // Both sides stand now: what each realized is its account's to move (SettlingSides).
        accounts.tell(entry.trade().buyer(), new AccountEntity.SideSettled(sequence));
        accounts.tell(entry.trade().seller(), new AccountEntity.SideSettled(sequence));
      }
    }).thenNoReply();
  }

  /** {@code refused} is persisted once {@code account} has marked the sequence never to be applied. */
  private ReplyEffect<Event, State> refuseOnceFenced(State state, long sequence, Drive drive, String account,
      TradeRefused refused) {
    drive.refusal = refused;
    drive.fenced = account;
    drive.retries = 0;
    step(state, sequence);
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> retryLater(long sequence, Drive drive, String why) {
    scheduleRetry(sequence, drive, why);
    return Effect().noReply();
  }

  private void scheduleRetry(long sequence, Drive drive, String why) {
    drive.retries++;
    Duration delay = settings.retryInterval().multipliedBy(1L << Math.min(drive.retries - 1, 10));
    if (delay.compareTo(settings.maxRetryInterval()) > 0) {
      delay = settings.maxRetryInterval();
    }
    log.warn("Trade register {}: sequence {} not answered ({}); asking again in {}", bucket, sequence, why, delay);
    timers.startSingleTimer(sequence, new RetryStep(sequence, drive.attempt), delay);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }
}
