package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.clearinghouse.MutableClock;
import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review 9, finding 3 (not from c12777a: FundingLedger.changed/lotsAtFundingTime as they were; the
 * late-adjustment fix does not reach it because the side arrives before the payment). An account's
 * first position change is cut after a funding time T (nothing recorded: lotsBefore 0, no lastCut);
 * a side cut before T arrives next, still before T's payment: changed() records nothing for T
 * either (it only fills funding times from its own cut's interval up to the last cut's, and T is
 * the last cut's own floor), so lotsAtFundingTime(T) sees lastCut ≥ T and pays on 0 lots. The
 * side's counterparty, which applied it in time, pays on it: the lots of T do not sum to zero.
 */
class Review9FundingFirstChangeTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long T = Instant.parse("2026-03-02T08:00:00Z").toEpochMilli();
  private final MutableClock clock = new MutableClock(Instant.ofEpochMilli(T - 10));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void aSideCutBeforeTheFundingTimeThatArrivesAfterTheFirstLaterChangeCountsForIt() {
    EventSourcedBehaviorTestKit<Command, Event, State> kit = EventSourcedBehaviorTestKit.create(testKit.system(),
        AccountEntity.create("carol-r9", AccountEntityTest.environment(MarkPrices.local(), clock)),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
    Function<Function<ActorRef<Reply>, Command>, Reply> run = c -> kit.runCommand(c).reply();
    kit.runCommand(AccountEntity.Open::unattributed);
    run.apply(r -> new AccountEntity.Deposit("d1", 100_000 * USDT, r));
    clock.advance(Duration.ofMillis(T + 2_000 - clock.millis()));
    // Trade 2, registered at 08:00:01, applied first; trade 1, registered at 07:59:59.999, a second later.
    assertInstanceOf(AccountEntity.TradeSideApplied.class, run.apply(r -> new AccountEntity.ApplyTrade("t-2", 2, PERP,
        1_000, 500_000, true, null, "x", r, T + 1_000)));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, run.apply(r -> new AccountEntity.ApplyTrade("t-1", 1, PERP,
        1_000, 500_000, true, null, "y", r, T - 1)));
    clock.advance(Duration.ofMillis(10_000));
    AccountEntity.FundingPaid paid = assertInstanceOf(AccountEntity.FundingPaid.class,
        run.apply(r -> new AccountEntity.ApplyFunding(PERP, T, 10_000, 500_000, r)));
    assertEquals(1_000, paid.lots(), "trade 1's lot was held at 08:00 (its seller pays on it)");
  }
}
