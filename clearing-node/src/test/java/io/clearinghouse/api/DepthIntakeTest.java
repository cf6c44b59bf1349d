package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.money.Asset;
import io.clearinghouse.price.MarketDepth;
import io.clearinghouse.price.PriceSettings;
import io.clearinghouse.protocol.v1.MarketDepthTick;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A depth report's checks (issue 16 item 3): each refusal with its reason; an accepted one as read. */
class DepthIntakeTest {
  private static final long NOW = Instant.parse("2026-12-01T00:00:00Z").toEpochMilli();
  private static final Clock CLOCK = Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC);
  private static final Principal BINANCE = new Principal("feeder-binance", Role.FEEDER, Set.of(), Set.of("binance"));
  private static final Principal ENGINE = new Principal("engine", Role.ENGINE, Set.of());
  private static final DepthIntake INTAKE = new DepthIntake(null, Instruments.fromConfig(ConfigFactory.load(), 6),
      PriceSettings.fromConfig(ConfigFactory.load()), new Asset("USDT", 6), MarketDepth.local(CLOCK,
      Duration.ofSeconds(30)), CLOCK, null, new io.clearinghouse.metrics.Metrics());

  private static MarketDepthTick tick(String source, String instrument, String bid, String ask, long at) {
    return MarketDepthTick.newBuilder().setSource(source).setInstrument(instrument).setBidNotional(bid)
        .setAskNotional(ask).setTimestampMs(at).build();
  }

  @Test
  void accepted() {
    assertEquals(new MarketDepth.Report("BTCUSDT-PERP", "binance", 0, 1_250_500_000L, NOW),
        INTAKE.check(BINANCE, tick("binance", "BTCUSDT-PERP", "0", "1250.5", NOW)));
    assertEquals(new MarketDepth.Report("BTCUSDT-PERP", "engine", 1_000_000, 0, NOW),
        INTAKE.check(ENGINE, tick("", "BTCUSDT-PERP", "1", "0.000000", NOW)));
    assertEquals("engine", INTAKE.check(ENGINE, tick("engine", "BTCUSDT-PERP", "1", "1", NOW)).source());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "binance | BTCUSDT-PERP | -1                   | 1     | 0       | AMOUNT_NOT_POSITIVE",
      "binance | BTCUSDT-PERP | 1                    | -0.5  | 0       | AMOUNT_NOT_POSITIVE",
      "binance | BTCUSDT-PERP | 9223372036854.775808 | 1     | 0       | AMOUNT_OVERFLOW",
      "binance | BTCUSDT-PERP | 99999999999999999999 | 1     | 0       | AMOUNT_OVERFLOW",
      "binance | BTCUSDT-PERP | 1e5                  | 1     | 0       | MALFORMED_AMOUNT",
      "binance | BTCUSDT-PERP | ''                   | 1     | 0       | MALFORMED_AMOUNT",
      "binance | BTCUSDT-PERP | 0.0000001            | 1     | 0       | AMOUNT_TOO_PRECISE",
      "binance | DOGE-PERP    | 1                    | 1     | 0       | UNKNOWN_INSTRUMENT",
      "binance | ''           | 1                    | 1     | 0       | UNKNOWN_INSTRUMENT",
      "okx     | BTCUSDT-PERP | 1                    | 1     | 0       | SOURCE_NOT_OWNED",
      "nowhere | BTCUSDT-PERP | 1                    | 1     | 0       | UNKNOWN_SOURCE",
      "binance | BTCUSDT-PERP | 1                    | 1     | 3600000 | TIMESTAMP_IN_FUTURE",
      "binance | BTCUSDT-PERP | 1                    | 1     | -3600000 | TIMESTAMP_TOO_OLD"
  })
  void refusedFromAFeeder(String source, String instrument, String bid, String ask, long offset, Rejection reason) {
    RejectedException e = assertThrows(RejectedException.class,
        () -> INTAKE.check(BINANCE, tick(source, instrument, bid, ask, NOW + offset)));
    assertEquals(reason, e.reason(), e.getMessage());
  }

  @Test
  void theEnginePublishesAsEngineOnly() {
    assertEquals(Rejection.SOURCE_NOT_OWNED, assertThrows(RejectedException.class,
        () -> INTAKE.check(ENGINE, tick("binance", "BTCUSDT-PERP", "1", "1", NOW))).reason());
  }
}
