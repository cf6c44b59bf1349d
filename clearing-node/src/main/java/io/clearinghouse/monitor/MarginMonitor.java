package io.clearinghouse.monitor;

// Over 450 lines: the monitor's protocol (marks, ADL, stress and closest-to-liquidation queries), its per-instrument holder index and the walk that turns a mark into triggers, in one actor; the queries' work is in StressEvaluation and ClosestToLiquidation.

import io.clearinghouse.account.Exposure;
import io.clearinghouse.account.RiskRegistry;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.StopRule;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.LiquidationRule;
import io.clearinghouse.margin.MarginMath;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.price.LiquidationHalt;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import io.clearinghouse.liquidation.AdlCandidates;
import io.clearinghouse.margin.AdlRanking;
import io.clearinghouse.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import io.clearinghouse.price.FeedStatus;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One per node, in memory: a compact risk view of the accounts hosted on this node. Accounts
 * report their exposure when they start or recover and after every change, and withdraw it when
 * they stop, so an account that moves to another node is watched there. On each mark the monitor
 * evaluates every local account holding that instrument with the exact integer rules and tells
 * each one at or below maintenance to start liquidation; the account re-checks before acting.
 * Nothing is evaluated on a stale instrument, or on one without a mark.
 *
 * <p>A mark walks every holder of its instrument, so the walk is kept cheap: the holders sit in an
 * array (no hashing per account), and every instrument's mark and staleness are read once per
 * evaluation rather than once per position.
 */
public final class MarginMonitor extends AbstractBehavior<MarginMonitor.Command> {

  public sealed interface Command {}

  record Track(String accountId, Exposure exposure, ActorRef<AccountEntity.Command> account) implements Command {}

  record Untrack(String accountId, ActorRef<AccountEntity.Command> account) implements Command {}

  /**
   * Walk the holders of {@code instrument} at its current mark. {@code queued} is cleared when the
   * walk starts: until then, newer marks of the instrument send no other Evaluate (they replace
   * the queued one, since the walk reads the mark when it starts).
   */
  record Evaluate(String instrument, AtomicBoolean queued) implements Command {}

  /**
   * The node's best-ranked ADL candidates: accounts hosted here holding {@code instrument} with
   * sign {@code sign}, not being liquidated, other than {@code excluded}; at most {@code limit},
   * highest score first. Asked across the cluster through the receptionist ({@link #SERVICE_KEY}).
   */
  public record AdlQuery(String instrument, int sign, String excluded, int limit, ActorRef<AdlAnswer> replyTo)
      implements Command, CborSerializable {}

  public record AdlAnswer(List<AdlCandidates.Candidate> candidates) implements CborSerializable {
    public AdlAnswer {
      candidates = List.copyOf(candidates);
    }
  }

  /**
   * The funding clock's question: accounts hosted here holding {@code instrument} that have not
   * applied the funding interval ending at {@code fundingTime} (as last reported), at most
   * {@code limit}, leaving out {@code excluded} (already answered this round).
   */
  public record FundingHoldersQuery(String instrument, long fundingTime, int limit, ActorRef<FundingHolders> replyTo)
      implements Command, CborSerializable {}

  /** Account ids due for funding; {@code more}: the node has more than the limit. */
  public record FundingHolders(List<String> accountIds, boolean more) implements CborSerializable {
    public FundingHolders {
      accountIds = List.copyOf(accountIds);
    }
  }

  /**
   * Evaluate the scenarios on this node. {@code providers}: the instruments with a registered
   * backstop provider (closes of the others are priced at bankruptcy); {@code detail}: how many
   * accounts to describe, largest first; {@code maxDeficitAccounts}: how many deficit accounts to
   * return one by one (beyond it they are added up on their backstop path and the answer says so).
   */
  public record StressQuery(List<StressEvaluation.Scenario> scenarios, List<String> providers, int detail, int maxDeficitAccounts,
      ActorRef<StressEvaluation.Answer> replyTo) implements Command, CborSerializable {
    public StressQuery {
      scenarios = List.copyOf(scenarios);
      providers = List.copyOf(providers);
    }
  }

  /** This node's {@code count} holders of {@code instrument} nearest to liquidation ({@link ClosestToLiquidation}). */
  public record ClosestQuery(String instrument, int count, ActorRef<ClosestToLiquidation.Answer> replyTo)
      implements Command, CborSerializable {}

  /** This node's holders of {@code instrument} counted by distance to liquidation ({@link ClosestToLiquidation#histogram}). */
  public record HistogramQuery(String instrument, ActorRef<ClosestToLiquidation.Counts> replyTo)
      implements Command, CborSerializable {}

