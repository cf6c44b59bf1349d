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
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Disabled;
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
    AtomicReference<ActorRef<TradeRegister.Command>> registerRef = new AtomicReference<>();
    accounts.unfinished = sequences -> AskPattern.<TradeRegister.Command, TradeRegister.Unfinished>ask(registerRef.get(),
        replyTo -> new TradeRegister.AskUnfinished(sequences, replyTo), Duration.ofSeconds(3), testKit.scheduler())
        .thenApply(TradeRegister.Unfinished::sequences);
    String buyer = accounts.open("buyer", START);
    String seller = accounts.open("seller", 100_000 * USDT);
    GatedSeller network = new GatedSeller(accounts, seller);
    RegisterSettings settings = new RegisterSettings(4, 100, 3, Duration.ofSeconds(3), Duration.ofMillis(20),
        Duration.ofMillis(100), Duration.ofSeconds(10));
    ActorRef<TradeRegister.Command> register = testKit.spawn(TradeRegister.create("rev10e-liq-" + ids.incrementAndGet(),
        settings, network, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    registerRef.set(register);
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

  private static AccountEntity.ClosePlan plan(Setup s, String liquidationId) {
    return assertInstanceOf(AccountEntity.ClosePlan.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.PlanLiquidationClose(liquidationId, r)));
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
   * Finding 1 (high): the insurance fund takes the long over at the bankruptcy price (47,025: the
   * buyer's 2,975 is all gone), 2,025 above the mark; then the trade is refused and the buyer's
   * side reversed. The buyer's holding was changed by the liquidation, so the reversal is the
   * opposite fill at 50,000 against the flat holding: a short of 1 BTC from 50,000, 5,000 in
   * profit at the mark, plus the fee back. The buyer, who had 3,000 before a trade that never
   * happened, ends with an equity of 5,025; the fund holds a long from 47,025 worth 45,000: it
   * paid the buyer's 2,025 for a loss the reversal then took back.
   */
  @Test
  @Disabled("finding 1 (high): a liquidation pays a deficit that a later reversal of the side behind it takes back;"
      + " the saga must not assess (or the fund take over / cover) while a side it counts may still be reversed")
  void aReversalAfterTheFundTookTheLiquidatedLongOverLeavesTheBuyerNoRicherThanBeforeTheTrade() throws Exception {
    Setup s = liquidatingWithASideSettling();
    String liquidationId = s.accounts().summary(s.buyer()).liquidationId();
    AccountEntity.ClosePlan plan = plan(s, liquidationId);
    assertEquals(-1_000, plan.signedLots());
    long bankruptcy = plan.bankruptcyTicks();
    assertEquals(470_250, bankruptcy, "the buyer's 2,975 carries the long down to 47,025");
    AccountEntity.TransferApplied closed = assertInstanceOf(AccountEntity.TransferApplied.class, s.accounts().ask(
        s.buyer(), r -> new AccountEntity.ApplyLiquidationTransfer(liquidationId + "/0", liquidationId,
            LiquidationRole.LIQUIDATED, "insurance-fund:" + PERP, PERP, -1_000, bankruptcy, 0,
            AccountEntity.TransferMode.CLOSE_CLIPPED, r)));
    assertEquals(0, closed.transfer().penalty(), "nothing left for a penalty");
    assertEquals(0, plan(s, liquidationId).signedLots(), "nothing more to close");
    AccountSummary assessed = s.accounts().summary(s.buyer());
    assertEquals(0, assessed.equity(), "no deficit to cover: the fund's take at 47,025 carries the 2,025");
    assertInstanceOf(AccountEntity.StepApplied.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.EndLiquidation(liquidationId, r)));
    long fundLoss = (bankruptcy - 450_000) * 100_000L;
    assertEquals(2_025 * USDT, fundLoss, "the fund's long from 47,025 is worth 45,000");

    AccountSummary after = reversed(s);
    assertTrue(after.equity() <= START, "the trade never happened, yet the buyer who had " + START + " ends with an"
        + " equity of " + after.equity() + " (" + position(after) + ", cash " + after.cash() + "), while the fund"
        + " holds a long from 47,025 worth 45,000: the fund paid " + fundLoss + " for the buyer's own trade");
  }

  /**
   * Finding 1, as cash: a provider takes the long at the mark (45,000), the fund credits the
   * 2,025 the buyer's cash is short; the reversal then gives the buyer 5,000 of profit on a short
   * from 50,000 at a mark of 45,000: equity 5,025 again, the fund 2,025 poorer.
   */
  @Test
  @Disabled("finding 1 (high): see above; the fund's cover of the deficit ends in the buyer's equity")
  void aReversalAfterTheFundCoveredTheDeficitGivesTheCoverBackToTheFund() throws Exception {
    Setup s = liquidatingWithASideSettling();
    String liquidationId = s.accounts().summary(s.buyer()).liquidationId();
    assertEquals(-1_000, plan(s, liquidationId).signedLots());
    assertInstanceOf(AccountEntity.TransferApplied.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.ApplyLiquidationTransfer(liquidationId + "/0", liquidationId, LiquidationRole.LIQUIDATED,
            "provider", PERP, -1_000, 450_000, 0, AccountEntity.TransferMode.CLOSE_CLIPPED, r)));
    assertEquals(0, plan(s, liquidationId).signedLots(), "nothing more to close");
    long deficit = -s.accounts().summary(s.buyer()).equity();
    assertEquals(2_025 * USDT, deficit, "the cash is 2,025 short");
    // The saga: the fund's cover into the cash, then the end.
    assertInstanceOf(AccountEntity.StepApplied.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.CreditLiquidation(liquidationId + "/cover", liquidationId, deficit, 0, r)));
    assertInstanceOf(AccountEntity.StepApplied.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.EndLiquidation(liquidationId, r)));
    AccountSummary covered = s.accounts().summary(s.buyer());
    assertEquals(0, covered.cash());
    assertNull(covered.liquidationId());

    AccountSummary after = reversed(s);
    assertTrue(after.equity() <= START, "the fund covered " + deficit + " of a loss the reversal took back: the buyer,"
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
  @Disabled("finding 2 (high): a close planned at a bankruptcy price that counted a side still settling is applied at"
      + " that price after the side's reversal made the account healthy; the fund buys above the mark from it")
  void aReversalInTheMiddleOfTheSagaLeavesNoCloseAboveTheMarkOfAHealthyAccount() throws Exception {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 500_000, 1, 0));
    accounts.marks = marks;
    AtomicReference<ActorRef<TradeRegister.Command>> registerRef = new AtomicReference<>();
    accounts.unfinished = sequences -> AskPattern.<TradeRegister.Command, TradeRegister.Unfinished>ask(registerRef.get(),
        replyTo -> new TradeRegister.AskUnfinished(sequences, replyTo), Duration.ofSeconds(3), testKit.scheduler())
        .thenApply(TradeRegister.Unfinished::sequences);
    String buyer = accounts.open("buyer", START);
    String seller = accounts.open("seller", 100_000 * USDT);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(buyer,
        r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, 500, 500_000, true, null, "elsewhere", r)));
    accounts.tell(buyer, new AccountEntity.SideSettled(1));
    GatedSeller network = new GatedSeller(accounts, seller);
    RegisterSettings settings = new RegisterSettings(4, 100, 3, Duration.ofSeconds(3), Duration.ofMillis(20),
        Duration.ofMillis(100), Duration.ofSeconds(10));
    ActorRef<TradeRegister.Command> register = testKit.spawn(TradeRegister.create("rev10e-mid-" + ids.incrementAndGet(),
        settings, network, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    registerRef.set(register);
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
    AccountEntity.ClosePlan plan = assertInstanceOf(AccountEntity.ClosePlan.class, accounts.ask(buyer,
        r -> new AccountEntity.PlanLiquidationClose(liquidationId, r)));
    assertEquals(-1_000, plan.signedLots());
    assertEquals(470_250, plan.bankruptcyTicks());

    // The fund has taken the 1 BTC over at 47,025; the seller's side is refused now.
    network.sellerGate.complete(true);
    assertInstanceOf(TradeRegister.Refused.class, probe.receiveMessage(Duration.ofSeconds(10)));
    AccountSummary before = accounts.summary(buyer);
    assertEquals(500, before.positions().get(0).lots(), "the settled half is left");
    assertEquals(487_500_000, before.equity(), "healthy: 2,987.5 of cash, 2,500 lost on the half");

    AccountEntity.TransferApplied closed = assertInstanceOf(AccountEntity.TransferApplied.class, accounts.ask(buyer,
        r -> new AccountEntity.ApplyLiquidationTransfer(liquidationId + "/0", liquidationId, LiquidationRole.LIQUIDATED,
            "insurance-fund:" + PERP, PERP, -1_000, plan.bankruptcyTicks(), 0, AccountEntity.TransferMode.CLOSE_CLIPPED,
            r)));
    AccountSummary after = accounts.summary(buyer);
    long fundLoss = (plan.bankruptcyTicks() - 450_000) * 100_000L / 2 - closed.transfer().penalty();
    assertTrue(after.equity() <= Math.max(0, before.equity()), "the close of " + closed.transfer().signedLots()
        + " lots at the plan's " + plan.bankruptcyTicks() + " ticks (mark 450000) took the equity of an account"
        + " healthy after the reversal from " + before.equity() + " to " + after.equity() + " (penalty "
        + closed.transfer().penalty() + "); the fund, long 0.5 BTC from 47,025 worth 45,000, is out " + fundLoss);
  }
}
