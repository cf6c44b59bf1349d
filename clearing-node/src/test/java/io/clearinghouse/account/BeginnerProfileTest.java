package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.money.Asset;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The beginner leverage profile (issue 16 item 5): a new account opens capped at the configured
 * leverage until an operator sets its cap; the summary says which profile applies; accounts opened
 * before the profile existed (or with it off) are standard; the setting is checked at start.
 */
class BeginnerProfileTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final Asset USDT = new Asset("USDT", 6);
  private static final AccountSettings BEGINNER_3X = new AccountSettings(USDT, 3, Duration.ofDays(8), 4,
      Duration.ofSeconds(3), 5, 20, true, 3);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static EventSourcedBehaviorTestKit<Command, Event, State> account(String id, AccountSettings settings) {
    var env = new AccountEntity.Environment(settings, AccountEntityTest.INSTRUMENTS, MarkPrices.local(),
        RiskRegistry.NONE, java.time.Clock.systemUTC(), AccountEntity.LiquidationStarter.NONE);
    return EventSourcedBehaviorTestKit.create(testKit.system(), AccountEntity.create(id, env),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
  }

  private static AccountSummary summary(EventSourcedBehaviorTestKit<Command, Event, State> account) {
    return ((AccountEntity.Snapshot) account.runCommand(AccountEntity.Get::new).reply()).account();
  }

  @Test
  void aNewAccountIsCappedUntilAnOperatorSetsItsCap() {
    var account = account("beginner-1", BEGINNER_3X);
    var opened = account.runCommand(AccountEntity.Open::unattributed);
    assertEquals(List.of(new AccountEntity.AccountOpened("beginner-1", 3)), opened.events());
    assertEquals(3, summary(account).leverageCap());
    assertTrue(summary(account).beginner());
    // 3x is allowed, 4x is above the profile's cap.
    assertInstanceOf(AccountEntity.Snapshot.class, account.<AccountEntity.Reply>runCommand(r -> new AccountEntity.SetLeverage(
        "BTCUSDT-PERP", 3, r)).reply());
    var above = account.<AccountEntity.Reply>runCommand(r -> new AccountEntity.SetLeverage("BTCUSDT-PERP", 4, r));
    assertEquals(Rejection.LEVERAGE_ABOVE_CAP, assertInstanceOf(AccountEntity.Rejected.class, above.reply()).reason());
    assertTrue(above.hasNoEvents());
    // The operator lifts it: to 20x here (0 would remove every cap); the profile is standard from now on.
    account.<AccountEntity.Reply>runCommand(r -> new AccountEntity.SetLeverageCap(20, r));
    assertFalse(summary(account).beginner());
    assertEquals(20, summary(account).leverageCap());
    assertInstanceOf(AccountEntity.Snapshot.class, account.<AccountEntity.Reply>runCommand(r -> new AccountEntity.SetLeverage(
        "BTCUSDT-PERP", 10, r)).reply());
    // Even setting it back to 3 is the operator's cap, not the profile.
    account.<AccountEntity.Reply>runCommand(r -> new AccountEntity.SetLeverageCap(3, r));
    assertFalse(summary(account).beginner());
    account.restart();
    assertFalse(summary(account).beginner());
    assertEquals(3, summary(account).leverageCap());
  }

  @Test
  void theProfileSurvivesARestartAndOldAccountsAreStandard() {
    var account = account("beginner-2", BEGINNER_3X);
    account.runCommand(AccountEntity.Open::unattributed);
    account.restart();
    assertTrue(summary(account).beginner());
    assertEquals(3, summary(account).leverageCap());
    // An account opened before the profile (its event has no leverage) or with it off: standard, uncapped.
    var old = account("standard-1", AccountEntityTest.SETTINGS);
    assertEquals(List.of(new AccountEntity.AccountOpened("standard-1", 0)),
        old.runCommand(AccountEntity.Open::unattributed).events());
    assertFalse(summary(old).beginner());
    assertEquals(0, summary(old).leverageCap());
  }

  @Test
  void theSettingIsReadAndCheckedAtStart() {
    assertEquals(3, AccountSettings.fromConfig(ConfigFactory.load(), USDT).beginnerLeverage());
    assertEquals(0, AccountSettings.fromConfig(ConfigFactory.parseString("clearinghouse.account.beginner-leverage = 0")
        .withFallback(ConfigFactory.load()), USDT).beginnerLeverage());
    for (String bad : List.of("-1", "126")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AccountSettings.fromConfig(
          ConfigFactory.parseString("clearinghouse.account.beginner-leverage = " + bad)
              .withFallback(ConfigFactory.load()), USDT));
      assertTrue(e.getMessage().contains("clearinghouse.account.beginner-leverage"), e.getMessage());
    }
  }
}