  /** This node's open interest per instrument: the long lots of the accounts it watches. */
  public record OpenInterestQuery(ActorRef<OpenInterestAnswer> replyTo) implements Command, CborSerializable {}

  public record OpenInterestAnswer(java.util.Map<String, Long> lots) implements CborSerializable {
    public OpenInterestAnswer {
      lots = java.util.Map.copyOf(lots);
    }
  }

  public static final ServiceKey<Command> SERVICE_KEY = ServiceKey.create(Command.class, "margin-monitor");

  /**
   * A thread of the monitor's own: its walk never waits behind the account entities, API calls
   * and streams that share the default dispatcher.
   */
  public static final String DISPATCHER = "clearinghouse.monitor.dispatcher";

  /**
   * Stress queries that wait while another runs (two operators' requests, or one beside the
   * scheduled run, do not refuse each other); one beyond them is answered busy.
   */
  public static final int MAX_QUEUED_STRESS = 2;

  /** For tests and health: how many accounts this node watches. */
  public record CountTracked(ActorRef<Integer> replyTo) implements Command {}

  /**
   * Starts this node's monitor and subscribes it to the marks; returns the registry accounts use.
   * After each evaluation the monitor hands the instrument's holders to {@code rankings}.
   */
  public static RiskRegistry start(ActorSystem<?> system, Instruments instruments, MarkPrices marks, Metrics metrics,
      AdlRankings rankings, io.clearinghouse.liquidation.CloseSizing sizing) {
    // Resume, never restart: a restart would forget every account the node hosts.
    ActorRef<Command> monitor = system.systemActorOf(
        Behaviors.supervise(create(instruments, marks, metrics, rankings.ranker(), sizing))
            .onFailure(SupervisorStrategy.resume()), "margin-monitor", DispatcherSelector.fromConfig(DISPATCHER));
    system.receptionist().tell(Receptionist.register(SERVICE_KEY, monitor));
    evaluateOnEveryMark(marks, monitor);
    return registry(monitor);
  }

  static void evaluateOnEveryMark(MarkPrices marks, ActorRef<Command> monitor) {
    Map<String, AtomicBoolean> queued = new ConcurrentHashMap<>();
    marks.listen(event -> {
      // A new mark; fresh again (whoever breached while stale); or resumed (whoever breached while
      // halted): evaluate at the current mark, once, however many such events arrive meanwhile.
      if (event instanceof Mark || (event instanceof FeedStatus status && !status.stale())
          || (event instanceof LiquidationHalt halt && !halt.halted())) {
        AtomicBoolean flag = queued.computeIfAbsent(event.instrument(), i -> new AtomicBoolean());
        if (flag.compareAndSet(false, true)) {
          monitor.tell(new Evaluate(event.instrument(), flag));
        }
      }
    });
  }

  public static RiskRegistry registry(ActorRef<Command> monitor) {
    return new RiskRegistry() {
      @Override
      public void track(String accountId, Exposure exposure, ActorRef<AccountEntity.Command> account) {
        monitor.tell(new Track(accountId, exposure, account));
      }

      @Override
      public void untrack(String accountId, ActorRef<AccountEntity.Command> account) {
        monitor.tell(new Untrack(accountId, account));
      }
    };
  }

  public static Behavior<Command> create(Instruments instruments, MarkPrices marks, Metrics metrics) {
    return create(instruments, marks, metrics, null);
  }

  /** A monitor that hands each evaluated mark's holders to {@code ranker} (null: to none). */
  public static Behavior<Command> create(Instruments instruments, MarkPrices marks, Metrics metrics,
      ActorRef<AdlRanker.Command> ranker) {
    return create(instruments, marks, metrics, ranker, io.clearinghouse.liquidation.CloseSizing.WHOLE);
  }

  /** The same, its stress tests cutting each simulated close with {@code sizing}, the saga's rule. */
  public static Behavior<Command> create(Instruments instruments, MarkPrices marks, Metrics metrics,
      ActorRef<AdlRanker.Command> ranker, io.clearinghouse.liquidation.CloseSizing sizing) {
    return Behaviors.setup(ctx -> new MarginMonitor(ctx, instruments, marks, metrics, ranker, sizing));
  }

