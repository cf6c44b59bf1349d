package io.clearinghouse.clearing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.LiquidationRole;
import io.clearinghouse.account.PositionSummary;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 10 (rev10e): a liquidation of an account whose losing position comes
 * from a buyer side still settling, and that side's reversal afterwards. The saga's steps are sent
 * by hand, as its saga would (no saga runs): the monitor's trigger, the plan, the close to the
 * insurance fund at the bankruptcy price (or to a provider at the mark with the fund covering the
 * deficit), the end. Then the seller's side is refused and the register reverses the buyer's side.
 * BTCUSDT-PERP, 1 BTC = 1,000 lots, 50,000 USDT = 500,000 ticks, 1 USDT = 1,000,000.
 */
class Rev10eLiquidationReversalTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);
  private static final AccountSettings SETTINGS =
      new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 100, Duration.ofDays(8), 1000,
          Duration.ofSeconds(3), 5, 20);
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long START = 3_000 * USDT;
  private static final AtomicInteger ids = new AtomicInteger();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private record Setup(FakeAccounts accounts, MarkPrices marks, String buyer, GatedSeller network,
      TestProbe<TradeRegister.Reply> probe) {}

  /**
   * Buyer cash 3,000: buys 1 BTC at 50,000 (20x, taker fee 25) from a seller whose side is held on
   * the way; the mark then falls to 45,000: the long loses 5,000, equity -2,025, and the monitor's
   * trigger starts a liquidation.
   */
  private static Setup liquidatingWithASideSettling() throws Exception {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 500_000, 1, 0));
    accounts.marks = marks;
    accounts.askRegister();
    String buyer = accounts.open("buyer", START);
    String seller = accounts.open("seller", 100_000 * USDT);
    GatedSeller network = new GatedSeller(accounts, seller);
    ActorRef<TradeRegister.Command> register = accounts.spawnRegister("rev10e-liq-" + ids.incrementAndGet(), network);
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(new TradeContent(71, "t-71", PERP, buyer, seller, 500_000, 1_000, true,
        null, null), probe.getRef()));
    network.sellerSideSent.get(10, TimeUnit.SECONDS);
    assertEquals(1_000, accounts.lots(buyer), "the buyer's side is applied: long 1 BTC");
    assertEquals(START - 25 * USDT, accounts.summary(buyer).cash(), "the taker fee of 25 is charged");

    marks.accept(new Mark(PERP, 450_000, 2, 0));
    assertEquals(-2_025 * USDT, accounts.summary(buyer).equity(), "5,000 lost on the long");
    accounts.tell(buyer, new AccountEntity.StartLiquidation(2));
    probe.awaitAssert(Duration.ofSeconds(10), () -> {
      assertNotNull(accounts.summary(buyer).liquidationId(), "the account re-checks and starts the liquidation");
      return null;
    });
    return new Setup(accounts, marks, buyer, network, probe);
  }

  /** The seller's side is refused: the register reverses the buyer's. */
  private static AccountSummary reversed(Setup s) {
    s.network().sellerGate.complete(true);
    assertInstanceOf(TradeRegister.Refused.class, s.probe().receiveMessage(Duration.ofSeconds(10)));
    return s.accounts().summary(s.buyer());
  }

  private static String position(AccountSummary account) {
    PositionSummary p = account.positions().isEmpty() ? null : account.positions().get(0);
    return p == null ? "flat" : p.lots() + " lots from " + p.entryPriceTicks() + " ticks, unrealized " + p.unrealizedPnl();
  }

  /**
   * The saga's steps by hand: plans and closes until nothing is left to close, each close at its
   * plan's bankruptcy price (the fund takes it over there) or at the mark (a provider takes it),
   * then the fund's cover of what the account is short, then the end. A plan refused while the
   * side still settles (TRADE_SETTLING: what a fix may do) waits for it: the seller's side is
   * refused first. Returns what the fund paid: its takeovers' loss against the mark and its cover.
   */
  private static long sagaByHand(Setup s, boolean fundTakesOver) {
    String id = s.accounts().summary(s.buyer()).liquidationId();
    long fundPaid = 0;
    for (int step = 0; step < 10; step++) {
      AccountEntity.Reply reply = s.accounts().ask(s.buyer(), r -> new AccountEntity.PlanLiquidationClose(id, r));
      if (reply instanceof AccountEntity.Rejected refused && refused.reason() == Rejection.TRADE_SETTLING
          && !s.network().sellerGate.isDone()) {
        reversed(s);
        continue;
      }
      AccountEntity.ClosePlan plan = assertInstanceOf(AccountEntity.ClosePlan.class, reply);
      if (plan.signedLots() == 0) {
        break;
      }
      long price = fundTakesOver ? plan.bankruptcyTicks() : plan.markTicks();
      String key = id + "/" + step;
      AccountEntity.TransferApplied closed = assertInstanceOf(AccountEntity.TransferApplied.class, s.accounts().ask(
          s.buyer(), r -> new AccountEntity.ApplyLiquidationTransfer(key, id, LiquidationRole.LIQUIDATED,
              fundTakesOver ? "insurance-fund:" + PERP : "provider", PERP, plan.signedLots(), price, 0,
              AccountEntity.TransferMode.CLOSE_CLIPPED, r)));
      // The fund holds the opposite of the close from its price, valued at the mark (100 minor units a tick a lot).
      fundPaid += (price - plan.markTicks()) * 100L * -closed.transfer().signedLots();
    }
    long deficit = Math.max(0, -s.accounts().summary(s.buyer()).equity());
    if (deficit > 0) {
      assertInstanceOf(AccountEntity.StepApplied.class, s.accounts().ask(s.buyer(),
          r -> new AccountEntity.CreditLiquidation(id + "/cover", id, deficit, 0, r)));
      fundPaid += deficit;
    }
    assertInstanceOf(AccountEntity.StepApplied.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.EndLiquidation(id, r)));
    assertNull(s.accounts().summary(s.buyer()).liquidationId());
    return fundPaid;
  }

  /**
   * Finding 1 (high): the insurance fund takes the long over at the bankruptcy price (47,025: the
   * buyer's 2,975 is all gone), 2,025 above the mark; then the trade is refused and the buyer's
   * side reversed. The buyer's holding was changed by the liquidation, so the reversal is the
   * opposite fill at 50,000 against the flat holding: a short of 1 BTC from 50,000, 5,000 in
   * profit at the mark, plus the fee back. The buyer, who had 3,000 before a trade that never
   * happened, ends with an equity of 5,025; the fund holds a long from 47,025 worth 45,000: it
   * paid the buyer's 2,025 for a loss the reversal then took back.
   */
  @Test
  void aReversalAfterTheFundTookTheLiquidatedLongOverLeavesTheBuyerNoRicherThanBeforeTheTrade() throws Exception {
    Setup s = liquidatingWithASideSettling();
    long fundPaid = sagaByHand(s, true);
    AccountSummary after = s.network().sellerGate.isDone() ? s.accounts().summary(s.buyer()) : reversed(s);
    assertTrue(after.equity() <= START, "the trade never happened, yet the buyer who had " + START + " ends with an"
        + " equity of " + after.equity() + " (" + position(after) + ", cash " + after.cash() + "), while the fund,"
        + " holding the long it took over at the bankruptcy price, paid " + fundPaid + " for the buyer's own trade");
  }

  /**
   * Finding 1, as cash: a provider takes the long at the mark (45,000), the fund credits the
   * 2,025 the buyer's cash is short; the reversal then gives the buyer 5,000 of profit on a short
   * from 50,000 at a mark of 45,000: equity 5,025 again, the fund 2,025 poorer.
   */
  @Test
  void aReversalAfterTheFundCoveredTheDeficitGivesTheCoverBackToTheFund() throws Exception {
    Setup s = liquidatingWithASideSettling();
    long fundPaid = sagaByHand(s, false);
    AccountSummary after = s.network().sellerGate.isDone() ? s.accounts().summary(s.buyer()) : reversed(s);
    assertTrue(after.equity() <= START, "the fund covered " + fundPaid + " of a loss the reversal took back: the buyer,"
        + " who had " + START + " before a trade that never happened, ends with an equity of " + after.equity()
        + " (" + position(after) + ", cash " + after.cash() + ")");
  }

  /**
   * Finding 2 (high): the reversal arrives in the middle of the saga. The buyer holds 0.5 BTC from
   * 50,000 (settled) and buys another 0.5 at 50,000 from a seller whose side is held; at a mark of
   * 45,000 the whole long of 1 BTC is planned to close at its bankruptcy price, 47,025 (the fund
   * takes it over there: its journal, not shown). The reversal then takes the side back (exactly:
   * nothing of the buyer moved since), and the buyer is healthy: long 0.5 from 50,000, cash
   * 2,987.5, equity 487.5 against a maintenance margin of 90. The saga's close, clipped to what the
   * account holds, still sells its 0.5 at the plan's 47,025, 2,025 a BTC above the mark: the
   * buyer's equity goes from 487.5 to 1,264.875 (after a 235.125 penalty), and the fund, whose
   * long of 0.5 from 47,025 is worth 45,000, is out 1,012.5 less the penalty: 777.375.
   */
  @Test
  void aReversalInTheMiddleOfTheSagaLeavesNoCloseAboveTheMarkOfAHealthyAccount() throws Exception {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 500_000, 1, 0));
    accounts.marks = marks;
    accounts.askRegister();
    String buyer = accounts.open("buyer", START);
    String seller = accounts.open("seller", 100_000 * USDT);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(buyer,
        r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, 500, 500_000, true, null, "elsewhere", r)));
    accounts.tell(buyer, new AccountEntity.SideSettled(1));
    GatedSeller network = new GatedSeller(accounts, seller);
    ActorRef<TradeRegister.Command> register = accounts.spawnRegister("rev10e-mid-" + ids.incrementAndGet(), network);
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(new TradeContent(71, "t-71", PERP, buyer, seller, 500_000, 500, true,
        null, null), probe.getRef()));
    network.sellerSideSent.get(10, TimeUnit.SECONDS);
    assertEquals(1_000, accounts.lots(buyer), "long 1 BTC, half of it still settling");
    marks.accept(new Mark(PERP, 450_000, 2, 0));
    assertEquals(-2_025 * USDT, accounts.summary(buyer).equity());
    accounts.tell(buyer, new AccountEntity.StartLiquidation(2));
    probe.awaitAssert(Duration.ofSeconds(10), () -> {
      assertNotNull(accounts.summary(buyer).liquidationId(), "the account re-checks and starts the liquidation");
      return null;
    });
    String liquidationId = accounts.summary(buyer).liquidationId();
    AccountEntity.Reply first = accounts.ask(buyer, r -> new AccountEntity.PlanLiquidationClose(liquidationId, r));
    // A plan that waits for the side (TRADE_SETTLING: what a fix may do) sees the account after its reversal.
    boolean waited = first instanceof AccountEntity.Rejected refused && refused.reason() == Rejection.TRADE_SETTLING;
    if (!waited) {
      AccountEntity.ClosePlan planned = assertInstanceOf(AccountEntity.ClosePlan.class, first);
      assertEquals(List.of(-1_000L, 470_250L), List.of(planned.signedLots(), planned.bankruptcyTicks()),
          "the whole 1 BTC at its bankruptcy price, 47,025 (the fund takes it over there)");
    }

    // The seller's side is refused now (after the plan, or before it when the plan waits).
    network.sellerGate.complete(true);
    assertInstanceOf(TradeRegister.Refused.class, probe.receiveMessage(Duration.ofSeconds(10)));
    AccountSummary before = accounts.summary(buyer);
    assertEquals(500, before.positions().get(0).lots(), "the settled half is left");
    assertEquals(487_500_000, before.equity(), "healthy: 2,987.5 of cash, 2,500 lost on the half");

    AccountEntity.ClosePlan plan = assertInstanceOf(AccountEntity.ClosePlan.class, waited
        ? accounts.ask(buyer, r -> new AccountEntity.PlanLiquidationClose(liquidationId, r)) : first);
    long penalty = 0;
    long closedLots = 0;
    if (plan.signedLots() != 0) {
      AccountEntity.TransferApplied closed = assertInstanceOf(AccountEntity.TransferApplied.class, accounts.ask(buyer,
          r -> new AccountEntity.ApplyLiquidationTransfer(liquidationId + "/0", liquidationId,
              LiquidationRole.LIQUIDATED, "insurance-fund:" + PERP, PERP, plan.signedLots(), plan.bankruptcyTicks(), 0,
              AccountEntity.TransferMode.CLOSE_CLIPPED, r)));
      penalty = closed.transfer().penalty();
      closedLots = closed.transfer().signedLots();
    }
    AccountSummary after = accounts.summary(buyer);
    long fundLoss = (plan.bankruptcyTicks() - 450_000) * 100L * -closedLots - penalty;
    assertTrue(after.equity() <= Math.max(0, before.equity()), "the close of " + closedLots
        + " lots at the plan's " + plan.bankruptcyTicks() + " ticks (mark 450000) took the equity of an account"
        + " healthy after the reversal from " + before.equity() + " to " + after.equity() + " (penalty "
        + penalty + "); the fund, long what it took over from 47,025 now worth 45,000, is out " + fundLoss);
  }
}
