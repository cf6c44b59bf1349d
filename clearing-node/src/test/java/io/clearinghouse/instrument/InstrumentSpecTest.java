package io.clearinghouse.instrument;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.instrument.LiquidationTerms.NegativeBalancePolicy;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One specification per instrument (issue 12, item 2): contract, price band and liquidation
 * terms read by one parser from the instrument's entry, its overrides and the defaults; the
 * older keys ({@code clearinghouse.price-band}, {@code clearinghouse.liquidation.*}) still apply.
 */
class InstrumentSpecTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final String FUTURE = "BTCUSDT-271231";

  private static Instruments read(String hocon) {
    Config config = ConfigFactory.parseString(hocon).withFallback(ConfigFactory.load()).resolve();
    return Instruments.fromConfig(config, 6);
  }

  @Test
  void theShippedSpecificationHoldsEveryTermOfTheInstrument() {
    InstrumentSpec perp = read("").spec(PERP);
    assertEquals(500, perp.contract().takerFeePpm());
    assertEquals(10_000, perp.contract().liquidationFeePpm());
    assertEquals(100_000, perp.priceBandPpm());
    assertEquals(new LiquidationTerms(PERP, NegativeBalancePolicy.ADL, 2_000), perp.liquidation());
    assertEquals(Set.of(PERP, FUTURE), read("").funds());
  }

  @Test
  void overridesByDefaultsEntriesAndSymbolsInThatOrder() {
    Instruments instruments = read(String.join("\n",
        "clearinghouse.instrument-defaults { price-band = \"7%\", insurance-fund = MAIN, backstop-spread = \"0.1%\" }",
        "clearinghouse.instrument-overrides { \"" + FUTURE + "\" { negative-balance-policy = debt, "
            + "price-band = \"3%\", taker-fee = \"0.04%\" } }"));
    assertEquals(70_000, instruments.spec(PERP).priceBandPpm());
    assertEquals(new LiquidationTerms("MAIN", NegativeBalancePolicy.ADL, 1_000), instruments.spec(PERP).liquidation());
    assertEquals(30_000, instruments.spec(FUTURE).priceBandPpm());
    assertEquals(400, instruments.spec(FUTURE).contract().takerFeePpm());
    assertEquals(new LiquidationTerms("MAIN", NegativeBalancePolicy.DEBT, 1_000), instruments.spec(FUTURE).liquidation());
    assertEquals(Set.of("MAIN"), instruments.funds());
  }

  @Test
  void theOlderKeysStillApply() {
    Instruments instruments = read(String.join("\n",
        "clearinghouse.price-band = \"5%\"",
        "clearinghouse.liquidation { negative-balance-policy = debt, instruments { \"" + PERP + "\" "
            + "{ insurance-fund = PERP-FUND, negative-balance-policy = adl } } }"));
    assertEquals(50_000, instruments.spec(FUTURE).priceBandPpm());
    assertEquals(new LiquidationTerms(FUTURE, NegativeBalancePolicy.DEBT, 2_000), instruments.spec(FUTURE).liquidation());
    assertEquals(new LiquidationTerms("PERP-FUND", NegativeBalancePolicy.ADL, 2_000), instruments.spec(PERP).liquidation());
  }

  @Test
  void thePenaltySplitTheFundsTakeoverLimitAndTheOperatorCapitalsDailyAmount() {
    assertEquals(io.clearinghouse.margin.PenaltySplit.ALL_TO_FUND, read("").spec(PERP).liquidation().penaltySplit());
    LiquidationTerms terms = read("clearinghouse.instrument-overrides { \"" + PERP + "\" { penalty-split { "
        + "insurance-fund = \"40%\", market-making = \"25%\", platform-revenue = \"15%\", "
        + "investor-protection = \"12.5%\", liquidator = \"7.5%\" }, insurance-fund-takeover-limit = \"60000\", "
        + "operator-capital-per-day = \"50.5\" } }").spec(PERP).liquidation();
    assertEquals(new io.clearinghouse.margin.PenaltySplit(400_000, 250_000, 150_000, 125_000, 75_000),
        terms.penaltySplit());
    assertEquals(60_000_000_000L, terms.fundTakeoverLimit());
    assertEquals(50_500_000, terms.operatorCapitalPerDay());
    // HOCON merges an override of the defaults' split into the shipped one (all to the fund, the rest 0%).
    assertEquals(new io.clearinghouse.margin.PenaltySplit(500_000, 0, 500_000, 0, 0),
        read("clearinghouse.instrument-defaults.penalty-split { insurance-fund = \"50%\", platform-revenue = "
            + "\"50%\" }").spec(FUTURE).liquidation().penaltySplit());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "clearinghouse.instrument-defaults.penalty-split { insurance-fund = \"60%\", market-making = \"39.9999%\" } | clearinghouse.instrument-defaults.penalty-split",
      "clearinghouse.instrument-defaults.penalty-split { insurance-fund = \"100%\", liquidator = \"-1%\" } | clearinghouse.instrument-defaults.penalty-split.liquidator",
      "clearinghouse.instrument-defaults.penalty-split { insurance-fund = \"100%\", fees = \"0%\" }      | clearinghouse.instrument-defaults.penalty-split.fees",
      "clearinghouse.instrument-defaults.penalty-split = \"100%\"                                         | clearinghouse.instrument-defaults.penalty-split",
      "clearinghouse.instrument-defaults.insurance-fund-takeover-limit = \"-1\"                          | clearinghouse.instrument-defaults.insurance-fund-takeover-limit",
      "clearinghouse.instrument-defaults.insurance-fund-takeover-limit = \"99999999999999999999\"        | clearinghouse.instrument-defaults.insurance-fund-takeover-limit",
      "clearinghouse.instrument-defaults.operator-capital-per-day = \"0.0000001\"                        | clearinghouse.instrument-defaults.operator-capital-per-day",
      "clearinghouse.instrument-defaults.operator-capital-per-day = lots                                 | clearinghouse.instrument-defaults.operator-capital-per-day"})
  void aBadSplitOrLimitStopsTheNodeNamingTheKey(String override, String key) {
    ConfigException e = assertThrows(ConfigException.class, () -> read(override));
    assertTrue(e.getMessage().contains(key), "'" + e.getMessage() + "' should name " + key);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "clearinghouse.instrument-defaults.price-band = \"0%\"                         | clearinghouse.instrument-defaults.price-band",
      "clearinghouse.instrument-defaults.backstop-spread = \"100%\"                  | clearinghouse.instrument-defaults.backstop-spread",
      "clearinghouse.instrument-defaults.negative-balance-policy = maybe             | clearinghouse.instrument-defaults.negative-balance-policy",
      "clearinghouse.instrument-defaults.insurance-fund = \"no spaces\"              | clearinghouse.instrument-defaults.insurance-fund",
      "clearinghouse.instrument-defaults.tick-sise = \"0.1\"                         | clearinghouse.instrument-defaults.tick-sise",
      "clearinghouse.instrument-overrides.DOGE.price-band = \"1%\"                   | clearinghouse.instrument-overrides",
      "clearinghouse.instrument-overrides.\"BTCUSDT-PERP\".price-bnad = \"1%\"       | clearinghouse.instrument-overrides.BTCUSDT-PERP.price-bnad",
      "clearinghouse.instrument-overrides.\"BTCUSDT-PERP\".maker-fee = \"0.00001%\"  | clearinghouse.instrument-overrides.BTCUSDT-PERP.maker-fee",
      "clearinghouse.instrument-overrides.\"BTCUSDT-PERP\".backstop-spread = \"-1%\" | clearinghouse.instrument-overrides.BTCUSDT-PERP.backstop-spread",
      "clearinghouse.liquidation.instruments.\"BTCUSDT-PERP\".price-band = \"1%\"    | clearinghouse.liquidation.instruments.BTCUSDT-PERP.price-band",
      "clearinghouse.price-band = \"100%\"                                           | clearinghouse.price-band"})
  void aBadSpecificationStopsTheNodeNamingTheKeyItCameFrom(String override, String key) {
    ConfigException e = assertThrows(ConfigException.class, () -> read(override));
    assertTrue(e.getMessage().contains(key), "'" + e.getMessage() + "' should name " + key);
  }
}