  /**
   * One position with its instrument resolved once, at report time; {@code slot} is where its
   * instrument's mark is found among the marks read for an evaluation.
   */
  record Held(Instrument instrument, int slot, long lots, long cost, boolean isolated, long isolatedMargin,
      long stopTicks, long fundedUpTo) implements LiquidationRule.Held {
    Held(Instrument instrument, int slot, long lots, long cost, boolean isolated, long isolatedMargin) {
      this(instrument, slot, lots, cost, isolated, isolatedMargin, 0, 0);
    }

    Held(Instrument instrument, int slot, long lots, long cost, boolean isolated, long isolatedMargin,
        long stopTicks) {
      this(instrument, slot, lots, cost, isolated, isolatedMargin, stopTicks, 0);
    }
  }

  /** One account as last reported; a new report replaces it. */
  static final class Tracked {
    final String accountId;
    final ActorRef<AccountEntity.Command> account;
    final long cash;
    final boolean liquidating;
    final Held[] positions;
    /** Told to start liquidation since this report: not told again until the account reports anew. */
    boolean triggered;

    Tracked(String accountId, ActorRef<AccountEntity.Command> account, long cash, boolean liquidating,
        Held[] positions) {
      this.accountId = accountId;
      this.account = account;
      this.cash = cash;
      this.liquidating = liquidating;
      this.positions = positions;
    }
  }

  private final Instruments instruments;
  private final MarkPrices marks;
  private final Map<String, Tracked> accounts = new HashMap<>();
  private final Map<String, Holders> holders = new HashMap<>();
  /**
   * Per instrument, accounts hosted here that no longer hold it but held it at a funding time they
   * have not been paid for, with the last funding time they applied.
   */
  private final Map<String, Map<String, Long>> flatFundingDue = new HashMap<>();
  private final Map<String, Integer> slots = new HashMap<>();
  private final String[] symbols;
  /** Per instrument slot, as read at the start of an evaluation: the mark, and whether it may be used. */
  private final long[] markTicks;
  private final boolean[] usable;
  /** Per instrument slot, as read at the start of an evaluation: new liquidations halted by the operator. */
  private final boolean[] halted;
  /** Per instrument slot: the long lots of every account watched here (the node's part of the open interest). */
  private final long[] openInterest;
  /** Per instrument slot, as read at the start of an evaluation: the tiers at the margins scaled now. */
  private final io.clearinghouse.margin.RiskTiers[] tiers;

  private final Metrics metrics;
  /** Where the ADL ranking is rebuilt after each evaluation; null: nowhere (tests, benchmarks). */
  private final ActorRef<AdlRanker.Command> ranker;
  /** How the saga cuts a close into slices of the market depth: the stress test cuts its simulated closes alike. */
  private final io.clearinghouse.liquidation.CloseSizing sizing;
  /** The stress evaluation running now (a child), or null: at most one at a time. */
  private ActorRef<Void> stressRun;
  /** Stress queries that came while one ran, in order: at most {@link #MAX_QUEUED_STRESS}. */
  private final java.util.ArrayDeque<StressQuery> stressQueue = new java.util.ArrayDeque<>();
  /** Accounts whose evaluation failed since their last report: logged once each. */
  private final Set<String> failing = new HashSet<>();

