package io.clearinghouse.account;

import static io.clearinghouse.account.AccountHarness.PERP;
import static io.clearinghouse.account.AccountHarness.price;
import static io.clearinghouse.account.AccountHarness.usdt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.MarginScales;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import io.clearinghouse.price.MarketDepth;
import io.clearinghouse.price.RiskSignals;
import io.clearinghouse.price.VolatilityBoard;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Volatility-scaled margin at an account (issue 16 item 2): when the volatility index of
 * BTCUSDT-PERP rises past the reference, the account's initial margin doubles at once (an order
 * that fitted before is refused, nothing persisted), maintenance stays until the warning period
 * has passed with a MARGIN_TIGHTENING signal standing, then doubles too; and it loosens at once
 * when the market calms down.
 */
class VolatilityMarginTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** Reference 50%, sensitivity 100%, cap 200%, hysteresis 10%, warning 60 s. */
  private static Instruments scaledInstruments() {
    return Instruments.fromConfig(ConfigFactory.parseString("""
        clearinghouse.instrument-defaults {
          volatility-margin-reference = "50%"
          volatility-margin-sensitivity = "100%"
          volatility-margin-cap = "200%"
          volatility-margin-hysteresis = "10%"
          volatility-margin-warning = 60s
        }
        """).withFallback(ConfigFactory.load()).resolve(), 6);
  }

  private long sequence;

  private void mark(MarkPrices marks, long wholeUsdt, long epochMillis) {
    marks.accept(new Mark(PERP, price(wholeUsdt), ++sequence, epochMillis));
  }

  /** One second of 1% swings ending at {@code endMillis} back at 50,000: far above any reference. */
  private void swings(MarkPrices marks, long endMillis) {
    for (int i = 10; i >= 1; i--) {
      mark(marks, i % 2 == 0 ? 50_500 : 50_000, endMillis - (i - 1) * 100L);
    }
  }

  @Test
  void initialMarginRisesAtOnceAndMaintenanceFollowsAfterTheWarning() {
    Instruments instruments = scaledInstruments();
    MarkPrices marks = MarkPrices.local();
    VolatilityBoard volatility = VolatilityBoard.listening(marks, new VolatilityBoard.Settings(Duration.ofSeconds(1),
        Duration.ofSeconds(10), 3_000_000, 1));
    MarginScales scales = MarginScales.listening(instruments, marks, volatility, instrument -> 0L);
    RiskSignals signals = new RiskSignals(instruments, scales, MarketDepth.local(java.time.Clock.systemUTC(),
        Duration.ofSeconds(30)));
    EventSourcedBehaviorTestKit<Command, Event, State> account = EventSourcedBehaviorTestKit.create(testKit.system(),
        AccountEntity.create("vol-margin-1", new AccountEntity.Environment(AccountEntityTest.SETTINGS, instruments,
            marks, RiskRegistry.NONE, java.time.Clock.systemUTC(), AccountEntity.LiquidationStarter.NONE)),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
    account.runCommand(AccountEntity.Open::unattributed);
    account.<AccountEntity.Reply>runCommand(r -> new AccountEntity.SetLeverage(PERP, 10, r));
    // 0.3 BTC at 50,000 at 10x: IM 1,500, fee 3 (the trade side here pays the maker rate), MM 0.4% = 60. Deposit so that 100 is left above 2 x IM.
    account.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Deposit("d-1", usdt(3_103), r));
    mark(marks, 50_000, 1_000);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, account.<AccountEntity.Reply>runCommand(r ->
        new AccountEntity.ApplyTrade("t-1", 1, PERP, 300, price(50_000), false, null, "other", r)).reply());
    AccountSummary calm = summary(account);
    assertEquals(usdt(1_500), calm.positions().get(0).initialMargin());
    assertEquals(usdt(60), calm.positions().get(0).maintenanceMargin());
    assertEquals(usdt(1_600), calm.available());

    swings(marks, 2_000);
    var scale = scales.scale(PERP);
    assertEquals(2_000_000, scale.initialPpm());
    assertEquals(1_000_000, scale.maintenancePpm());
    assertTrue(scale.warning());
    assertEquals(java.util.Set.of(PERP), signals.tightening(Map.of(PERP, 300L)));
    AccountSummary volatile1 = summary(account);
    assertEquals(usdt(3_000), volatile1.positions().get(0).initialMargin());
    assertEquals(usdt(60), volatile1.positions().get(0).maintenanceMargin());
    assertEquals(usdt(100), volatile1.available());
    // 0.01 BTC at 10x: 50 + 0.25 before, 100 + 0.25 now: refused, nothing persisted.
    var refused = account.<AccountEntity.Reply>runCommand(r -> new AccountEntity.ReserveMargin("o-1", PERP, 10,
        price(50_000), r));
    assertEquals(Rejection.INSUFFICIENT_MARGIN,
        assertInstanceOf(AccountEntity.Rejected.class, refused.reply()).reason());
    assertTrue(refused.hasNoEvents());

    // Still volatile a minute later: maintenance doubles (0.8%: 120), the warning is over.
    swings(marks, 62_500);
    scale = scales.scale(PERP);
    assertEquals(2_000_000, scale.maintenancePpm());
    assertFalse(scale.warning());
    assertEquals(java.util.Set.of(), signals.tightening(Map.of(PERP, 300L)));
    assertEquals(usdt(120), summary(account).positions().get(0).maintenanceMargin());

    // Calm again (one quiet step in the short window): both loosen at once.
    mark(marks, 50_000, 64_000);
    assertEquals(io.clearinghouse.price.MarginScales.Scale.NONE.initialPpm(), scales.scale(PERP).initialPpm());
    assertEquals(1_000_000, scales.scale(PERP).maintenancePpm());
    assertEquals(calm.positions().get(0).initialMargin(), summary(account).positions().get(0).initialMargin());
    assertEquals(usdt(60), summary(account).positions().get(0).maintenanceMargin());
    // The same order now fits.
    assertInstanceOf(AccountEntity.Reserved.class, account.<AccountEntity.Reply>runCommand(r ->
        new AccountEntity.ReserveMargin("o-1", PERP, 10, price(50_000), r)).reply());
  }

  @Test
  void openInterestRaisesInitialMarginLinearlyBetweenTheCaps() {
    Instruments instruments = Instruments.fromConfig(ConfigFactory.parseString("""
        clearinghouse.instrument-overrides."BTCUSDT-PERP" {
          open-interest-margin-lower = "100000", open-interest-margin-upper = "300000"
        }
        """).withFallback(ConfigFactory.load()).resolve(), 6);
    MarkPrices marks = MarkPrices.local();
    VolatilityBoard volatility = VolatilityBoard.listening(marks, VolatilityBoard.Settings.DEFAULT);
    java.util.concurrent.atomic.AtomicLong openInterest = new java.util.concurrent.atomic.AtomicLong();
    MarginScales.listening(instruments, marks, volatility, instrument -> openInterest.get());
    EventSourcedBehaviorTestKit<Command, Event, State> account = EventSourcedBehaviorTestKit.create(testKit.system(),
        AccountEntity.create("oi-margin-1", new AccountEntity.Environment(AccountEntityTest.SETTINGS, instruments,
            marks, RiskRegistry.NONE, java.time.Clock.systemUTC(), AccountEntity.LiquidationStarter.NONE)),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
    account.runCommand(AccountEntity.Open::unattributed);
    account.<AccountEntity.Reply>runCommand(r -> new AccountEntity.SetLeverage(PERP, 10, r));
    account.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Deposit("d-1", usdt(100_000), r));
    mark(marks, 50_000, 1_000);
    account.<AccountEntity.Reply>runCommand(r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, 1_000, price(50_000),
        false, null, "other", r));
    // Below the lower cap (2 BTC: 100,000): the position's own 10%.
    openInterest.set(2_000);
    assertEquals(usdt(5_000), summary(account).positions().get(0).initialMargin());
    // Halfway (4 BTC: 200,000): 10% + 50% of 90% = 55%.
    openInterest.set(4_000);
    assertEquals(usdt(27_500), summary(account).positions().get(0).initialMargin());
    // At and beyond the upper cap: the whole notional (1x).
    openInterest.set(6_000);
    assertEquals(usdt(50_000), summary(account).positions().get(0).initialMargin());
    openInterest.set(Long.MAX_VALUE);
    assertEquals(usdt(50_000), summary(account).positions().get(0).initialMargin());
    // Maintenance is not scaled by open interest.
    assertEquals(usdt(200), summary(account).positions().get(0).maintenanceMargin());
  }

  @Test
  void anInstrumentWithTheOptionOffIsNeverScaled() {
    MarkPrices marks = MarkPrices.local();
    VolatilityBoard volatility = VolatilityBoard.listening(marks, new VolatilityBoard.Settings(Duration.ofSeconds(1),
        Duration.ofSeconds(10), 3_000_000, 1));
    Instruments plain = Instruments.fromConfig(ConfigFactory.load(), 6);
    MarginScales scales = MarginScales.listening(plain, marks, volatility, instrument -> Long.MAX_VALUE);
    swings(marks, 2_000);
    assertEquals(MarginScales.Scale.NONE, scales.scale(PERP));
    assertTrue(plain.require(PERP) == plain.spec(PERP).contract());
  }

  private static AccountSummary summary(EventSourcedBehaviorTestKit<Command, Event, State> account) {
    return ((AccountEntity.Snapshot) account.<AccountEntity.Reply>runCommand(AccountEntity.Get::new).reply()).account();
  }
}
