package io.clearinghouse.clearing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.instrument.Instruments;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review 4 of the register's recovery (ca86f1c): after a register crash the buyer side is read from
 * the buyer's journal, but a seller that has forgotten the sequence answers TRADE_TOO_OLD, which the
 * register takes as a refusal of the seller's side and unwinds the buyer's: the seller's side, applied
 * before the crash, stays.
 */
class Review4RegisterTest {
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

  @Test
  void aSellerSideAppliedBeforeARegisterCrashAndThenForgottenIsNeverLeftAloneByUnwindingTheBuyer() {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    String bucket = "r4b" + ids.incrementAndGet();
    RegisterSettings settings = new RegisterSettings(4, 100, 3, Duration.ofSeconds(3), Duration.ofMillis(20),
        Duration.ofMillis(100), Duration.ofSeconds(10));
    // The seller applies its side, but the answer never comes back: the register's node dies
    // before it records anything after TradeRecorded.
    accounts.answersLost.add(b);
    var register = testKit.spawn(TradeRegister.create(bucket, settings, accounts, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    TestProbe<TradeRegister.Reply> lost = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(FakeAccounts.trade(51, a, b, 1_000), lost.getRef()));
    lost.awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(1_000, accounts.lots(a));
      assertEquals(-1_000, accounts.lots(b));
      return null;
    });
    testKit.stop(register);
    // Both are busy market makers: both forget sequence 51.
    accounts.busyElsewhere(a);
    accounts.busyElsewhere(b);
    long aBefore = accounts.lots(a);
    long bBefore = accounts.lots(b);
    accounts.answersLost.clear();
    var recovered = testKit.spawn(TradeRegister.create(bucket, settings, accounts, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    TestProbe<TradeRegister.Reply> resend = testKit.createTestProbe();
    recovered.tell(new TradeRegister.Submit(FakeAccounts.trade(51, a, b, 1_000), resend.getRef()));
    TradeRegister.Reply outcome = resend.receiveMessage(Duration.ofSeconds(10));
    long aDelta = accounts.lots(a) - aBefore;
    long bDelta = accounts.lots(b) - bBefore;
    // Both sides were applied before the crash (the busy trades net to zero on each account).
    long aLots = accounts.lots(a);
    long bLots = accounts.lots(b);
    assertEquals(0, aLots + bLots, "one-sided: " + outcome + "; the buyer holds " + aLots + " lots, the seller "
        + bLots + " (buyer moved " + aDelta + ", seller " + bDelta + ")");
    assertInstanceOf(TradeRegister.Settled.class, outcome, "both sides were applied before the crash: " + outcome);
  }

  /**
   * The register's UNWINDING step is sent again after a crash: the buyer reversed its side the
   * first time (the answer was lost), then five other trades of the buyer were reversed (its
   * remembered reversals are full), so the buyer no longer remembers the sequence and the
   * register's ReverseTradeSide, which carries the side's content, reverses it a second time.
   */
  @Test
  void anUnwindingStepSentAgainAfterTheBuyerForgotItsReversalNeverReversesTheSideTwice() {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    String bucket = "r4b" + ids.incrementAndGet();
    RegisterSettings settings = new RegisterSettings(4, 100, 3, Duration.ofSeconds(3), Duration.ofMillis(20),
        Duration.ofMillis(100), Duration.ofSeconds(10));
    // The seller's check passes; by the time its side comes it is being liquidated (not forcible):
    // the buyer's side is reversed. The reversal is applied; its answer never comes back.
    accounts.reversalAnswersLost.add(a);
    var register = testKit.spawn(TradeRegister.create(bucket, settings, accounts, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    TestProbe<TradeRegister.Reply> lost = testKit.createTestProbe();
    accounts.liquidating.add(b);
    register.tell(new TradeRegister.Submit(FakeAccounts.trade(61, a, b, 1_000), lost.getRef()));
    lost.awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(1, accounts.lostReversals.size(), "the buyer's reversal was sent");
      return null;
    });
    assertInstanceOf(AccountEntity.TradeSideReverted.class,
        accounts.lostReversals.get(0).toCompletableFuture().join(), "the buyer reversed its side");
    testKit.stop(register);
    long cashAfterOneReversal = accounts.summary(a).cash();
    assertEquals(0, accounts.lots(a), "the buyer's side was applied and reversed once");
    // Meanwhile five other trades of a are refused on their other side and reversed.
    for (long seq = 200; seq < 206; seq++) {
      long s = seq;
      assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(a,
          r -> new AccountEntity.ApplyTrade("t-" + s, s, PERP, 10, 500_000, true, null, "elsewhere", r)));
      assertInstanceOf(AccountEntity.TradeSideReverted.class, accounts.ask(a,
          r -> new AccountEntity.ReverseTradeSide("t-" + s, s, r)));
    }
    accounts.reversalAnswersLost.clear();
    var recovered = testKit.spawn(TradeRegister.create(bucket, settings, accounts, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    TestProbe<TradeRegister.Reply> resend = testKit.createTestProbe();
    recovered.tell(new TradeRegister.Submit(FakeAccounts.trade(61, a, b, 1_000), resend.getRef()));
    TradeRegister.Reply outcome = resend.receiveMessage(Duration.ofSeconds(10));
    assertInstanceOf(TradeRegister.Refused.class, outcome);
    assertEquals(0, accounts.lots(b), "the seller never took its side");
    assertEquals(0, accounts.lots(a), "the buyer's side was reversed twice: " + outcome);
    assertEquals(cashAfterOneReversal, accounts.summary(a).cash(), "the buyer's fee was refunded twice");
  }
}
