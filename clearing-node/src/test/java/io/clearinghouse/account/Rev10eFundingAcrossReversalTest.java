package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.clearinghouse.MutableClock;
import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 10 (rev10e), area 4: perpetual funding across a side that a
 * liquidation closed and its register then reversed. The buyer's long (its seller's side never
 * applied) is liquidated, a backstop provider taking it over; the side is then reversed against
 * the flat holding (the opposite fill: a short at the trade's price). A closed set of accounts
 * (buyer and provider: the seller holds nothing) must hold lots summing to zero at every funding
 * time, and pay, together, nothing but the rounding (FundingLedger's rule), whichever side of the
 * funding time the liquidation came. No finding: both orders come out balanced.
 *
 * <p>BTCUSDT-PERP, 1 BTC = 1,000 lots, 50,000 USDT = 500,000 ticks, 1 USDT = 1,000,000.
 */
class Rev10eFundingAcrossReversalTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final AtomicInteger ids = new AtomicInteger();
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long H = 3_600_000L;
  private static final long BP = 10_000;

  private final MutableClock clock = new MutableClock(Instant.parse("2026-03-02T00:00:00Z"));
  private final MarkPrices marks = MarkPrices.local();
  private long markSequence;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private final class Acc {
    final String id;
    final EventSourcedBehaviorTestKit<Command, Event, State> kit;

    Acc(String name, long depositUsdt) {
      id = name + "-" + ids.incrementAndGet();
      kit = EventSourcedBehaviorTestKit.create(testKit.system(),
          AccountEntity.create(id, AccountEntityTest.environment(marks, clock)),
          EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
      kit.runCommand(AccountEntity.Open::unattributed);
      run(r -> new AccountEntity.Deposit("d-" + id, depositUsdt * USDT, r));
    }

    Reply run(Function<ActorRef<Reply>, Command> command) {
      return kit.runCommand(command).reply();
    }

    AccountEntity.FundingPaid fund(long fundingTime) {
      return assertInstanceOf(AccountEntity.FundingPaid.class,
          run(r -> new AccountEntity.ApplyFunding(PERP, fundingTime, BP, 490_000, r)));
    }

    Account state() {
      return (Account) kit.getState();
    }

    /** The lots the account counts at {@code fundingTime} after every redo, and what it paid in all. */
    List<Long> atFundingTime(long fundingTime) {
      FundingLedger.Payment p = state().funding().payment(PERP, fundingTime).orElseThrow();
      return List.of(p.paid());
    }
  }

  private void at(long epochMillis) {
    clock.advance(Duration.ofMillis(Math.max(0, epochMillis - clock.millis())));
  }

  private long mark(long ticks) {
    marks.accept(new Mark(PERP, ticks, ++markSequence, 0));
    return markSequence;
  }

  /** A day of its own: the next 08:00 after the clock. */
  private long nextFundingTime() {
    long day = 24 * H;
    return (clock.millis() / day + 1) * day + 8 * H;
  }

  /** Buyer (cash 1,000, 100x) long 1 BTC at 50,000 cut at {@code cut}; its seller's side never applies. */
  private Acc buyer(long cut) {
    mark(500_000);
    Acc buyer = new Acc("buyer", 1_000);
    buyer.run(r -> new AccountEntity.SetLeverage(PERP, 100, r));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, buyer.run(r -> new AccountEntity.ApplyTrade("t-1", 1, PERP,
        1_000, 500_000, true, null, "never-applied", r, cut)));
    return buyer;
  }

  /** The provider takes the long over at 489,020, the buyer closes it (cut at the take), the saga ends. */
  private void liquidated(Acc buyer, Acc provider) {
    buyer.kit.runCommand(new AccountEntity.StartLiquidation(mark(490_000)));
    String id = buyer.state().liquidation().liquidationId();
    long taken = assertInstanceOf(AccountEntity.TransferApplied.class, provider.run(r ->
        new AccountEntity.ApplyLiquidationTransfer(id + "/close-0", id, LiquidationRole.BACKSTOP, buyer.id, PERP, 1_000,
            489_020, 1_000_000 * USDT, AccountEntity.TransferMode.TAKE_CHECKED, r))).transfer().epochMillis();
    assertInstanceOf(AccountEntity.TransferApplied.class, buyer.run(r -> new AccountEntity.ApplyLiquidationTransfer(
        id + "/close-0", id, LiquidationRole.LIQUIDATED, provider.id, PERP, -1_000, 489_020, 0,
        AccountEntity.TransferMode.CLOSE_CLIPPED, taken, r)));
    assertInstanceOf(AccountEntity.StepApplied.class, buyer.run(r -> new AccountEntity.EndLiquidation(id, r)));
    assertEquals(0, buyer.state().holding(PERP).lots());
  }

  private void reversed(Acc buyer) {
    assertInstanceOf(AccountEntity.TradeSideReverted.class, buyer.run(r -> new AccountEntity.ReverseTradeSide("t-1",
        1, PERP, 1_000, 500_000, 25 * USDT, r)));
    assertEquals(-1_000, buyer.state().holding(PERP).lots(), "the opposite fill against the flat holding: short 1 BTC");
  }

  /**
   * The funding time falls while the buyer is long (before the liquidation): the buyer pays as
   * long; its reversal redoes that payment on nothing (the side never stood, the short came after).
   */
  @Test
  void fundingPaidBeforeTheLiquidationIsRedoneOnNothingByTheReversal() {
    long t = nextFundingTime();
    at(t - 2 * H);
    Acc buyer = buyer(t - 2 * H);
    Acc provider = new Acc("provider", 1_000_000);
    at(t + 10_000);
    AccountEntity.FundingPaid paid = buyer.fund(t);
    assertEquals(List.of(1_000L, -4_900_000L), List.of(paid.lots(), paid.amount()), "0.01% of 49,000 paid as long");
    assertEquals(0, provider.fund(t).lots());
    at(t + 20_000);
    liquidated(buyer, provider);
    at(t + 30_000);
    reversed(buyer);
    assertEquals(0, buyer.atFundingTime(t).get(0) + provider.atFundingTime(t).get(0),
        "the closed set pays nothing in all for the funding time");
    assertEquals(0, buyer.atFundingTime(t).get(0), "the buyer held nothing at it once its side is taken back");
  }

  /**
   * The funding time falls after the liquidation: the provider pays as long, the buyer (flat) pays
   * nothing; the reversal's short counts from the side's cut, so the buyer is redone as short 1
   * BTC at it and receives what the provider paid: the pool nets to zero.
   */
  @Test
  void fundingPaidAfterTheLiquidationNetsToZeroOnceTheReversalCountsTheShort() {
    long t = nextFundingTime();
    at(t - 2 * H);
    Acc buyer = buyer(t - 2 * H);
    Acc provider = new Acc("provider", 1_000_000);
    at(t - H);
    liquidated(buyer, provider);
    at(t + 10_000);
    assertEquals(0, buyer.fund(t).lots(), "flat at the funding time");
    AccountEntity.FundingPaid paid = provider.fund(t);
    assertEquals(List.of(1_000L, -4_900_000L), List.of(paid.lots(), paid.amount()), "0.01% of 49,000 paid as long");
    at(t + 20_000);
    reversed(buyer);
    assertEquals(0, buyer.atFundingTime(t).get(0) + provider.atFundingTime(t).get(0),
        "the closed set pays nothing in all for the funding time: the buyer receives as the short its reversal"
            + " left, counted from the side's cut");
    assertEquals(4_900_000L, buyer.atFundingTime(t).get(0));
  }
}
