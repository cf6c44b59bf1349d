package io.clearinghouse.clearing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 10 (rev10e): the expiry settlement of a dated future whose position
 * comes from a buyer side still settling. Settled at a loss beyond the cash with nothing left, the
 * deficit is settled at once by a liquidation with nothing to close, which the insurance fund
 * covers (its steps sent by hand here); the side is then reversed, and LateSettlement closes what
 * the reversal leaves at the settlement price.
 */
class Rev10eExpiryReversalTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final String FUTURE = "BTCUSDT-REV10E";
  /** A few seconds from now: the trade comes before it, the settlement after. */
  private static final Instant EXPIRY = Instant.now().plusSeconds(3).truncatedTo(ChronoUnit.SECONDS);
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.parseString("""
      clearinghouse.instruments = ${clearinghouse.instruments} [
        { symbol = "%s", kind = dated-future, expiry = "%s", tick-size = "0.1", lot-size = "0.001",
          maker-fee = "0.02%%", taker-fee = "0.05%%", liquidation-fee = "1%%", risk-tiers = binance-btcusdt-2021-03 }
      ]
      """.formatted(FUTURE, EXPIRY)).withFallback(ConfigFactory.load()).resolve(), 6);
  private static final AccountSettings SETTINGS =
      new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 100, Duration.ofDays(8), 1000,
          Duration.ofSeconds(3), 5, 20);
  private static final long USDT = 1_000_000L;
  private static final long START = 3_000 * USDT;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /**
   * Finding 1, through the expiry (high, same root): the buyer (cash 3,000) buys 1 BTC of the
   * future at 50,000 from a seller whose side is held; the future settles at 45,000: the long
   * loses 5,000, the flat account is 2,025 short and the fund covers it. The reversal then sells
   * the BTC back at 50,000, closed at once at 45,000: +5,000. The buyer ends with 5,025 for a trade
   * that never happened; the fund paid its 2,025.
   */
  @Test
  void aReversalAfterTheFundCoveredAnExpiryDeficitLeavesTheBuyerNoRicherThanBeforeTheTrade() throws Exception {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(FUTURE, 500_000, 1, 0));
    accounts.marks = marks;
    accounts.askRegister();
    String buyer = accounts.open("buyer", START);
    String seller = accounts.open("seller", 100_000 * USDT);
    GatedSeller network = new GatedSeller(accounts, seller);
    ActorRef<TradeRegister.Command> register = accounts.spawnRegister("rev10e-exp", network);
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(new TradeContent(71, "t-71", FUTURE, buyer, seller, 500_000, 1_000, true,
        null, null), probe.getRef()));
    network.sellerSideSent.get(10, TimeUnit.SECONDS);
    assertEquals(1_000, accounts.lots(buyer), "the buyer's side is applied: long 1 BTC");

    // Expired: the settlement at 45,000.
    probe.awaitAssert(Duration.ofSeconds(15), Duration.ofMillis(200), () -> assertInstanceOf(
        AccountEntity.SettlementDone.class, accounts.ask(buyer,
            r -> new AccountEntity.ApplySettlement(FUTURE, EXPIRY.toEpochMilli(), 450_000, r))));
    AccountSummary settled = accounts.summary(buyer);
    assertTrue(settled.positions().isEmpty(), "settled: flat");
    assertTrue(settled.cash() < 0, "the settlement left the cash short: " + settled.cash());
    String liquidationId = settled.liquidationId();
    assertNotNull(liquidationId, "the deficit is settled at once by a liquidation with nothing to close");
    // Its saga: nothing to close, the fund covers the deficit, the end. A step that waits for the
    // side (TRADE_SETTLING: the settlement's assessment does) sees the account after its reversal.
    AccountEntity.Reply first = accounts.ask(buyer, r -> new AccountEntity.PlanLiquidationClose(liquidationId, r));
    if (first instanceof AccountEntity.Rejected refused && refused.reason() == Rejection.TRADE_SETTLING) {
      network.sellerGate.complete(true);
      assertInstanceOf(TradeRegister.Refused.class, probe.receiveMessage(Duration.ofSeconds(10)));
      first = accounts.ask(buyer, r -> new AccountEntity.PlanLiquidationClose(liquidationId, r));
    }
    assertEquals(0, assertInstanceOf(AccountEntity.ClosePlan.class, first).signedLots(), "nothing to close");
    AccountEntity.Reply assessed = accounts.ask(buyer, r -> new AccountEntity.AssessLiquidation(liquidationId, r));
    if (assessed instanceof AccountEntity.Rejected refused && refused.reason() == Rejection.TRADE_SETTLING
        && !network.sellerGate.isDone()) {
      network.sellerGate.complete(true);
      assertInstanceOf(TradeRegister.Refused.class, probe.receiveMessage(Duration.ofSeconds(10)));
      assessed = accounts.ask(buyer, r -> new AccountEntity.AssessLiquidation(liquidationId, r));
    }
    long deficit = Math.max(0, -assertInstanceOf(AccountEntity.Snapshot.class, assessed).account().equity());
    if (deficit > 0) {
      assertInstanceOf(AccountEntity.StepApplied.class, accounts.ask(buyer,
          r -> new AccountEntity.CreditLiquidation(liquidationId + "/cover", liquidationId, deficit, 0, r)));
    }
    assertInstanceOf(AccountEntity.StepApplied.class, accounts.ask(buyer,
        r -> new AccountEntity.EndLiquidation(liquidationId, r)));

    if (!network.sellerGate.isDone()) {
      network.sellerGate.complete(true);
      assertInstanceOf(TradeRegister.Refused.class, probe.receiveMessage(Duration.ofSeconds(10)));
    }
    AccountSummary after = accounts.summary(buyer);
    assertTrue(after.positions().isEmpty(), "what the reversal left is closed at the settlement price");
    assertTrue(after.equity() <= START, "the fund covered " + deficit + " of the settlement's loss; the reversal gave"
        + " the loss back: the buyer, who had " + START + " before a trade that never happened, ends with "
        + after.equity() + " (cash " + after.cash() + ")");
  }
}
