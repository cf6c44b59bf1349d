package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.MutableClock;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.apache.pekko.persistence.testkit.javadsl.SnapshotTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The account entity's commands, events and recovery, with every message round-tripped through CBOR. */
class AccountEntityTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final AtomicInteger ids = new AtomicInteger();
  /** Keys kept 8 days, at most 4 per key owner within them. */
  static final AccountSettings SETTINGS = new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 3,
      Duration.ofDays(8), 4, Duration.ofSeconds(3), 5, 20);
  static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);

  static AccountEntity.Environment environment(MarkPrices marks) {
    return environment(marks, java.time.Clock.systemUTC());
  }

  static AccountEntity.Environment environment(MarkPrices marks, java.time.Clock clock) {
    return new AccountEntity.Environment(SETTINGS, INSTRUMENTS, marks, io.clearinghouse.account.RiskRegistry.NONE,
        clock, AccountEntity.LiquidationStarter.NONE);
  }

  /** A fresh account entity on the in-memory journal, already opened, valued at {@code marks}. */
  static EventSourcedBehaviorTestKit<Command, Event, State> openedAccount(ActorTestKit kit, String accountId,
      MarkPrices marks) {
    EventSourcedBehaviorTestKit<Command, Event, State> account = EventSourcedBehaviorTestKit.create(kit.system(),
        AccountEntity.create(accountId, environment(marks)),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
    account.runCommand(AccountEntity.Open::unattributed);
    return account;
  }

  private EventSourcedBehaviorTestKit<Command, Event, State> account;
  private String accountId;
  private final MutableClock clock = new MutableClock(java.time.Instant.parse("2026-01-01T00:00:00Z"));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newAccount() {
    accountId = "acc-" + ids.incrementAndGet();
    account = EventSourcedBehaviorTestKit.create(testKit.system(),
        AccountEntity.create(accountId, environment(MarkPrices.local(), clock)),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
  }

  private CommandResultWithReply<Command, Event, State, Reply> open() {
    return account.runCommand(AccountEntity.Open::unattributed);
  }

  private CommandResultWithReply<Command, Event, State, Reply> deposit(String key, long amount) {
    return account.runCommand(replyTo -> new AccountEntity.Deposit(key, amount, replyTo));
  }

  private CommandResultWithReply<Command, Event, State, Reply> withdraw(String key, long amount) {
    return account.runCommand(replyTo -> new AccountEntity.Withdraw(key, amount, replyTo));
  }

  private static void assertRejected(CommandResultWithReply<Command, Event, State, Reply> result, Rejection reason) {
    AccountEntity.Rejected rejected = assertInstanceOf(AccountEntity.Rejected.class, result.reply());
    assertEquals(reason, rejected.reason(), rejected.message());
    assertTrue(result.hasNoEvents(), "a refused command must persist nothing");
  }

  private long cash() {
    return ((Account) account.getState()).cash();
  }

  @Test
  void theOperatorsNameIsRecordedOnDepositsAndCaps() {
    open();
    var deposited = account.<Reply>runCommand(replyTo -> new AccountEntity.Deposit("d1", 5, "ops-desk", replyTo));
    assertEquals("ops-desk", ((AccountEntity.Deposited) deposited.event()).by());
    var capped = account.<Reply>runCommand(replyTo -> new AccountEntity.SetLeverageCap(5, "risk-desk", replyTo));
    assertEquals(new AccountEntity.LeverageCapSet(5, "risk-desk"), capped.event());
    // A retry by another operator is the same deposit: answered as done, nothing recorded.
    assertTrue(account.<Reply>runCommand(replyTo -> new AccountEntity.Deposit("d1", 5, "other", replyTo)).hasNoEvents());
  }

  @Test
  void unopenedAccountRefusesEverythingButOpen() {
    assertRejected(account.runCommand(AccountEntity.Get::new), Rejection.ACCOUNT_NOT_FOUND);
    assertRejected(deposit("d1", 5), Rejection.ACCOUNT_NOT_FOUND);
    assertRejected(withdraw("w1", 5), Rejection.ACCOUNT_NOT_FOUND);
    assertEquals(AccountEntity.Unopened.INSTANCE, account.getState());
  }

  @Test
  void openIsIdempotent() {
    var first = open();
    assertEquals(List.of(new AccountEntity.AccountOpened(accountId)), first.events());
    assertEquals(new AccountSummary(accountId, 0, 0, 0, 0, 0, AccountSummary.NO_RATIO, 0, List.of(), null),
        ((AccountEntity.Snapshot) first.reply()).account());
    var again = open();
    assertTrue(again.hasNoEvents());
    assertInstanceOf(AccountEntity.Snapshot.class, again.reply());
  }

  @Test
  void depositsAndWithdrawalsMoveCashExactly() {
    open();
    var deposited = deposit("d1", 1_250_500_000L);
    long now = clock.millis();
    assertEquals(new AccountEntity.Deposited("d1", 1_250_500_000L, now, 0), deposited.event());
    assertEquals(new AccountEntity.Transferred(new Receipt("d1", TransferKind.DEPOSIT, 1_250_500_000L, 1_250_500_000L,
        now), false), deposited.reply());
    var withdrawn = withdraw("w1", 250_500_001L);
    assertEquals(new AccountEntity.Withdrawn("w1", 250_500_001L, now), withdrawn.event());
    assertEquals(999_999_999L, cash());
    var view = account.runCommand(AccountEntity.Get::new);
    assertEquals(new AccountSummary(accountId, 999_999_999L, 999_999_999L, 999_999_999L, 999_999_999L, 0,
        AccountSummary.NO_RATIO, 0, List.of(), null), ((AccountEntity.Snapshot) view.reply()).account());
  }

  @Test
  void withdrawingExactlyTheWithdrawableWorksAndOneUnitMoreDoesNot() {
    open();
    deposit("d1", 1_000_000L);
    assertRejected(withdraw("w1", 1_000_001L), Rejection.INSUFFICIENT_WITHDRAWABLE);
    assertEquals(1_000_000L, cash());
    withdraw("w2", 1_000_000L);
    assertEquals(0, cash());
    assertRejected(withdraw("w3", 1), Rejection.INSUFFICIENT_WITHDRAWABLE);
  }

  @Test
  void repeatingAKeyWithTheSameContentReturnsTheFirstResultAndChangesNothing() {
    open();
    deposit("d1", 700L);
    deposit("d2", 300L);
    var retry = deposit("d1", 700L);
    assertTrue(retry.hasNoEvents());
    assertEquals(new AccountEntity.Transferred(new Receipt("d1", TransferKind.DEPOSIT, 700L, 700L, clock.millis()), true),
        retry.reply());
    assertEquals(1_000L, cash());

    withdraw("w1", 100L);
    var withdrawRetry = withdraw("w1", 100L);
    assertTrue(withdrawRetry.hasNoEvents());
    assertEquals(new AccountEntity.Transferred(new Receipt("w1", TransferKind.WITHDRAWAL, 100L, 900L, clock.millis()), true),
        withdrawRetry.reply());
    assertEquals(900L, cash());
  }

  @Test
  void reusingAKeyWithDifferentContentIsRefused() {
    open();
    deposit("k1", 700L);
    assertRejected(deposit("k1", 701L), Rejection.IDEMPOTENCY_KEY_REUSED);
    withdraw("w1", 100L);
    assertRejected(withdraw("w1", 101L), Rejection.IDEMPOTENCY_KEY_REUSED);
    assertEquals(600L, cash());
  }

  @Test
  void aClientsKeyIsNeverTheOperatorsKey() {
    open();
    deposit("custody-1", 1_000L);
    // The client picks the key the custody system used, and the one it will use next: both are
    // the client's own keys, applied as withdrawals, and neither touches the operator's.
    assertEquals(1, withdraw("custody-1", 100L).events().size());
    assertEquals(1, withdraw("custody-2", 100L).events().size());
    assertEquals(800L, cash());
    // The custody system's retry is still a replay, and its next deposit is still applied.
    var retry = deposit("custody-1", 1_000L);
    assertTrue(retry.hasNoEvents());
    assertTrue(((AccountEntity.Transferred) retry.reply()).replayed());
    var next = deposit("custody-2", 500L);
    assertEquals(1, next.events().size());
    assertEquals(1_300L, cash());
    // And each side's retry answers its own first receipt.
    assertEquals(TransferKind.WITHDRAWAL, ((AccountEntity.Transferred) withdraw("custody-2", 100L).reply())
        .receipt().kind());
  }

  @Test
  void nonPositiveAmountsAndOverflowAreRefused() {
    open();
    assertRejected(deposit("d0", 0), Rejection.AMOUNT_NOT_POSITIVE);
    assertRejected(deposit("d-", -1), Rejection.AMOUNT_NOT_POSITIVE);
    assertRejected(withdraw("w-", -1), Rejection.AMOUNT_NOT_POSITIVE);
    deposit("max", Long.MAX_VALUE);
    assertRejected(deposit("one-more", 1), Rejection.BALANCE_OVERFLOW);
    assertEquals(Long.MAX_VALUE, cash());
  }

  @Test
  void recoversTheSameStateAfterRestart() {
    open();
    deposit("d1", 5_000L);
    withdraw("w1", 1_234L);
    deposit("d2", 17L);
    State before = account.getState();
    account.restart();
    assertEquals(before, account.getState());
    // Idempotency survives recovery too.
    assertTrue(deposit("d1", 5_000L).hasNoEvents());
    assertEquals(3_783L, cash());
  }

  @Test
  void snapshotsEveryConfiguredNumberOfEventsAndRecoversFromThem() {
    SnapshotTestKit snapshots = account.snapshotTestKit().orElseThrow();
    open();
    deposit("d1", 10L);
    deposit("d2", 20L); // third event: snapshot
    snapshots.expectNextPersisted(AccountEntity.persistenceId(accountId).id(), account.getState());
    deposit("d3", 30L);
    State before = account.getState();
    account.restart();
    assertEquals(before, account.getState());
    assertEquals(60L, cash());
  }

  @Test
  void keyRetentionIsReadFromConfigAndValidatedAtStart() {
    var asset = new io.clearinghouse.money.Asset("USDT", 6);
    AccountSettings defaults = AccountSettings.fromConfig(ConfigFactory.load(), asset);
    // Custody systems retry for days: the default keeps keys at least a week.
    assertTrue(defaults.idempotencyKeyRetention().compareTo(Duration.ofDays(7)) >= 0);
    assertEquals(20_000, defaults.maxRetainedKeys());
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> AccountSettings.fromConfig(
        ConfigFactory.parseString("clearinghouse.account.idempotency-key-retention = 0s")
            .withFallback(ConfigFactory.load()), asset));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> AccountSettings.fromConfig(
        ConfigFactory.parseString("clearinghouse.account.max-retained-keys = 0").withFallback(ConfigFactory.load()),
        asset));
  }

  @Test
  void manyClientWithdrawalsNeverEvictTheCustodysDepositKey() {
    open();
    deposit("custody-1", 1_000_000L);
    // More client withdrawals than the client may hold keys for (4 within the retention): the
    // ones beyond are refused, changing nothing; none evicts the operator's key.
    for (int i = 1; i <= 4; i++) {
      assertEquals(1, withdraw("w" + i, 1).events().size());
    }
    assertRejected(withdraw("w5", 1), Rejection.IDEMPOTENCY_WINDOW_FULL);
    assertEquals(999_996L, cash());
    // The custody system retries its deposit: answered as a replay, not credited again.
    var retry = deposit("custody-1", 1_000_000L);
    assertTrue(retry.hasNoEvents());
    assertTrue(((AccountEntity.Transferred) retry.reply()).replayed());
    assertEquals(999_996L, cash());
    // The operator's own keys are counted apart: its deposits go on.
    assertEquals(1, deposit("custody-2", 4L).events().size());
    // A week later the keys are still known (retention 8 days) ...
    clock.advance(Duration.ofDays(7));
    assertTrue(deposit("custody-1", 1_000_000L).hasNoEvents());
    assertTrue(withdraw("w1", 1).hasNoEvents());
    assertRejected(withdraw("w5", 1), Rejection.IDEMPOTENCY_WINDOW_FULL);
    // ... after 8 days they expire: the client may withdraw again, and the expired receipts go.
    clock.advance(Duration.ofDays(1));
    assertEquals(1, withdraw("w5", 1).events().size());
    Account state = (Account) account.getState();
    assertEquals(List.of("w5"), state.recentTransfers().stream().map(Receipt::idempotencyKey).toList());
    account.restart();
    assertEquals(state, account.getState());
  }
}
