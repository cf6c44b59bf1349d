package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.State;
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
  static final AccountSettings SETTINGS =
      new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 3, 4, Duration.ofSeconds(3), 5, 20);
  static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);

  static AccountEntity.Environment environment(MarkPrices marks) {
    return new AccountEntity.Environment(SETTINGS, INSTRUMENTS, marks, io.clearinghouse.monitor.RiskRegistry.NONE,
        java.time.Clock.systemUTC(), AccountEntity.LiquidationStarter.NONE);
  }

  /** A fresh account entity on the in-memory journal, already opened, valued at {@code marks}. */
  static EventSourcedBehaviorTestKit<Command, Event, State> openedAccount(ActorTestKit kit, String accountId,
      MarkPrices marks) {
    EventSourcedBehaviorTestKit<Command, Event, State> account = EventSourcedBehaviorTestKit.create(kit.system(),
        AccountEntity.create(accountId, environment(marks)),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
    account.runCommand(AccountEntity.Open::new);
    return account;
  }

  private EventSourcedBehaviorTestKit<Command, Event, State> account;
  private String accountId;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newAccount() {
    accountId = "acc-" + ids.incrementAndGet();
    account = EventSourcedBehaviorTestKit.create(testKit.system(), AccountEntity.create(accountId, environment(MarkPrices.local())),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
  }

  private CommandResultWithReply<Command, Event, State, Reply> open() {
    return account.runCommand(AccountEntity.Open::new);
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
    assertEquals(new AccountEntity.Deposited("d1", 1_250_500_000L), deposited.event());
    assertEquals(new AccountEntity.Transferred(new Receipt("d1", TransferKind.DEPOSIT, 1_250_500_000L, 1_250_500_000L), false),
        deposited.reply());
    var withdrawn = withdraw("w1", 250_500_001L);
    assertEquals(new AccountEntity.Withdrawn("w1", 250_500_001L), withdrawn.event());
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
    assertEquals(new AccountEntity.Transferred(new Receipt("d1", TransferKind.DEPOSIT, 700L, 700L), true), retry.reply());
    assertEquals(1_000L, cash());

    withdraw("w1", 100L);
    var withdrawRetry = withdraw("w1", 100L);
    assertTrue(withdrawRetry.hasNoEvents());
    assertEquals(new AccountEntity.Transferred(new Receipt("w1", TransferKind.WITHDRAWAL, 100L, 900L), true),
        withdrawRetry.reply());
    assertEquals(900L, cash());
  }

  @Test
  void reusingAKeyWithDifferentContentIsRefused() {
    open();
    deposit("k1", 700L);
    assertRejected(deposit("k1", 701L), Rejection.IDEMPOTENCY_KEY_REUSED);
    assertRejected(withdraw("k1", 700L), Rejection.IDEMPOTENCY_KEY_REUSED);
    assertEquals(700L, cash());
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
  void remembersOnlyTheConfiguredNumberOfRecentKeys() {
    open();
    for (int i = 1; i <= 5; i++) {
      deposit("d" + i, i);
    }
    Account state = (Account) account.getState();
    assertEquals(List.of("d2", "d3", "d4", "d5"),
        state.recentTransfers().stream().map(Receipt::idempotencyKey).toList());
    // A key that fell out of the window is no longer recognised as a retry.
    assertEquals(1, deposit("d1", 1).events().size());
    assertTrue(deposit("d5", 5).hasNoEvents());
  }
}
