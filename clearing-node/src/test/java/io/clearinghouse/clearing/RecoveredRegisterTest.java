package io.clearinghouse.clearing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A register that recovers with a trade whose buyer side was applied while the seller was away
 * goes on with the seller (BuyerApplied), never asking the buyer again: the buyer may have
 * forgotten the sequence by then (more than retained-trades newer trades, here 5), and before,
 * its TRADE_TOO_OLD made the register refuse the trade while the buyer's side stayed applied.
 */
class RecoveredRegisterTest {
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
  void aRecoveredRegisterNeverRefusesATradeWhoseBuyerSideIsApplied() {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    String bucket = "rvb" + ids.incrementAndGet();
    RegisterSettings settings = new RegisterSettings(4, 100, 3, Duration.ofSeconds(3), Duration.ofMillis(20),
        Duration.ofMillis(100), Duration.ofSeconds(10));
    var register = testKit.spawn(TradeRegister.create(bucket, settings, accounts));
    accounts.failing.add(b);
    TestProbe<TradeRegister.Reply> lost = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(FakeAccounts.trade(13, a, b, 1_000), lost.getRef()));
    // The seller's node is away: its check fails, the buyer side is applied on the retry.
    lost.awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(1_000, accounts.summary(a).positions().get(0).lots());
      // The seller asked again after its first step went unanswered: the register has recorded
      // that the buyer's side is applied (it does so before it waits).
      assertTrue(accounts.unanswered.get() >= 3, "seller asks unanswered: " + accounts.unanswered.get());
      return null;
    });
    testKit.stop(register);
    // Meanwhile a (a busy market maker) clears more than retained-trades newer trades elsewhere.
    for (long seq = 100; seq < 106; seq++) {
      long lots = seq % 2 == 0 ? 10 : -10;
      long s = seq;
      assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(a,
          r -> new AccountEntity.ApplyTrade("t-" + s, s, PERP, lots, 500_000, true, null, "elsewhere", r)));
    }
    accounts.failing.clear();
    var recovered = testKit.spawn(TradeRegister.create(bucket, settings, accounts));
    TestProbe<TradeRegister.Reply> resend = testKit.createTestProbe();
    recovered.tell(new TradeRegister.Submit(FakeAccounts.trade(13, a, b, 1_000), resend.getRef()));
    TradeRegister.Reply outcome = resend.receiveMessage(Duration.ofSeconds(10));
    long aLots = accounts.lots(a);
    long bLots = accounts.lots(b);
    assertEquals(0, aLots + bLots, "one-sided trade: " + outcome + "; a holds " + aLots + " lots, b " + bLots);
  }

  @Test
  void aBuyerSideAppliedJustBeforeTheRegisterStoppedAndThenForgottenIsReadFromItsJournalAndTheTradeSettles() {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    String bucket = "rvb" + ids.incrementAndGet();
    RegisterSettings settings = new RegisterSettings(4, 100, 3, Duration.ofSeconds(3), Duration.ofMillis(20),
        Duration.ofMillis(100), Duration.ofSeconds(10));
    // The seller's check is answered; its side is lost on the way, and the register stops before
    // it records that the buyer's side is applied (its node dies in between).
    accounts.losingSides.add(b);
    var register = testKit.spawn(TradeRegister.create(bucket, settings, accounts, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    TestProbe<TradeRegister.Reply> lost = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(FakeAccounts.trade(31, a, b, 1_000), lost.getRef()));
    lost.awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(1_000, accounts.lots(a));
      return null;
    });
    testKit.stop(register);
    accounts.busyElsewhere(a);
    long aLotsBefore = accounts.lots(a);
    accounts.losingSides.clear();
    var recovered = testKit.spawn(TradeRegister.create(bucket, settings, accounts, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    TestProbe<TradeRegister.Reply> resend = testKit.createTestProbe();
    recovered.tell(new TradeRegister.Submit(FakeAccounts.trade(31, a, b, 1_000), resend.getRef()));
    // Before, the buyer's TRADE_TOO_OLD held the trade unsettled for an operator, for good.
    TradeRegister.Settled settled = assertInstanceOf(TradeRegister.Settled.class,
        resend.receiveMessage(Duration.ofSeconds(10)));
    assertEquals(-1_000, accounts.lots(b), "the seller took its side");
    assertEquals(aLotsBefore, accounts.lots(a), "the buyer's side was not applied again");
    assertTrue(settled.buyerFee() != 0, "the buyer's fee as its journal has it: " + settled);
  }

  @Test
  void aBuyerSideLostOnTheWayAndThenForgottenIsFoundUnappliedAndTheTradeIsRefusedOnBothSides() {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    String bucket = "rvb" + ids.incrementAndGet();
    RegisterSettings settings = new RegisterSettings(4, 100, 3, Duration.ofSeconds(3), Duration.ofMillis(20),
        Duration.ofMillis(100), Duration.ofSeconds(10));
    accounts.losingSides.add(a);
    var register = testKit.spawn(TradeRegister.create(bucket, settings, accounts, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    TestProbe<TradeRegister.Reply> lost = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(FakeAccounts.trade(41, a, b, 1_000), lost.getRef()));
    lost.awaitAssert(Duration.ofSeconds(10), () -> {
      assertTrue(accounts.sent.stream().filter(a::equals).count() >= 1, "the buyer's side was sent");
      return null;
    });
    testKit.stop(register);
    accounts.busyElsewhere(a);
    long aLotsBefore = accounts.lots(a);
    accounts.losingSides.clear();
    var recovered = testKit.spawn(TradeRegister.create(bucket, settings, accounts, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    TestProbe<TradeRegister.Reply> resend = testKit.createTestProbe();
    recovered.tell(new TradeRegister.Submit(FakeAccounts.trade(41, a, b, 1_000), resend.getRef()));
    TradeRegister.Refused refused = assertInstanceOf(TradeRegister.Refused.class,
        resend.receiveMessage(Duration.ofSeconds(10)));
    assertEquals(Rejection.TRADE_TOO_OLD, refused.reason());
    assertEquals(aLotsBefore, accounts.lots(a));
    assertEquals(0, accounts.lots(b), "the seller holds nothing of it");
  }

  @Test
  void aRegisterStoppedWhileTheSellerChecksNeverSendsTheBuyersSide() throws Exception {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    String bucket = "rvb" + ids.incrementAndGet();
    RegisterSettings settings = new RegisterSettings(4, 100, 3, Duration.ofSeconds(3), Duration.ofMillis(20),
        Duration.ofMillis(100), Duration.ofSeconds(10));
    CompletableFuture<Void> gate = new CompletableFuture<>();
    accounts.held.put(b, gate);
    var register = testKit.spawn(TradeRegister.create(bucket, settings, accounts));
    TestProbe<TradeRegister.Reply> lost = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(FakeAccounts.trade(21, a, b, 1_000), lost.getRef()));
    // The register is stopped (moved, its node gone) while the seller's check is on its way.
    lost.awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(1, accounts.heldAnswers.size(), "the seller's check was sent");
      return null;
    });
    testKit.stop(register);
    accounts.held.remove(b);
    gate.complete(null);
    // The check is answered; before, the stopped incarnation's future then sent the buyer's side
    // straight away (in the thread completing it). Now nothing is sent to the buyer.
    assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.heldAnswers.get(0).get(5, TimeUnit.SECONDS));
    assertEquals(0, accounts.summary(b).positions().size());
    assertTrue(!accounts.sent.contains(a), "the buyer's side was sent by a stopped register: " + accounts.sent);
    assertTrue(accounts.summary(a).positions().isEmpty(), "the buyer's side was sent by a stopped register");
  }
}
