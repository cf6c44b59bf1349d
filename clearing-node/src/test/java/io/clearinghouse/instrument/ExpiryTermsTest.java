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
  private static final Instant EXPIRY = Instant.parse("2026-12-25T08:00:00Z");

  private static Instruments series() {
    Config config = ConfigFactory.parseString("""
        clearinghouse.instruments = ${clearinghouse.instruments} [
          { symbol = "BTCUSDT-270326", kind = dated-future, expiry = "2027-03-26T08:00:00Z", tick-size = "0.1",
            lot-size = "0.001", maker-fee = "0.02%", taker-fee = "0.05%", liquidation-fee = "1%",
            risk-tiers = binance-btcusdt-2021-03, settlement-window = 10m, delivery-fee = "0.015%" }
        ]
        clearinghouse.instrument-overrides { "BTCUSDT-261225" { next = "BTCUSDT-270326" } }
        """).withFallback(ConfigFactory.load()).resolve();
    return Instruments.fromConfig(config, 6);
  }

  @Test
  void theShippedQuarterlyHasTheDefaultWindowAndFee() {
    ExpiryTerms terms = Instruments.fromConfig(ConfigFactory.load(), 6).spec("BTCUSDT-261225").expiry();
    assertEquals(new ExpiryTerms(EXPIRY, Duration.ofMinutes(30), 200, null), terms);
    assertEquals(EXPIRY.toEpochMilli() - 30 * 60_000, terms.windowStartMillis());
    assertEquals(null, Instruments.fromConfig(ConfigFactory.load(), 6).spec("BTCUSDT-PERP").expiry());
  }

  @Test
  void theNextContractCarriesItsOwnTerms() {
    Instruments instruments = series();
    assertEquals("BTCUSDT-270326", instruments.spec("BTCUSDT-261225").expiry().next());
    ExpiryTerms next = instruments.spec("BTCUSDT-270326").expiry();
    assertEquals(Duration.ofMinutes(10), next.settlementWindow());
    assertEquals(150, next.deliveryFeePpm());
  }

  @Test
  void tradingStopsAtExpiryToTheMillisecond() {
    Instruments instruments = series();
    long expiry = EXPIRY.toEpochMilli();
    assertTrue(instruments.closedForTrading("BTCUSDT-261225", expiry - 1, false).isEmpty());
    assertEquals(Rejection.INSTRUMENT_EXPIRED, reason(instruments, "BTCUSDT-261225", expiry, false));
    assertEquals(Rejection.INSTRUMENT_EXPIRED, reason(instruments, "BTCUSDT-261225", expiry + 86_400_000L, false));
    assertEquals(Rejection.INSTRUMENT_SETTLED, reason(instruments, "BTCUSDT-261225", expiry + 1, true));
    // A perpetual never expires; an unknown symbol is refused elsewhere (UNKNOWN_INSTRUMENT).
    assertTrue(instruments.closedForTrading("BTCUSDT-PERP", Long.MAX_VALUE, true).isEmpty());
    assertTrue(instruments.closedForTrading("NOPE", expiry, false).isEmpty());
  }

  @Test
  void theNextContractIsListedFromItsPredecessorsExpiry() {
    Instruments instruments = series();
    long expiry = EXPIRY.toEpochMilli();
    assertEquals(Rejection.INSTRUMENT_NOT_LISTED, reason(instruments, "BTCUSDT-270326", expiry - 1, false));
    assertTrue(instruments.closedForTrading("BTCUSDT-270326", expiry, false).isEmpty());
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
