package io.clearinghouse.clearing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.LiquidationRole;
import io.clearinghouse.account.PositionSummary;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 10 (rev10e): a backstop provider's takeover (TAKE_CHECKED) judged
 * on the provider as it is, while the profit that carries it comes from a buyer side its register
 * may still reverse. The rev10d fix bound isolated fills and reservations by the reversed view's
 * cash; a takeover into an isolated holding funds its margin from the cash there is
 * (TradingHandlers.isolatedMarginDelta) and was judged without that view.
 */
class Rev10eBackstopTakeoverTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.parseString("""
      clearinghouse.instruments = ${clearinghouse.instruments} [
        { symbol = "ETHUSDT-PERP", kind = perpetual, tick-size = "0.1", lot-size = "0.001", maker-fee = "0.02%",
          taker-fee = "0.05%", liquidation-fee = "1%", risk-tiers = binance-btcusdt-2021-03 }
      ]
      """).withFallback(ConfigFactory.load()).resolve(), 6);
  private static final AccountSettings SETTINGS =
      new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 100, Duration.ofDays(8), 1000,
          Duration.ofSeconds(3), 5, 20);
  /** The provider's cross short, closed at a 10,000 profit by a trade still settling. */
  private static final String CROSS = "BTCUSDT-PERP";
  /** The liquidated position the provider takes over, into an isolated holding. */
  private static final String TAKEN = "ETHUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final AtomicInteger ids = new AtomicInteger();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static PositionSummary holding(AccountSummary account, String instrument) {
    return account.positions().stream().filter(p -> p.instrument().equals(instrument)).findFirst().orElse(null);
  }

  /**
   * Finding 3 (medium): provider cash 3,100, short 1 BTC from 60,000 (settled); at a mark of 50,000
   * it buys the BTC back at 50,000 from a seller whose side is held: cash 13,045 while the register
   * may still reverse the close. It takes over a long of 5 ETH-like contracts at 50,000 into an
   * isolated holding: 12,500 of isolated margin, all from that cash. The close is then reversed
   * (the 10,000 it realized goes back): cash -9,430 behind an isolated position, carried only by
   * the cross short's unrealized profit (hole 1 again, through the takeover).
   */
  private record Setup(FakeAccounts accounts, String provider, GatedSeller network,
      TestProbe<TradeRegister.Reply> probe) {}

  private static Setup closedBySideStillSettling() throws Exception {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(CROSS, 600_000, 1, 0));
    marks.accept(new Mark(TAKEN, 500_000, 1, 0));
    accounts.marks = marks;
    accounts.askRegister();
    String provider = accounts.open("provider", 3_100 * USDT);
    String seller = accounts.open("seller", 100_000 * USDT);
    GatedSeller network = new GatedSeller(accounts, seller);
    ActorRef<TradeRegister.Command> register = accounts.spawnRegister("rev10e-take-" + ids.incrementAndGet(), network);

    assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(provider,
        r -> new AccountEntity.ApplyTrade("t-1", 1, CROSS, -1_000, 600_000, true, null, "elsewhere", r)));
    accounts.tell(provider, new AccountEntity.SideSettled(1));
    marks.accept(new Mark(CROSS, 500_000, 2, 0));
    assertInstanceOf(AccountEntity.Snapshot.class, accounts.ask(provider,
        r -> new AccountEntity.SetMarginMode(TAKEN, MarginMode.ISOLATED, r)));
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(new TradeContent(71, "t-71", CROSS, provider, seller, 500_000, 1_000, true,
        null, null), probe.getRef()));
    network.sellerSideSent.get(10, TimeUnit.SECONDS);
    AccountSummary closed = accounts.summary(provider);
    assertEquals(null, holding(closed, CROSS), "the short is closed by the side still settling");
    assertEquals(13_045 * USDT, closed.cash(), "3,100 less two fees of 30 and 25, and the 10,000 the close realized");
    return new Setup(accounts, provider, network, probe);
  }

  private static AccountEntity.Reply takeOver(Setup s) {
    return s.accounts().ask(s.provider(), r -> new AccountEntity.ApplyLiquidationTransfer("liq-1/0", "liq-1",
        LiquidationRole.BACKSTOP, "victim", TAKEN, 5_000, 500_000, 0, AccountEntity.TransferMode.TAKE_CHECKED, r));
  }

  @Test
  void aTakeoverIntoAnIsolatedHoldingIsNeverFundedByAProfitStillSettling() throws Exception {
    Setup s = closedBySideStillSettling();
    FakeAccounts accounts = s.accounts();
    String provider = s.provider();
    GatedSeller network = s.network();
    TestProbe<TradeRegister.Reply> probe = s.probe();
    AccountEntity.Reply taken = takeOver(s);
    if (taken instanceof AccountEntity.Rejected refused) {
      assertEquals(Rejection.BACKSTOP_DECLINED, refused.reason(), refused.message());
      assertEquals(null, holding(accounts.summary(provider), TAKEN), "a declined takeover moved nothing");
    } else {
      assertInstanceOf(AccountEntity.TransferApplied.class, taken);
    }
    network.sellerGate.complete(true);
    assertInstanceOf(TradeRegister.Refused.class, probe.receiveMessage(Duration.ofSeconds(10)));
    AccountSummary after = accounts.summary(provider);
    assertEquals(-1_000, holding(after, CROSS).lots(), "the short is back");
    PositionSummary isolated = holding(after, TAKEN);
    assertTrue(isolated == null || after.cash() >= 0, "the takeover (" + taken.getClass().getSimpleName() + ") left "
        + "an isolated position holding " + (isolated == null ? 0 : isolated.isolatedMargin()) + " of margin over a"
        + " cash of " + after.cash() + " once the close that funded it was reversed: " + after);
  }

  /** Once the close settled, its profit is the provider's: the same takeover goes through. */
  @Test
  void theSameTakeoverIsTakenOnceTheCloseSettled() throws Exception {
    Setup s = closedBySideStillSettling();
    s.network().sellerGate.complete(false);
    assertInstanceOf(TradeRegister.Settled.class, s.probe().receiveMessage(Duration.ofSeconds(10)));
    s.probe().awaitAssert(Duration.ofSeconds(10), () -> assertInstanceOf(AccountEntity.TransferApplied.class,
        takeOver(s)));
    AccountSummary after = s.accounts().summary(s.provider());
    assertEquals(12_500 * USDT, holding(after, TAKEN).isolatedMargin(), "20x of 250,000, from the settled profit");
    assertEquals(545 * USDT, after.cash());
  }
}
