package io.clearinghouse.clearing;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Real account entities on the in-memory journal, asked the way a register asks them, with the
 * failures the register tests need: accounts that do not answer, sides refused or lost on the
 * way, and answers held until the test lets them through.
 */
final class FakeAccounts implements TradeRegister.AccountAsker {
  private static final AtomicInteger ids = new AtomicInteger();

  private final ActorTestKit testKit;
  private final AccountSettings settings;
  private final Instruments instruments;
  final String prefix = "fa" + ids.incrementAndGet() + "-";
  private final Map<String, ActorRef<AccountEntity.Command>> refs = new ConcurrentHashMap<>();
  /** Asks to these fail at once (their node is away). */
  final Set<String> failing = ConcurrentHashMap.newKeySet();
  /** Their trade sides are refused by their own rules (their state changed since their check). */
  final Set<String> refusingApply = ConcurrentHashMap.newKeySet();
  /** Their trade sides are refused as conflicting (what no rule of their own explains). */
  final Set<String> conflictingApply = ConcurrentHashMap.newKeySet();
  /** Their trade sides (ApplyTrade) are lost on the way: never delivered, never answered. */
  final Set<String> losingSides = ConcurrentHashMap.newKeySet();
  /** Their trade sides are delivered and applied, but the answers are lost. */
  final Set<String> answersLost = ConcurrentHashMap.newKeySet();
  /** Their reversals (ReverseTradeSide) are delivered and applied, but the answers are lost (kept here). */
  final Set<String> reversalAnswersLost = ConcurrentHashMap.newKeySet();
  final List<CompletionStage<AccountEntity.Reply>> lostReversals = new CopyOnWriteArrayList<>();
  /** They refuse every trade side as being liquidated, without it reaching them. */
  final Set<String> liquidating = ConcurrentHashMap.newKeySet();
  /** Asks to these are answered only once the gate completes. */
  final Map<String, CompletableFuture<Void>> held = new ConcurrentHashMap<>();
  final List<CompletableFuture<AccountEntity.Reply>> heldAnswers = new CopyOnWriteArrayList<>();
  /** Every account asked, in order. */
  final List<String> sent = new CopyOnWriteArrayList<>();
  final AtomicInteger asks = new AtomicInteger();
  final AtomicInteger unanswered = new AtomicInteger();
  /** The register the accounts ask which of their sides it still drives, once {@link #askRegister} wired it. */
  private final java.util.concurrent.atomic.AtomicReference<ActorRef<TradeRegister.Command>> register =
      new java.util.concurrent.atomic.AtomicReference<>();
  /** The register settings of the reversal review tests: short retries, a 3 s ask. */
  static final RegisterSettings REVIEW_REGISTER = new RegisterSettings(4, 100, 3, Duration.ofSeconds(3),
      Duration.ofMillis(20), Duration.ofMillis(100), Duration.ofSeconds(10));

  /** The marks every account is valued at (none by default); set before the first account is asked. */
  volatile MarkPrices marks = MarkPrices.local();
  /** Which buyer sides still settle, as the accounts ask before a withdrawal (never asked by default). */
  volatile io.clearinghouse.account.UnfinishedTrades unfinished = io.clearinghouse.account.UnfinishedTrades.NONE;

  /** The accounts' clock (set before the first account is asked). */
  java.time.Clock clock = java.time.Clock.systemUTC();

  FakeAccounts(ActorTestKit testKit, AccountSettings settings, Instruments instruments) {
    this.testKit = testKit;
    this.settings = settings;
    this.instruments = instruments;
  }

  ActorRef<AccountEntity.Command> ref(String id) {
    return refs.computeIfAbsent(id, k -> testKit.spawn(AccountEntity.create(k, new AccountEntity.Environment(
        settings, instruments, marks, io.clearinghouse.account.RiskRegistry.NONE,
        clock, AccountEntity.LiquidationStarter.NONE, io.clearinghouse.account.FeeCollector.NONE,
        instrument -> 0L, unfinished))));
  }

  /**
   * As Main wires it: the accounts ask the register {@link #spawnRegister} starts which of their
   * sides it is still driving. Call before the first account is asked.
   */
  void askRegister() {
    unfinished = sequences -> AskPattern.<TradeRegister.Command, TradeRegister.Unfinished>ask(register.get(),
        replyTo -> new TradeRegister.AskUnfinished(sequences, replyTo), Duration.ofSeconds(3), testKit.scheduler())
        .thenApply(TradeRegister.Unfinished::sequences);
  }

  /** A register on the in-memory journal that reaches the accounts through {@code network}; the accounts ask it. */
  ActorRef<TradeRegister.Command> spawnRegister(String name, TradeRegister.AccountAsker network) {
    ActorRef<TradeRegister.Command> spawned = testKit.spawn(TradeRegister.create(name, REVIEW_REGISTER, network,
        MarketCheck.NONE, journal(testKit)));
    register.set(spawned);
    return spawned;
  }

