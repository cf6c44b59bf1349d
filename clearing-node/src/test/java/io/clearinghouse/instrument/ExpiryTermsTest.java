package io.clearinghouse.instrument;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** A dated future's expiry terms as configured, and when it (and the next of its series) trades. */
class ExpiryTermsTest {
  private static final Instant EXPIRY = Instant.parse("2027-12-31T08:00:00Z");

  private static Instruments series() {
    Config config = ConfigFactory.parseString("""
        clearinghouse.instruments = ${clearinghouse.instruments} [
          { symbol = "BTCUSDT-280331", kind = dated-future, expiry = "2028-03-31T08:00:00Z", tick-size = "0.1",
            lot-size = "0.001", maker-fee = "0.02%", taker-fee = "0.05%", liquidation-fee = "1%",
            risk-tiers = binance-btcusdt-2021-03, settlement-window = 10m, delivery-fee = "0.015%" }
        ]
        clearinghouse.instrument-overrides { "BTCUSDT-271231" { next = "BTCUSDT-280331" } }
        """).withFallback(ConfigFactory.load()).resolve();
    return Instruments.fromConfig(config, 6);
  }

  @Test
  void theShippedQuarterlyHasTheDefaultWindowAndFee() {
    ExpiryTerms terms = Instruments.fromConfig(ConfigFactory.load(), 6).spec("BTCUSDT-271231").expiry();
    assertEquals(new ExpiryTerms(EXPIRY, Duration.ofMinutes(30), 200, null), terms);
    assertEquals(EXPIRY.toEpochMilli() - 30 * 60_000, terms.windowStartMillis());
    assertEquals(null, Instruments.fromConfig(ConfigFactory.load(), 6).spec("BTCUSDT-PERP").expiry());
  }

  @Test
  void theNextContractCarriesItsOwnTerms() {
    Instruments instruments = series();
    assertEquals("BTCUSDT-280331", instruments.spec("BTCUSDT-271231").expiry().next());
    ExpiryTerms next = instruments.spec("BTCUSDT-280331").expiry();
    assertEquals(Duration.ofMinutes(10), next.settlementWindow());
    assertEquals(150, next.deliveryFeePpm());
  }

  @Test
  void tradingStopsAtExpiryToTheMillisecond() {
    Instruments instruments = series();
    long expiry = EXPIRY.toEpochMilli();
    assertTrue(instruments.closedForTrading("BTCUSDT-271231", expiry - 1, false).isEmpty());
    assertEquals(Rejection.INSTRUMENT_EXPIRED, reason(instruments, "BTCUSDT-271231", expiry, false));
    assertEquals(Rejection.INSTRUMENT_EXPIRED, reason(instruments, "BTCUSDT-271231", expiry + 86_400_000L, false));
    assertEquals(Rejection.INSTRUMENT_SETTLED, reason(instruments, "BTCUSDT-271231", expiry + 1, true));
    // A perpetual never expires; an unknown symbol is refused elsewhere (UNKNOWN_INSTRUMENT).
    assertTrue(instruments.closedForTrading("BTCUSDT-PERP", Long.MAX_VALUE, true).isEmpty());
    assertTrue(instruments.closedForTrading("NOPE", expiry, false).isEmpty());
  }

  @Test
  void theNextContractIsListedFromItsPredecessorsExpiry() {
    Instruments instruments = series();
    long expiry = EXPIRY.toEpochMilli();
    assertEquals(Rejection.INSTRUMENT_NOT_LISTED, reason(instruments, "BTCUSDT-280331", expiry - 1, false));
    assertTrue(instruments.closedForTrading("BTCUSDT-280331", expiry, false).isEmpty());
  }

  @Test
  void termsOutOfRangeAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new ExpiryTerms(EXPIRY, Duration.ZERO, 0, null));
    assertThrows(IllegalArgumentException.class, () -> new ExpiryTerms(EXPIRY, Duration.ofDays(2), 0, null));
    assertThrows(IllegalArgumentException.class, () -> new ExpiryTerms(EXPIRY, Duration.ofMinutes(30), -1, null));
    assertThrows(IllegalArgumentException.class, () -> new ExpiryTerms(EXPIRY, Duration.ofMinutes(30), 10_001, null));
    assertThrows(IllegalArgumentException.class, () -> new ExpiryTerms(EXPIRY.plusMillis(1), Duration.ofMinutes(30),
        0, null));
  }

  private static Rejection reason(Instruments instruments, String symbol, long now, boolean settled) {
    return instruments.closedForTrading(symbol, now, settled).map(RejectedException::reason).orElse(null);
  }
}
