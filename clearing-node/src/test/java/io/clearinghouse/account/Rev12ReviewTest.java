package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.money.Asset;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review rev12 of issue 12's {@code clearinghouse.account.ask-sides-after} (ebe4615): a value too
 * long for the actor scheduler passes the start-up check, and each account then fails when it
 * arms the re-ask timer (AccountEntity.askSidesLater), i.e. at its first unconfirmed trade side.
 */
class Rev12ReviewTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Asset USDT = new Asset("USDT", 6);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** Control (passes): Pekko's scheduler (10 ms ticks) refuses a delay of 1000 days outright. */
  @Test
  void theSchedulerRefusesADelayOfAThousandDays() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> testKit.system().scheduler().scheduleOnce(Duration.ofDays(1000), () -> { },
            testKit.system().executionContext()));
    assertTrue(e.getMessage().contains("too far in future"), e.getMessage());
  }

  /**
   * Finding 1 (low): ask-sides-after = 1000d starts the node (only under 1 ms is checked); the
   * README says a bad value stops the node naming the key. Fails today: nothing is thrown.
   */
  @Test
  void anAskSidesIntervalTooLongToScheduleStopsTheNodeNamingTheKey() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AccountSettings.fromConfig(ConfigFactory.parseString("clearinghouse.account.ask-sides-after = 1000d")
            .withFallback(ConfigFactory.load()), USDT));
    assertTrue(e.getMessage().contains("clearinghouse.account.ask-sides-after"), e.getMessage());
  }
}
