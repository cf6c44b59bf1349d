package io.clearinghouse.funding;

// Over 450 lines: the protocol (commands, events, the interval records), the sampling, fixing and
// paying steps and the event handlers of one entity; the fan-out and the settings are apart.

import io.clearinghouse.account.FundingLedger;
import io.clearinghouse.instrument.FundingTerms;
import io.clearinghouse.margin.FundingMath;
import io.clearinghouse.persistence.CborSerializable;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The funding clock of one perpetual (sharded by instrument, event-sourced): the only place its
 * funding intervals are decided. On every tick it samples the premium (the mark's basis to the
 * index, one sample per {@code sample-every} slot, persisted so a restart keeps the average);
 * at the funding time it fixes the interval's rate and mark ({@link IntervalFixed}); then it
 * pays: round after round it asks every node's margin monitor which of its accounts hold the
 * instrument and have not applied this interval, writes down whom it is about to ask
 * ({@link PaymentsRequested}), sends each an
 * {@link io.clearinghouse.account.AccountEntity.ApplyFunding} keyed by (instrument, funding
 * time), and records who was paid what ({@link PaymentsRecorded}). The account applies its
 * payment once, in one event, and answers a repeat with the first payment; an account asked and
 * not yet recorded stays requested (in the journal) and is asked again every round until it
 * answers, so a clock that crashes or times out after its accounts applied, and before it recorded
 * them, still records them (the monitors no longer name an account that applied). An account that
 * refuses (it no longer exists) is written off the request ({@link PaymentsRefused}).
 *
 * <p>Why the monitors rather than a list the clock keeps: every account that holds a position is
 * remembered and reports to the monitor of the node it runs on, so the monitors together know
 * every holder without the trade path ever telling the clock anything (no per-trade message
 * through one entity). An account on a node that died is missing from the answers only until it
 * restarts elsewhere and reports there: the interval stays open for {@code settle-window} after the
 * last account found due, and only a round in which every monitor answered and found nobody
 * closes it ({@link IntervalClosed}, with the totals), and only once no requested account is
 * left unrecorded.
 *
 * <p>Intervals are paid in order: the next one is fixed only when this one is closed. An account
 * that missed a closed interval (it restarted after the settle window) is not taken as paid by
 * the next one: every payment offers the last closed intervals
 * ({@link io.clearinghouse.account.FundingLedger#LATE_INTERVALS}), the account pays those it
 * missed first, and the clock records them with their own interval ({@link LatePaymentsRecorded}).
 * An interval
 * fixed late is followed by the next one all the same (its samples are those taken before its
 * end); a clock more than {@link #MAX_CATCH_UP} intervals behind (no node ran, or no fresh mark)
 * skips to the current interval, and the ones skipped are never charged.
 */
public final class FundingClock extends EventSourcedBehavior<FundingClock.Command, FundingClock.Event,
    FundingClock.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "FundingClock");

  // --- protocol -------------------------------------------------------------------------

  public sealed interface Command extends CborSerializable {}

  /** Time to sample, fix or pay; sent by every node's ticker (repeats are harmless). */
  public enum Tick implements Command { INSTANCE }

  /** The interval history, newest first, with a funding time before {@code beforeFundingTime} (0: newest). */
  public record GetHistory(long beforeFundingTime, int limit, ActorRef<History> replyTo) implements Command {}

  /** The predicted rate now and the next funding time. */
  public record GetQuote(ActorRef<Quote> replyTo) implements Command {}

  private record Sampled(long slot, long intervalEnd, FundingEnvironment.Prices prices) implements Command {}

  private record FixWith(long fundingTime, FundingEnvironment.Prices prices) implements Command {}

  private record DueListed(long fundingTime, FundingFanOut.Due due, Throwable failure) implements Command {}

  private record PaidAnswered(long fundingTime, FundingFanOut.Paid paid, Throwable failure) implements Command {}

  public record History(List<IntervalRecord> newestFirst, boolean more) implements CborSerializable {
    public History {
      newestFirst = List.copyOf(newestFirst);
    }
  }

  /**
   * {@code predictedRate}: the rate the interval ending at {@code nextFundingTime} would have from
   * the samples so far; {@code lastRate} the rate of the last fixed interval (0: none);
   * {@code paying}: an interval is being paid.
   */
  public record Quote(String instrument, long predictedRate, long nextFundingTime, long lastRate, long lastFundingTime,
      boolean paying, long samples) implements CborSerializable {}

  public sealed interface Event extends CborSerializable {}

  /** A premium sample (10^-8) of the interval ending at {@code intervalEnd}, in sample slot {@code slot}. */
  public record PremiumSampled(long intervalEnd, long slot, long premium) implements Event {}

  /** The interval ending at {@code fundingTime} is fixed: its rate and mark; payments start. */
  public record IntervalFixed(long fundingTime, long rate, long markTicks, long averagePremium, long samples,
      long epochMillis, long nextIntervalEnd) implements Event {}

  /** Accounts paid (amount received, negative: paid) in the open interval, each recorded once. */
  public record PaymentsRecorded(long fundingTime, Map<String, Long> amounts, long epochMillis) implements Event {
    public PaymentsRecorded {
      amounts = Map.copyOf(amounts);
    }
  }

  /**
   * The accounts about to be asked to pay the open interval, written before they are asked: each
   * stays requested until its payment is recorded or refused, and is asked again meanwhile.
   */
  public record PaymentsRequested(long fundingTime, Set<String> accounts, long epochMillis) implements Event {
    public PaymentsRequested {
      accounts = Set.copyOf(accounts);
    }
  }

  /**
   * Accounts that had missed the closed interval ending at {@code fundingTime} (their node was
   * down past the settle window) and paid it late, with a payment of the open interval: recorded
   * with that payment, once; the closed interval's record counts them.
   */
  public record LatePaymentsRecorded(long fundingTime, Map<String, Long> amounts, long epochMillis) implements Event {
    public LatePaymentsRecorded {
      amounts = Map.copyOf(amounts);
    }
  }

  /** Requested accounts that refused the payment (an account that does not exist): not asked again. */
  public record PaymentsRefused(long fundingTime, Set<String> accounts, long epochMillis) implements Event {
    public PaymentsRefused {
      accounts = Set.copyOf(accounts);
    }
  }

  /** Every holder found was paid and the settle window passed with nobody new. */
  public record IntervalClosed(long fundingTime, long epochMillis) implements Event {}

  /**
   * One interval as the history shows it: rate and mark, the time-weighted average premium and
   * its sample count, accounts paid, what payers paid and receivers received (both positive), and
   * the rounding residue left in the funding pool ({@code paid - received}, never negative when
   * positions did not change during the payments).
   */
  public record IntervalRecord(long fundingTime, long rate, long markTicks, long averagePremium, long samples,
      long accounts, long paid, long received, long fixedAt, long closedAt) implements CborSerializable {
    public long residue() {
      return Math.subtractExact(paid, received);
    }

    /** With payments made late by accounts that had missed the interval. */
    IntervalRecord withLate(java.util.Collection<Long> amounts) {
      long payers = paid;
      long receivers = received;
      for (long amount : amounts) {
        if (amount < 0) {
          payers = Math.subtractExact(payers, amount);
        } else {
          receivers = Math.addExact(receivers, amount);
        }
      }
      return new IntervalRecord(fundingTime, rate, markTicks, averagePremium, samples,
          Math.addExact(accounts, amounts.size()), payers, receivers, fixedAt, closedAt);
    }
  }

  /**
   * The interval being paid: what it was fixed at, who was paid what so far, and who was asked and
   * is not recorded yet ({@code requested}).
   */
  public record Open(long fundingTime, long rate, long markTicks, long averagePremium, long samples, long fixedAt,
      Map<String, Long> paid, long lastDueAt, Set<String> requested) implements CborSerializable {
    public Open {
      paid = Map.copyOf(paid);
      requested = requested == null ? Set.of() : Set.copyOf(requested);
    }

    Open with(Map<String, Long> paidNow, Set<String> requestedNow, long dueAt) {
      return new Open(fundingTime, rate, markTicks, averagePremium, samples, fixedAt, paidNow, dueAt, requestedNow);
    }

    IntervalRecord record(long closedAt) {
      long payers = 0;
      long receivers = 0;
      for (long amount : paid.values()) {
        if (amount < 0) {
          payers = Math.subtractExact(payers, amount);
        } else {
          receivers = Math.addExact(receivers, amount);
        }
      }
      return new IntervalRecord(fundingTime, rate, markTicks, averagePremium, samples, paid.size(), payers, receivers,
          fixedAt, closedAt);
    }
  }

  /**
   * {@code intervalEnd}: the funding time of the interval being sampled (0: none yet);
   * {@code average}: its samples; {@code open}: the interval being paid (null: none);
   * {@code history}: closed intervals, oldest first, at most {@code history-retained}.
   */
  public record State(long intervalEnd, long lastSlot, FundingMath.PremiumAverage average, Open open,
      List<IntervalRecord> history) implements CborSerializable {
    public State {
      average = average == null ? FundingMath.PremiumAverage.EMPTY : average;
      history = history == null ? List.of() : List.copyOf(history);
    }

    static final State EMPTY = new State(0, -1, FundingMath.PremiumAverage.EMPTY, null, List.of());

    State withOpen(Open now) {
      return new State(intervalEnd, lastSlot, average, now, history);
    }
  }

  // --- wiring ---------------------------------------------------------------------------

  public static void init(ActorSystem<?> system, FundingEnvironment environment) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, context -> Behaviors.<Command>setup(ctx ->
        new FundingClock(context.getEntityId(), context.getEntityId(), environment, ctx))));
  }

  /** For tests: the behaviour without sharding. */
  public static Behavior<Command> create(String instrument, FundingEnvironment environment) {
    return create(instrument, instrument, environment);
  }

  /** For tests: the clock of {@code instrument} journaled under {@code entityId}. */
  public static Behavior<Command> create(String instrument, String entityId, FundingEnvironment environment) {
    return Behaviors.setup(ctx -> new FundingClock(instrument, entityId, environment, ctx));
  }

  public static PersistenceId persistenceId(String instrument) {
    return PersistenceId.of(TYPE_KEY.name(), instrument);
  }

  /** Intervals a clock pays late one after the other; beyond this many behind, it skips to the current one. */
  static final int MAX_CATCH_UP = 3;

  private final String instrument;
  private final FundingEnvironment environment;
  private final FundingTerms terms;
  private final FundingSettings settings;
  private final ActorContext<Command> context;
  private final Clock clock;
  /** In memory: a sample, a fix or a payment round is under way (a tick meanwhile does not start another). */
  private boolean sampling;
  private boolean fixing;
  private boolean paying;
  private boolean warnedStale;

  private FundingClock(String instrument, String entityId, FundingEnvironment environment,
      ActorContext<Command> context) {
    super(persistenceId(entityId));
    this.instrument = instrument;
    this.environment = environment;
    this.terms = environment.instruments().spec(instrument).funding();
    if (terms == null) {
      throw new IllegalArgumentException(instrument + " is not a perpetual: it has no funding clock");
    }
    this.settings = environment.settings();
    this.context = context;
    this.clock = environment.clock();
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
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Tick.class, this::tick)
        .onCommand(Sampled.class, this::sampled)
        .onCommand(FixWith.class, this::fix)
        .onCommand(DueListed.class, this::dueListed)
        .onCommand(PaidAnswered.class, this::paidAnswered)
        .onCommand(GetHistory.class, (state, cmd) -> {
          cmd.replyTo().tell(history(state, cmd.beforeFundingTime(), cmd.limit()));
          return Effect().none();
        })
        .onCommand(GetQuote.class, (state, cmd) -> {
          cmd.replyTo().tell(quote(state, clock.millis()));
          return Effect().none();
        })
        .build();
  }

  private Effect<Event, State> tick(State state, Tick tick) {
    long now = clock.millis();
    if (state.open() != null) {
      startRound(state.open());
    } else if (state.intervalEnd() > 0 && now >= state.intervalEnd()) {
      if (!fixing) {
        fixing = true;
        long fundingTime = state.intervalEnd();
        context.pipeToSelf(environment.prices(instrument), (prices, failure) ->
            new FixWith(fundingTime, failure == null ? prices : FundingEnvironment.Prices.NONE));
      }
      return Effect().none();
    }
    long slot = Math.floorDiv(now, settings.sampleEvery().toMillis());
    long intervalEnd = terms.nextFundingTime(now);
    if (!sampling && (slot > state.lastSlot() || state.intervalEnd() == 0)
        && (state.intervalEnd() == 0 || now < state.intervalEnd())) {
      sampling = true;
      context.pipeToSelf(environment.prices(instrument), (prices, failure) ->
          new Sampled(slot, intervalEnd, failure == null ? prices : FundingEnvironment.Prices.NONE));
    }
    return Effect().none();
  }

  private Effect<Event, State> sampled(State state, Sampled s) {
    sampling = false;
    // Samples go on while an interval is paid: they are the next interval's.
    if (s.slot() <= state.lastSlot() || (state.intervalEnd() > 0 && s.intervalEnd() != state.intervalEnd())) {
      return Effect().none();
    }
    if (!s.prices().usable()) {
      // No fresh mark and index: no sample. The interval's average is over the samples it has.
      if (state.intervalEnd() == 0) {
        return Effect().persist(new PremiumSampled(s.intervalEnd(), -1, 0));
      }
      return Effect().none();
    }
    return Effect().persist(new PremiumSampled(s.intervalEnd(), s.slot(),
        FundingMath.premium(s.prices().markTicks(), s.prices().indexTicks())));
  }

  private Effect<Event, State> fix(State state, FixWith f) {
    fixing = false;
    if (state.open() != null || state.intervalEnd() != f.fundingTime()) {
      return Effect().none();
    }
    if (!f.prices().usable()) {
      if (!warnedStale) {
        warnedStale = true;
        context.getLog().warn("Funding of {} for {} waits: no fresh mark at the funding time", instrument,
            java.time.Instant.ofEpochMilli(f.fundingTime()));
      }
      return Effect().none();
    }
    warnedStale = false;
    long now = clock.millis();
    long average = state.average().average();
    // The next interval follows this one, even when this one was fixed late (it waited for the one
    // before to close, or for a fresh mark); after an outage of several intervals, from now.
    long next = Math.addExact(f.fundingTime(), terms.intervalMillis());
    if (now - f.fundingTime() > MAX_CATCH_UP * terms.intervalMillis()) {
      next = terms.nextFundingTime(now);
    }
    IntervalFixed fixed = new IntervalFixed(f.fundingTime(), terms.rate(average), f.prices().markTicks(), average,
        state.average().count(), now, next);
    context.getLog().info("Funding of {} for {}: rate {}e-8 at mark {} ({} samples)", instrument,
        java.time.Instant.ofEpochMilli(f.fundingTime()), fixed.rate(), fixed.markTicks(), fixed.samples());
    return Effect().persist(fixed).thenRun(after -> startRound(after.open()));
  }

  private void startRound(Open open) {
    if (paying) {
      return;
    }
    paying = true;
    long fundingTime = open.fundingTime();
    context.pipeToSelf(environment.fanOut().due(instrument, open, settings), (due, failure) ->
        new DueListed(fundingTime, due, failure));
  }

  /** The monitors named the accounts due: write the new ones down, then ask them and every one still requested. */
  private Effect<Event, State> dueListed(State state, DueListed listed) {
    Open open = state.open();
    if (open == null || open.fundingTime() != listed.fundingTime()) {
      paying = false;
      return Effect().none();
    }
    boolean complete = listed.failure() == null && listed.due().complete();
    if (listed.failure() != null) {
      context.getLog().warn("Funding round of {} could not list the accounts due, retried on the next tick: {}",
          instrument, listed.failure().toString());
    }
    Set<String> fresh = new TreeSet<>();
    if (listed.failure() == null) {
      for (String id : listed.due().accountIds()) {
        if (!open.paid().containsKey(id) && !open.requested().contains(id)) {
          fresh.add(id);
        }
      }
    }
    long now = clock.millis();
    if (!fresh.isEmpty()) {
      return Effect().persist(new PaymentsRequested(open.fundingTime(), fresh, now))
          .thenRun(after -> pay(after));
    }
    if (!open.requested().isEmpty()) {
      pay(state);
      return Effect().none();
    }
    paying = false;
    if (complete && now - open.lastDueAt() >= settings.settleWindow().toMillis()) {
      IntervalRecord closed = open.record(now);
      context.getLog().info("Funding of {} for {} closed: {} accounts, paid {}, received {}, residue {}", instrument,
          java.time.Instant.ofEpochMilli(open.fundingTime()), closed.accounts(), closed.paid(), closed.received(),
          closed.residue());
      return Effect().persist(new IntervalClosed(open.fundingTime(), now));
    }
    return Effect().none();
  }

  private void pay(State state) {
    Open open = state.open();
    long fundingTime = open.fundingTime();
    context.pipeToSelf(environment.fanOut().pay(instrument, open, earlier(state), open.requested(), settings),
        (paid, failure) -> new PaidAnswered(fundingTime, paid, failure));
  }

  /** The last closed intervals (at most {@link FundingLedger#LATE_INTERVALS}), offered to accounts that missed them. */
  static List<FundingLedger.Interval> earlier(State state) {
    List<FundingLedger.Interval> earlier = new ArrayList<>();
    List<IntervalRecord> history = state.history();
    for (int i = history.size() - 1; i >= 0 && earlier.size() < FundingLedger.LATE_INTERVALS; i--) {
      IntervalRecord r = history.get(i);
      if (r.fundingTime() < state.open().fundingTime()) {
        earlier.add(new FundingLedger.Interval(r.fundingTime(), r.rate(), r.markTicks()));
      }
    }
    return earlier;
  }

  private Effect<Event, State> paidAnswered(State state, PaidAnswered answered) {
    paying = false;
    Open open = state.open();
    if (open == null || open.fundingTime() != answered.fundingTime()) {
      return Effect().none();
    }
    if (answered.failure() != null) {
      context.getLog().warn("Funding round of {} failed, retried on the next tick: {}", instrument,
          answered.failure().toString());
      return Effect().none();
    }
    Map<String, Long> fresh = new HashMap<>();
    answered.paid().amounts().forEach((account, amount) -> {
      if (!open.paid().containsKey(account)) {
        fresh.put(account, amount);
      }
    });
    Set<String> refused = new TreeSet<>();
    for (String account : answered.paid().refused()) {
      if (open.requested().contains(account) && !fresh.containsKey(account)) {
        refused.add(account);
      }
    }
    long now = clock.millis();
    List<Event> events = new ArrayList<>(2);
    // Earlier intervals the accounts recorded now had missed and paid with this one: recorded once, with them.
    Map<Long, Map<String, Long>> late = new TreeMap<>();
    answered.paid().late().forEach((account, byTime) -> {
      if (fresh.containsKey(account)) {
        byTime.forEach((time, amount) -> late.computeIfAbsent(time, t -> new HashMap<>()).put(account, amount));
      }
    });
    late.forEach((time, amounts) -> events.add(new LatePaymentsRecorded(time, amounts, now)));
    if (!fresh.isEmpty()) {
      events.add(new PaymentsRecorded(open.fundingTime(), fresh, now));
    }
    if (!refused.isEmpty()) {
      events.add(new PaymentsRefused(open.fundingTime(), refused, now));
    }
    if (events.isEmpty()) {
      return Effect().none();
    }
    // More may be due right away (the monitors answer a batch at a time): another round now.
    return Effect().persist(events).thenRun(after -> context.getSelf().tell(Tick.INSTANCE));
  }

  History history(State state, long before, int limit) {
    List<IntervalRecord> page = new ArrayList<>();
    List<IntervalRecord> all = new ArrayList<>(state.history());
    if (state.open() != null) {
      all.add(state.open().record(0));
    }
    boolean more = false;
    for (int i = all.size() - 1; i >= 0; i--) {
      IntervalRecord r = all.get(i);
      if (before > 0 && r.fundingTime() >= before) {
        continue;
      }
      if (page.size() == limit) {
        more = true;
        break;
      }
      page.add(r);
    }
    return new History(page, more);
  }

  Quote quote(State state, long now) {
    IntervalRecord last = state.history().isEmpty() ? null : state.history().get(state.history().size() - 1);
    long lastRate = state.open() != null ? state.open().rate() : last == null ? 0 : last.rate();
    long lastTime = state.open() != null ? state.open().fundingTime() : last == null ? 0 : last.fundingTime();
    long next = state.intervalEnd() > 0 ? state.intervalEnd() : terms.nextFundingTime(now);
    return new Quote(instrument, terms.rate(state.average().average()), next, lastRate, lastTime,
        state.open() != null, state.average().count());
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    int retained = settings.historyRetained();
    return newEventHandlerBuilder().forAnyState()
        .onEvent(PremiumSampled.class, (state, e) -> {
          boolean sameInterval = e.intervalEnd() == state.intervalEnd();
          FundingMath.PremiumAverage average = sameInterval ? state.average() : FundingMath.PremiumAverage.EMPTY;
          if (e.slot() >= 0) {
            average = average.add(e.premium());
          }
          return new State(e.intervalEnd(), Math.max(e.slot(), sameInterval ? state.lastSlot() : -1), average,
              state.open(), state.history());
        })
        .onEvent(IntervalFixed.class, (state, e) -> new State(e.nextIntervalEnd(), state.lastSlot(),
            FundingMath.PremiumAverage.EMPTY, new Open(e.fundingTime(), e.rate(), e.markTicks(), e.averagePremium(),
                e.samples(), e.epochMillis(), Map.of(), e.epochMillis(), Set.of()), state.history()))
        .onEvent(PaymentsRequested.class, (state, e) -> {
          Set<String> requested = new HashSet<>(state.open().requested());
          requested.addAll(e.accounts());
          return state.withOpen(state.open().with(state.open().paid(), requested, e.epochMillis()));
        })
        .onEvent(PaymentsRecorded.class, (state, e) -> {
          Map<String, Long> paid = new HashMap<>(state.open().paid());
          paid.putAll(e.amounts());
          Set<String> requested = new HashSet<>(state.open().requested());
          requested.removeAll(e.amounts().keySet());
          return state.withOpen(state.open().with(paid, requested, e.epochMillis()));
        })
        .onEvent(PaymentsRefused.class, (state, e) -> {
          Set<String> requested = new HashSet<>(state.open().requested());
          requested.removeAll(e.accounts());
          return state.withOpen(state.open().with(state.open().paid(), requested, state.open().lastDueAt()));
        })
        .onEvent(LatePaymentsRecorded.class, (state, e) -> {
          List<IntervalRecord> history = new ArrayList<>(state.history());
          for (int i = 0; i < history.size(); i++) {
            if (history.get(i).fundingTime() == e.fundingTime()) {
              history.set(i, history.get(i).withLate(e.amounts().values()));
            }
          }
          return new State(state.intervalEnd(), state.lastSlot(), state.average(), state.open(), history);
        })
        .onEvent(IntervalClosed.class, (state, e) -> {
          List<IntervalRecord> history = new ArrayList<>(state.history());
          history.add(state.open().record(e.epochMillis()));
          while (history.size() > retained) {
            history.remove(0);
          }
          return new State(state.intervalEnd(), state.lastSlot(), state.average(), null, history);
        })
        .build();
  }
}
