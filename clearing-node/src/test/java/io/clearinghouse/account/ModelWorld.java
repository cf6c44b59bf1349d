package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.Rejected;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.account.ModelActions.Action;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/**
 * Real {@link AccountEntity} instances on the in-memory journal (every message round-tripped
 * through CBOR), driven by a script of {@link ModelActions}, next to an {@link AccountModel}; after
 * every step it records what broke, per invariant, rather than stopping at the first failure, so
 * that each invariant can be its own property. Liquidations are driven the way the saga does
 * (plan, a backstop provider's takeover or deleveraging an opposing account, the close, an undo of
 * what the close did not match, the fund's cover, debt, the end) by {@link ModelSaga}.
 */
final class ModelWorld {
  enum Invariant {
    /** sum(cash) + sum(isolated) - sum(cost) + fees + penalties - fund draws == deposits - withdrawals, from events and from state. */
    BOOKS_BALANCE,
    /** No account at rest with negative cash, no open position and less recorded debt than it is short. */
    NO_UNBACKED_NEGATIVE_CASH,
    /** A Rejected reply persisted no event and left the state equal. */
    REFUSAL_CHANGES_NOTHING,
    /** Accepted trades and transfers give the positions and cash the reference model computes. */
    AGREES_WITH_MODEL,
    /** Every command is answered (no crash), and a restart recovers the same state. */
    ANSWERS_AND_RECOVERS,
    /**
     * A trade whose two orders passed the pre-trade check leaves neither side liquidatable (when it
     * was not before) nor an isolated position with less than the initial margin it opened.
     */
    PRE_TRADE_CHECK_COVERS_THE_TRADE
  }

  /** What the scripts exercised, summed over every world of the JVM, printed once at the end. */
  static final Map<String, java.util.concurrent.atomic.AtomicLong> EXERCISED = new java.util.concurrent.ConcurrentHashMap<>();

  static void count(String what) {
    EXERCISED.computeIfAbsent(what, k -> new java.util.concurrent.atomic.AtomicLong()).incrementAndGet();
  }

  static final String PROVIDER = "provider";
  static final long START_MARK = 500_000;
  private static final long MAX_MARK = 100_000_000;

  final ActorTestKit kit;
  final MarkPrices marks = MarkPrices.local();
  final AccountModel model = new AccountModel();
  final List<String> traders = new ArrayList<>();
  private final Map<String, EventSourcedBehaviorTestKit<Command, Event, State>> entities = new LinkedHashMap<>();
  private final Map<String, Account> states = new HashMap<>();
  private final Map<Invariant, List<String>> violations = new EnumMap<>(Invariant.class);
  private final Map<String, Long> markTicks = new HashMap<>();
  // External buckets and each account's buckets, as the persisted events tell them.
  private BigInteger deposits = BigInteger.ZERO;
  private BigInteger withdrawals = BigInteger.ZERO;
  BigInteger fees = BigInteger.ZERO;
  BigInteger penalties = BigInteger.ZERO;
  BigInteger fundDraws = BigInteger.ZERO;
  private final Map<String, BigInteger> journalCash = new HashMap<>();
  private final Map<String, BigInteger> journalIsolated = new HashMap<>();
  private final Map<String, BigInteger> journalCost = new HashMap<>();
  private final Map<String, BigInteger> journalOwed = new HashMap<>();
  long markSequence;
  long tradeSequence;
  final List<ModelTrading.SentTrade> acked = new ArrayList<>();
  String where = "setup";
  private boolean broken;

