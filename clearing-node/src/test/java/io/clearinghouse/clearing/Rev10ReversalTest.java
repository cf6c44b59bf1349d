package io.clearinghouse.clearing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.account.PositionSummary;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Adversarial review of issue 10 (rev10): what a buyer side's reversal still gets wrong. */
class Rev10ReversalTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);
  /** The accounts ask the registers about unconfirmed sides 200 ms after a change (5 s shipped). */
  private static final AccountSettings SETTINGS =
      new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 100, Duration.ofDays(8), 1000,
          Duration.ofSeconds(3), 5, 20, true, 0, AccountSettings.DEFAULT_SETTLING_WAIT, Duration.ofMillis(200));
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final AtomicInteger ids = new AtomicInteger();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private record Setup(FakeAccounts accounts, MarkPrices marks, String buyer, String seller, GatedSeller network,
      ActorRef<TradeRegister.Command> register) {}

  private static Setup setup(long buyerCash) {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 600_000, 1, 0));
    accounts.marks = marks;
    accounts.askRegister();
    String buyer = accounts.open("buyer", buyerCash);
    String seller = accounts.open("seller", 100_000 * USDT);
    GatedSeller network = new GatedSeller(accounts, seller);
    ActorRef<TradeRegister.Command> register = accounts.spawnRegister("rev10-" + ids.incrementAndGet(), network);
    return new Setup(accounts, marks, buyer, seller, network, register);
  }

  private static PositionSummary position(Setup s) {
    var positions = s.accounts().summary(s.buyer()).positions();
    return positions.isEmpty() ? null : positions.get(0);
  }

  /** Submits a 1 BTC trade at {@code priceTicks} (buyer aggressor) and waits until the buyer's side is applied. */
  private static TestProbe<TradeRegister.Reply> buyerSideApplied(Setup s, long sequence, long priceTicks)
      throws Exception {
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    s.register().tell(new TradeRegister.Submit(new TradeContent(sequence, "t-" + sequence, PERP, s.buyer(), s.seller(),
        priceTicks, 1_000, true, null, null), probe.getRef()));
    s.network().sellerSideSent.get(10, TimeUnit.SECONDS);
    assertEquals(0, s.accounts().lots(s.buyer()), "the buyer's side is applied: its short is closed");
    return probe;
  }

  /**
   * Finding 1a: a cross short closed by a buyer side still settling; the buyer switches the (now
   * flat) instrument to isolated margin; the reversal restores the short "untouched" (TradeRef
   * .untouchedSince compares lots, cost and isolated margin, not the mode) into an ISOLATED
   * holding with no isolated margin at all: an isolated position opened on credit (hole 1), whose
   * loss beyond its zero margin lands on the insurance fund while the cross cash stays free.
   */
  @Test
  void aReversalAfterTheBuyerSwitchedToIsolatedNeverLeavesAnUnfundedIsolatedPosition() throws Exception {
    Setup s = setup(5_000 * USDT);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, -1_000, 600_000, true, null, "elsewhere", r)));
    TestProbe<TradeRegister.Reply> probe = buyerSideApplied(s, 71, 600_000);

    AccountEntity.Reply switched = s.accounts().ask(s.buyer(),
        r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r));
    // Fixed: refused while the trade settles (its reversal restores the short in the mode it had).
    AccountEntity.Rejected refused = assertInstanceOf(AccountEntity.Rejected.class, switched);
    assertEquals(Rejection.TRADE_SETTLING, refused.reason(), refused.message());
    s.network().sellerGate.complete(true);
    assertInstanceOf(TradeRegister.Refused.class, probe.receiveMessage(Duration.ofSeconds(10)));
    PositionSummary after = position(s);
    assertEquals(-1_000, after.lots(), "the short is back");
    assertTrue(after.mode() == MarginMode.CROSS || after.isolatedMargin() >= after.initialMargin(),
        "the mode switch (" + switched.getClass().getSimpleName() + ") left the restored short " + after.mode()
            + " with isolated margin " + after.isolatedMargin() + " against an initial margin of "
            + after.initialMargin() + "; account " + s.accounts().summary(s.buyer()));
  }

  /**
   * Finding 1b: the other way round. An isolated short closed by a buyer side still settling (its
   * margin released to cash); the buyer switches to cross; the reversal puts the isolated margin
   * back into a CROSS holding, where no equity, no withdrawal and no AdjustIsolatedMargin
   * (NOT_ISOLATED) can reach it.
   */
  @Test
  void aReversalAfterTheBuyerSwitchedToCrossLeavesNoMarginStrandedInACrossHolding() throws Exception {
    Setup s = setup(5_000 * USDT);
    assertInstanceOf(AccountEntity.Snapshot.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r)));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, -1_000, 600_000, true, null, "elsewhere", r)));
    long isolated = position(s).isolatedMargin();
    assertTrue(isolated > 0, "the isolated short holds margin: " + isolated);
    long equityBefore = s.accounts().summary(s.buyer()).equity();
    TestProbe<TradeRegister.Reply> probe = buyerSideApplied(s, 71, 600_000);

    // Fixed: flat and no orders, but refused while the trade settles.
    AccountEntity.Rejected refused = assertInstanceOf(AccountEntity.Rejected.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.SetMarginMode(PERP, MarginMode.CROSS, r)));
    assertEquals(Rejection.TRADE_SETTLING, refused.reason(), refused.message());
    s.network().sellerGate.complete(true);
    assertInstanceOf(TradeRegister.Refused.class, probe.receiveMessage(Duration.ofSeconds(10)));
    PositionSummary after = position(s);
    assertEquals(-1_000, after.lots(), "the short is back");
    assertTrue(after.mode() == MarginMode.ISOLATED || after.isolatedMargin() == 0,
        "a " + after.mode() + " holding holds " + after.isolatedMargin() + " of isolated margin (equity before "
            + equityBefore + ", now " + s.accounts().summary(s.buyer()).equity() + "); unreachable: "
            + s.accounts().ask(s.buyer(), r -> new AccountEntity.AdjustIsolatedMargin(PERP, -after.isolatedMargin(), r)));
  }

  /** Once the register settled the trade, the flat instrument's mode may change. */
  @Test
  void aSwitchIsTakenOnceTheTradeSettled() throws Exception {
    Setup s = setup(5_000 * USDT);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, -1_000, 600_000, true, null, "elsewhere", r)));
    TestProbe<TradeRegister.Reply> probe = buyerSideApplied(s, 72, 600_000);
    s.network().sellerGate.complete(false);
    assertInstanceOf(TradeRegister.Settled.class, probe.receiveMessage(Duration.ofSeconds(10)));
    probe.awaitAssert(Duration.ofSeconds(10), () -> assertInstanceOf(AccountEntity.Snapshot.class, s.accounts().ask(
        s.buyer(), r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r))));
  }

  /** The seller's first side is delivered late (after the register gave up on it); its retry is refused. */
  private static final class LateNetwork implements TradeRegister.AccountAsker {
    final FakeAccounts accounts;
    final String seller;
    final AtomicInteger sellerSides = new AtomicInteger();
    final AtomicReference<Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command>> late = new AtomicReference<>();

    LateNetwork(FakeAccounts accounts, String seller) {
      this.accounts = accounts;
      this.seller = seller;
    }

    @Override
    public CompletionStage<AccountEntity.Reply> ask(String accountId,
        Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command, Duration timeout) {
      if (accountId.equals(seller) && command.apply(null) instanceof AccountEntity.ApplyTrade) {
        if (sellerSides.incrementAndGet() == 1) {
          // Stuck on the way (a shard handing over, a register that moved): the ask times out.
          late.set(command);
          return CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException("no answer yet"));
        }
        return CompletableFuture.completedFuture(new AccountEntity.Rejected(Rejection.ACCOUNT_LIQUIDATING,
            "being liquidated right now"));
      }
      return accounts.ask(accountId, command, timeout);
    }

    @Override
    public void tell(String accountId, AccountEntity.Command command) {
      accounts.tell(accountId, command);
    }
  }

  /**
   * Finding 2: a refused trade leaves no mark on the seller. The register gave up on a seller side
   * it had sent (timed out), the retry was refused, the buyer's side was reversed and the trade
   * refused; the first side, delivered late (a message from an earlier incarnation of the register
   * or through a shard in hand-over is not ordered with the later one), is then applied to the
   * seller: the trade stands on one side only and the books no longer balance.
   */
  @Test
  void aSellerSideDeliveredAfterItsTradeWasRefusedIsNeverApplied() throws Exception {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 600_000, 1, 0));
    accounts.marks = marks;
    String buyer = accounts.open("buyer", 10_000 * USDT);
    String seller = accounts.open("seller", 10_000 * USDT);
    LateNetwork network = new LateNetwork(accounts, seller);
    ActorRef<TradeRegister.Command> register = testKit.spawn(TradeRegister.create("rev10-late-" + ids.incrementAndGet(),
        FakeAccounts.REVIEW_REGISTER, network, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(new TradeContent(81, "t-81", PERP, buyer, seller, 600_000, 1_000, true,
        null, null), probe.getRef()));
    assertInstanceOf(TradeRegister.Refused.class, probe.receiveMessage(Duration.ofSeconds(10)));
    assertEquals(0, accounts.lots(buyer), "the buyer's side was reversed");

    AccountEntity.Reply late = accounts.ask(seller, network.late.get()::apply);
    assertEquals(0, accounts.lots(seller), "the trade was refused, yet the late side got " + late
        + ": the seller is short 1 BTC that no buyer holds");
  }

  /**
   * Finding 3 (low): a SideSettled that never arrives (a tell, dropped with a node or a shard in
   * hand-over) holds the settled trade's profit back from every order, fill and margin move for as
   * long as the account stays up: only a withdrawal, or a restart, asks the register again.
   */
  @Test
  void aLostSideSettledDoesNotHoldASettledTradesProfitBackFromOrders() throws Exception {
    Setup s = setup(5_000 * USDT);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, s.accounts().ask(s.buyer(),
        r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, -1_000, 600_000, true, null, "elsewhere", r)));
    s.marks().accept(new Mark(PERP, 500_000, 2, 0));
    // The register's tell to the buyer is lost on the way.
    TradeRegister.AccountAsker dropping = new TradeRegister.AccountAsker() {
      @Override
      public CompletionStage<AccountEntity.Reply> ask(String accountId,
          Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command, Duration timeout) {
        return s.accounts().ask(accountId, command, timeout);
      }
    };
    ActorRef<TradeRegister.Command> register = testKit.spawn(TradeRegister.create("rev10-drop-" + ids.incrementAndGet(),
        FakeAccounts.REVIEW_REGISTER, dropping, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(new TradeContent(76, "t-76", PERP, s.buyer(), s.seller(), 480_000, 1_000,
        true, null, null), probe.getRef()));
    assertInstanceOf(TradeRegister.Settled.class, probe.receiveMessage(Duration.ofSeconds(10)));
    AtomicInteger attempt = new AtomicInteger();
    probe.awaitAssert(Duration.ofSeconds(10), () -> assertInstanceOf(AccountEntity.Reserved.class,
        s.accounts().ask(s.buyer(), r -> new AccountEntity.ReserveMargin("o-" + attempt.incrementAndGet(), PERP, 5_500,
            500_000, r)), "the trade settled " + attempt.get() + " tries ago"));
  }
}
