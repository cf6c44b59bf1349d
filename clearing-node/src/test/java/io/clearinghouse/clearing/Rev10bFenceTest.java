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

/** Second adversarial review of issue 10 (rev10b): the register's fence of a refused trade. */
class Rev10bFenceTest {
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

  /**
   * The seller's first side is stuck on the way (kept, its ask times out), the retry is refused
   * (the register unwinds), and the fence's ReverseTradeSide to the seller waits for a gate.
   */
  private static final class LateSellerNetwork implements TradeRegister.AccountAsker {
    final FakeAccounts accounts;
    final String seller;
    final AtomicInteger sellerSides = new AtomicInteger();
    final AtomicReference<Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command>> late = new AtomicReference<>();
    final CompletableFuture<Void> fenceSent = new CompletableFuture<>();
    final CompletableFuture<Void> fenceGate = new CompletableFuture<>();

    LateSellerNetwork(FakeAccounts accounts, String seller) {
      this.accounts = accounts;
      this.seller = seller;
    }

    @Override
    public CompletionStage<AccountEntity.Reply> ask(String accountId,
        Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command, Duration timeout) {
      AccountEntity.Command probe = command.apply(null);
      if (accountId.equals(seller) && probe instanceof AccountEntity.ApplyTrade) {
        if (sellerSides.incrementAndGet() == 1) {
          late.set(command);
          return CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException("no answer yet"));
        }
        return CompletableFuture.completedFuture(new AccountEntity.Rejected(Rejection.ACCOUNT_LIQUIDATING,
            "being liquidated right now"));
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

  private record Late(FakeAccounts accounts, MarkPrices marks, String buyer, String seller, LateSellerNetwork network,
      ActorRef<TradeRegister.Command> register) {}

  private static Late late(long sellerCash) {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 600_000, 1, 0));
    accounts.marks = marks;
    // As Main wires it: the accounts ask the register which of their sides it is still driving.
    accounts.askRegister();
    String buyer = accounts.open("buyer", 50_000 * USDT);
    String seller = accounts.open("seller", sellerCash);
    LateSellerNetwork network = new LateSellerNetwork(accounts, seller);
    ActorRef<TradeRegister.Command> register = accounts.spawnRegister("rev10b-" + ids.incrementAndGet(), network);
    return new Late(accounts, marks, buyer, seller, network, register);
  }

  /** Submits the trade; returns once the buyer's side is reversed and the fence to the seller is on its way. */
  private static TestProbe<TradeRegister.Reply> fencing(Late s, long sequence, long priceTicks) throws Exception {
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    s.register().tell(new TradeRegister.Submit(new TradeContent(sequence, "t-" + sequence, PERP, s.buyer(), s.seller(),
        priceTicks, 1_000, true, null, null), probe.getRef()));
    s.network().fenceSent.get(10, TimeUnit.SECONDS);
    assertEquals(0, s.accounts().lots(s.buyer()), "the buyer's side was reversed");
    return probe;
  }

