package io.clearinghouse.liquidation;

import io.clearinghouse.common.Rejection;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.persistence.CborSerializable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One insurance fund (DESIGN section 6): receives liquidation penalties from the sagas' escrow,
 * pays deficits back into it, and takes operator top-ups. Its balance never goes below zero: a
 * payment is at most the balance, and the saga applies the instrument's policy to the rest.
 * Every movement carries an idempotency key and is applied once; the fund keeps its recent
 * history (at most {@code retainedHistory} entries) for operators, the top-ups of the last
 * {@code topUpKeyRetention} (whatever the history's size) and the movements of liquidations not
 * yet forgotten, for answering retries.
 */
public final class InsuranceFund
    extends EventSourcedBehaviorWithEnforcedReplies<InsuranceFund.Command, InsuranceFund.Event, InsuranceFund.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "InsuranceFund");

  public sealed interface Command extends CborSerializable {}

  /** External money from the operator into the fund. */
  public record TopUp(String key, long amount, ActorRef<Reply> replyTo) implements Command {}

  /** A liquidation's penalty (or surplus) from the saga's escrow into the fund. */
  public record Receive(String key, String liquidationId, long amount, ActorRef<Reply> replyTo) implements Command {}

  /** Pays at most {@code requested} out of the fund into the saga's escrow; replies what was paid. */
  public record Pay(String key, String liquidationId, long requested, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Holds {@code amount} of the balance for a liquidation that is about to close at a loss beyond
   * bankruptcy: granted only if that much is not already held for other liquidations. One hold per
   * liquidation: a later Reserve of the same liquidation (a replan at a new mark, the next close)
   * replaces its hold with the new amount and is never refused against its own earlier hold; a
   * refused one leaves the earlier hold as it was. Its later payment draws on the hold first; what
   * is left of the hold goes when the liquidation is forgotten.
   */
  public record Reserve(String key, String liquidationId, long amount, ActorRef<Reply> replyTo) implements Command {}

  /** The liquidation ended: the keys of its movements and what is still held for it may be dropped. */
  /** Drop a finished liquidation's keys and hold; {@code replyTo} (may be null) hears when it is done. */
  public record Forget(String liquidationId, ActorRef<org.apache.pekko.Done> replyTo) implements Command {
    public Forget(String liquidationId) {
      this(liquidationId, null);
    }
  }

  /** The balance and the page {@code [offset, offset + limit)} of the retained history, newest first. */
  public record Get(int offset, int limit, ActorRef<Reply> replyTo) implements Command {}

  public sealed interface Reply extends CborSerializable {}

  /** A movement applied now or ({@code replayed}) before. */
  public record Moved(Entry entry, boolean replayed) implements Reply {}

  public record View(String fundId, long balance, long reserved, long totalIn, long totalOut, long entries,
      List<Entry> page) implements Reply {}

  /** A hold asked for: {@code granted} or not (nothing held then). */
  public record Reservation(String key, boolean granted, long amount) implements Reply {}

  /** Part of the balance held for one liquidation (its only hold: a new one replaces it). */
  public record Hold(String key, String liquidationId, long amount) implements CborSerializable {}

  public record Rejected(Rejection reason, String message) implements Reply {}

  public enum Kind { TOP_UP, PENALTY, DEFICIT_PAID }

  /** One movement: {@code amount} in (top-up, penalty) or out (deficit paid), and the balance after. */
  public record Entry(Kind kind, String key, String liquidationId, long requested, long amount, long balanceAfter,
      long epochMillis) implements CborSerializable {}

  public sealed interface Event extends CborSerializable {}

  public record ToppedUp(String key, long amount, long epochMillis) implements Event {}

  public record Received(String key, String liquidationId, long amount, long epochMillis) implements Event {}

  public record Paid(String key, String liquidationId, long requested, long amount, long epochMillis) implements Event {}

  public record Forgotten(String liquidationId) implements Event {}

  public record Reserved(String key, String liquidationId, long amount, long epochMillis) implements Event {}

  /**
   * Immutable. {@code recent}: the history, oldest first, at most the retained number of entries;
   * {@code open}: the movements of liquidations whose sagas have not said to forget them yet,
   * kept whatever the history's size so that a saga's retry is never applied twice;
   * {@code topUps}: the top-ups of the key retention, kept whatever the history's size, so that an
   * operator's retry within it is never applied twice however many movements came between.
   */
  public record State(long balance, long totalIn, long totalOut, long entries, List<Entry> recent, List<Entry> open,
      List<Hold> holds, List<Entry> topUps) implements CborSerializable {
    public State {
      recent = List.copyOf(recent);
      open = open == null ? List.of() : List.copyOf(open);
      holds = holds == null ? List.of() : List.copyOf(holds);
      topUps = topUps == null ? List.of() : List.copyOf(topUps);
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

    /** The liquidation's hold is now {@code e}'s: any earlier one of it is replaced. */
    State hold(Reserved e) {
      List<Hold> after = new ArrayList<>(holds.stream().filter(h -> !h.liquidationId().equals(e.liquidationId()))
          .toList());
      after.add(new Hold(e.key(), e.liquidationId(), e.amount()));
      return new State(balance, totalIn, totalOut, entries, recent, open, after, topUps);
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

    State plus(Entry entry, int retained, long topUpRetentionMillis, boolean in) {
      List<Entry> kept = new ArrayList<>(Math.min(recent.size() + 1, retained));
      kept.addAll(recent.subList(Math.max(0, recent.size() + 1 - retained), recent.size()));
      kept.add(entry);
      List<Entry> stillOpen = open;
      if (entry.liquidationId() != null) {
        stillOpen = new ArrayList<>(open);
        stillOpen.add(entry);
      }
      // A payment uses up what was held for its liquidation.
      List<Hold> holdsAfter = entry.kind() == Kind.DEFICIT_PAID
          ? holds.stream().filter(h -> !h.liquidationId().equals(entry.liquidationId())).toList() : holds;
      List<Entry> topUpsAfter = topUps;
      if (entry.kind() == Kind.TOP_UP) {
        // Older than the retention at this entry's time: no longer recognised as a retry.
        topUpsAfter = new ArrayList<>(topUps.stream()
            .filter(t -> entry.epochMillis() - t.epochMillis() < topUpRetentionMillis).toList());
        topUpsAfter.add(entry);
      }
      return new State(entry.balanceAfter(), in ? Math.addExact(totalIn, entry.amount()) : totalIn,
          in ? totalOut : Math.addExact(totalOut, entry.amount()), entries + 1, kept, stillOpen, holdsAfter,
          topUpsAfter);
    }

    State forget(String liquidationId) {
      return new State(balance, totalIn, totalOut, entries, recent,
          open.stream().filter(e -> !liquidationId.equals(e.liquidationId())).toList(),
          holds.stream().filter(h -> !h.liquidationId().equals(liquidationId)).toList(), topUps);
    }

    boolean remembers(String liquidationId) {
      return open.stream().anyMatch(e -> liquidationId.equals(e.liquidationId()))
          || holds.stream().anyMatch(h -> h.liquidationId().equals(liquidationId));
    }
  }

  public static void init(ActorSystem<?> system, int retainedHistory, Duration topUpKeyRetention, Metrics metrics,
      Clock clock) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, context ->
        new InsuranceFund(context.getEntityId(), retainedHistory, topUpKeyRetention, metrics, clock)));
  }

  /** For tests: the behaviour without sharding. */
  public static Behavior<Command> create(String fundId, int retainedHistory, Duration topUpKeyRetention,
      Metrics metrics, Clock clock) {
    return new InsuranceFund(fundId, retainedHistory, topUpKeyRetention, metrics, clock);
  }

  public static PersistenceId persistenceId(String fundId) {
    return PersistenceId.of(TYPE_KEY.name(), fundId);
  }

  private final String fundId;
  private final int retainedHistory;
  private final long topUpRetentionMillis;
  private final Metrics metrics;
  private final Clock clock;

  private InsuranceFund(String fundId, int retainedHistory, Duration topUpKeyRetention, Metrics metrics, Clock clock) {
    super(persistenceId(fundId));
    this.fundId = fundId;
    this.retainedHistory = retainedHistory;
    this.topUpRetentionMillis = topUpKeyRetention.toMillis();
    this.metrics = metrics;
    this.clock = clock;
  }

  @Override
  public State emptyState() {
    return new State(0, 0, 0, 0, List.of(), List.of(), List.of(), List.of());
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(500, 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> metrics.insuranceFundBalance(fundId, state.balance()))
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(TopUp.class, (state, cmd) -> {
          var replayed = replay(state, cmd.key(), Kind.TOP_UP, cmd.amount(), cmd.replyTo());
          if (replayed != null) {
            return replayed;
          }
          if (cmd.amount() <= 0) {
            return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "a top-up must be greater than zero");
          }
          if (state.balance() > Long.MAX_VALUE - cmd.amount()) {
            return reject(cmd.replyTo(), Rejection.BALANCE_OVERFLOW, "the top-up would overflow the fund's balance");
          }
          return persist(new ToppedUp(cmd.key(), cmd.amount(), clock.millis()), cmd.key(), cmd.replyTo());
        })
        .onCommand(Receive.class, (state, cmd) -> {
          var replayed = replay(state, cmd.key(), Kind.PENALTY, cmd.amount(), cmd.replyTo());
          if (replayed != null) {
            return replayed;
          }
          if (cmd.amount() <= 0) {
            return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "a receipt must be greater than zero");
          }
          if (state.balance() > Long.MAX_VALUE - cmd.amount()) {
            return reject(cmd.replyTo(), Rejection.BALANCE_OVERFLOW, "the receipt would overflow the fund's balance");
          }
          return persist(new Received(cmd.key(), cmd.liquidationId(), cmd.amount(), clock.millis()), cmd.key(),
              cmd.replyTo());
        })
        .onCommand(Pay.class, (state, cmd) -> {
          Optional<Entry> first = state.entry(cmd.key());
          if (first.isPresent()) {
            return first.get().kind() == Kind.DEFICIT_PAID && first.get().requested() == cmd.requested()
                ? Effect().reply(cmd.replyTo(), new Moved(first.get(), true))
                : reject(cmd.replyTo(), Rejection.IDEMPOTENCY_KEY_REUSED, "key " + cmd.key() + " was used for another movement");
          }
          if (cmd.requested() <= 0) {
            return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "a payment must be greater than zero");
          }
          long paid = Math.min(cmd.requested(), state.availableTo(cmd.liquidationId()));
          return persist(new Paid(cmd.key(), cmd.liquidationId(), cmd.requested(), paid, clock.millis()), cmd.key(),
              cmd.replyTo());
        })
        .onCommand(Reserve.class, (state, cmd) -> {
          if (cmd.amount() <= 0) {
            return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "a reservation must be greater than zero");
          }
          Optional<Hold> own = state.holdOf(cmd.liquidationId());
          if (own.isPresent() && own.get().amount() == cmd.amount()) {
            // A retry, or a replan that needs what is already held: nothing to change.
            return Effect().reply(cmd.replyTo(), new Reservation(cmd.key(), true, cmd.amount()));
          }
          // Measured against the other liquidations' holds only: its own earlier hold is replaced.
          if (state.balance() - state.heldForOthers(cmd.liquidationId()) < cmd.amount()) {
            return Effect().reply(cmd.replyTo(), new Reservation(cmd.key(), false, cmd.amount()));
          }
          return Effect().persist(new Reserved(cmd.key(), cmd.liquidationId(), cmd.amount(), clock.millis()))
              .thenReply(cmd.replyTo(), s -> new Reservation(cmd.key(), true, cmd.amount()));
        })
        .onCommand(Forget.class, (state, cmd) -> {
          if (!state.remembers(cmd.liquidationId())) {
            return cmd.replyTo() == null ? Effect().noReply() : Effect().reply(cmd.replyTo(), org.apache.pekko.Done.done());
          }
          var persisted = Effect().persist(new Forgotten(cmd.liquidationId()));
          return cmd.replyTo() == null ? persisted.thenNoReply()
              : persisted.thenReply(cmd.replyTo(), s -> org.apache.pekko.Done.done());
        })
        .onCommand(Get.class, (state, cmd) -> {
          List<Entry> page = new ArrayList<>();
          int newest = state.recent().size() - 1 - Math.max(0, cmd.offset());
          for (int i = newest; i >= 0 && page.size() < Math.max(0, cmd.limit()); i--) {
            page.add(state.recent().get(i));
          }
          return Effect().reply(cmd.replyTo(), new View(fundId, state.balance(), state.reserved(), state.totalIn(),
              state.totalOut(),
              state.entries(), page));
        })
        .build();
  }

  /** A retried key: its first result when the content matches, a refusal when it does not; null if new. */
  private ReplyEffect<Event, State> replay(State state, String key, Kind kind, long amount, ActorRef<Reply> replyTo) {
    Optional<Entry> first = state.entry(key);
    if (first.isEmpty()) {
      return null;
    }
    if (first.get().kind() == kind && first.get().amount() == amount) {
      return Effect().reply(replyTo, new Moved(first.get(), true));
    }
    return reject(replyTo, Rejection.IDEMPOTENCY_KEY_REUSED, "key " + key + " was already used for a "
        + first.get().kind().name().toLowerCase() + " of " + first.get().amount());
  }

  private ReplyEffect<Event, State> persist(Event event, String key, ActorRef<Reply> replyTo) {
    return Effect().persist(event)
        .thenRun(state -> metrics.insuranceFundBalance(fundId, state.balance()))
        .thenReply(replyTo, state -> new Moved(state.entry(key).orElseThrow(), false));
  }

  private ReplyEffect<Event, State> reject(ActorRef<Reply> replyTo, Rejection reason, String message) {
    return Effect().reply(replyTo, new Rejected(reason, message));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(ToppedUp.class, (state, e) -> state.plus(new Entry(Kind.TOP_UP, e.key(), null, e.amount(), e.amount(),
            Math.addExact(state.balance(), e.amount()), e.epochMillis()), retainedHistory, topUpRetentionMillis, true))
        .onEvent(Received.class, (state, e) -> state.plus(new Entry(Kind.PENALTY, e.key(), e.liquidationId(), e.amount(),
            e.amount(), Math.addExact(state.balance(), e.amount()), e.epochMillis()), retainedHistory, topUpRetentionMillis, true))
        .onEvent(Paid.class, (state, e) -> state.plus(new Entry(Kind.DEFICIT_PAID, e.key(), e.liquidationId(),
            e.requested(), e.amount(), Math.subtractExact(state.balance(), e.amount()), e.epochMillis()),
            retainedHistory, topUpRetentionMillis, false))
        .onEvent(Forgotten.class, (state, e) -> state.forget(e.liquidationId()))
        .onEvent(Reserved.class, State::hold)
        .build();
  }
}
