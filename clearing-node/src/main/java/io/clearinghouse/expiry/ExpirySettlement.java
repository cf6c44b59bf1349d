package io.clearinghouse.expiry;

// Over 450 lines: the settlement's protocol, state and its one sequence of phases (sample, fix or
// wait, settle rounds, close) in one entity, as the funding clock; the bound on an operator's price
// (review of issue 17) is its own small rule (SettlementPriceBound); the accounts' late closes
// recorded after it (RecordLate) keep the record's totals at zero.

import io.clearinghouse.account.AccountEntity.SettledAfterExpiry;
import io.clearinghouse.account.AccountEntity.SettlementApplied;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.ExpiryTerms;
import io.clearinghouse.margin.SettlementMath;
import io.clearinghouse.persistence.CborSerializable;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The settlement of one dated future (sharded by instrument, event-sourced), the only place its
 * settlement price and its settlement are decided; it follows the funding clock's shape. Every
 * node ticks it once per {@code sample-every}:
 * <ol>
 *   <li>inside the settlement window (the {@code settlement-window} before expiry) it samples the
 *       index once per slot, persisting each fresh sample ({@link IndexSampled}), so a restart keeps
 *       the running average, which is the expected settlement price it publishes;
 *   <li>from the expiry on, if at least {@code min-sample-share} of the window's slots held a fresh
 *       index, it fixes the price as their average ({@link PriceFixed}); else it records that it
 *       waits ({@link SettlementWaiting}, a metric and a warning) until an operator sets the price
 *       ({@link SetPrice}, recorded with the operator's name);
 *   <li>then it settles: round after round it asks every node's margin monitor which of its
 *       accounts still hold the instrument, writes down whom it is about to ask
 *       ({@link SettlementsRequested}), sends each an
 *       {@link io.clearinghouse.account.AccountEntity.ApplySettlement} and records every account's
 *       result ({@link AccountsSettled}). The account applies its settlement once and answers a
 *       repeat with the first result; an account asked and not yet recorded stays requested (in
 *       the journal) and is asked again every round until it answers. That is what makes a
 *       restart safe: an account that applied its settlement no longer holds the future, so no
 *       monitor names it again, and only the journal still knows to ask it for its result. A
 *       round in which every monitor answered and found nobody, with no requested account left
 *       unrecorded, {@code settle-window} after the last account found, ends it
 *       ({@link SettlementClosed}): the instrument is settled.
 * </ol>
 */
public final class ExpirySettlement extends EventSourcedBehavior<ExpirySettlement.Command, ExpirySettlement.Event,
    ExpirySettlement.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "ExpirySettlement");

  // --- protocol -------------------------------------------------------------------------

  public sealed interface Command extends CborSerializable {}

  /** Time to sample, fix or settle; sent by every node's ticker (repeats are harmless). */
  public enum Tick implements Command { INSTANCE }

  /** The settlement record as it stands. */
  public record GetRecord(ActorRef<SettlementRecord> replyTo) implements Command {}

  /**
   * An operator sets the settlement price by hand (once, after the expiry, before any price is
   * fixed): within the price band around the last index, or anywhere with {@code forceReason}
   * (null: not forced), which is recorded with the operator's name.
   */
  public record SetPrice(long priceTicks, String operator, String forceReason, ActorRef<Reply> replyTo)
      implements Command {
    public SetPrice(long priceTicks, String operator, ActorRef<Reply> replyTo) {
      this(priceTicks, operator, null, replyTo);
    }
  }

  /**
   * An account's late closes of this future ({@link SettledAfterExpiry}), numbered from
   * {@code from} (the account's own numbering, from 0), with the account's settlement
   * ({@code own}: recorded too if this settlement has no result for the account, e.g. one that held
   * nothing at the expiry and settled itself when forced into the future afterwards). Each close is
   * recorded once by (account, number); a repeat is answered and changes nothing.
   */
  public record RecordLate(String accountId, SettlementApplied own, int from, java.util.List<SettledAfterExpiry> closes,
      ActorRef<Reply> replyTo) implements Command {
    public RecordLate {
      closes = closes == null ? java.util.List.of() : java.util.List.copyOf(closes);
    }
  }

  /** The last index the node knows, read for an unforced {@link SetPrice} (0: none known). */
  private record IndexRead(SetPrice cmd, long indexTicks) implements Command {}

  private record Sampled(long slot, long indexTicks) implements Command {}

  private record DueListed(SettlementFanOut.Due due, Throwable failure) implements Command {}

  private record SettledAnswered(Map<String, SettlementApplied> settled, Throwable failure) implements Command {}

  public sealed interface Reply extends CborSerializable {}

  public record PriceSet(SettlementRecord record) implements Reply {}

  public record Refused(Rejection reason, String message) implements Reply {}

  /** The late closes of a {@link RecordLate} are recorded (now or before). */
  public record LateRecorded(int upTo) implements Reply {}

  public sealed interface Event extends CborSerializable {}

  /** A fresh index sample in slot {@code slot} of the settlement window. */
  public record IndexSampled(long slot, long indexTicks, long epochMillis) implements Event {}

  /** Past the expiry with too few samples for a price: waiting for an operator. */
  public record SettlementWaiting(long samples, long required, long epochMillis) implements Event {}

  /**
   * The settlement price is fixed: from the index average, or by {@code operator} (null: the
   * average), forced outside the band around the last index for {@code forceReason} (null: not forced).
   */
  public record PriceFixed(long priceTicks, long samples, String operator, long epochMillis, String forceReason)
      implements Event {
    public PriceFixed(long priceTicks, long samples, String operator, long epochMillis) {
      this(priceTicks, samples, operator, epochMillis, null);
    }
  }

  /** Accounts about to be asked to settle, written before: each is asked again until its result is recorded. */
  public record SettlementsRequested(Set<String> accounts, long epochMillis) implements Event {
    public SettlementsRequested {
      accounts = Set.copyOf(accounts);
    }
  }

  /** Accounts settled, each recorded once with its result. */
  public record AccountsSettled(Map<String, SettlementApplied> results, long epochMillis) implements Event {
    public AccountsSettled {
      results = Map.copyOf(results);
    }
  }

  /**
   * An account's late closes recorded, keyed {@code account#number} (only those not recorded
   * before), and its settlement if this settlement had no result for it ({@code own}, null: had one).
   */
  public record LateClosesRecorded(String accountId, SettlementApplied own, Map<String, SettledAfterExpiry> closes,
      long epochMillis) implements Event {
    public LateClosesRecorded {
      closes = Map.copyOf(closes);
    }
  }

  /** Every holder found was settled and the settle window passed with nobody new. */
  public record SettlementClosed(long epochMillis) implements Event {}

  /** Where a settlement stands. */
  public enum Status {
    /** Before the expiry: trading, and sampling inside the window. */
    PENDING,
    /** Past the expiry without a price (stale index in the window): an operator must set it. */
    WAITING_FOR_PRICE,
    /** Price fixed; positions being closed. */
    SETTLING,
    /** Every position closed: the instrument is settled. */
    SETTLED
  }

  /**
   * A settlement as AdminService shows it: status, the samples so far and their average (the
   * expected settlement price before the price is fixed), the price and who set it (null: the
   * index average), and every account's result; {@code totalValue} (the values paid from and into
   * the settlement pool) is zero once every holder is settled.
   */
  public record SettlementRecord(String instrument, long expiryMillis, Status status, long samples, long slots,
      long requiredSamples, long expectedPriceTicks, long priceTicks, String operator, long fixedAt, long closedAt,
      Map<String, SettlementApplied> results, String forceReason, Map<String, SettledAfterExpiry> lateCloses)
      implements CborSerializable {
    public SettlementRecord {
      results = Map.copyOf(results);
      lateCloses = lateCloses == null ? Map.of() : Map.copyOf(lateCloses);
    }

    public SettlementRecord(String instrument, long expiryMillis, Status status, long samples, long slots,
        long requiredSamples, long expectedPriceTicks, long priceTicks, String operator, long fixedAt, long closedAt,
        Map<String, SettlementApplied> results, String forceReason) {
      this(instrument, expiryMillis, status, samples, slots, requiredSamples, expectedPriceTicks, priceTicks, operator,
          fixedAt, closedAt, results, forceReason, Map.of());
    }

    public SettlementRecord(String instrument, long expiryMillis, Status status, long samples, long slots,
        long requiredSamples, long expectedPriceTicks, long priceTicks, String operator, long fixedAt, long closedAt,
        Map<String, SettlementApplied> results) {
      this(instrument, expiryMillis, status, samples, slots, requiredSamples, expectedPriceTicks, priceTicks, operator,
          fixedAt, closedAt, results, null);
    }

    /** The settlements' values and the late closes' (see {@link #lateValue()}): zero once every holder is settled. */
    public long totalValue() {
      return Math.addExact(results.values().stream().mapToLong(SettlementApplied::value).reduce(0, Math::addExact),
          lateValue());
    }

    /** The values of the late closes ({@link SettledAfterExpiry}) the accounts reported. */
    public long lateValue() {
      return lateCloses.values().stream().mapToLong(SettledAfterExpiry::value).reduce(0, Math::addExact);
    }

    public long totalFees() {
      return results.values().stream().mapToLong(SettlementApplied::fee).reduce(0, Math::addExact);
    }

    public long totalPnl() {
      return Math.addExact(results.values().stream().mapToLong(SettlementApplied::pnl).reduce(0, Math::addExact),
          lateCloses.values().stream().mapToLong(SettledAfterExpiry::pnl).reduce(0, Math::addExact));
    }
  }

  /**
   * {@code requested}: accounts asked to settle whose result is not recorded yet; {@code forceReason}:
   * why the operator's price was forced (null: not forced; snapshots before it had none).
   */
  public record State(SettlementMath.Average average, long lastSlot, Status status, long priceTicks, String operator,
      long fixedAt, Map<String, SettlementApplied> results, long lastDueAt, long closedAt, Set<String> requested,
      String forceReason, Map<String, SettledAfterExpiry> lateCloses) implements CborSerializable {
    public State {
      average = average == null ? SettlementMath.Average.EMPTY : average;
      results = results == null ? Map.of() : Map.copyOf(results);
      requested = requested == null ? Set.of() : Set.copyOf(requested);
      // Snapshots written before late closes were recorded have none.
      lateCloses = lateCloses == null ? Map.of() : Map.copyOf(lateCloses);
    }

    public State(SettlementMath.Average average, long lastSlot, Status status, long priceTicks, String operator,
        long fixedAt, Map<String, SettlementApplied> results, long lastDueAt, long closedAt, Set<String> requested,
        String forceReason) {
      this(average, lastSlot, status, priceTicks, operator, fixedAt, results, lastDueAt, closedAt, requested,
          forceReason, Map.of());
    }

    public State(SettlementMath.Average average, long lastSlot, Status status, long priceTicks, String operator,
        long fixedAt, Map<String, SettlementApplied> results, long lastDueAt, long closedAt, Set<String> requested) {
      this(average, lastSlot, status, priceTicks, operator, fixedAt, results, lastDueAt, closedAt, requested,
          null);
    }

    static final State EMPTY = new State(SettlementMath.Average.EMPTY, -1, Status.PENDING, 0, null, 0, Map.of(), 0, 0,
        Set.of());

    State with(Map<String, SettlementApplied> resultsNow, Set<String> requestedNow, long dueAt) {
      return new State(average, lastSlot, status, priceTicks, operator, fixedAt, resultsNow, dueAt, closedAt,
          requestedNow, forceReason, lateCloses);
    }

    State withLate(Map<String, SettlementApplied> resultsNow, Set<String> requestedNow,
        Map<String, SettledAfterExpiry> lateNow) {
      return new State(average, lastSlot, status, priceTicks, operator, fixedAt, resultsNow, lastDueAt, closedAt,
          requestedNow, forceReason, lateNow);
    }
  }

  // --- wiring ---------------------------------------------------------------------------

  public static void init(ActorSystem<?> system, SettlementEnvironment environment) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, context -> Behaviors.<Command>setup(ctx ->
        new ExpirySettlement(context.getEntityId(), context.getEntityId(), environment, ctx))));
  }

  /** For tests: the behaviour without sharding, journaled under {@code entityId}. */
  public static Behavior<Command> create(String instrument, String entityId, SettlementEnvironment environment) {
    return Behaviors.setup(ctx -> new ExpirySettlement(instrument, entityId, environment, ctx));
  }

  public static PersistenceId persistenceId(String instrument) {
    return PersistenceId.of(TYPE_KEY.name(), instrument);
  }

  private final String instrument;
  private final SettlementEnvironment environment;
  private final ExpiryTerms terms;
  private final ExpirySettings settings;
  private final ActorContext<Command> context;
  private final Clock clock;
  private final long slots;
  private final long required;
  private boolean sampling;
  private boolean settling;
  /**
   * When this incarnation started: after a restart (its node died, or the cluster restarted) the
   * accounts restart too and report to their monitors only over the next seconds, so a round
   * finding nobody closes the settlement only {@code settle-window} after this as well.
   */
  private final long startedAt;

  private ExpirySettlement(String instrument, String entityId, SettlementEnvironment environment,
      ActorContext<Command> context) {
    super(persistenceId(entityId));
    this.instrument = instrument;
    this.environment = environment;
    this.terms = environment.instruments().spec(instrument).expiry();
    if (terms == null) {
      throw new IllegalArgumentException(instrument + " is not a dated future: it has no settlement");
    }
    this.settings = environment.settings();
    this.context = context;
    this.clock = environment.clock();
    this.slots = SettlementMath.slots(terms.settlementWindow().toMillis(), settings.sampleEvery().toMillis());
    this.required = SettlementMath.requiredSamples(slots, settings.minSampleShare());
    this.startedAt = clock.millis();
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          if (!state.requested().isEmpty()) {
            context.getLog().info("Settlement of {} resumes: {} accounts asked and not recorded yet, asked again",
                instrument, state.requested().size());
          }
        })
        .build();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Tick.class, this::tick)
        .onCommand(Sampled.class, this::sampled)
        .onCommand(DueListed.class, this::dueListed)
        .onCommand(SettledAnswered.class, this::settledAnswered)
        .onCommand(SetPrice.class, this::setPrice)
        .onCommand(IndexRead.class, this::indexRead)
        .onCommand(RecordLate.class, this::recordLate)
        .onCommand(GetRecord.class, (state, cmd) -> {
          cmd.replyTo().tell(record(state));
          return Effect().none();
        })
        .build();
  }

  private Effect<Event, State> tick(State state, Tick tick) {
    long now = clock.millis();
    // The price feed holds the expected price in memory only: told again every tick (from the
    // samples or the price this journal keeps), a restarted feed has it back within one tick.
    tellExpected(state.priceTicks() > 0 ? state.priceTicks() : state.average().priceTicks());
    environment.metrics().settlementWaiting.labels(instrument)
        .set(state.status() == Status.WAITING_FOR_PRICE ? 1 : 0);
    switch (state.status()) {
      case SETTLED, WAITING_FOR_PRICE:
        return Effect().none();
      case SETTLING:
        startRound(state);
        return Effect().none();
      default:
        break;
    }
    if (now >= terms.expiryMillis()) {
      if (state.average().samples() >= required) {
        return fix(state.average().priceTicks(), state.average().samples(), null, null, now);
      }
      context.getLog().warn("Settlement of {} waits: {} fresh index samples of {} slots in its settlement window, "
          + "{} needed; an operator must set the price (AdminService.SetSettlementPrice)", instrument,
          state.average().samples(), slots, required);
      return Effect().persist(new SettlementWaiting(state.average().samples(), required, now))
          .thenRun(after -> environment.metrics().settlementWaiting.labels(instrument).set(1));
    }
    if (now >= terms.windowStartMillis() && !sampling) {
      long slot = Math.floorDiv(now - terms.windowStartMillis(), settings.sampleEvery().toMillis());
      if (slot > state.lastSlot()) {
        sampling = true;
        context.pipeToSelf(environment.index().freshIndexTicks(instrument), (index, failure) ->
            new Sampled(slot, failure == null && index != null ? index : 0));
      }
    }
    return Effect().none();
  }

  private Effect<Event, State> sampled(State state, Sampled s) {
    sampling = false;
    if (state.status() != Status.PENDING || s.slot() <= state.lastSlot() || s.slot() >= slots || s.indexTicks() <= 0) {
      // A stale index leaves its slot empty: the average is over the fresh samples.
      return Effect().none();
    }
    return Effect().persist(new IndexSampled(s.slot(), s.indexTicks(), clock.millis()))
        .thenRun(after -> tellExpected(after.average().priceTicks()));
  }

  private EffectBuilder<Event, State> fix(long priceTicks, long samples, String operator, String forceReason,
      long now) {
    context.getLog().info("Settlement price of {} fixed at {} ticks ({} samples{}{})", instrument, priceTicks, samples,
        operator == null ? "" : ", set by " + operator, forceReason == null ? "" : ", forced: " + forceReason);
    return Effect().persist(new PriceFixed(priceTicks, samples, operator, now, forceReason))
        .thenRun(after -> {
          environment.metrics().settlementWaiting.labels(instrument).set(0);
          tellExpected(after.priceTicks());
          startRound(after);
        });
  }

  private Effect<Event, State> setPrice(State state, SetPrice cmd) {
    java.util.Optional<Refused> refused = refusal(state, cmd);
    if (refused.isPresent()) {
      cmd.replyTo().tell(refused.get());
      return Effect().none();
    }
    if (cmd.forceReason() != null) {
      return fix(cmd.priceTicks(), state.average().samples(), cmd.operator(), cmd.forceReason(), clock.millis())
          .thenRun(after -> cmd.replyTo().tell(new PriceSet(record(after))));
    }
    // Not forced: bounded by the last index the node knows (stale or not: the settlement waits because it is).
    context.pipeToSelf(environment.index().lastIndexTicks(instrument), (index, failure) ->
        new IndexRead(cmd, failure == null && index != null ? index : 0));
    return Effect().none();
  }

  private Effect<Event, State> indexRead(State state, IndexRead read) {
    SetPrice cmd = read.cmd();
    java.util.Optional<Refused> refused = refusal(state, cmd);
    if (refused.isEmpty()) {
      refused = SettlementPriceBound.refusal(instrument, cmd.priceTicks(), read.indexTicks(),
          environment.instruments().priceBandPpm(instrument)).map(message ->
          new Refused(Rejection.SETTLEMENT_PRICE_OFF_INDEX, message));
    }
    if (refused.isPresent()) {
      cmd.replyTo().tell(refused.get());
      return Effect().none();
    }
    return fix(cmd.priceTicks(), state.average().samples(), cmd.operator(), null, clock.millis())
        .thenRun(after -> cmd.replyTo().tell(new PriceSet(record(after))));
  }

  private java.util.Optional<Refused> refusal(State state, SetPrice cmd) {
    if (!terms.expired(clock.millis())) {
      return java.util.Optional.of(new Refused(Rejection.INSTRUMENT_NOT_EXPIRED, instrument + " expires at "
          + terms.expiry() + ": its settlement price is set then"));
    }
    if (state.status() == Status.SETTLING || state.status() == Status.SETTLED) {
      return java.util.Optional.of(new Refused(Rejection.INSTRUMENT_SETTLED, instrument
          + " already has its settlement price " + state.priceTicks()
          + (state.operator() == null ? " (index average)" : " (set by " + state.operator() + ")")));
    }
    if (cmd.priceTicks() <= 0) {
      return java.util.Optional.of(new Refused(Rejection.PRICE_NOT_POSITIVE, "a settlement price must be positive"));
    }
    return java.util.Optional.empty();
  }

  /** The price feed's mark converges to the expected settlement price over the window. */
  private void tellExpected(long ticks) {
    if (ticks > 0) {
      environment.expected().expected(instrument, ticks, terms.windowStartMillis(), terms.expiryMillis());
    }
  }

  private void startRound(State state) {
    if (settling) {
      return;
    }
    settling = true;
    context.pipeToSelf(environment.fanOut().due(instrument, state.results().keySet(), settings), DueListed::new);
  }

  /** The monitors named the holders: write the new ones down, then ask them and every one still requested. */
  private Effect<Event, State> dueListed(State state, DueListed listed) {
    if (state.status() != Status.SETTLING) {
      settling = false;
      return Effect().none();
    }
    if (listed.failure() != null) {
      context.getLog().warn("Settlement round of {} could not list the holders, retried on the next tick: {}",
          instrument, listed.failure().toString());
    }
    Set<String> fresh = new TreeSet<>();
    if (listed.failure() == null) {
      for (String id : listed.due().accountIds()) {
        if (!state.results().containsKey(id) && !state.requested().contains(id)) {
          fresh.add(id);
        }
      }
    }
    long now = clock.millis();
    if (!fresh.isEmpty()) {
      return Effect().persist(new SettlementsRequested(fresh, now)).thenRun(this::settle);
    }
    if (!state.requested().isEmpty()) {
      settle(state);
      return Effect().none();
    }
    settling = false;
    // Also settle-window after the cluster's monitors last changed: a removed node's accounts
    // restart elsewhere and report to their new monitors only over the next seconds.
    if (listed.failure() == null && listed.due().complete() && listed.due().accountIds().isEmpty()
        && now - Math.max(Math.max(state.lastDueAt(), startedAt), listed.due().monitorsChangedAt())
            >= settings.settleWindow().toMillis()) {
      SettlementRecord r = record(state);
      context.getLog().info("Settlement of {} closed at {} ticks: {} accounts, values summing to {}, fees {}",
          instrument, state.priceTicks(), r.results().size(), r.totalValue(), r.totalFees());
      return Effect().persist(new SettlementClosed(now));
    }
    return Effect().none();
  }

  private void settle(State state) {
    context.pipeToSelf(environment.fanOut().settle(instrument, terms.expiryMillis(), state.priceTicks(),
        state.requested(), settings), SettledAnswered::new);
  }

  private Effect<Event, State> settledAnswered(State state, SettledAnswered answered) {
    settling = false;
    if (state.status() != Status.SETTLING) {
      return Effect().none();
    }
    if (answered.failure() != null) {
      context.getLog().warn("Settlement round of {} failed, retried on the next tick: {}", instrument,
          answered.failure().toString());
      return Effect().none();
    }
    Map<String, SettlementApplied> fresh = new HashMap<>();
    answered.settled().forEach((account, result) -> {
      if (!state.results().containsKey(account)) {
        fresh.put(account, result);
      }
    });
    if (fresh.isEmpty()) {
      return Effect().none();
    }
    // More may be due right away (the monitors answer a batch at a time): another round now.
    return Effect().persist(new AccountsSettled(fresh, clock.millis()))
        .thenRun(after -> context.getSelf().tell(Tick.INSTANCE));
  }

  /** The key a late close is recorded by: its account and the account's number for it. */
  public static String lateKey(String accountId, int number) {
    return accountId + "#" + number;
  }

  private Effect<Event, State> recordLate(State state, RecordLate cmd) {
    int upTo = cmd.from() + cmd.closes().size();
    if (cmd.from() < 0 || cmd.accountId() == null || cmd.own() == null || !cmd.own().instrument().equals(instrument)
        || cmd.closes().stream().anyMatch(c -> !c.instrument().equals(instrument))) {
      cmd.replyTo().tell(new Refused(Rejection.UNKNOWN_INSTRUMENT, "late closes of another instrument or malformed: "
          + cmd.accountId()));
      return Effect().none();
    }
    Map<String, SettledAfterExpiry> fresh = new HashMap<>();
    for (int i = 0; i < cmd.closes().size(); i++) {
      String key = lateKey(cmd.accountId(), cmd.from() + i);
      if (!state.lateCloses().containsKey(key)) {
        fresh.put(key, cmd.closes().get(i));
      }
    }
    SettlementApplied own = state.results().containsKey(cmd.accountId()) ? null : cmd.own();
    if (fresh.isEmpty() && own == null) {
      cmd.replyTo().tell(new LateRecorded(upTo));
      return Effect().none();
    }
    return Effect().persist(new LateClosesRecorded(cmd.accountId(), own, fresh, clock.millis()))
        .thenRun(after -> cmd.replyTo().tell(new LateRecorded(upTo)));
  }

  SettlementRecord record(State state) {
    return new SettlementRecord(instrument, terms.expiryMillis(), state.status(), state.average().samples(), slots,
        required, state.average().priceTicks(), state.priceTicks(), state.operator(), state.fixedAt(),
        state.closedAt(), state.results(), state.forceReason(), state.lateCloses());
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(IndexSampled.class, (state, e) -> new State(state.average().plus(e.indexTicks()), e.slot(),
            state.status(), state.priceTicks(), state.operator(), state.fixedAt(), state.results(), state.lastDueAt(),
            state.closedAt(), state.requested(), state.forceReason(), state.lateCloses()))
        .onEvent(SettlementWaiting.class, (state, e) -> new State(state.average(), state.lastSlot(),
            Status.WAITING_FOR_PRICE, 0, null, 0, state.results(), state.lastDueAt(), 0, state.requested(), null,
            state.lateCloses()))
        .onEvent(PriceFixed.class, (state, e) -> new State(state.average(), state.lastSlot(), Status.SETTLING,
            e.priceTicks(), e.operator(), e.epochMillis(), state.results(), e.epochMillis(), 0, state.requested(),
            e.forceReason(), state.lateCloses()))
        .onEvent(SettlementsRequested.class, (state, e) -> {
          Set<String> requested = new HashSet<>(state.requested());
          requested.addAll(e.accounts());
          return state.with(state.results(), requested, e.epochMillis());
        })
        .onEvent(AccountsSettled.class, (state, e) -> {
          Map<String, SettlementApplied> results = new HashMap<>(state.results());
          results.putAll(e.results());
          Set<String> requested = new HashSet<>(state.requested());
          requested.removeAll(e.results().keySet());
          return state.with(results, requested, e.epochMillis());
        })
        .onEvent(SettlementClosed.class, (state, e) -> new State(state.average(), state.lastSlot(), Status.SETTLED,
            state.priceTicks(), state.operator(), state.fixedAt(), state.results(), state.lastDueAt(), e.epochMillis(),
            state.requested(), state.forceReason(), state.lateCloses()))
        .onEvent(LateClosesRecorded.class, (state, e) -> {
          Map<String, SettlementApplied> results = state.results();
          Set<String> requested = state.requested();
          if (e.own() != null && !results.containsKey(e.accountId())) {
            results = new HashMap<>(results);
            results.put(e.accountId(), e.own());
            requested = new HashSet<>(requested);
            requested.remove(e.accountId());
          }
          Map<String, SettledAfterExpiry> late = new HashMap<>(state.lateCloses());
          late.putAll(e.closes());
          return state.withLate(results, requested, late);
        })
        .build();
  }
}
