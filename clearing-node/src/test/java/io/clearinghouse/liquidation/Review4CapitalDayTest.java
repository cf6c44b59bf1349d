package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clearinghouse.liquidation.InsuranceFund.Command;
import io.clearinghouse.liquidation.InsuranceFund.Event;
import io.clearinghouse.liquidation.InsuranceFund.Moved;
import io.clearinghouse.liquidation.InsuranceFund.Reply;
import io.clearinghouse.liquidation.InsuranceFund.State;
import io.clearinghouse.metrics.Metrics;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review 4: the operator's capital counts what it paid per instrument for one UTC day only, and a
 * payment stamped with an earlier day (the reserve moved to a node whose clock is a second behind,
 * around midnight) throws the later day's tally away: the day's amount is then paid again.
 */
class Review4CapitalDayTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final String PERP = "BTCUSDT-PERP";
  private static final long LIMIT = 1_000;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void aPaymentStampedADayEarlierNeverResetsTheLaterDaysTally() {
    io.clearinghouse.MutableClock clock =
        new io.clearinghouse.MutableClock(java.time.Instant.parse("2026-01-02T00:00:01Z"));
    EventSourcedBehaviorTestKit<Command, Event, State> capital = EventSourcedBehaviorTestKit.create(testKit.system(),
        InsuranceFund.createReserve("operator-capital", 100, Duration.ofDays(8), new Metrics(), clock));
    capital.<Reply>runCommand(r -> new InsuranceFund.TopUp("seed", 1_000_000, r));
    // 2 January, one second past midnight: the day's amount is paid.
    Reply first = capital.<Reply>runCommand(r -> new InsuranceFund.Pay("a/capital", "a", 5_000, PERP, LIMIT, r)).reply();
    assertEquals(LIMIT, ((Moved) first).entry().amount());
    // The reserve moves to a node whose clock is two seconds behind: still 1 January there.
    clock.advance(Duration.ofSeconds(-2));
    capital.<Reply>runCommand(r -> new InsuranceFund.Pay("b/capital", "b", 10, PERP, LIMIT, r)).reply();
    // And back (or that node's clock catches up): 2 January again, its day's amount already paid.
    clock.advance(Duration.ofSeconds(3));
    Reply third = capital.<Reply>runCommand(r -> new InsuranceFund.Pay("c/capital", "c", 5_000, PERP, LIMIT, r)).reply();
    assertEquals(0, ((Moved) third).entry().amount(), "2 January's amount paid a second time");
  }
}
