package io.clearinghouse.monitor;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.MarginMath;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.ops.Metrics;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
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
 */
public final class MarginMonitor extends AbstractBehavior<MarginMonitor.Command> {

  public sealed interface Command {}

  record Track(String accountId, Exposure exposure, ActorRef<AccountEntity.Command> account) implements Command {}

  record Untrack(String accountId, ActorRef<AccountEntity.Command> account) implements Command {}

  record Evaluate(String instrument, long markSequence) implements Command {}

  /** For tests and health: how many accounts this node watches. */
  public record CountTracked(ActorRef<Integer> replyTo) implements Command {}

  /** Starts this node's monitor and subscribes it to the marks; returns the registry accounts use. */
  public static RiskRegistry start(ActorSystem<?> system, Instruments instruments, MarkPrices marks, Metrics metrics) {
    // Resume, never restart: a restart would forget every account the node hosts.
    ActorRef<Command> monitor = system.systemActorOf(
        Behaviors.supervise(Behaviors.<Command>setup(ctx -> new MarginMonitor(ctx, instruments, marks, metrics)))
            .onFailure(SupervisorStrategy.resume()), "margin-monitor", Props.empty());
    evaluateOnEveryMark(marks, monitor);
    return registry(monitor);
  }

  static void evaluateOnEveryMark(MarkPrices marks, ActorRef<Command> monitor) {
    marks.listen(event -> {
      if (event instanceof Mark mark) {
        monitor.tell(new Evaluate(mark.instrument(), mark.sequence()));
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

  public static Behavior<Command> create(Instruments instruments, MarkPrices marks) {
    return Behaviors.setup(ctx -> new MarginMonitor(ctx, instruments, marks, new Metrics()));
  }

  /** One position with its instrument resolved once, at report time. */
  private record Held(Instrument instrument, long lots, long cost, boolean isolated, long isolatedMargin) {}

  private record Tracked(ActorRef<AccountEntity.Command> account, long cash, boolean liquidating, Held[] positions) {}

  private final Instruments instruments;
  private final MarkPrices marks;
  private final Map<String, Tracked> accounts = new HashMap<>();
  private final Map<String, Set<String>> holders = new HashMap<>();
  /** Told to start liquidation and not heard from since: not told again. */
  private final Set<String> triggered = new HashSet<>();

  private final Metrics metrics;

  private MarginMonitor(ActorContext<Command> context, Instruments instruments, MarkPrices marks, Metrics metrics) {
    super(context);
    this.metrics = metrics;
    this.instruments = instruments;
    this.marks = marks;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Track.class, this::track)
        .onMessage(Untrack.class, this::untrack)
        .onMessage(Evaluate.class, this::evaluate)
        .onMessage(CountTracked.class, c -> {
          c.replyTo().tell(accounts.size());
          return this;
        })
        .build();
  }

  private Behavior<Command> track(Track t) {
    forget(t.accountId());
    triggered.remove(t.accountId());
    if (t.exposure().positions().isEmpty()) {
      return this;
    }
    Held[] held = new Held[t.exposure().positions().size()];
    for (int i = 0; i < held.length; i++) {
      Exposure.Position p = t.exposure().positions().get(i);
      held[i] = new Held(instruments.require(p.instrument()), p.lots(), p.cost(), p.mode() == MarginMode.ISOLATED,
          p.isolatedMargin());
      holders.computeIfAbsent(p.instrument(), k -> new HashSet<>()).add(t.accountId());
    }
    accounts.put(t.accountId(), new Tracked(t.account(), t.exposure().cash(), t.exposure().liquidating(), held));
    // A change can itself bring the account to maintenance (a loss realized, a withdrawal).
    checkOne(t.accountId(), latestMarkSequence(held));
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
    if (tracked != null && tracked.account().equals(u.account())) {
      forget(u.accountId());
    }
    return this;
  }

  private void forget(String accountId) {
    Tracked old = accounts.remove(accountId);
    if (old != null) {
      for (Held h : old.positions()) {
        Set<String> set = holders.get(h.instrument().symbol());
        if (set != null) {
          set.remove(accountId);
        }
      }
    }
  }

  private Behavior<Command> evaluate(Evaluate e) {
    if (marks.stale(e.instrument())) {
      return this;
    }
    Set<String> set = holders.get(e.instrument());
    if (set != null) {
      for (String accountId : set) {
        checkOne(accountId, e.markSequence());
      }
    }
    return this;
  }

  private void checkOne(String accountId, long markSequence) {
    Tracked t = accounts.get(accountId);
    if (t == null || t.liquidating() || triggered.contains(accountId)) {
      return;
    }
    if (breached(t)) {
      triggered.add(accountId);
      metrics.liquidationTriggered();
      t.account().tell(new AccountEntity.StartLiquidation(markSequence));
    }
  }

  /**
   * The one liquidation rule, shared by the monitor and the account that re-checks: at or below
   * maintenance at the current marks, never on a stale or missing mark. A cross account needs a
   * usable mark for every cross position; an isolated position is judged on its own mark.
   */
  public static boolean breached(Exposure exposure, Instruments instruments, MarkPrices marks) {
    Held[] held = new Held[exposure.positions().size()];
    for (int i = 0; i < held.length; i++) {
      Exposure.Position p = exposure.positions().get(i);
      held[i] = new Held(instruments.require(p.instrument()), p.lots(), p.cost(), p.mode() == MarginMode.ISOLATED,
          p.isolatedMargin());
    }
    return breached(new Tracked(null, exposure.cash(), exposure.liquidating(), held), marks);
  }

  static boolean breached(Tracked t, MarkPrices marks) {
    long equity = t.cash();
    long maintenance = 0;
    boolean cross = false;
    boolean crossEvaluable = true;
    for (Held p : t.positions()) {
      String symbol = p.instrument().symbol();
      Mark mark = marks.get(symbol).orElse(null);
      boolean usable = mark != null && !marks.stale(symbol);
      if (!usable) {
        if (!p.isolated()) {
          crossEvaluable = false;
        }
        continue;
      }
      long m = p.instrument().notionalMultiplier();
      long notional = MarginMath.notional(p.lots(), mark.priceTicks(), m);
      long pnl = MarginMath.unrealizedPnl(p.lots(), p.cost(), mark.priceTicks(), m);
      long mm = MarginMath.maintenanceMargin(notional, p.instrument().riskTiers());
      if (p.isolated()) {
        if (Math.addExact(p.isolatedMargin(), pnl) <= mm) {
          return true;
        }
      } else {
        cross = true;
        equity = Math.addExact(equity, pnl);
        maintenance = Math.addExact(maintenance, mm);
      }
    }
    return cross && crossEvaluable && equity <= maintenance;
  }

  private boolean breached(Tracked t) {
    return breached(t, marks);
  }
}
