package io.clearinghouse.instrument;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Funding terms per instrument: the shipped defaults, overrides, and every bad key named. */
class FundingTermsTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final String FUTURE = "BTCUSDT-271231";

  private static Instruments read(String hocon) {
    Config config = ConfigFactory.parseString(hocon).withFallback(ConfigFactory.load()).resolve();
    return Instruments.fromConfig(config, 6);
  }

  @Test
  void theShippedTermsAreEightHoursOneBasisPointInterestAndTheTiersCap() {
    FundingTerms terms = read("").spec(PERP).funding();
    assertEquals(new FundingTerms(Duration.ofHours(8), 10_000, 50_000, 300_000), terms);
    assertEquals(10_000, terms.interest());
    assertNull(read("").spec(FUTURE).funding(), "a dated future has no funding");
    // 00, 08 and 16 UTC.
    assertEquals(Instant.parse("2026-12-01T08:00:00Z").toEpochMilli(),
        terms.nextFundingTime(Instant.parse("2026-12-01T00:00:00Z").toEpochMilli()));
    assertEquals(Instant.parse("2026-12-02T00:00:00Z").toEpochMilli(),
        terms.nextFundingTime(Instant.parse("2026-12-01T23:59:59.999Z").toEpochMilli()));
  }

  @Test
  void anHourlyIntervalScalesTheInterest() {
    FundingTerms terms = read("clearinghouse.instrument-overrides { \"" + PERP + "\" { funding-interval = 1h, "
        + "funding-cap = \"0.5%\", funding-clamp = \"0.03%\" } }").spec(PERP).funding();
    assertEquals(1_250, terms.interest());
    assertEquals(500_000, terms.cap());
    assertEquals(30_000, terms.clamp());
    assertEquals(1_250, terms.rate(0));
  }

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource(delimiter = '|', value = {
      "funding-interval | 7h",
      "funding-interval | 1500ms",
      "funding-interval | 0s",
      "funding-interval | soon",
      "funding-interest | 0.01",
      "funding-interest | 2%",
      "funding-interest | 0.0000001%",
      "funding-clamp | -0.05%",
      "funding-clamp | 11%",
      "funding-cap | 0%",
      "funding-cap | automatic",
      "funding-cap | 10.5%",
  })
  void aBadFundingKeyStopsTheNodeNamingIt(String key, String value) {
    ConfigException e = assertThrows(ConfigException.class, () -> read("clearinghouse.instrument-overrides { \""
        + PERP + "\" { " + key + " = \"" + value + "\" } }"));
    assertTrue(e.getMessage().contains(key), e.getMessage());
  }

  @Test
  void anInterestThatIsNotExactOverTheIntervalIsRefused() {
    // 0.000001% per 8 h over 1 h is 0.125 of 10^-8.
    ConfigException e = assertThrows(ConfigException.class, () -> read("clearinghouse.instrument-overrides { \""
        + PERP + "\" { funding-interval = 1h, funding-interest = \"0.000001%\" } }"));
    assertTrue(e.getMessage().contains("funding-interest"), e.getMessage());
  }

  @Test
  void fundingKeysOfAnUnknownInstrumentAreRefused() {
    ConfigException e = assertThrows(ConfigException.class, () -> read(
        "clearinghouse.instrument-overrides { \"ETHUSDT-PERP\" { funding-interval = 1h } }"));
    assertTrue(e.getMessage().contains("ETHUSDT-PERP"), e.getMessage());
  }
}