  String open(String name, long deposit) {
    String id = prefix + name;
    ask(id, AccountEntity.Open::unattributed);
    ask(id, r -> new AccountEntity.Deposit("seed", deposit, r));
    return id;
  }

  AccountEntity.Reply ask(String id, Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> c) {
    return AskPattern.<AccountEntity.Command, AccountEntity.Reply>ask(ref(id), c::apply, Duration.ofSeconds(5),
        testKit.scheduler()).toCompletableFuture().join();
  }

  AccountSummary summary(String id) {
    return ((AccountEntity.Snapshot) ask(id, AccountEntity.Get::new)).account();
  }

  /** The lots of the account's first position (0 without one). */
  long lots(String id) {
    var positions = summary(id).positions();
    return positions.isEmpty() ? 0 : positions.get(0).lots();
  }

  private static boolean isSide(Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command) {
    return command.apply(null) instanceof AccountEntity.ApplyTrade;
  }

  private static boolean isReversal(Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command) {
    return command.apply(null) instanceof AccountEntity.ReverseTradeSide;
  }

  @Override
  public CompletionStage<AccountEntity.Reply> ask(String accountId,
      Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command, Duration timeout) {
    asks.incrementAndGet();
    sent.add(accountId);
    if (refusingApply.contains(accountId) && isSide(command)) {
      return CompletableFuture.completedFuture(new AccountEntity.Rejected(Rejection.POSITION_LIMIT, "changed since"));
    }
    if (conflictingApply.contains(accountId) && isSide(command)) {
      return CompletableFuture.completedFuture(new AccountEntity.Rejected(Rejection.TRADE_CONFLICT, "not this"));
    }
    if (liquidating.contains(accountId) && isSide(command)) {
      return CompletableFuture.completedFuture(new AccountEntity.Rejected(Rejection.ACCOUNT_LIQUIDATING,
          "being liquidated"));
    }
    if (losingSides.contains(accountId) && isSide(command)) {
      return new CompletableFuture<>();
    }
    if ((answersLost.contains(accountId) && isSide(command))
        || (reversalAnswersLost.contains(accountId) && isReversal(command))) {
      CompletionStage<AccountEntity.Reply> applied = AskPattern.ask(ref(accountId), command::apply, timeout,
          testKit.scheduler());
      if (isReversal(command)) {
        lostReversals.add(applied);
      }
      return new CompletableFuture<>();
    }
    CompletableFuture<Void> gate = held.get(accountId);
    if (gate != null) {
      CompletableFuture<AccountEntity.Reply> answer = gate.thenCompose(go -> AskPattern.ask(ref(accountId),
          command::apply, timeout, testKit.scheduler())).toCompletableFuture();
      heldAnswers.add(answer);
      return answer;
    }
    if (failing.contains(accountId)) {
      unanswered.incrementAndGet();
      return CompletableFuture.failedFuture(new TimeoutException("no answer from " + accountId));
    }
    return AskPattern.ask(ref(accountId), command::apply, timeout, testKit.scheduler());
  }

  @Override
  public void tell(String accountId, AccountEntity.Command command) {
    if (!failing.contains(accountId)) {
      ref(accountId).tell(command);
    }
  }

  /** A trade of BTCUSDT-PERP at 50,000 (500,000 ticks), the buyer the aggressor. */
  static TradeContent trade(long seq, String buyer, String seller, long lots) {
    return new TradeContent(seq, "t-" + seq, "BTCUSDT-PERP", buyer, seller, 500_000, lots, true, null, null);
  }

  /** The accounts' journal as a register reads it once an account has forgotten a sequence. */
  static SideRecords journal(ActorTestKit testKit) {
    return SideRecords.fromJournal(testKit.system(), org.apache.pekko.persistence.query.PersistenceQuery
        .get(testKit.system()).getReadJournalFor(
            org.apache.pekko.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal.class,
            org.apache.pekko.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal.Identifier()),
        Duration.ofSeconds(10));
  }

  /** {@code account} clears 6 newer trades elsewhere: more than the tests' retained-trades (5), so it forgets older sequences. */
  void busyElsewhere(String account) {
    for (long seq = 100; seq < 106; seq++) {
      long lots = seq % 2 == 0 ? 10 : -10;
      long s = seq;
      AccountEntity.Reply reply = ask(account,
          r -> new AccountEntity.ApplyTrade("t-" + s, s, "BTCUSDT-PERP", lots, 500_000, true, null, "elsewhere", r));
      if (!(reply instanceof AccountEntity.TradeSideApplied)) {
        throw new AssertionError("a trade elsewhere was not applied: " + reply);
      }
    }
  }
}
