package io.clearinghouse.clearing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review 18 (medium 2): the register applies the buyer's side first. Until the seller's side is
 * applied, a seller refusal with no hold behind it (its hold expired on a slow drive or was lost
 * in a restart) makes the register reverse the buyer's side. A buyer that withdrew what its side
 * realized in between was left short by the reversal, and the fund paid for it. A withdrawal is
 * now judged as if every buyer side whose trade its register has not finished were reversed.
 */
class Review18BuyerWithdrawalTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);
  private static final AccountSettings SETTINGS =
      new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 100, Duration.ofDays(8), 1000,
          Duration.ofSeconds(3), 5, 20);
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final AtomicInteger ids = new AtomicInteger();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private record Setup(FakeAccounts accounts, String buyer, String seller, GatedSeller network,
      ActorRef<TradeRegister.Command> register) {}

  /**
   * A buyer short 1 BTC from 60,000 (mark now 50,000) and a seller; the register's trade of 1 BTC
   * at 50,000 closes the buyer's short with 10,000 USDT realized, and waits at the seller's side.
   */
  private static Setup buyerClosedAtAProfit() {
    return buyerClosedAtAProfit(true);
  }

  /** {@code registersAnswer} false: every ask of which trades still settle fails (a register away). */
  private static Setup buyerClosedAtAProfit(boolean registersAnswer) {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 600_000, 1, 0));
    accounts.marks = marks;
    accounts.askRegister();
    if (!registersAnswer) {
      accounts.unfinished = sequences -> CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException("away"));
    }
    String buyer = accounts.open("buyer", 5_000 * USDT);
    String seller = accounts.open("seller", 100_000 * USDT);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(buyer,
        r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, -1_000, 600_000, true, null, "elsewhere", r)));
    // Applied outside the register: settled from the start (a register tells each side it settles).
    accounts.tell(buyer, new AccountEntity.SideSettled(1));
    marks.accept(new Mark(PERP, 500_000, 2, 0));
    GatedSeller network = new GatedSeller(accounts, seller);
    ActorRef<TradeRegister.Command> register = accounts.spawnRegister("r18w" + ids.incrementAndGet(), network);
    return new Setup(accounts, buyer, seller, network, register);
  }

  private static AccountEntity.Reply withdraw(Setup s, String key, long amount) {
    return s.accounts().ask(s.buyer(), r -> new AccountEntity.Withdraw(key, amount, r));
  }

  @Test
  void whatABuyerSideRealizedCannotBeWithdrawnBeforeItsTradeSettlesSoAReversalNeverLeavesTheBuyerShort()
      throws Exception {
    Setup s = buyerClosedAtAProfit();
    long cashBefore = s.accounts().summary(s.buyer()).cash();
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    s.register().tell(new TradeRegister.Submit(FakeAccounts.trade(71, s.buyer(), s.seller(), 1_000), probe.getRef()));
    s.network().sellerSideSent.get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(0, s.accounts().lots(s.buyer()), "the buyer's side is applied: its short is closed");
    long cashWithProfit = s.accounts().summary(s.buyer()).cash();
    assertTrue(cashWithProfit > 14_000 * USDT, "the close realized 10,000: " + cashWithProfit);

    // The buyer takes its profit out while the seller's side is on its way: refused, nothing moves.
    AccountEntity.Reply early = withdraw(s, "w-early", 14_000 * USDT);
    AccountEntity.Rejected refused = assertInstanceOf(AccountEntity.Rejected.class, early);
    assertEquals(Rejection.INSUFFICIENT_WITHDRAWABLE, refused.reason());
    assertTrue(refused.message().contains("still settling"), refused.message());
    assertEquals(cashWithProfit, s.accounts().summary(s.buyer()).cash(), "a refused withdrawal moves nothing");

    // The seller refuses its side with no hold behind it: the buyer's side is reversed.
    s.network().sellerGate.complete(true);
    assertInstanceOf(TradeRegister.Refused.class, probe.receiveMessage(Duration.ofSeconds(10)));
    assertEquals(-1_000, s.accounts().lots(s.buyer()), "the short is back");
    long cashAfter = s.accounts().summary(s.buyer()).cash();
    assertEquals(cashBefore, cashAfter, "the buyer has what it had before the trade (the fee refunded)");

    // Once the trade is finished, a withdrawal the short's margin leaves room for goes through.
    assertInstanceOf(AccountEntity.Transferred.class, withdraw(s, "w-after", 1_000 * USDT));
  }

  @Test
  void onceTheTradeSettlesWhatItRealizedIsWithdrawable() throws Exception {
    Setup s = buyerClosedAtAProfit();
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    s.register().tell(new TradeRegister.Submit(FakeAccounts.trade(72, s.buyer(), s.seller(), 1_000), probe.getRef()));
    s.network().sellerSideSent.get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertInstanceOf(AccountEntity.Rejected.class, withdraw(s, "w-early", 14_000 * USDT));

    s.network().sellerGate.complete(false);
    assertInstanceOf(TradeRegister.Settled.class, probe.receiveMessage(Duration.ofSeconds(10)));
    long cash = s.accounts().summary(s.buyer()).cash();
    assertInstanceOf(AccountEntity.Transferred.class, withdraw(s, "w-settled", 14_000 * USDT),
        "the trade settled: what it realized is the buyer's to take");
    assertEquals(cash - 14_000 * USDT, s.accounts().summary(s.buyer()).cash());
  }

  @Test
  void aRegisterThatDoesNotAnswerHoldsBackWhatTheSideRealizedButNotTheRest() throws Exception {
    Setup s = buyerClosedAtAProfit(false);
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    s.register().tell(new TradeRegister.Submit(FakeAccounts.trade(73, s.buyer(), s.seller(), 1_000), probe.getRef()));
    s.network().sellerSideSent.get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertInstanceOf(AccountEntity.Rejected.class, withdraw(s, "w-profit", 14_000 * USDT));
    // What the buyer had besides the trade stays withdrawable (the reopened short's margin aside).
    assertInstanceOf(AccountEntity.Transferred.class, withdraw(s, "w-own", 1_000 * USDT));
    s.network().sellerGate.complete(false);
    assertInstanceOf(TradeRegister.Settled.class, probe.receiveMessage(Duration.ofSeconds(10)));
    assertEquals(0, s.accounts().lots(s.buyer()));
    // The register told the buyer it settled the trade: no answer needed any more.
    AtomicInteger attempt = new AtomicInteger();
    probe.awaitAssert(Duration.ofSeconds(10), () -> assertInstanceOf(AccountEntity.Transferred.class,
        withdraw(s, "w-profit-" + attempt.incrementAndGet(), 13_000 * USDT)));
  }

  // Review 19 (medium): the same money moved where a reversal cannot reach it, an isolated position's margin.

  private static final String FUTURE = "BTCUSDT-271231";

  /** The buyer also holds 0.01 BTC of the dated future in isolated margin (mark 60,000). */
  private static void isolatedFuture(Setup s) {
    s.accounts().marks.accept(new Mark(FUTURE, 600_000, 1, 0));
    assertInstanceOf(AccountEntity.Snapshot.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.SetMarginMode(FUTURE, io.clearinghouse.margin.MarginMode.ISOLATED, r)));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.ApplyTrade("t-2", 2, FUTURE, 10, 600_000, true, null, "elsewhere", r)));
    s.accounts().tell(s.buyer(), new AccountEntity.SideSettled(2));
  }

  @Test
  void whatABuyerSideStillSettlingRealizedIsNotMovedIntoAnIsolatedPositionsMargin() throws Exception {
    Setup s = buyerClosedAtAProfit();
    isolatedFuture(s);
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    s.register().tell(new TradeRegister.Submit(FakeAccounts.trade(74, s.buyer(), s.seller(), 1_000), probe.getRef()));
    s.network().sellerSideSent.get(10, java.util.concurrent.TimeUnit.SECONDS);
    long cash = s.accounts().summary(s.buyer()).cash();
    assertTrue(cash > 14_000 * USDT, "the close realized 10,000: " + cash);
    AccountEntity.Rejected refused = assertInstanceOf(AccountEntity.Rejected.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.AdjustIsolatedMargin(FUTURE, 10_000 * USDT, r)));
    assertEquals(Rejection.INSUFFICIENT_MARGIN, refused.reason());
    assertEquals(cash, s.accounts().summary(s.buyer()).cash(), "a refused move moves nothing");
    // What the buyer had of its own still moves.
    assertInstanceOf(AccountEntity.Snapshot.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.AdjustIsolatedMargin(FUTURE, 100 * USDT, r)));

    s.network().sellerGate.complete(false);
    assertInstanceOf(TradeRegister.Settled.class, probe.receiveMessage(Duration.ofSeconds(10)));
    probe.awaitAssert(Duration.ofSeconds(10), () -> assertInstanceOf(AccountEntity.Snapshot.class,
        s.accounts().ask(s.buyer(), r -> new AccountEntity.AdjustIsolatedMargin(FUTURE, 10_000 * USDT, r))));
  }

  @Test
  void anIsolatedFillIsNotFundedByWhatABuyerSideStillSettlingRealized() throws Exception {
    Setup s = buyerClosedAtAProfit();
    isolatedFuture(s);
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    s.register().tell(new TradeRegister.Submit(FakeAccounts.trade(75, s.buyer(), s.seller(), 1_000), probe.getRef()));
    s.network().sellerSideSent.get(10, java.util.concurrent.TimeUnit.SECONDS);
    long cash = s.accounts().summary(s.buyer()).cash();
    // 3 BTC of the future at 60,000 in isolated margin: 9,000 of initial margin from cash.
    AccountEntity.Rejected refused = assertInstanceOf(AccountEntity.Rejected.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.ApplyTrade("t-80", 80, FUTURE, 3_000, 600_000, true, null, "elsewhere", r)));
    assertEquals(Rejection.INSUFFICIENT_MARGIN, refused.reason(), refused.message());
    assertEquals(cash, s.accounts().summary(s.buyer()).cash(), "a refused side moves nothing");

    s.network().sellerGate.complete(false);
    assertInstanceOf(TradeRegister.Settled.class, probe.receiveMessage(Duration.ofSeconds(10)));
    AtomicInteger sequence = new AtomicInteger(80);
    probe.awaitAssert(Duration.ofSeconds(10), () -> {
      long seq = sequence.incrementAndGet();
      return assertInstanceOf(AccountEntity.TradeSideApplied.class, s.accounts().ask(s.buyer(),
          r -> new AccountEntity.ApplyTrade("t-" + seq, seq, FUTURE, 3_000, 600_000, true, null, "elsewhere", r)));
    });
  }

  // Review 20 (medium): a cross fill or an order paid for by a buyer side its register may still reverse.

  /**
   * The register's trade closes the buyer's short at 48,000 with the mark at 50,000: 12,000
   * realized, 2,000 more than the short's unrealized profit, and the short's margin freed. A
   * reversal takes both back: with the short restored the buyer has 12,500 available, not ~16,900.
   */
  private static TestProbe<TradeRegister.Reply> closedBelowTheMark(Setup s, long sequence) throws Exception {
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    s.register().tell(new TradeRegister.Submit(new TradeContent(sequence, "t-" + sequence, PERP, s.buyer(), s.seller(),
        480_000, 1_000, true, null, null), probe.getRef()));
    s.network().sellerSideSent.get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(0, s.accounts().lots(s.buyer()));
    return probe;
  }

  @Test
  void aCrossFillIsNotPaidForByWhatABuyerSideStillSettlingRealizedOrFreed() throws Exception {
    Setup s = buyerClosedAtAProfit();
    TestProbe<TradeRegister.Reply> probe = closedBelowTheMark(s, 76);
    long cash = s.accounts().summary(s.buyer()).cash();
    assertTrue(s.accounts().summary(s.buyer()).available() > 16_000 * USDT, "as it stands the buyer has ~16,900");
    // 5.5 BTC long at 50,000, 20x, no order reserved: 13,750 of margin and its fee.
    AccountEntity.Rejected refused = assertInstanceOf(AccountEntity.Rejected.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.ApplyTrade("t-90", 90, PERP, 5_500, 500_000, true, null, "elsewhere", r)));
    assertEquals(Rejection.INSUFFICIENT_MARGIN, refused.reason(), refused.message());
    assertEquals(cash, s.accounts().summary(s.buyer()).cash(), "a refused side moves nothing");
    assertEquals(0, s.accounts().lots(s.buyer()));

    s.network().sellerGate.complete(false);
    assertInstanceOf(TradeRegister.Settled.class, probe.receiveMessage(Duration.ofSeconds(10)));
    AtomicInteger sequence = new AtomicInteger(90);
    probe.awaitAssert(Duration.ofSeconds(10), () -> {
      long seq = sequence.incrementAndGet();
      return assertInstanceOf(AccountEntity.TradeSideApplied.class, s.accounts().ask(s.buyer(),
          r -> new AccountEntity.ApplyTrade("t-" + seq, seq, PERP, 5_500, 500_000, true, null, "elsewhere", r)));
    });
    assertEquals(5_500, s.accounts().lots(s.buyer()));
  }

  @Test
  void anOrderIsNotReservedAgainstWhatABuyerSideStillSettlingRealizedOrFreed() throws Exception {
    Setup s = buyerClosedAtAProfit();
    TestProbe<TradeRegister.Reply> probe = closedBelowTheMark(s, 77);
    long reserved = s.accounts().summary(s.buyer()).reserved();
    AccountEntity.Rejected refused = assertInstanceOf(AccountEntity.Rejected.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.ReserveMargin("o-1", PERP, 5_500, 500_000, r)));
    assertEquals(Rejection.INSUFFICIENT_MARGIN, refused.reason(), refused.message());
    assertEquals(reserved, s.accounts().summary(s.buyer()).reserved(), "a refused order holds nothing");
    // An order the buyer's own margin carries, with the short restored, is taken.
    assertInstanceOf(AccountEntity.Reserved.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.ReserveMargin("o-small", PERP, 1_000, 500_000, r)));

    s.network().sellerGate.complete(false);
    assertInstanceOf(TradeRegister.Settled.class, probe.receiveMessage(Duration.ofSeconds(10)));
    AtomicInteger attempt = new AtomicInteger();
    probe.awaitAssert(Duration.ofSeconds(10), () -> assertInstanceOf(AccountEntity.Reserved.class,
        s.accounts().ask(s.buyer(), r -> new AccountEntity.ReserveMargin("o-" + attempt.incrementAndGet(), PERP, 5_500,
            500_000, r))));
  }
}
