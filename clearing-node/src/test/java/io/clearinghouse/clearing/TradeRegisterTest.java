package io.clearinghouse.clearing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The trade register against real account entities on the in-memory journal: a trade is settled
 * on both sides or refused on both, resends are answered with the first outcome or refused as
 * conflicts, unanswered steps are asked again, and a register that stopped half-way drives its
 * trades on after recovery.
 */
class TradeRegisterTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);
  private static final AccountSettings ACCOUNT_SETTINGS =
      new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 100, Duration.ofDays(8), 1000, Duration.ofSeconds(3), 1000, 20);
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final AtomicInteger ids = new AtomicInteger();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** Accounts by id, spawned on demand; asks to an id in {@code failing} fail as if timed out. */
  private static RegisterSettings settings(int retained) {
    return new RegisterSettings(4, retained, 3, Duration.ofSeconds(3), Duration.ofMillis(20), Duration.ofMillis(100),
        Duration.ofSeconds(10));
  }

  private static ActorRef<TradeRegister.Command> register(String bucket, FakeAccounts accounts, int retained) {
    return testKit.spawn(TradeRegister.create(bucket, settings(retained), accounts));
  }

  private static TradeContent trade(long seq, String buyer, String seller, long lots) {
    return new TradeContent(seq, "t-" + seq, PERP, buyer, seller, 500_000, lots, true, null, null);
  }

  private static TradeRegister.Reply submit(ActorRef<TradeRegister.Command> register, TradeContent trade) {
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(trade, probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  private static String bucket() {
    return "b" + ids.incrementAndGet();
  }

  @Test
  void aNewTradeIsSettledOnBothSidesAndAResendGetsTheFirstFees() {
    FakeAccounts accounts = new FakeAccounts(testKit, ACCOUNT_SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    var register = register(bucket(), accounts, 100);
    // 1 BTC at 50,000: buyer taker 25 USDT, seller maker 10 USDT.
    assertEquals(new TradeRegister.Settled(25 * USDT, 10 * USDT, false), submit(register, trade(1, a, b, 1_000)));
    assertEquals(1_000, accounts.summary(a).positions().get(0).lots());
    assertEquals(-1_000, accounts.summary(b).positions().get(0).lots());
    assertEquals(new TradeRegister.Settled(25 * USDT, 10 * USDT, true), submit(register, trade(1, a, b, 1_000)));
    assertEquals(1_000, accounts.summary(a).positions().get(0).lots());
  }

  @Test
  void aResendDifferingInAnyFieldIsAConflictAndChangesNothing() {
    FakeAccounts accounts = new FakeAccounts(testKit, ACCOUNT_SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    String c = accounts.open("c", 100_000 * USDT);
    var register = register(bucket(), accounts, 100);
    TradeContent first = trade(5, a, b, 1_000);
    assertInstanceOf(TradeRegister.Settled.class, submit(register, first));
    List<AccountSummary> before = List.of(accounts.summary(a), accounts.summary(b), accounts.summary(c));
    List<TradeContent> others = List.of(
        new TradeContent(5, "t-x", PERP, a, b, 500_000, 1_000, true, null, null),
        new TradeContent(5, "t-5", "BTCUSDT-271231", a, b, 500_000, 1_000, true, null, null),
        new TradeContent(5, "t-5", PERP, c, b, 500_000, 1_000, true, null, null),
        new TradeContent(5, "t-5", PERP, a, c, 500_000, 1_000, true, null, null),
        new TradeContent(5, "t-5", PERP, a, b, 500_001, 1_000, true, null, null),
        new TradeContent(5, "t-5", PERP, a, b, 500_000, 1_001, true, null, null),
        new TradeContent(5, "t-5", PERP, a, b, 500_000, 1_000, false, null, null),
        new TradeContent(5, "t-5", PERP, a, b, 500_000, 1_000, true, "o-1", null),
        new TradeContent(5, "t-5", PERP, a, b, 500_000, 1_000, true, null, "o-2"));
    for (TradeContent other : others) {
      TradeRegister.Refused refused = assertInstanceOf(TradeRegister.Refused.class, submit(register, other));
      assertEquals(Rejection.TRADE_CONFLICT, refused.reason(), refused.message());
    }
    assertEquals(before, List.of(accounts.summary(a), accounts.summary(b), accounts.summary(c)));
    assertEquals(new TradeRegister.Settled(25 * USDT, 10 * USDT, true), submit(register, first));
  }

  @Test
  void aBuyerRefusedRefusesTheTradeWithNothingMoved() {
    FakeAccounts accounts = new FakeAccounts(testKit, ACCOUNT_SETTINGS, INSTRUMENTS);
    String b = accounts.open("b", 100_000 * USDT);
    var register = register(bucket(), accounts, 100);
    AccountSummary before = accounts.summary(b);
    TradeRegister.Refused refused = assertInstanceOf(TradeRegister.Refused.class,
        submit(register, trade(7, accounts.prefix + "nobody", b, 1_000)));
    assertEquals(Rejection.ACCOUNT_NOT_FOUND, refused.reason());
    assertEquals(before, accounts.summary(b));
    assertEquals(refused, submit(register, trade(7, accounts.prefix + "nobody", b, 1_000)));
  }

  @Test
  void aSellerThatWouldRefuseIsAskedFirstAndNothingMoves() {
    FakeAccounts accounts = new FakeAccounts(testKit, ACCOUNT_SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    var register = register(bucket(), accounts, 100);
    assertInstanceOf(TradeRegister.Settled.class, submit(register, trade(9, a, b, 1_000)));
    AccountSummary before = accounts.summary(a);
    TradeRegister.Refused refused = assertInstanceOf(TradeRegister.Refused.class,
        submit(register, trade(10, a, accounts.prefix + "nobody", 400)));
    assertEquals(Rejection.ACCOUNT_NOT_FOUND, refused.reason());
    assertTrue(refused.message().startsWith("seller side"), refused.message());
    assertEquals(before, accounts.summary(a));
    assertEquals(refused, submit(register, trade(10, a, accounts.prefix + "nobody", 400)));
    assertEquals(before, accounts.summary(a));
  }

  @Test
  void aReversedSideGivesBackTheStopItRemovedAndTheReservationItConsumed() {
    // Review finding: the refused trade used to delete the buyer's stop and eat its reservation.
    FakeAccounts accounts = new FakeAccounts(testKit, ACCOUNT_SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    String c = accounts.open("c", 100_000 * USDT);
    var register = register(bucket(), accounts, 100);
    // a is short 1 BTC with a stop at 60,000 and an open order to buy 2 BTC.
    assertInstanceOf(TradeRegister.Settled.class, submit(register, trade(20, b, a, 1_000)));
    accounts.ask(a, r -> new AccountEntity.SetStop(PERP, 600_000, r));
    accounts.ask(a, r -> new AccountEntity.ReserveMargin("o1", PERP, 2_000, 500_000, r));
    AccountSummary before = accounts.summary(a);
    assertEquals(java.util.Map.of(PERP, 600_000L), before.stops());
    // 1 BTC of o1 fills against c, whose side is refused (not by its own rules) after its check
    // passed: a is flat for a moment (its stop gone, half its reservation consumed), then its side
    // is reversed.
    accounts.conflictingApply.add(c);
    assertInstanceOf(TradeRegister.Refused.class, submit(register,
        new TradeContent(21, "t-21", PERP, a, c, 500_000, 1_000, true, "o1", null)));
    AccountSummary after = accounts.summary(a);
    assertEquals(before.positions(), after.positions());
    assertEquals(before.stops(), after.stops());
    assertEquals(before.reserved(), after.reserved());
    assertEquals(before.cash(), after.cash());
  }

  @Test
  void aSellerRefusingByItsOwnRulesAfterTheBuyerSideTakesItAnyway() {
    FakeAccounts accounts = new FakeAccounts(testKit, ACCOUNT_SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    var register = register(bucket(), accounts, 100);
    // The seller's check passes, then its side is refused by its own rules (its state moved):
    // the trade stands, the seller is made to take its side.
    accounts.refusingApply.add(b);
    assertEquals(new TradeRegister.Settled(10 * USDT, 4 * USDT, false), submit(register, trade(10, a, b, 400)));
    assertEquals(400, accounts.summary(a).positions().get(0).lots());
    assertEquals(-400, accounts.summary(b).positions().get(0).lots());
  }

  @Test
  void aSellerRefusedAfterTheBuyerSideForNoRuleOfItsOwnReversesTheBuyerSideExactly() {
    FakeAccounts accounts = new FakeAccounts(testKit, ACCOUNT_SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    var register = register(bucket(), accounts, 100);
    assertInstanceOf(TradeRegister.Settled.class, submit(register, trade(9, a, b, 1_000)));
    AccountSummary before = accounts.summary(a);
    accounts.conflictingApply.add(b);
    TradeRegister.Refused refused = assertInstanceOf(TradeRegister.Refused.class,
        submit(register, trade(10, a, b, 400)));
    assertEquals(Rejection.TRADE_CONFLICT, refused.reason());
    assertTrue(refused.message().startsWith("seller side"), refused.message());
    assertEquals(before, accounts.summary(a));
    assertEquals(refused, submit(register, trade(10, a, b, 400)));
    // The buyer's account will not apply that sequence again, even asked directly.
    AccountEntity.Rejected late = assertInstanceOf(AccountEntity.Rejected.class, accounts.ask(a,
        r -> new AccountEntity.ApplyTrade("t-10", 10, PERP, 400, 500_000, true, null, b, r)));
    assertEquals(Rejection.TRADE_CONFLICT, late.reason());
    assertEquals(before, accounts.summary(a));
  }



  @Test
  void anUnansweredStepIsAskedAgainUntilItIsAnswered() {
    FakeAccounts accounts = new FakeAccounts(testKit, ACCOUNT_SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    var register = register(bucket(), accounts, 100);
    accounts.failing.add(b);
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(trade(11, a, b, 1_000), probe.getRef()));
    probe.awaitAssert(Duration.ofSeconds(5), () -> {
      assertTrue(accounts.asks.get() >= 4, "asked " + accounts.asks.get() + " times");
      return null;
    });
    probe.expectNoMessage(Duration.ofMillis(50));
    // A resend meanwhile waits for the same outcome.
    TestProbe<TradeRegister.Reply> resend = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(trade(11, a, b, 1_000), resend.getRef()));
    accounts.failing.clear();
    assertEquals(new TradeRegister.Settled(25 * USDT, 10 * USDT, false), probe.receiveMessage(Duration.ofSeconds(5)));
    assertEquals(new TradeRegister.Settled(25 * USDT, 10 * USDT, false), resend.receiveMessage(Duration.ofSeconds(5)));
    assertEquals(-1_000, accounts.summary(b).positions().get(0).lots());
  }

  @Test
  void aRegisterStoppedHalfWayDrivesItsTradeOnAfterRecovery() {
    FakeAccounts accounts = new FakeAccounts(testKit, ACCOUNT_SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    String bucket = bucket();
    var register = register(bucket, accounts, 100);
    accounts.failing.add(b);
    TestProbe<TradeRegister.Reply> lost = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(trade(13, a, b, 1_000), lost.getRef()));
    // The buyer side is applied; the seller side cannot be.
    lost.awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(1_000, accounts.summary(a).positions().get(0).lots());
      return null;
    });
    testKit.stop(register);
    accounts.failing.clear();
    // Nobody resends: the recovered register finishes the trade on its own.
    register(bucket, accounts, 100);
    lost.awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(-1_000, accounts.summary(b).positions().get(0).lots());
      return null;
    });
    assertEquals(1_000, accounts.summary(a).positions().get(0).lots());
  }

  @Test
  void aResendAfterRecoveryGetsTheOutcomeAndAForgottenSequenceIsTooOld() {
    FakeAccounts accounts = new FakeAccounts(testKit, ACCOUNT_SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    String bucket = bucket();
    var register = register(bucket, accounts, 2);
    for (long seq = 21; seq <= 24; seq++) {
      assertInstanceOf(TradeRegister.Settled.class, submit(register, trade(seq, a, b, 10)));
    }
    testKit.stop(register);
    var recovered = register(bucket, accounts, 2);
    assertEquals(new TradeRegister.Settled(250_000, 100_000, true), submit(recovered, trade(24, a, b, 10)));
    TradeRegister.Refused old = assertInstanceOf(TradeRegister.Refused.class, submit(recovered, trade(21, a, b, 10)));
    assertEquals(Rejection.TRADE_TOO_OLD, old.reason());
    TradeRegister.Refused older = assertInstanceOf(TradeRegister.Refused.class, submit(recovered, trade(20, a, b, 10)));
    assertEquals(Rejection.TRADE_TOO_OLD, older.reason());
    assertEquals(40, accounts.summary(a).positions().get(0).lots());
  }

  @Test
  void aFullRegistersSnapshotStaysWellUnderCassandrasMutationLimit() {
    int retained = 20_000;
    TradeRegister.State state = new TradeRegister.State(retained);
    for (long seq = 1; seq <= retained; seq++) {
      TradeContent t = new TradeContent(seq * 64, "trade-" + (1_000_000_000L + seq), PERP, "account-" + (seq % 5000),
          "account-" + ((seq + 7) % 5000), 500_000 + seq, 1 + seq, seq % 2 == 0, "order-" + seq, "order-" + (seq + 1));
      state.apply(new TradeRegister.TradeRecorded(t));
      state.apply(new TradeRegister.TradeSettled(t.sequence(), 25 * USDT + seq, 10 * USDT + seq));
    }
    TradeRegister.Snapshot snapshot = state.snapshot();
    var serialization = SerializationExtension.get(testKit.system());
    byte[] bytes = serialization.serialize(snapshot).get();
    System.out.println("TRADE-REGISTER snapshot of " + retained + " trades: " + bytes.length + " bytes");
    assertTrue(bytes.length < 8 * 1024 * 1024, bytes.length + " bytes");
    Object back = serialization.deserialize(bytes, TradeRegister.Snapshot.class).get();
    assertEquals(snapshot, back);
  }
}
