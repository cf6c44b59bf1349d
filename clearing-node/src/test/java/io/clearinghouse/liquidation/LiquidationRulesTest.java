package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.StopRule;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.instrument.LiquidationTerms;
import io.clearinghouse.instrument.LiquidationTerms.NegativeBalancePolicy;
import io.clearinghouse.margin.AdlRanking;
import io.clearinghouse.margin.Instrument;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pure rules of liquidation: backstop prices, deficits, ADL order and quintiles, stops, settings. */
class LiquidationRulesTest {
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);
  private static final Instrument PERP = INSTRUMENTS.require("BTCUSDT-PERP");

  @Test
  void backstopPriceMovesAgainstTheTraderAndRoundsForTheHouse() {
    // 0.2% of 49,221.8 against a long being sold: 49,123.3564 -> 49,123.3 (down).
    assertEquals(491_233, LiquidationSaga.backstopPrice(492_218, -1_000, 2_000));
    // Against a short being bought back: 49,320.2436 -> 49,320.3 (up).
    assertEquals(493_203, LiquidationSaga.backstopPrice(492_218, 1_000, 2_000));
    assertEquals(492_218, LiquidationSaga.backstopPrice(492_218, -1_000, 0));
  }

  @Test
  void deficitIsWhatAPriceBeyondBankruptcyLoses() {
    // A long of 1 BTC bankrupt at 49,025.0 sold at 48,902.0: 123 USDT; sold above it: nothing.
    var close = close(-1_000, 490_250);
    assertEquals(123_000_000, LiquidationSaga.deficit(close, 489_020, PERP));
    assertEquals(0, LiquidationSaga.deficit(close, 490_250, PERP));
    assertEquals(0, LiquidationSaga.deficit(close, 491_233, PERP));
    // A short of 0.5 BTC bankrupt at 51,000.0 bought back at 51,100.0: 0.5 * 100 = 50 USDT.
    assertEquals(50_000_000, LiquidationSaga.deficit(close(500, 510_000), 511_000, PERP));
  }

  private static LiquidationSaga.Close close(long lots, long bankruptcyTicks) {
    return new LiquidationSaga.Close(0, PERP.symbol(), lots, 500_000, bankruptcyTicks, false, List.of(), null, null, 0, 0,
        0, null, null, null);
  }

  @Test
  void adlRanksProfitTimesLeverageAndLossesLast() {
    long m = PERP.notionalMultiplier();
    // Two shorts from 50,000 at mark 49,000 with the same profit (2%): more leverage first.
    long lowLeverage = AdlRanking.score(-1_000, -50_000_000_000L, 490_000, m, 100_000_000_000L);
    long highLeverage = AdlRanking.score(-1_000, -50_000_000_000L, 490_000, m, 5_000_000_000L);
    assertTrue(highLeverage > lowLeverage);
    // 2% profit at 49,000 / 5,000 = 9.8x leverage: 0.02 * 9.8 = 0.196 -> 196,000 ppm.
    assertEquals(196_000, highLeverage);
    // A losing position ranks below every winning one, and more leverage ranks it lower still.
    long losing = AdlRanking.score(1_000, 50_000_000_000L, 490_000, m, 5_000_000_000L);
    long losingMore = AdlRanking.score(1_000, 50_000_000_000L, 490_000, m, 1_000_000_000L);
    assertTrue(losing < 0 && losing < lowLeverage);
    assertTrue(losingMore > losing, "dividing a loss by more leverage brings it closer to zero");
    // Funds at or below zero rank as the highest leverage there is.
    assertTrue(AdlRanking.score(-1_000, -50_000_000_000L, 490_000, m, 0) > highLeverage);
  }

  @Test
  void quintilesSplitTheQueueInFifths() {
    assertEquals(5, AdlRanking.quintile(0, 1));
    assertEquals(List.of(5, 5, 4, 4, 3, 3, 2, 2, 1, 1),
        java.util.stream.IntStream.range(0, 10).mapToObj(rank -> AdlRanking.quintile(rank, 10)).toList());
    assertThrows(IllegalArgumentException.class, () -> AdlRanking.quintile(3, 3));
  }

  @Test
  void stopsFireAtOrThroughTheStopAgainstThePosition() {
    assertTrue(StopRule.crossed(1_000, 495_000, 495_000));
    assertTrue(StopRule.crossed(1_000, 495_000, 494_000));
    assertFalse(StopRule.crossed(1_000, 495_000, 495_001));
    assertTrue(StopRule.crossed(-1_000, 505_000, 505_000));
    assertFalse(StopRule.crossed(-1_000, 505_000, 504_999));
    assertFalse(StopRule.crossed(0, 505_000, 600_000));
    assertFalse(StopRule.crossed(1_000, 0, 1));
  }

  @Test
  void settingsDefaultPerInstrumentAndRefuseWhatTheyCannotUse() {
    LiquidationSettings defaults = LiquidationSettings.fromConfig(ConfigFactory.load(), INSTRUMENTS);
    assertEquals(new LiquidationTerms("BTCUSDT-PERP", NegativeBalancePolicy.ADL, 2_000),
        defaults.rules("BTCUSDT-PERP"));
    assertEquals(Set.of("BTCUSDT-PERP", "BTCUSDT-271231"), defaults.funds());
    assertTrue(defaults.topUpKeyRetention().compareTo(java.time.Duration.ofDays(7)) >= 0);
    LiquidationSettings shared = settings("clearinghouse.liquidation { insurance-fund = MAIN, "
        + "instruments { \"BTCUSDT-271231\" { negative-balance-policy = debt, backstop-spread = \"0.1%\" } } }");
    assertEquals(new LiquidationTerms("MAIN", NegativeBalancePolicy.DEBT, 1_000), shared.rules("BTCUSDT-271231"));
    assertEquals(Set.of("MAIN"), shared.funds());
    for (String bad : List.of("negative-balance-policy = maybe", "backstop-spread = \"0.5\"",
        "backstop-spread = \"100%\"", "insurance-fund = \"no spaces\"", "instruments { DOGE { backstop-spread = \"1%\" } }",
        "fund-history = 0", "adl-candidates-per-node = 0", "top-up-key-retention = 0s")) {
      ConfigException e = assertThrows(ConfigException.class, () -> settings("clearinghouse.liquidation { " + bad + " }"),
          bad);
      assertTrue(e.getMessage().contains("clearinghouse.liquidation"), e.getMessage());
    }
  }

  private static LiquidationSettings settings(String config) {
    var effective = ConfigFactory.parseString(config).withFallback(ConfigFactory.load());
    return LiquidationSettings.fromConfig(effective, Instruments.fromConfig(effective, 6));
  }
}
