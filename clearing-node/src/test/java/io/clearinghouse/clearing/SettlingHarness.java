package io.clearinghouse.clearing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.PositionSummary;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;

/**
 * The review tests' account without a trade register (Rev10hReviewTest, Rev10jReviewTest): which
 * of its sides still settle is what the test says ({@code settling}, answered to the account's
 * asks), a side is settled by SideSettled and reversed by ReverseTradeSide, as a register would
 * tell them. ETH and SOL are ETH- and SOL-like perpetuals beside the shipped BTC one; 1 USDT =
 * 1,000,000; 1 contract = 1,000 lots, 10 ticks a unit of price.
 */
final class SettlingHarness {
  private SettlingHarness() {}

  static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.parseString("""
      clearinghouse.instruments = ${clearinghouse.instruments} [
        { symbol = "ETHUSDT-PERP", kind = perpetual, tick-size = "0.1", lot-size = "0.001", maker-fee = "0.02%",
          taker-fee = "0.05%", liquidation-fee = "1%", risk-tiers = binance-btcusdt-2021-03 }
        { symbol = "SOLUSDT-PERP", kind = perpetual, tick-size = "0.1", lot-size = "0.001", maker-fee = "0.02%",
          taker-fee = "0.05%", liquidation-fee = "1%", risk-tiers = binance-btcusdt-2021-03 }
      ]
      """).withFallback(ConfigFactory.load()).resolve(), 6);
  /** As Rev10dIsolatedFundingTest, but 50 trades remembered (no side is forgotten here). */
  static final AccountSettings SETTINGS =
      new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 100, Duration.ofDays(8), 1000,
          Duration.ofSeconds(3), 50, 20);
  static final String ETH = "ETHUSDT-PERP";
  static final String SOL = "SOLUSDT-PERP";
  static final String BTC = "BTCUSDT-PERP";
  static final long USDT = 1_000_000L;

  /** One trader, its marks, and the sequences its registers still drive (the test's say). */
  record Setup(FakeAccounts accounts, MarkPrices marks, String trader, Set<Long> settling) {
    AccountEntity.Reply side(long seq, String instrument, long lots, long price) {
      return side(seq, instrument, lots, price, null);
    }

    AccountEntity.Reply side(long seq, String instrument, long lots, long price, String orderId) {
      return accounts.ask(trader, r -> new AccountEntity.ApplyTrade("t-" + seq, seq, instrument, lots, price, true,
          orderId, "elsewhere", r));
    }

    void applied(long seq, String instrument, long lots, long price) {
      AccountEntity.Reply reply = side(seq, instrument, lots, price);
      assertInstanceOf(AccountEntity.TradeSideApplied.class, reply, "t-" + seq + ": " + reply);
    }

    /** The register settled the trade of {@code seq}: the side stands. */
    void settle(long seq) {
      settling.remove(seq);
      accounts.tell(trader, new AccountEntity.SideSettled(seq));
    }

    /** The register reverses the side of {@code seq} (its seller refused with no hold). */
    void reverse(long seq, String instrument, long lots, long price, long fee) {
      settling.remove(seq);
      AccountEntity.Reply reply = accounts.ask(trader,
          r -> new AccountEntity.ReverseTradeSide("t-" + seq, seq, instrument, lots, price, fee, r));
      assertInstanceOf(AccountEntity.TradeSideReverted.class, reply, "reversal of t-" + seq + ": " + reply);
    }

    AccountSummary summary() {
      return accounts.summary(trader);
    }
  }

  static Setup setup(ActorTestKit testKit, AccountSettings settings, long deposit, String... isolated) {
    FakeAccounts accounts = new FakeAccounts(testKit, settings, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(ETH, 600_000, 1, 0));
    marks.accept(new Mark(SOL, 1_300_000, 1, 0));
    marks.accept(new Mark(BTC, 600_000, 1, 0));
    accounts.marks = marks;
    Set<Long> settling = ConcurrentHashMap.newKeySet();
    accounts.unfinished = sequences -> CompletableFuture.completedFuture(
        List.copyOf(sequences.stream().filter(settling::contains).toList()));
    String trader = accounts.open("trader", deposit);
    for (String instrument : isolated) {
      assertInstanceOf(AccountEntity.Snapshot.class, accounts.ask(trader,
          r -> new AccountEntity.SetMarginMode(instrument, MarginMode.ISOLATED, r)));
    }
    return new Setup(accounts, marks, trader, settling);
  }

  static PositionSummary holding(AccountSummary account, String instrument) {
    return account.positions().stream().filter(p -> p.instrument().equals(instrument)).findFirst().orElse(null);
  }
}