  private MarginMonitor(ActorContext<Command> context, Instruments instruments, MarkPrices marks, Metrics metrics,
      ActorRef<AdlRanker.Command> ranker, io.clearinghouse.liquidation.CloseSizing sizing) {
    super(context);
    this.sizing = sizing;
    this.ranker = ranker;
    this.metrics = metrics;
    this.instruments = instruments;
    this.marks = marks;
    this.symbols = instruments.all().stream().map(Instrument::symbol).toArray(String[]::new);
    for (int slot = 0; slot < symbols.length; slot++) {
      slots.put(symbols[slot], slot);
    }
    this.markTicks = new long[symbols.length];
    this.usable = new boolean[symbols.length];
    this.halted = new boolean[symbols.length];
    this.openInterest = new long[symbols.length];
    this.tiers = new io.clearinghouse.margin.RiskTiers[symbols.length];
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Track.class, this::track)
        .onMessage(Untrack.class, this::untrack)
        .onMessage(Evaluate.class, this::evaluate)
        .onMessage(AdlQuery.class, this::adlCandidates)
        .onMessage(FundingHoldersQuery.class, this::fundingHolders)
        .onMessage(OpenInterestQuery.class, q -> {
          java.util.Map<String, Long> lots = new java.util.HashMap<>();
          for (int slot = 0; slot < symbols.length; slot++) {
            lots.put(symbols[slot], openInterest[slot]);
          }
          q.replyTo().tell(new OpenInterestAnswer(lots));
          return this;
        })
        .onMessage(ClosestQuery.class, q -> {
          Holders holding = holders.get(q.instrument());
          Integer slot = slots.get(q.instrument());
          readMarks();
          q.replyTo().tell(new ClosestToLiquidation.Answer(holding == null || slot == null ? List.of()
              : ClosestToLiquidation.nearest(holding.tracked, holding.size, slot, markTicks, usable,
                  Math.max(0, q.count()))));
          return this;
        })
        .onMessage(HistogramQuery.class, q -> {
          Holders holding = holders.get(q.instrument());
          Integer slot = slots.get(q.instrument());
          readMarks();
          q.replyTo().tell(holding == null || slot == null
              ? new ClosestToLiquidation.Counts(new long[ClosestToLiquidation.HISTOGRAM_EDGES_PPM.length + 1], 0)
              : ClosestToLiquidation.histogram(holding.tracked, holding.size, slot, markTicks, usable));
          return this;
        })
        .onMessage(StressQuery.class, this::stress)
        .onSignal(org.apache.pekko.actor.typed.Terminated.class, t -> {
          if (t.getRef().equals(stressRun)) {
            stressRun = null;
            StressQuery next = stressQueue.pollFirst();
            if (next != null) {
              startStress(next);
            }
          }
          return this;
        })
        .onMessage(CountTracked.class, c -> {
          c.replyTo().tell(accounts.size());
          return this;
        })
        .build();
  }

  /**
   * Read-only, on the accounts as last reported (their records never change: a report replaces
   * one), under the scenarios' marks; evaluated by a child of its own on the blocking dispatcher,
   * so that the walks that trigger liquidations never wait behind it; one at a time: a query that
   * comes while one runs waits its turn ({@link #MAX_QUEUED_STRESS} at most; beyond them it is
   * answered busy at once and the coordinator refuses the run). A queued query is evaluated on the
   * accounts as reported when its turn comes; one that waits past its coordinator's timeout leaves
   * this node out of that report (which says how many nodes answered).
   */
  private Behavior<Command> stress(StressQuery q) {
    if (stressRun != null) {
      if (stressQueue.size() < MAX_QUEUED_STRESS) {
        stressQueue.addLast(q);
      } else {
        q.replyTo().tell(StressEvaluation.Answer.BUSY);
      }
      return this;
    }
    startStress(q);
    return this;
  }

  private void startStress(StressQuery q) {
    List<Tracked> reported = new ArrayList<>(accounts.values());
    String[] slots = symbols;
    Instruments specs = instruments;
    io.clearinghouse.liquidation.CloseSizing cut = sizing;
    stressRun = getContext().spawnAnonymous(Behaviors.<Void>setup(ctx -> {
      q.replyTo().tell(new StressEvaluation.Answer(StressEvaluation.evaluate(reported, slots, specs, q, cut)));
      return Behaviors.stopped();
    }), DispatcherSelector.blocking());
    getContext().watch(stressRun);
  }

  private Behavior<Command> track(Track t) {
    forget(t.accountId());
    t.exposure().fundingDue().forEach((instrument, fundedUpTo) ->
        flatFundingDue.computeIfAbsent(instrument, k -> new HashMap<>()).put(t.accountId(), fundedUpTo));
    if (t.exposure().positions().isEmpty()) {
      return this;
    }
    Held[] held = new Held[t.exposure().positions().size()];
    for (int i = 0; i < held.length; i++) {
      Exposure.Position p = t.exposure().positions().get(i);
      Instrument instrument = instruments.require(p.instrument());
      held[i] = new Held(instrument, slots.get(instrument.symbol()), p.lots(), p.cost(),
          p.mode() == MarginMode.ISOLATED, p.isolatedMargin(), p.stopTicks(), p.fundedUpTo());
    }
    Tracked tracked = new Tracked(t.accountId(), t.account(), t.exposure().cash(), t.exposure().liquidating(), held);
    for (Held h : held) {
      holders.computeIfAbsent(h.instrument().symbol(), k -> new Holders()).add(tracked);
      if (h.lots() > 0) {
        openInterest[h.slot()] += h.lots();
      }
    }
    accounts.put(t.accountId(), tracked);
    metrics.monitorWatching(accounts.size());
    // A change can itself bring the account to maintenance (a loss realized, a withdrawal).
    readMarks();
    checkSafely(tracked, latestMarkSequence(held));
    return this;
  }

  private long latestMarkSequence(Held[] held) {
    long latest = 0;
    for (Held h : held) {
      latest = Math.max(latest, marks.get(h.instrument().symbol()).map(Mark::sequence).orElse(0L));
    }
    return latest;
  }

  private Behavior<Command> untrack(Untrack u) {
    Tracked tracked = accounts.get(u.accountId());
    if (tracked != null && tracked.account.equals(u.account())) {
      forget(u.accountId());
    }
    return this;
  }

  private void forget(String accountId) {
    failing.remove(accountId);
    flatFundingDue.values().forEach(due -> due.remove(accountId));
    Tracked old = accounts.remove(accountId);
    if (old != null) {
      metrics.monitorWatching(accounts.size());
      for (Held h : old.positions) {
        if (h.lots() > 0) {
          openInterest[h.slot()] -= h.lots();
        }
        Holders holding = holders.get(h.instrument().symbol());
        if (holding != null) {
          holding.remove(accountId);
        }
      }
    }
  }

  private Behavior<Command> evaluate(Evaluate e) {
    e.queued().set(false);
    Mark mark = marks.get(e.instrument()).orElse(null);
    if (mark == null || marks.stale(e.instrument())) {
      return this;
    }
    metrics.monitorEvaluated();
    Holders holding = holders.get(e.instrument());
    readMarks();
    if (holding != null) {
      for (int i = 0; i < holding.size; i++) {
        checkSafely(holding.tracked[i], mark.sequence());
      }
    }
    // Only after every breach was told: the ADL ranking of this mark is rebuilt elsewhere.
    if (ranker != null) {
      ranker.tell(new AdlRanker.Rebuild(e.instrument(), slots.get(e.instrument()),
          holding == null ? new Tracked[0] : Arrays.copyOf(holding.tracked, holding.size), markTicks.clone(),
          usable.clone()));
    }
    return this;
  }

  /**
   * One account's check, isolated: an account that cannot be evaluated (an overflow on absurd
   * figures, a bug) is skipped and counted, never liquidated for it, and never stops the walk.
   */
  private void checkSafely(Tracked t, long markSequence) {
    try {
      checkOne(t, markSequence);
    } catch (RuntimeException e) {
      metrics.monitorAccountFailed();
      if (failing.add(t.accountId)) {
        getContext().getLog().error("Margin monitor skips account {}: it cannot be evaluated until it reports again",
            t.accountId, e);
      }
    }
  }

  private Behavior<Command> adlCandidates(AdlQuery q) {
    List<AdlCandidates.Candidate> found = scored(q.instrument(), q.sign(), q.excluded());
    found.sort(ADL_ORDER);
    q.replyTo().tell(new AdlAnswer(found.subList(0, Math.min(found.size(), Math.max(0, q.limit())))));
    return this;
  }

  private Behavior<Command> fundingHolders(FundingHoldersQuery q) {
    List<String> due = new ArrayList<>();
    boolean more = false;
    Holders holding = holders.get(q.instrument());
    if (holding != null) {
      for (int i = 0; i < holding.size && !more; i++) {
        Tracked t = holding.tracked[i];
        for (Held h : t.positions) {
          if (h.instrument().symbol().equals(q.instrument()) && h.lots() != 0 && h.fundedUpTo() < q.fundingTime()) {
            if (due.size() == q.limit()) {
              more = true;
            } else {
              due.add(t.accountId);
            }
            break;
          }
        }
      }
    }
    for (var flat : flatFundingDue.getOrDefault(q.instrument(), Map.of()).entrySet()) {
      if (more || flat.getValue() >= q.fundingTime()) {
        continue;
      }
      if (due.size() == q.limit()) {
        more = true;
      } else {
        due.add(flat.getKey());
      }
    }
    q.replyTo().tell(new FundingHolders(due, more));
    return this;
  }

  /** This node's holders of {@code instrument} with sign {@code sign}, not liquidating, scored at the current mark. */
  private List<AdlCandidates.Candidate> scored(String instrument, int sign, String excluded) {
    List<AdlCandidates.Candidate> found = new ArrayList<>();
    Holders holding = holders.get(instrument);
    Integer slot = slots.get(instrument);
    if (holding == null || slot == null) {
      return found;
    }
    readMarks();
    if (!usable[slot]) {
      return found;
    }
    for (int i = 0; i < holding.size; i++) {
      Tracked t = holding.tracked[i];
      if (t.liquidating || t.accountId.equals(excluded)) {
        continue;
      }
      for (Held h : t.positions) {
        if (h.slot() == slot && Long.signum(h.lots()) == sign) {
          found.add(new AdlCandidates.Candidate(t.accountId, h.lots(), adlScore(t, h, markTicks, usable)));
        }
      }
    }
    return found;
  }

  /** Highest score first; ties by account id, so every node and every retry orders them alike. */
  public static final java.util.Comparator<AdlCandidates.Candidate> ADL_ORDER =
      java.util.Comparator.comparingLong(AdlCandidates.Candidate::score).reversed()
          .thenComparing(AdlCandidates.Candidate::accountId);

  /**
   * The ADL score of position {@code h} of {@code t} at the marks read (its own mark usable): the
   * funds behind it are its isolated margin plus its PnL, or the account's cross equity.
   */
  static long adlScore(Tracked t, Held h, long[] markTicks, boolean[] usable) {
    long m = h.instrument().notionalMultiplier();
    long pnl = MarginMath.unrealizedPnl(h.lots(), h.cost(), markTicks[h.slot()], m);
    long funds = h.isolated() ? Math.addExact(h.isolatedMargin(), pnl) : crossEquity(t, markTicks, usable);
    return AdlRanking.score(h.lots(), h.cost(), markTicks[h.slot()], m, funds);
  }

  /** Cash plus the PnL of the cross positions with a usable mark. */
  private static long crossEquity(Tracked t, long[] markTicks, boolean[] usable) {
    long equity = t.cash;
    for (Held h : t.positions) {
      if (!h.isolated() && usable[h.slot()]) {
        equity = Math.addExact(equity, MarginMath.unrealizedPnl(h.lots(), h.cost(), markTicks[h.slot()],
            h.instrument().notionalMultiplier()));
      }
    }
    return equity;
  }

  /** Reads every instrument's mark, staleness and halt once, for all the accounts about to be checked. */
  private void readMarks() {
    for (int slot = 0; slot < symbols.length; slot++) {
      readMark(marks, symbols[slot], slot, markTicks, usable);
      halted[slot] = marks.halted(symbols[slot]);
      tiers[slot] = instruments.require(symbols[slot]).riskTiers();
    }
  }

  private static void readMark(MarkPrices marks, String symbol, int slot, long[] markTicks, boolean[] usable) {
    Mark mark = marks.get(symbol).orElse(null);
    usable[slot] = mark != null && !marks.stale(symbol);
    markTicks[slot] = usable[slot] ? mark.priceTicks() : 0;
  }

  private void checkOne(Tracked t, long markSequence) {
    if (t.liquidating || t.triggered) {
      return;
    }
    for (Held h : t.positions) {
      if (halted[h.slot()]) {
        // New liquidations are halted on one of its instruments: not now (nor its stops).
        return;
      }
    }
    if (LiquidationRule.breached(t.cash, t.positions, markTicks, usable, tiers)) {
      t.triggered = true;
      metrics.liquidationTriggered();
      t.account.tell(new AccountEntity.StartLiquidation(markSequence));
      return;
    }
    for (Held h : t.positions) {
      if (h.stopTicks() > 0 && usable[h.slot()] && StopRule.crossed(h.lots(), h.stopTicks(), markTicks[h.slot()])) {
        t.triggered = true;
        t.account.tell(new AccountEntity.TriggerStop(h.instrument().symbol(), markSequence));
        return;
      }
    }
  }

  /**
   * The one liquidation rule, shared by the monitor and the account that re-checks: at or below
   * maintenance at the current marks, never on a stale or missing mark. A cross account needs a
   * usable mark for every cross position; an isolated position is judged on its own mark.
   */
  public static boolean breached(Exposure exposure, Instruments instruments, MarkPrices marks) {
    int count = exposure.positions().size();
    Held[] held = new Held[count];
    long[] markTicks = new long[count];
    boolean[] usable = new boolean[count];
    for (int i = 0; i < count; i++) {
      Exposure.Position p = exposure.positions().get(i);
      Instrument instrument = instruments.require(p.instrument());
      held[i] = new Held(instrument, i, p.lots(), p.cost(), p.mode() == MarginMode.ISOLATED, p.isolatedMargin());
      readMark(marks, instrument.symbol(), i, markTicks, usable);
    }
    return breached(exposure.cash(), held, markTicks, usable);
  }

  /** The rule itself, on marks already read: per slot, the mark and whether it may be used. */
  private static boolean breached(long cash, Held[] positions, long[] markTicks, boolean[] usable) {
    return LiquidationRule.breached(cash, positions, markTicks, usable);
  }

}