  /**
   * Finding A: the seller's late side (a close of its long at a profit) is applied before the
   * fence reaches it. Nothing on the seller holds it back (SettlingSides tracks buyer sides only), so
   * the seller withdraws what the close realized and the margin it freed; the fence then reverses
   * the side, putting the long back on an account whose cash is gone: a position with no margin
   * behind it, whose loss lands on the insurance fund.
   */
  @Test
  void aLateSellerSideTheFenceWillReverseCannotBeWithdrawn() throws Exception {
    Late s = late(20_000 * USDT);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, s.accounts().ask(s.seller(),
        r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, 1_000, 600_000, true, null, "elsewhere", r)));
    s.marks().accept(new Mark(PERP, 700_000, 2, 0));
    TestProbe<TradeRegister.Reply> probe = fencing(s, 91, 700_000);

    AccountEntity.Reply applied = s.accounts().ask(s.seller(), s.network().late.get()::apply);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, applied, "the late side is applied before the fence");
    AccountSummary flat = s.accounts().summary(s.seller());
    AccountEntity.Reply withdrawn = s.accounts().ask(s.seller(),
        r -> new AccountEntity.Withdraw("w-1", flat.withdrawable(), r));

    s.network().fenceGate.complete(null);
    assertInstanceOf(TradeRegister.Refused.class, probe.receiveMessage(Duration.ofSeconds(10)));
    AccountSummary after = s.accounts().summary(s.seller());
    PositionSummary restored = after.positions().get(0);
    assertEquals(1_000, restored.lots(), "the fence reversed the late side: the long is back");
    assertTrue(after.equity() >= restored.initialMargin(), "withdrawal " + withdrawn + " of "
        + flat.withdrawable() + " while the fence could still reverse the late side; after the reversal: cash "
        + after.cash() + ", equity " + after.equity() + ", the long's maintenance margin "
        + restored.maintenanceMargin() + ", initial " + restored.initialMargin() + ", margin ratio ppm "
        + after.marginRatioPpm());
  }

  /**
   * Finding B: the same late seller side closes an ISOLATED long; the (flat) seller switches the
   * instrument to cross (TRADE_SETTLING looks at buyer sides only); the fence's reversal restores
   * the long "untouched" into a CROSS holding with its isolated margin back in it, where nothing
   * can reach it (review 22's finding 1b, on the seller's side).
   */
  @Test
  void aLateSellerSideReversedByTheFenceLeavesNoIsolatedMarginInACrossHolding() throws Exception {
    Late s = late(20_000 * USDT);
    assertInstanceOf(AccountEntity.Snapshot.class, s.accounts().ask(s.seller(),
        r -> new AccountEntity.SetMarginMode(PERP, MarginMode.ISOLATED, r)));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, s.accounts().ask(s.seller(),
        r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, 1_000, 600_000, true, null, "elsewhere", r)));
    assertTrue(s.accounts().summary(s.seller()).positions().get(0).isolatedMargin() > 0);
    TestProbe<TradeRegister.Reply> probe = fencing(s, 92, 600_000);

    assertInstanceOf(AccountEntity.TradeSideApplied.class, s.accounts().ask(s.seller(), s.network().late.get()::apply));
    AccountEntity.Reply switched = s.accounts().ask(s.seller(),
        r -> new AccountEntity.SetMarginMode(PERP, MarginMode.CROSS, r));

    s.network().fenceGate.complete(null);
    assertInstanceOf(TradeRegister.Refused.class, probe.receiveMessage(Duration.ofSeconds(10)));
    PositionSummary after = s.accounts().summary(s.seller()).positions().get(0);
    assertEquals(1_000, after.lots(), "the long is back");
    assertTrue(after.mode() == MarginMode.ISOLATED || after.isolatedMargin() == 0, "switch: " + switched + "; a "
        + after.mode() + " holding holds " + after.isolatedMargin() + " of isolated margin");
  }

  /**
   * Finding C: a trade naming an account that was never opened, whose first buyer send went
   * unanswered (a timeout, or a register restart: a drive that is not fresh), is refused only once
   * the buyer "marks" the sequence; an unopened account answers ACCOUNT_NOT_FOUND to the fence
   * forever, so the trade is never finished (before the fence it was refused at once), and its
   * seller's later trades in the stream wait behind it (AccountOrder).
   */
  @Test
  void aFenceOnAnAccountThatWasNeverOpenedStillFinishesTheRefusal() {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 600_000, 1, 0));
    accounts.marks = marks;
    String seller = accounts.open("seller", 50_000 * USDT);
    String ghost = accounts.prefix + "never-opened";
    AtomicInteger settlingSides = new AtomicInteger();
    TradeRegister.AccountAsker network = new TradeRegister.AccountAsker() {
      @Override
      public CompletionStage<AccountEntity.Reply> ask(String accountId,
          Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command, Duration timeout) {
        if (accountId.equals(ghost) && command.apply(null) instanceof AccountEntity.ApplyTrade
            && settlingSides.incrementAndGet() == 1) {
          return CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException("no answer yet"));
        }
        return accounts.ask(accountId, command, timeout);
      }
    };
    ActorRef<TradeRegister.Command> register = testKit.spawn(TradeRegister.create("rev10b-ghost-"
        + ids.incrementAndGet(), FakeAccounts.REVIEW_REGISTER, network, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(new TradeContent(93, "t-93", PERP, ghost, seller, 600_000, 1_000, true,
        null, null), probe.getRef()));
    TradeRegister.Refused refused = assertInstanceOf(TradeRegister.Refused.class,
        probe.receiveMessage(Duration.ofSeconds(15)));
    assertEquals(Rejection.ACCOUNT_NOT_FOUND, refused.reason(), refused.message());
  }
}
