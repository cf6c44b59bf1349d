package io.clearinghouse.expiry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.instrument.Instruments;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The shipped configuration after its quarterly's expiry (2027-12-31T08:00:00Z): the node still
 * starts (the instruments load), the quarterly no longer trades, nothing is listed in its place,
 * and the start-up notices say so and name the key that lists the next contract.
 */
class ExpiryNoticesTest {
  private static final String FUTURE = "BTCUSDT-271231";
  private static final long EXPIRY = Instant.parse("2027-12-31T08:00:00Z").toEpochMilli();

  @Test
  void beforeTheExpiryNothingIsSaid() {
    assertEquals(List.of(), ExpiryNotices.atStart(Instruments.fromConfig(ConfigFactory.load(), 6), EXPIRY - 1));
  }

  @Test
  void theShippedQuarterlyAfterItsExpiryNoLongerTradesAndTheNoticeNamesTheNextKey() {
    Instruments shipped = Instruments.fromConfig(ConfigFactory.load(), 6);
    long after = EXPIRY + 86_400_000L;
    assertTrue(shipped.closedForTrading(FUTURE, after, false).isPresent());
    assertTrue(shipped.closedForTrading("BTCUSDT-PERP", after, false).isEmpty());
    List<String> notices = ExpiryNotices.atStart(shipped, after);
    assertEquals(1, notices.size(), notices.toString());
    assertTrue(notices.get(0).startsWith(FUTURE + " expired at 2027-12-31T08:00:00Z"), notices.get(0));
    assertTrue(notices.get(0).contains("clearinghouse.instrument-overrides.\"" + FUTURE + "\".next"), notices.get(0));
  }

  @Test
  void withTheNextContractConfiguredItSaysItIsListed() {
    Instruments series = Instruments.fromConfig(ConfigFactory.parseString("""
        clearinghouse.instruments = ${clearinghouse.instruments} [
          { symbol = "BTCUSDT-280331", kind = dated-future, expiry = "2028-03-31T08:00:00Z", tick-size = "0.1",
            lot-size = "0.001", maker-fee = "0.02%", taker-fee = "0.05%", liquidation-fee = "1%",
            risk-tiers = binance-btcusdt-2021-03 }
        ]
        clearinghouse.instrument-overrides { "BTCUSDT-271231" { next = "BTCUSDT-280331" } }
        """).withFallback(ConfigFactory.load()).resolve(), 6);
    long after = EXPIRY + 1;
    assertTrue(series.closedForTrading("BTCUSDT-280331", after, false).isEmpty());
    assertEquals(List.of(FUTURE + " expired at 2027-12-31T08:00:00Z, before this start (2027-12-31T08:00:00.001Z): it"
        + " no longer trades (INSTRUMENT_EXPIRED, then INSTRUMENT_SETTLED); its next contract BTCUSDT-280331 is listed"),
        ExpiryNotices.atStart(series, after));
  }
}