  ModelWorld(ActorTestKit kit, String prefix) {
    this.kit = kit;
    for (int i = 0; i < ModelActions.TRADERS; i++) {
      traders.add(prefix + "-t" + i);
    }
    List<String> all = new ArrayList<>(traders);
    all.add(PROVIDER);
    for (String id : all) {
      String entityId = id.equals(PROVIDER) ? prefix + "-" + PROVIDER : id;
      entities.put(id, EventSourcedBehaviorTestKit.create(kit.system(),
          AccountEntity.create(entityId, AccountEntityTest.environment(marks)),
          EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true)));
    }
    // Only now: creating a behaviour test kit clears the whole in-memory journal of the system.
    for (String id : all) {
      var opened = entities.get(id).<Reply>runCommand(AccountEntity.Open::unattributed);
      states.put(id, (Account) opened.state());
    }
    for (String instrument : ModelActions.INSTRUMENTS) {
      publishMark(instrument, START_MARK);
    }
    for (String id : traders) {
      ask(id, r -> new AccountEntity.Deposit("seed", 10_000 * ModelActions.USDT, r))
          .ifPresent(reply -> AccountModel.deposit(model.account(id), 10_000 * ModelActions.USDT));
    }
    ask(PROVIDER, r -> new AccountEntity.Deposit("seed", 1_000_000_000 * ModelActions.USDT, r))
        .ifPresent(reply -> AccountModel.deposit(model.account(PROVIDER), 1_000_000_000 * ModelActions.USDT));
    checkAtRest();
  }

  // --- running a script -----------------------------------------------------------------

  /** Runs every action (until an entity stops answering), checking the invariants after each. */
  Map<Invariant, List<String>> run(List<Action> script) {
    ModelTrading trading = new ModelTrading(this);
    ModelSaga saga = new ModelSaga(this);
    for (int i = 0; i < script.size() && !broken; i++) {
      Action action = script.get(i);
      where = "step " + (i + 1) + " " + action;
      int cover = 100;
      if (action instanceof ModelActions.MoveMark move) {
        String instrument = ModelActions.INSTRUMENTS.get(move.instrument());
        long before = markTicks.get(instrument);
        long after = BigInteger.valueOf(before).multiply(BigInteger.valueOf(1_000_000L + move.ppm()))
            .divide(BigInteger.valueOf(1_000_000L)).max(BigInteger.ONE).min(BigInteger.valueOf(MAX_MARK)).longValueExact();
        publishMark(instrument, after);
        cover = move.coverPercent();
        for (String id : accountIds()) {
          if (!broken && state(id).stops().containsKey(instrument)) {
            tell(id, new AccountEntity.TriggerStop(instrument, markSequence));
            saga.settle(id, cover);
          }
        }
      } else {
        trading.perform(action);
      }
      // The monitor: every account holding a position is told to re-check itself.
      for (String id : accountIds()) {
        if (!broken && state(id).holdings().values().stream().anyMatch(h -> !h.flat())) {
          tell(id, new AccountEntity.StartLiquidation(markSequence));
          saga.settle(id, cover);
        }
      }
      if (!broken) {
        checkAtRest();
      }
    }
    return violations;
  }

  List<String> accountIds() {
    List<String> all = new ArrayList<>(traders);
    all.add(PROVIDER);
    return all;
  }

  long mark(String instrument) {
    return markTicks.get(instrument);
  }

  private void publishMark(String instrument, long ticks) {
    markTicks.put(instrument, ticks);
    marks.accept(new Mark(instrument, ticks, ++markSequence, System.currentTimeMillis()));
  }

  Account state(String id) {
    return states.get(id);
  }

  boolean broken() {
    return broken;
  }

  void violation(Invariant invariant, String message) {
    violations.computeIfAbsent(invariant, k -> new ArrayList<>()).add(where + ": " + message);
  }

  // --- commands -------------------------------------------------------------------------

  /**
   * Runs a command with a reply; checks that a refusal changed nothing; books the events. Empty
   * when the entity did not answer (recorded; the rest of the script is not run).
   */
  Optional<Reply> ask(String id, Function<ActorRef<Reply>, Command> command) {
    if (broken) {
      return Optional.empty();
    }
    Account before = states.get(id);
    EventSourcedBehaviorTestKit.CommandResultWithReply<Command, Event, State, Reply> result;
    try {
      result = entities.get(id).runCommand(command);
    } catch (Throwable e) {
      violation(Invariant.ANSWERS_AND_RECOVERS, id + " did not answer " + describe(command) + ": " + e);
      broken = true;
      return Optional.empty();
    }
    Account after = (Account) result.state();
    if (result.reply() instanceof Rejected rejected && (!result.hasNoEvents() || !after.equals(before))) {
      violation(Invariant.REFUSAL_CHANGES_NOTHING, id + " refused (" + rejected.reason() + ") but persisted "
          + result.events() + (after.equals(before) ? "" : " and changed its state"));
    }
    book(id, result.events());
    states.put(id, after);
    return Optional.of(result.reply());
  }

  /** Runs a command without a reply (the monitor's). */
  void tell(String id, Command command) {
    if (broken) {
      return;
    }
    try {
      var result = entities.get(id).runCommand(command);
      book(id, result.events());
      states.put(id, (Account) result.state());
    } catch (Throwable e) {
      violation(Invariant.ANSWERS_AND_RECOVERS, id + " failed on " + command + ": " + e);
      broken = true;
    }
  }

  void restart(String id) {
    try {
      Account recovered = (Account) entities.get(id).restart().state();
      if (!recovered.equals(states.get(id))) {
        violation(Invariant.ANSWERS_AND_RECOVERS, id + " recovered " + recovered + " but held " + states.get(id));
      }
      states.put(id, recovered);
    } catch (Throwable e) {
      violation(Invariant.ANSWERS_AND_RECOVERS, id + " did not recover: " + e);
      broken = true;
    }
  }

  private static String describe(Function<ActorRef<Reply>, Command> command) {
    return command.apply(null).toString();
  }

  private void book(String id, List<Event> events) {
    for (Event event : events) {
      if (event instanceof AccountEntity.Deposited d) {
        deposits = deposits.add(big(d.amount()));
        add(journalCash, id, big(d.amount()).subtract(big(d.owedRepaid())));
        add(journalOwed, id, big(d.owedRepaid()).negate());
      } else if (event instanceof AccountEntity.Withdrawn w) {
        withdrawals = withdrawals.add(big(w.amount()));
        add(journalCash, id, big(w.amount()).negate());
      } else if (event instanceof AccountEntity.TradeCleared t) {
        fees = fees.add(big(t.fee()));
        add(journalCash, id, big(t.realizedPnl()).subtract(big(t.fee())).subtract(big(t.isolatedMarginDelta())));
        add(journalCost, id, big(t.costDelta()));
        add(journalIsolated, id, big(t.isolatedMarginDelta()));
      } else if (event instanceof AccountEntity.TradeSideReversed r) {
        fees = fees.subtract(big(r.feeRefund()));
        add(journalCash, id, big(r.realizedPnl()).add(big(r.feeRefund())).subtract(big(r.isolatedMarginDelta())));
        add(journalCost, id, big(r.costDelta()));
        add(journalIsolated, id, big(r.isolatedMarginDelta()));
      } else if (event instanceof AccountEntity.IsolatedMarginAdjusted a) {
        add(journalCash, id, big(a.amount()).negate());
        add(journalIsolated, id, big(a.amount()));
      } else if (event instanceof AccountEntity.LiquidationTransfer t) {
        penalties = penalties.add(big(t.penalty()));
        add(journalCash, id, big(t.realizedPnl()).subtract(big(t.penalty())).subtract(big(t.isolatedMarginDelta()))
            .add(big(t.shortfall())));
        add(journalOwed, id, big(t.shortfall()));
        add(journalCost, id, big(t.costDelta()));
        add(journalIsolated, id, big(t.isolatedMarginDelta()));
      } else if (event instanceof AccountEntity.LiquidationCredited c) {
        fundDraws = fundDraws.add(big(c.amount()));
        add(journalCash, id, big(c.amount()).subtract(big(c.shortfallCovered())));
        add(journalOwed, id, big(c.shortfallCovered()).negate());
      }
    }
  }

  private static void add(Map<String, BigInteger> sums, String id, BigInteger amount) {
    sums.merge(id, amount, BigInteger::add);
  }

  private static BigInteger big(long value) {
    return BigInteger.valueOf(value);
  }

  // --- invariants at rest ---------------------------------------------------------------

  private void checkAtRest() {
    BigInteger external = deposits.subtract(withdrawals);
    BigInteger fromJournal = fees.add(penalties).subtract(fundDraws);
    BigInteger fromState = fromJournal;
    for (String id : accountIds()) {
      Account a = states.get(id);
      fromJournal = fromJournal.add(journalCash.getOrDefault(id, BigInteger.ZERO))
          .add(journalIsolated.getOrDefault(id, BigInteger.ZERO)).subtract(journalCost.getOrDefault(id, BigInteger.ZERO))
          .subtract(journalOwed.getOrDefault(id, BigInteger.ZERO));
      BigInteger inState = big(a.cash()).subtract(big(a.owed()));
      for (Holding h : a.holdings().values()) {
        inState = inState.add(big(h.isolatedMargin())).subtract(big(h.cost()));
      }
      fromState = fromState.add(inState);
      if (!journalCash.getOrDefault(id, BigInteger.ZERO).equals(big(a.cash()))) {
        violation(Invariant.BOOKS_BALANCE, id + " holds cash " + a.cash() + " but its events add up to "
            + journalCash.get(id));
      }
      boolean open = a.holdings().values().stream().anyMatch(h -> !h.flat());
      if (a.cash() < 0 && !open && !a.liquidating() && -a.cash() > a.debt()) {
        violation(Invariant.NO_UNBACKED_NEGATIVE_CASH, id + " is flat with cash " + a.cash() + " and a recorded debt of "
            + a.debt());
      }
      compareWithModel(id, a);
    }
    if (!fromJournal.equals(external)) {
      violation(Invariant.BOOKS_BALANCE, "the events' buckets add up to " + fromJournal + ", deposits - withdrawals are "
          + external + " (off by " + fromJournal.subtract(external) + ")");
    }
    if (!fromState.equals(external)) {
      violation(Invariant.BOOKS_BALANCE, "the accounts' state adds up to " + fromState + ", deposits - withdrawals are "
          + external + " (off by " + fromState.subtract(external) + ")");
    }
  }

  /** Records a difference from the model, then adopts the entity's figures so later steps compare afresh. */
  private void compareWithModel(String id, Account a) {
    AccountModel.Acc m = model.account(id);
    List<String> differences = new ArrayList<>();
    if (m.cash != a.cash()) {
      differences.add("cash " + a.cash() + " (model " + m.cash + ")");
    }
    if (m.owed != a.owed()) {
      differences.add("owed " + a.owed() + " (model " + m.owed + ")");
    }
    if (m.debt != a.debt()) {
      differences.add("debt " + a.debt() + " (model " + m.debt + ")");
    }
    if (m.leverageCap != a.leverageCap()) {
      differences.add("leverage cap " + a.leverageCap() + " (model " + m.leverageCap + ")");
    }
    for (String instrument : ModelActions.INSTRUMENTS) {
      Holding h = a.holding(instrument);
      AccountModel.Holding mh = m.holding(instrument);
      if (h.lots() != mh.lots || h.cost() != mh.cost || h.isolatedMargin() != mh.isolatedMargin
          || (h.mode() == MarginMode.ISOLATED) != mh.isolated || h.leverage() != mh.leverage) {
        differences.add(instrument + " lots/cost/isolated/mode/leverage " + h.lots() + "/" + h.cost() + "/"
            + h.isolatedMargin() + "/" + h.mode() + "/" + h.leverage() + " (model " + mh.lots + "/" + mh.cost + "/"
            + mh.isolatedMargin + "/" + (mh.isolated ? "ISOLATED" : "CROSS") + "/" + mh.leverage + ")");
      }
    }
    if (!differences.isEmpty()) {
      violation(Invariant.AGREES_WITH_MODEL, id + " holds " + String.join(", ", differences));
      m.cash = a.cash();
      m.debt = a.debt();
      m.owed = a.owed();
      m.leverageCap = a.leverageCap();
      for (String instrument : ModelActions.INSTRUMENTS) {
        Holding h = a.holding(instrument);
        AccountModel.Holding mh = m.holding(instrument);
        mh.lots = h.lots();
        mh.cost = h.cost();
        mh.isolatedMargin = h.isolatedMargin();
        mh.isolated = h.mode() == MarginMode.ISOLATED;
        mh.leverage = h.leverage();
      }
    }
  }
}
