package io.clearinghouse.clearing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.account.UnfinishedTrades;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Third adversarial review of issue 10 (rev10c): what the broader tracking of settling sides still gets wrong. */
class Rev10cTrackingTest {
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

  private static ActorRef<AccountEntity.Command> spawn(String id, MarkPrices marks, UnfinishedTrades unfinished) {
    return testKit.spawn(AccountEntity.create(id, new AccountEntity.Environment(SETTINGS, INSTRUMENTS, marks,
        io.clearinghouse.account.RiskRegistry.NONE, java.time.Clock.systemUTC(), AccountEntity.LiquidationStarter.NONE,
        io.clearinghouse.account.FeeCollector.NONE, instrument -> 0L, unfinished)));
  }

  private static AccountEntity.Reply ask(ActorRef<AccountEntity.Command> ref,
      Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> c) {
    return AskPattern.<AccountEntity.Command, AccountEntity.Reply>ask(ref, c::apply, Duration.ofSeconds(5),
        testKit.scheduler()).toCompletableFuture().join();
  }

  /**
   * Finding 1: an account that recovers (a node restart, a shard rebalance) remembers no side as
   * settled, so until its registers answer, every side it still remembers, buyer's and seller's,
   * months-old ones included, counts as one its register may reverse. The command that woke it
   * (an order, a trade side's check) is judged as if all of them were reversed: a trader whose
   * long-settled close realized a profit, since withdrawn in part, cannot place a small order.
   */
  @Test
  void anOrderRightAfterRecoveryIsNotJudgedAsIfEverySettledSideWereReversed() {
    String id = "rev10c-" + ids.incrementAndGet();
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 600_000, 1, 0));
    // Before the restart the registers answer at once: every side is settled.
    UnfinishedTrades answering = sequences -> CompletableFuture.completedFuture(List.of());
    ActorRef<AccountEntity.Command> account = spawn(id, marks, answering);
    ask(account, AccountEntity.Open::unattributed);
    ask(account, r -> new AccountEntity.Deposit("seed", 10_000 * USDT, r));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account,
        r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, 1_000, 600_000, true, null, "elsewhere", r)));
    marks.accept(new Mark(PERP, 700_000, 2, 0));
    // The long is closed at a profit of 10,000 (a seller side).
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account,
        r -> new AccountEntity.ApplyTrade("t-2", 2, PERP, -1_000, 700_000, true, null, "elsewhere", r)));
    // Both trades settled (the registers say so); the trader withdraws 15,000 of its ~20,000.
    assertInstanceOf(AccountEntity.Transferred.class, ask(account,
        r -> new AccountEntity.Withdraw("w-1", 15_000 * USDT, r)));

    // The node restarts; the registers (recovering too) have not answered yet.
    testKit.stop(account);
    CompletableFuture<List<Long>> registersSlow = new CompletableFuture<>();
    ActorRef<AccountEntity.Command> recovered = spawn(id, marks, sequences -> registersSlow);
    // A flat account with about 5,000 of cash places a buy of 0.1 BTC at 70,000, 20x: about 350 of margin.
    // Fixed: the order waits for the registers' answer (at most an ask's timeout), then is judged.
    CompletableFuture<AccountEntity.Reply> pending = AskPattern.<AccountEntity.Command, AccountEntity.Reply>ask(recovered,
        r -> new AccountEntity.ReserveMargin("o-1", PERP, 100, 700_000, r), Duration.ofSeconds(5), testKit.scheduler())
        .toCompletableFuture();
    registersSlow.complete(List.of());
    AccountEntity.Reply reserved = pending.join();
    assertInstanceOf(AccountEntity.Reserved.class, reserved,
        "a small order on a flat account with ~5,000 of cash, right after a restart: " + reserved);
  }

  /** Finding 1, with registers that answer at once: the command that woke the account is judged before the answer. */
  @Test
  void anOrderThatWakesTheAccountIsNotJudgedBeforeTheRegistersAnswer() {
    String id = "rev10c-" + ids.incrementAndGet();
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 600_000, 1, 0));
    UnfinishedTrades answering = sequences -> CompletableFuture.completedFuture(List.of());
    ActorRef<AccountEntity.Command> account = spawn(id, marks, answering);
    ask(account, AccountEntity.Open::unattributed);
    ask(account, r -> new AccountEntity.Deposit("seed", 10_000 * USDT, r));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account,
        r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, 1_000, 600_000, true, null, "elsewhere", r)));
    marks.accept(new Mark(PERP, 700_000, 2, 0));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account,
        r -> new AccountEntity.ApplyTrade("t-2", 2, PERP, -1_000, 700_000, true, null, "elsewhere", r)));
    assertInstanceOf(AccountEntity.Transferred.class, ask(account,
        r -> new AccountEntity.Withdraw("w-1", 15_000 * USDT, r)));
    testKit.stop(account);
    ActorRef<AccountEntity.Command> recovered = spawn(id, marks, answering);
    AccountEntity.Reply reserved = ask(recovered,
        r -> new AccountEntity.ReserveMargin("o-1", PERP, 100, 700_000, r));
    assertInstanceOf(AccountEntity.Reserved.class, reserved,
        "the order that woke the account, its registers answering at once: " + reserved);
  }

  /**
   * As in Rev10bFenceTest: the seller's first side is stuck on the way (kept, its ask times out),
   * the retry is refused (the register unwinds), and the fence to the seller waits for a gate.
   */
  private static final class LateSellerNetwork implements TradeRegister.AccountAsker {
    final FakeAccounts accounts;
    final String seller;
    final AtomicInteger sellerSides = new AtomicInteger();
    final java.util.concurrent.atomic.AtomicReference<Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command>>
        late = new java.util.concurrent.atomic.AtomicReference<>();
    final CompletableFuture<Void> fenceSent = new CompletableFuture<>();
    final CompletableFuture<Void> fenceGate = new CompletableFuture<>();

    LateSellerNetwork(FakeAccounts accounts, String seller) {
      this.accounts = accounts;
      this.seller = seller;
    }

    @Override
    public java.util.concurrent.CompletionStage<AccountEntity.Reply> ask(String accountId,
        Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command, Duration timeout) {
      AccountEntity.Command probe = command.apply(null);
      if (accountId.equals(seller) && probe instanceof AccountEntity.ApplyTrade) {
        if (sellerSides.incrementAndGet() == 1) {
          late.set(command);
          return CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException("no answer yet"));
        }
        return CompletableFuture.completedFuture(new AccountEntity.Rejected(
            io.clearinghouse.common.Rejection.ACCOUNT_LIQUIDATING, "being liquidated right now"));
      }
      if (accountId.equals(seller) && probe instanceof AccountEntity.ReverseTradeSide) {
        fenceSent.complete(null);
        return fenceGate.thenCompose(go -> accounts.ask(accountId, command, timeout));
      }
      return accounts.ask(accountId, command, timeout);
    }

    @Override
    public void tell(String accountId, AccountEntity.Command command) {
      accounts.tell(accountId, command);
    }
  }

  /**
   * Finding 2: the seller's late side (sent by an earlier attempt) is applied before the fence
   * reaches the seller, and the seller then clears more trades than it remembers (a busy market
   * maker; 5 in this test, 1,000 by default) while the fence waits (its first ask timed out, its
   * retry backs off). The fence's ReverseTradeSide then finds the sequence forgotten, the seller
   * answers TRADE_TOO_OLD, and the register takes that as "nothing can be applied late": it
   * persists TradeRefused. The buyer's side was reversed; the seller's stands for good: the trade
   * is applied to one side only (hole 4), the seller holds a position no one is on the other side of.
   */
  @Test
  void aLateSellerSideForgottenBeforeTheFenceArrivesIsStillReversed() throws Exception {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 600_000, 1, 0));
    accounts.marks = marks;
    accounts.askRegister();
    String buyer = accounts.open("buyer", 50_000 * USDT);
    String seller = accounts.open("seller", 20_000 * USDT);
    LateSellerNetwork network = new LateSellerNetwork(accounts, seller);
    ActorRef<TradeRegister.Command> register = accounts.spawnRegister("rev10c-" + ids.incrementAndGet(), network);

    org.apache.pekko.actor.testkit.typed.javadsl.TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(new TradeContent(91, "t-91", PERP, buyer, seller, 600_000, 1_000, true,
        null, null), probe.getRef()));
    network.fenceSent.get(10, java.util.concurrent.TimeUnit.SECONDS);
    org.junit.jupiter.api.Assertions.assertEquals(0, accounts.lots(buyer), "the buyer's side was reversed");

    // The late seller side arrives and is applied (a short of 1 BTC), then the seller clears more
    // trades than it remembers before the fence gets through.
    assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(seller, network.late.get()::apply));
    org.junit.jupiter.api.Assertions.assertEquals(-1_000, accounts.lots(seller));
    accounts.busyElsewhere(seller);

    network.fenceGate.complete(null);
    TradeRegister.Reply outcome = probe.receiveMessage(Duration.ofSeconds(10));
    assertInstanceOf(TradeRegister.Refused.class, outcome);
    org.junit.jupiter.api.Assertions.assertEquals(0, accounts.lots(seller), "trade 91 was refused ("
        + outcome + ") and the buyer's side reversed, but the seller's side stands: the seller is short "
        + accounts.lots(seller) + " lots that no buyer holds");
  }

  /**
   * Review 25 (read-only, M1): the verified reversal of a side the account has forgotten (the
   * fence's journal read) closed the account's last position with its cash short and left it so:
   * no debt recorded, no fund charged. It now settles the deficit as any change that leaves the
   * account flat does.
   */
  @Test
  void aVerifiedReversalOfAForgottenSideThatLeavesTheAccountFlatAndShortSettlesTheDeficit() {
    String id = "rev10c-" + ids.incrementAndGet();
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 600_000, 1, 0));
    ActorRef<AccountEntity.Command> account = spawn(id, marks, sequences -> CompletableFuture.completedFuture(List.of()));
    ask(account, AccountEntity.Open::unattributed);
    ask(account, r -> new AccountEntity.Deposit("seed", 10_000 * USDT, r));
    // The late side: a short of 1 BTC sold at 60,000 (sequence 1); closed at 50,000 (+10,000), reopened at 50,000.
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account,
        r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, -1_000, 600_000, true, null, "elsewhere", r)));
    marks.accept(new Mark(PERP, 500_000, 2, 0));
    long seq = 2;
    for (long lots : new long[] {1_000, -1_000}) {
      long s2 = seq++;
      assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account,
          r -> new AccountEntity.ApplyTrade("t-" + s2, s2, PERP, lots, 500_000, true, null, "elsewhere", r)));
    }
    // Enough trades since (a small one back and forth) that the account forgets sequence 1.
    for (int i = 0; i < 6; i++) {
      long s2 = seq++;
      long lots = i % 2 == 0 ? -1 : 1;
      assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(account,
          r -> new AccountEntity.ApplyTrade("t-" + s2, s2, PERP, lots, 500_000, true, null, "elsewhere", r)));
    }
    AccountEntity.Snapshot before = assertInstanceOf(AccountEntity.Snapshot.class, ask(account, AccountEntity.Get::new));
    // The trader takes out all but what carries the short.
    long out = before.account().withdrawable();
    assertInstanceOf(AccountEntity.Transferred.class, ask(account, r -> new AccountEntity.Withdraw("w-1", out, r)));

    // The fence's verified reversal of sequence 1: buys 1 BTC back at 60,000, closing the short 10,000 down.
    AccountEntity.Reply reversed = ask(account, r -> new AccountEntity.ReverseTradeSide("t-1", 1, PERP, -1_000,
        600_000, 30 * USDT, true, r));
    assertInstanceOf(AccountEntity.TradeSideReverted.class, reversed, String.valueOf(reversed));
    AccountEntity.Snapshot after = assertInstanceOf(AccountEntity.Snapshot.class, ask(account, AccountEntity.Get::new));
    assertEquals(0, after.account().positions().size(), "flat: " + after.account());
    assertTrue(after.account().cash() >= 0 || after.account().debt() > 0 || after.account().liquidationId() != null,
        "flat with cash " + after.account().cash() + " and no debt recorded nor liquidation: " + after.account());
  }
}
