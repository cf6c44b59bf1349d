package io.clearinghouse.clearing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.PositionSummary;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 10 (rev10d): the isolated margin that a close still settling gave
 * back to cash must not fund a new isolated position, because the close's reversal takes it back.
 * The cross profit of another position made the reversed view's available margin look ample,
 * while its cash (what an isolated position is funded from) was not.
 */
class Rev10dIsolatedFundingTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.parseString("""
      clearinghouse.instruments = ${clearinghouse.instruments} [
        { symbol = "ETHUSDT-PERP", kind = perpetual, tick-size = "0.1", lot-size = "0.001", maker-fee = "0.02%",
          taker-fee = "0.05%", liquidation-fee = "1%", risk-tiers = binance-btcusdt-2021-03 }
        { symbol = "SOLUSDT-PERP", kind = perpetual, tick-size = "0.1", lot-size = "0.001", maker-fee = "0.02%",
          taker-fee = "0.05%", liquidation-fee = "1%", risk-tiers = binance-btcusdt-2021-03 }
      ]
      """).withFallback(ConfigFactory.load()).resolve(), 6);
  private static final AccountSettings SETTINGS =
      new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 100, Duration.ofDays(8), 1000,
          Duration.ofSeconds(3), 5, 20);
  /** The cross position whose unrealized profit carries the account. */
  private static final String CROSS = "BTCUSDT-PERP";
  /** The isolated position closed by a trade still settling. */
  private static final String CLOSED = "ETHUSDT-PERP";
  /** The new isolated position. */
  private static final String OPENED = "SOLUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final AtomicInteger ids = new AtomicInteger();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private record Setup(FakeAccounts accounts, String trader, GatedSeller network, TestProbe<TradeRegister.Reply> probe,
      long releasedMargin) {}

  /**
   * Cash 7,000: a cross short of 1 BTC at 60,000 now 10,000 in profit (mark 50,000), and an
   * isolated short of 1 ETH-like contract at 60,000 closed at entry by a trade whose seller side
   * is held on the way: its isolated margin is back in cash while the register may still reverse it.
   */
  private static Setup setup() throws Exception {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(CROSS, 600_000, 1, 0));
    marks.accept(new Mark(CLOSED, 600_000, 1, 0));
    marks.accept(new Mark(OPENED, 1_300_000, 1, 0));
    accounts.marks = marks;
    accounts.askRegister();
    String trader = accounts.open("trader", 7_000 * USDT);
    String seller = accounts.open("seller", 100_000 * USDT);
    GatedSeller network = new GatedSeller(accounts, seller);
    ActorRef<TradeRegister.Command> register = accounts.spawnRegister("rev10d-" + ids.incrementAndGet(), network);

    assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(trader,
        r -> new AccountEntity.ApplyTrade("t-1", 1, CROSS, -1_000, 600_000, true, null, "elsewhere", r)));
    marks.accept(new Mark(CROSS, 500_000, 2, 0));
    assertInstanceOf(AccountEntity.Snapshot.class, accounts.ask(trader,
        r -> new AccountEntity.SetMarginMode(CLOSED, MarginMode.ISOLATED, r)));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(trader,
        r -> new AccountEntity.ApplyTrade("t-2", 2, CLOSED, -1_000, 600_000, true, null, "elsewhere", r)));
    // Both settled (a register would say so): only the close below may still be reversed.
    accounts.tell(trader, new AccountEntity.SideSettled(1));
    accounts.tell(trader, new AccountEntity.SideSettled(2));
    long isolated = holding(accounts.summary(trader), CLOSED).isolatedMargin();
    assertTrue(isolated > 0, "the isolated short holds margin: " + isolated);

    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(new TradeContent(71, "t-71", CLOSED, trader, seller, 600_000, 1_000, true,
        null, null), probe.getRef()));
    network.sellerSideSent.get(10, TimeUnit.SECONDS);
    assertEquals(null, holding(accounts.summary(trader), CLOSED), "the trader's side is applied: the short is closed");
    assertInstanceOf(AccountEntity.Snapshot.class, accounts.ask(trader,
        r -> new AccountEntity.SetMarginMode(OPENED, MarginMode.ISOLATED, r)));
    return new Setup(accounts, trader, network, probe, isolated);
  }

  private static PositionSummary holding(AccountSummary account, String instrument) {
    return account.positions().stream().filter(p -> p.instrument().equals(instrument)).findFirst().orElse(null);
  }

  /** Reverses the close (the seller's side is refused) and checks what the reversal left. */
  private static void reverseAndCheck(Setup s) {
    s.network().sellerGate.complete(true);
    assertInstanceOf(TradeRegister.Refused.class, s.probe().receiveMessage(Duration.ofSeconds(10)));
    s.probe().awaitAssert(Duration.ofSeconds(10), () -> {
      PositionSummary restored = holding(s.accounts().summary(s.trader()), CLOSED);
      assertEquals(-1_000, restored == null ? 0 : restored.lots(), "the isolated short is back");
      return restored;
    });
    AccountSummary after = s.accounts().summary(s.trader());
    assertTrue(after.cash() >= 0, "the reversal left cash at " + after.cash() + " behind isolated positions, carried"
        + " only by the cross position's unrealized profit: " + after);
  }

  /** 1 SOL-like contract at 130,000, 20x: 6,500 of isolated margin, which only the settling close's margin funds. */
  @Test
  void aSettlingSidesReleasedIsolatedMarginNeverFundsAnotherIsolatedFill() throws Exception {
    Setup s = setup();
    AccountEntity.Rejected refused = assertInstanceOf(AccountEntity.Rejected.class, s.accounts().ask(s.trader(),
        r -> new AccountEntity.ApplyTrade("t-3", 3, OPENED, 1_000, 1_300_000, true, null, "elsewhere", r)));
    assertEquals(Rejection.INSUFFICIENT_MARGIN, refused.reason(), refused.message());
    assertEquals(null, holding(s.accounts().summary(s.trader()), OPENED), "a refused fill changed nothing");
    reverseAndCheck(s);
  }

  /** The same order, reserved first: the reservation judges it by the same cash. */
  @Test
  void aSettlingSidesReleasedIsolatedMarginNeverFundsAnIsolatedReservation() throws Exception {
    Setup s = setup();
    long reservedBefore = s.accounts().summary(s.trader()).reserved();
    AccountEntity.Rejected refused = assertInstanceOf(AccountEntity.Rejected.class, s.accounts().ask(s.trader(),
        r -> new AccountEntity.ReserveMargin("o-1", OPENED, 1_000, 1_300_000, r)));
    assertEquals(Rejection.INSUFFICIENT_MARGIN, refused.reason(), refused.message());
    assertEquals(reservedBefore, s.accounts().summary(s.trader()).reserved(), "a refusal changed nothing");
    reverseAndCheck(s);
  }

  /** What the account's own cash carries is still fundable: a smaller isolated order goes through. */
  @Test
  void cashTheReversalLeavesStillFundsAnIsolatedPosition() throws Exception {
    Setup s = setup();
    // 0.1 contract: 650 of margin, well inside the cash the reversal leaves.
    assertInstanceOf(AccountEntity.Reserved.class, s.accounts().ask(s.trader(),
        r -> new AccountEntity.ReserveMargin("o-2", OPENED, 100, 1_300_000, r)));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, s.accounts().ask(s.trader(),
        r -> new AccountEntity.ApplyTrade("t-4", 4, OPENED, 100, 1_300_000, true, "o-2", "elsewhere", r)));
    reverseAndCheck(s);
  }

  // Review rev10f of the bound above.

  /**
   * Finding 4 (low, a wrongful refusal): an isolated buy of 2 contracts at 60,000 in the SAME
   * instrument (6,000 of margin, fee 60) is refused, because the reversed view has only about
   * 4,000 of free cash. But in that view the buy first closes the restored short (its 3,000 back to
   * cash) and opens a long of 1 (3,000): fundable; and if the close is reversed after the buy, the
   * reversal (a sell of 1 at 60,000) turns the long of 2 into a long of 1 and gives its 3,000 of
   * isolated margin back to cash: nothing is short. The bound judges the fill's position change
   * against the actual holding but its cash against the reversed view's (where the holding
   * differs). Transient (until the side settles, milliseconds normally). Suggested fix: judge the
   * reversed view's bound with the fill applied to the reversed view's own holding (realized PnL
   * and margin released from the restored position), i.e. compute the PositionChange and
   * isolatedMarginDelta again against settlingReversed(account).
   */
  @Test
  void anIsolatedFillInTheInstrumentOfTheSettlingCloseIsFundedAsTheReversedViewWouldFundIt() throws Exception {
    Setup s = setup();
    AccountEntity.Reply reply = s.accounts().ask(s.trader(),
        r -> new AccountEntity.ApplyTrade("t-3", 3, CLOSED, 2_000, 600_000, true, null, "elsewhere", r));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, reply, "a long of 2 the reversal leaves a long of 1 of: "
        + reply);
    s.network().sellerGate.complete(true);
    assertInstanceOf(TradeRegister.Refused.class, s.probe().receiveMessage(Duration.ofSeconds(10)));
    s.probe().awaitAssert(Duration.ofSeconds(10), () -> {
      PositionSummary left = holding(s.accounts().summary(s.trader()), CLOSED);
      assertEquals(1_000, left == null ? 0 : left.lots(), "the reversal (a sell of 1) leaves a long of 1");
      return left;
    });
    AccountSummary after = s.accounts().summary(s.trader());
    assertTrue(after.cash() >= 0, "cash after the reversal: " + after.cash());
  }

  /**
   * Finding 4 from the attacker's side: a fill in the instrument of the settling close that the
   * reversed view would NOT fund is still refused, and changes nothing. Cash is 6,910 (3,940 in the
   * reversed view, where the short of 1 is back with its 3,000). A sell of 1.301 at 60,000 needs
   * 3,903 of margin and a fee of 39.03: the account's cash would fund it, but only with the 3,000
   * the close released; in the reversed view it grows the restored short and 3,940 cannot carry it.
   * A sell of 1.300 (3,900 and 39) is exactly fundable there, and after the reversal the short of
   * 2.3 holds its whole 6,900 of margin with cash left at 1.
   */
  @Test
  void anIsolatedFillInTheInstrumentOfTheSettlingCloseTheReversedViewWouldNotFundIsRefused() throws Exception {
    Setup s = setup();
    AccountSummary before = s.accounts().summary(s.trader());
    assertEquals(6_910 * USDT, before.cash(), "the premise: the close's 3,000 of margin is back in cash");
    AccountEntity.Rejected refused = assertInstanceOf(AccountEntity.Rejected.class, s.accounts().ask(s.trader(),
        r -> new AccountEntity.ApplyTrade("t-3", 3, CLOSED, -1_301, 600_000, true, null, "elsewhere", r)));
    assertEquals(Rejection.INSUFFICIENT_MARGIN, refused.reason(), refused.message());
    assertUnchanged(before, s.accounts().summary(s.trader()));

    AccountEntity.Reply reply = s.accounts().ask(s.trader(),
        r -> new AccountEntity.ApplyTrade("t-4", 4, CLOSED, -1_300, 600_000, true, null, "elsewhere", r));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, reply, "exactly what the reversed view funds: " + reply);
    s.network().sellerGate.complete(true);
    assertInstanceOf(TradeRegister.Refused.class, s.probe().receiveMessage(Duration.ofSeconds(10)));
    PositionSummary left = s.probe().awaitAssert(Duration.ofSeconds(10), () -> {
      PositionSummary short23 = holding(s.accounts().summary(s.trader()), CLOSED);
      assertEquals(-2_300, short23 == null ? 0 : short23.lots(), "the reversal (a sell of 1) grows the short to 2.3");
      return short23;
    });
    assertEquals(6_900 * USDT, left.isolatedMargin(), "the reversal found the restored lot's margin in cash");
    assertEquals(1 * USDT, s.accounts().summary(s.trader()).cash());
  }

  /**
   * Finding 4 for reservations (ReservationHandlers.reserve had the same mismatch): a buy of 2 in
   * the instrument of the settling close costs 6,060 against the flat position, more than the
   * reversed view's 3,940 of cash; but in that view it closes the restored short and opens a long
   * of 1, 3,060 with the fee. Reserved, filled, and the reversal leaves a long of 1 and cash.
   */
  @Test
  void anIsolatedReservationInTheInstrumentOfTheSettlingCloseIsJudgedAsTheReversedViewWouldJudgeIt()
      throws Exception {
    Setup s = setup();
    AccountEntity.Reply reserved = s.accounts().ask(s.trader(),
        r -> new AccountEntity.ReserveMargin("o-3", CLOSED, 2_000, 600_000, r));
    assertInstanceOf(AccountEntity.Reserved.class, reserved, "what the reversed view would fund: " + reserved);
    AccountEntity.Reply fill = s.accounts().ask(s.trader(),
        r -> new AccountEntity.ApplyTrade("t-3", 3, CLOSED, 2_000, 600_000, true, "o-3", "elsewhere", r));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, fill, String.valueOf(fill));
    s.network().sellerGate.complete(true);
    assertInstanceOf(TradeRegister.Refused.class, s.probe().receiveMessage(Duration.ofSeconds(10)));
    s.probe().awaitAssert(Duration.ofSeconds(10), () -> {
      PositionSummary left = holding(s.accounts().summary(s.trader()), CLOSED);
      assertEquals(1_000, left == null ? 0 : left.lots(), "the reversal (a sell of 1) leaves a long of 1");
      return left;
    });
    AccountSummary after = s.accounts().summary(s.trader());
    assertEquals(3_880 * USDT, after.cash(), "3,940, less the fee of 60, the long of 1 holding its 3,000: " + after);
  }

  /**
   * And a reservation in that instrument the reversed view would not fund is still refused: a sell
   * of 1.301 grows the restored short there (3,903 of margin and 39.03 of fee against 3,940 of
   * cash); 1.300 (3,939 with its fee) is exactly fundable.
   */
  @Test
  void anIsolatedReservationInTheInstrumentOfTheSettlingCloseTheReversedViewWouldNotFundIsRefused()
      throws Exception {
    Setup s = setup();
    AccountSummary before = s.accounts().summary(s.trader());
    AccountEntity.Rejected refused = assertInstanceOf(AccountEntity.Rejected.class, s.accounts().ask(s.trader(),
        r -> new AccountEntity.ReserveMargin("o-4", CLOSED, -1_301, 600_000, r)));
    assertEquals(Rejection.INSUFFICIENT_MARGIN, refused.reason(), refused.message());
    assertUnchanged(before, s.accounts().summary(s.trader()));
    assertInstanceOf(AccountEntity.Reserved.class, s.accounts().ask(s.trader(),
        r -> new AccountEntity.ReserveMargin("o-5", CLOSED, -1_300, 600_000, r)));
    reverseAndCheck(s);
  }

  private static void assertUnchanged(AccountSummary before, AccountSummary after) {
    assertEquals(before.cash(), after.cash(), "a refusal moved no cash");
    assertEquals(before.reserved(), after.reserved(), "a refusal reserved nothing");
    assertEquals(before.positions(), after.positions(), "a refusal changed no position");
  }

  /**
   * Not a finding: a settling side that realized a LOSS (the reversed view has more cash, the
   * loss given back) never tightens the bound. The ETH close above is reversed first (the test's
   * own gate), the BTC mark rises to 60,500, and the trader, short 1 BTC from 60,000, buys it
   * back at 60,500 by a side not yet confirmed (a loss of 500 realized: cash about 3,970 -> 3,440;
   * the reversed view has the 500 back in cash and the short back, available about 440 at 20x);
   * an isolated SOL-like fill of 0.03 at 130,000 (195 of margin) is still funded: the rev10d
   * bound (the reversed view's free cash, about 3,970) is not what binds.
   */
  @Test
  void aSettlingSideThatLostMoneyDoesNotTightenTheBound() throws Exception {
    Setup s = setup();
    reverseAndCheck(s);
    s.accounts().marks.accept(new Mark(CROSS, 605_000, 3, 0));
    long cashBefore = s.accounts().summary(s.trader()).cash();
    AccountEntity.Reply lossReply = s.accounts().ask(
        s.trader(), r -> new AccountEntity.ApplyTrade("t-5", 5, CROSS, 1_000, 605_000, true, null, "elsewhere", r));
    AccountEntity.TradeSideApplied loss = assertInstanceOf(AccountEntity.TradeSideApplied.class, lossReply,
        String.valueOf(lossReply));
    assertTrue(s.accounts().summary(s.trader()).cash() < cashBefore - 490 * USDT, "a loss of 500 realized: "
        + loss);
    AccountSummary before = s.accounts().summary(s.trader());
    AccountEntity.Reply fill = s.accounts().ask(s.trader(),
        r -> new AccountEntity.ApplyTrade("t-6", 6, OPENED, 30, 1_300_000, true, null, "elsewhere", r));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, fill, "a fill of 195 of margin the cash of "
        + before.cash() + " carries, with the losing side still settling: " + fill + "; " + before);
  }
}
