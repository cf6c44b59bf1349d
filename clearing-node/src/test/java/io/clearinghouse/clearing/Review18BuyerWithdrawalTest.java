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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
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

  /** The seller's side is held on the way until the test lets it through, then refused or applied as the test says. */
  private static final class Network implements TradeRegister.AccountAsker {
    final FakeAccounts accounts;
    final String seller;
    final CompletableFuture<Boolean> sellerGate = new CompletableFuture<>();
    final CompletableFuture<Void> sellerSideSent = new CompletableFuture<>();

    Network(FakeAccounts accounts, String seller) {
      this.accounts = accounts;
      this.seller = seller;
    }

    @Override
    public CompletionStage<AccountEntity.Reply> ask(String accountId,
        Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command, Duration timeout) {
      if (accountId.equals(seller) && command.apply(null) instanceof AccountEntity.ApplyTrade) {
        sellerSideSent.complete(null);
        return sellerGate.thenCompose(refuse -> refuse
            ? CompletableFuture.completedFuture(new AccountEntity.Rejected(Rejection.ACCOUNT_LIQUIDATING,
                "the seller's hold was lost and it is being liquidated now"))
            : accounts.ask(accountId, command, timeout));
      }
      return accounts.ask(accountId, command, timeout);
    }
  }

  private record Setup(FakeAccounts accounts, String buyer, String seller, Network network,
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
    AtomicReference<ActorRef<TradeRegister.Command>> registerRef = new AtomicReference<>();
    accounts.unfinished = sequences -> AskPattern.<TradeRegister.Command, TradeRegister.Unfinished>ask(registerRef.get(),
        replyTo -> new TradeRegister.AskUnfinished(sequences, replyTo), Duration.ofSeconds(3), testKit.scheduler())
        .thenApply(TradeRegister.Unfinished::sequences);
    if (!registersAnswer) {
      accounts.unfinished = sequences -> CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException("away"));
    }
    String buyer = accounts.open("buyer", 5_000 * USDT);
    String seller = accounts.open("seller", 100_000 * USDT);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(buyer,
        r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, -1_000, 600_000, true, null, "elsewhere", r)));
    marks.accept(new Mark(PERP, 500_000, 2, 0));
    Network network = new Network(accounts, seller);
    RegisterSettings settings = new RegisterSettings(4, 100, 3, Duration.ofSeconds(3), Duration.ofMillis(20),
        Duration.ofMillis(100), Duration.ofSeconds(10));
    ActorRef<TradeRegister.Command> register = testKit.spawn(TradeRegister.create("r18w" + ids.incrementAndGet(),
        settings, network, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    registerRef.set(register);
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
    // Still no answer: every buyer side it remembers counts as settling, so the profit stays held.
    assertInstanceOf(AccountEntity.Rejected.class, withdraw(s, "w-profit-2", 13_000 * USDT));
  }
}
