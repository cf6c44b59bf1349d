package io.clearinghouse.instrument;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import io.clearinghouse.NodeSettings;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.InstrumentKind;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The instruments and tiers the node ships with, and bad configuration refused with its key named. */
class InstrumentsConfigTest {

  private static Config withOverride(String hocon) {
    return ConfigFactory.parseString(hocon).withFallback(ConfigFactory.load()).resolve();
  }

  @Test
  void theDefaultsAreThePerpetualAndTheQuarterlyWithBinanceTiers() {
    Instruments instruments = Instruments.fromConfig(ConfigFactory.load(), 6);
    Instrument perp = instruments.require("BTCUSDT-PERP");
    assertEquals(InstrumentKind.PERPETUAL, perp.kind());
    assertEquals(100, perp.notionalMultiplier());
    assertEquals(200, perp.makerFeePpm());
    assertEquals(500, perp.takerFeePpm());
    assertEquals(10_000, perp.liquidationFeePpm());
    assertEquals(10, perp.riskTiers().tiers().size());
    // Derived, never typed: 0, 50, 1,300 and 16,300 USDT for the first four tiers.
    assertEquals(List.of(0L, 50_000_000L, 1_300_000_000L, 16_300_000_000L),
        perp.riskTiers().tiers().subList(0, 4).stream().map(t -> t.maintenanceAmount()).toList());
    Instrument quarterly = instruments.require("BTCUSDT-271231");
    assertEquals(InstrumentKind.DATED_FUTURE, quarterly.kind());
    assertEquals(Instant.parse("2027-12-31T08:00:00Z"), quarterly.expiry());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "clearinghouse.instruments.0.tick-size = \"0.15x\"                  | clearinghouse.instruments[0]",
      "clearinghouse.instruments.0.kind = option                          | clearinghouse.instruments[0].kind",
      "clearinghouse.instruments.0.taker-fee = \"0.05\"                   | clearinghouse.instruments[0].taker-fee",
      "clearinghouse.instruments.0.maker-fee = \"0.00001%\"               | clearinghouse.instruments[0].maker-fee",
      "clearinghouse.instruments.0.risk-tiers = nowhere                   | clearinghouse.instruments[0].risk-tiers",
      "clearinghouse.instruments.1.expiry = christmas                     | clearinghouse.instruments[1].expiry",
      "clearinghouse.instruments.1.expiry = \"2027-12-31T08:00:00.5Z\"  | clearinghouse.instruments[1].expiry",
      "clearinghouse.instruments.1.expiry = \"2300-01-01T00:00:00Z\"    | clearinghouse.instruments[1].expiry",
      "clearinghouse.instruments.0.expiry = \"2027-12-31T08:00:00Z\"    | clearinghouse.instruments[0].expiry",
      "clearinghouse.instruments.0.kind = dated-future                    | clearinghouse.instruments[0].expiry",
      "clearinghouse.instruments.1.settlement-window = 0s                 | clearinghouse.instruments[1].settlement-window",
      "clearinghouse.instruments.1.settlement-window = 2d                 | clearinghouse.instruments[1].settlement-window",
      "clearinghouse.instruments.1.settlement-window = 1500ms             | clearinghouse.instruments[1].settlement-window",
      "clearinghouse.instruments.1.settlement-window = soon               | clearinghouse.instruments[1].settlement-window",
      "clearinghouse.instruments.1.delivery-fee = \"2%\"                | clearinghouse.instruments[1].delivery-fee",
      "clearinghouse.instruments.1.delivery-fee = \"-0.01%\"            | clearinghouse.instruments[1].delivery-fee",
      "clearinghouse.instruments.1.next = nowhere                         | clearinghouse.instruments[1].next",
      "clearinghouse.instruments.1.next = BTCUSDT-PERP                    | clearinghouse.instruments[1].next",
      "clearinghouse.instruments.1.next = BTCUSDT-271231                  | clearinghouse.instruments[1].next",
      "clearinghouse.risk-tier-tables.binance-btcusdt-2021-03 = [{up-to = \"50000\", maintenance-margin-rate = \"0.4%\", max-leverage = 125}, {up-to = \"40000\", maintenance-margin-rate = \"0.5%\", max-leverage = 100}] | clearinghouse.risk-tier-tables.binance-btcusdt-2021-03",
      "clearinghouse.account.snapshot-every = 0                           | clearinghouse.account",
      "clearinghouse.grpc.port = 70000                                    | clearinghouse.grpc.port",
      "clearinghouse.price-feed.min-sources = 9                           | clearinghouse.price-feed.min-sources",
      "clearinghouse.price-feed.max-jump = five                           | clearinghouse.price-feed.max-jump",
      "clearinghouse.price-feed.jump-confirm-sources = 1                  | clearinghouse.price-feed.jump-confirm-sources",
      "clearinghouse.price-feed.basis-band = \"-1%\"                      | clearinghouse.price-feed.basis-band",
      "clearinghouse.price-feed.mark-interval = 0s                        | clearinghouse.price-feed.mark-interval",
      "clearinghouse.alerts.margin-ratio-levels = [\"170%\"]              | clearinghouse.alerts.margin-ratio-levels",
      "clearinghouse.instruments.0.max-account-position = \"-1\"          | clearinghouse.instruments[0].max-account-position",
      "clearinghouse.instruments.0.max-open-interest = lots               | clearinghouse.instruments[0].max-open-interest",
      "clearinghouse.instruments.0.max-account-share = \"101%\"           | clearinghouse.instruments[0].max-account-share",
      "clearinghouse.instruments.0.account-share-from = \"0.0000001\"     | clearinghouse.instruments[0].account-share-from",
      "clearinghouse.instruments.0.volatility-margin-reference = high     | clearinghouse.instruments[0].volatility-margin-reference",
      "clearinghouse.instruments.0.volatility-margin-cap = \"10001%\"     | clearinghouse.instruments[0].volatility-margin-cap",
      "clearinghouse.instruments.0.volatility-margin-cap = \"99%\"        | clearinghouse.instruments[0].volatility-margin-cap",
      "clearinghouse.instruments.0.volatility-margin-reference = \"50%\", volatility-margin-sensitivity = \"0%\" | clearinghouse.instruments[0].volatility-margin-sensitivity",
      "clearinghouse.instruments.0.volatility-margin-reference = \"50%\", volatility-margin-cap = \"100%\" | clearinghouse.instruments[0].volatility-margin-cap",
      "clearinghouse.instruments.0.volatility-margin-reference = \"50%\", volatility-margin-hysteresis = \"200%\" | clearinghouse.instruments[0].volatility-margin-hysteresis",
      "clearinghouse.instruments.0.volatility-margin-hysteresis = \"-1%\" | clearinghouse.instruments[0].volatility-margin-hysteresis",
      "clearinghouse.instruments.0.volatility-margin-warning = soon        | clearinghouse.instruments[0].volatility-margin-warning",
      "clearinghouse.instruments.0.volatility-margin-warning = 2d          | clearinghouse.instruments[0].volatility-margin-warning",
      "clearinghouse.instruments.0.open-interest-margin-lower = \"10\", open-interest-margin-upper = \"5\" | clearinghouse.instruments[0].open-interest-margin-upper",
      "clearinghouse.instruments.0.open-interest-margin-lower = \"-1\"   | clearinghouse.instruments[0].open-interest-margin-lower",
      "clearinghouse.instruments.0.thin-market-depth = \"-5\"            | clearinghouse.instruments[0].thin-market-depth",
      "clearinghouse.instruments.0.thin-market-depth = deep                | clearinghouse.instruments[0].thin-market-depth",
      "clearinghouse.instruments.0.liquidation-depth-share = \"150%\"    | clearinghouse.instruments[0].liquidation-depth-share",
      "clearinghouse.instrument-defaults.liquidation-depth-share = half    | clearinghouse.instrument-defaults.liquidation-depth-share",
      "clearinghouse.instruments.0.liquidation-min-slice-share = \"101%\" | clearinghouse.instruments[0].liquidation-min-slice-share",
      "clearinghouse.instrument-defaults.liquidation-min-slice-share = -1% | clearinghouse.instrument-defaults.liquidation-min-slice-share",
      "clearinghouse.instruments.0.liquidation-min-slice-share = \"0%\"   | clearinghouse.instruments[0].liquidation-min-slice-share",
      "clearinghouse.instrument-defaults.liquidation-min-slice-share = \"0.09%\" | clearinghouse.instrument-defaults.liquidation-min-slice-share",
      "clearinghouse.stress.ladder = [\"-100%\"]                          | clearinghouse.stress.ladder",
      "clearinghouse.volatility.min-steps = 0                            | clearinghouse.volatility.min-steps",
      "clearinghouse.account.beginner-leverage = 200                     | clearinghouse.account.beginner-leverage"
  })
  void badConfigurationStopsTheNodeNamingTheKey(String override, String key) {
    Config effective = override.startsWith("clearinghouse.instruments.")
        ? replaceInstrument(override)
        : withOverride(override);
    ConfigException e = assertThrows(ConfigException.class, () -> NodeSettings.fromConfig(effective));
    assertTrue(e.getMessage().contains(key), "'" + e.getMessage() + "' should name " + key);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"0s", "2d", "soon", "[1]"})
  void aBadMarketDepthAgeStopsTheNodeNamingTheKey(String value) {
    ConfigException e = assertThrows(ConfigException.class, () -> io.clearinghouse.price.MarketDepth.maxAge(
        withOverride("clearinghouse.market-depth.max-age = " + value)));
    assertTrue(e.getMessage().contains("clearinghouse.market-depth.max-age"), e.getMessage());
  }

  @Test
  void theScaledMarginAndDepthOptionsAreOffByDefaultAndReadWhenSet() {
    Instruments off = Instruments.fromConfig(ConfigFactory.load(), 6);
    var spec = off.spec("BTCUSDT-PERP");
    assertEquals(io.clearinghouse.margin.MarginScaling.VolatilityTerms.NONE.on(), spec.volatilityMargin().on());
    assertEquals(io.clearinghouse.margin.MarginScaling.OpenInterestTerms.NONE, spec.openInterestMargin());
    // Off; the floor of a slice is there for when slicing is switched on.
    assertEquals(new DepthTerms(0, 0, 10_000), spec.depth());
    Instruments on = Instruments.fromConfig(withOverride("""
        clearinghouse.instrument-overrides."BTCUSDT-PERP" {
          volatility-margin-reference = "80%", volatility-margin-sensitivity = "50%", volatility-margin-cap = "250%"
          volatility-margin-hysteresis = "5%", volatility-margin-warning = 2m
          open-interest-margin-lower = "1000000", open-interest-margin-upper = "5000000"
          thin-market-depth = "250000", liquidation-depth-share = "12.5%", liquidation-min-slice-share = "5%"
        }
        """), 6);
    spec = on.spec("BTCUSDT-PERP");
    assertEquals(new io.clearinghouse.margin.MarginScaling.VolatilityTerms(800_000, 500_000, 2_500_000, 50_000,
        120_000), spec.volatilityMargin());
    assertEquals(new io.clearinghouse.margin.MarginScaling.OpenInterestTerms(1_000_000_000_000L, 5_000_000_000_000L),
        spec.openInterestMargin());
    assertEquals(new DepthTerms(250_000_000_000L, 125_000, 50_000), spec.depth());
    assertEquals(new DepthTerms(0, 0, 10_000), on.spec("BTCUSDT-271231").depth());
  }

  /** HOCON cannot override one field of a list element: rebuild the list with the change. */
  private static Config replaceInstrument(String override) {
    int index = Integer.parseInt(override.substring("clearinghouse.instruments.".length(),
        "clearinghouse.instruments.".length() + 1));
    String assignment = override.substring("clearinghouse.instruments.0.".length());
    Config base = ConfigFactory.load();
    List<? extends Config> instruments = base.getConfigList("clearinghouse.instruments");
    StringBuilder list = new StringBuilder("clearinghouse.instruments = [");
    for (int i = 0; i < instruments.size(); i++) {
      Config entry = instruments.get(i);
      if (i == index) {
        entry = ConfigFactory.parseString(assignment).withFallback(entry);
      }
      list.append(entry.root().render(ConfigRenderOptions.concise())).append(i + 1 < instruments.size() ? "," : "");
    }
    list.append("]");
    return ConfigFactory.parseString(list.toString()).withFallback(base).resolve();
  }
}
