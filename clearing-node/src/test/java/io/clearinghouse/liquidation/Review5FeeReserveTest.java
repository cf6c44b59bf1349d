package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.MutableClock;
import io.clearinghouse.liquidation.InsuranceFund.Command;
import io.clearinghouse.liquidation.InsuranceFund.Event;
import io.clearinghouse.liquidation.InsuranceFund.Moved;
import io.clearinghouse.liquidation.InsuranceFund.Reply;
import io.clearinghouse.liquidation.InsuranceFund.State;
import io.clearinghouse.metrics.Metrics;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review 5 of the fee sweeps into the platform-revenue reserve (498352a), on the reserve's side.
 */
class Review5FeeReserveTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final AtomicInteger ids = new AtomicInteger();
  private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T23:00:00Z"));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private EventSourcedBehaviorTestKit<Command, Event, State> revenue() {
    return EventSourcedBehaviorTestKit.create(testKit.system(),
        InsuranceFund.createReserve(PlatformReserve.PLATFORM_REVENUE.id() + "-r5-" + ids.incrementAndGet(), 10,
            Duration.ofDays(8), new Metrics(), clock),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(false));
  }

  private static Reply run(EventSourcedBehaviorTestKit<Command, Event, State> ledger,
      Function<ActorRef<Reply>, Command> command) {
    return ledger.<Reply>runCommand(command::apply).reply();
  }

  /**
   * Every fee sweep is recorded as an entry whose "liquidation id" is the account id, so the
   * reserve's state keeps it among the liquidations' open entries; nothing ever forgets it (only a
   * liquidation's Forget does, and no liquidation is named after an account). Hourly sweeps of
   * 10,000 accounts add 240,000 entries a day to a state that is copied on every event and written
   * in every snapshot: the reserve slows down and its snapshots grow without bound.
   */
  @Test
  void feeSweepsDoNotPileUpInTheReservesStateForever() {
    var revenue = revenue();
    int sweeps = 200;
    for (int n = 1; n <= sweeps; n++) {
      long sweep = n;
      String account = "acct-" + (n % 20);
      assertInstanceOf(Moved.class, run(revenue, r -> new InsuranceFund.CollectFees(account, sweep, 1_000, r)));
      clock.advance(Duration.ofHours(1));
    }
    State state = revenue.getState();
    assertEquals(200_000, state.balance());
    // The history is bounded (10 kept); open entries are a liquidation's, until it is forgotten.
    assertTrue(state.recent().size() <= 10, "recent " + state.recent().size());
    assertTrue(state.open().size() <= 10, "the reserve keeps " + state.open().size()
        + " fee sweeps as open liquidation entries, one per sweep, never forgotten");
  }
}
