package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.MarketDepth;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A liquidation close against the published depth (issue 16 item 3): cut to the instrument's share
 * of the side it hits, whole when the share is off, when nobody reported or the reports aged out.
 */
class CloseSizingTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final long MARK = 500_000;

  @Test
  void slicedToTheShareOfTheSideTheCloseHits() {
    Instruments instruments = Instruments.fromConfig(ConfigFactory.parseString(
        "clearinghouse.instrument-overrides.\"" + PERP + "\".liquidation-depth-share = \"10%\"")
        .withFallback(ConfigFactory.load()).resolve(), 6);
    AtomicLong now = new AtomicLong(Instant.parse("2026-12-01T00:00:00Z").toEpochMilli());
    java.time.Clock clock = new java.time.Clock() {
      @Override
      public java.time.ZoneId getZone() {
        return java.time.ZoneOffset.UTC;
      }

      @Override
      public java.time.Clock withZone(java.time.ZoneId zone) {
        return this;
      }

      @Override
      public Instant instant() {
        return Instant.ofEpochMilli(now.get());
      }
    };
    MarketDepth depth = MarketDepth.local(clock, Duration.ofSeconds(30));
    CloseSizing sizing = CloseSizing.byDepth(instruments, depth);
    // Nobody reported: whole.
    assertEquals(-5_000, sizing.slice(PERP, -5_000, MARK));
    // 1,000,000 of bids and 200,000 of asks from two sources summed: 10% at 50 USDT a lot.
    depth.accept(new MarketDepth.Report(PERP, "binance", 600_000_000_000L, 100_000_000_000L, now.get()));
    depth.accept(new MarketDepth.Report(PERP, "okx", 400_000_000_000L, 100_000_000_000L, now.get()));
    assertEquals(-2_000, sizing.slice(PERP, -5_000, MARK));
    assertEquals(400, sizing.slice(PERP, 5_000, MARK));
    // An older report from a source is ignored; the reports age out after 30 s.
    depth.accept(new MarketDepth.Report(PERP, "okx", 0, 0, now.get() - 1));
    assertEquals(-2_000, sizing.slice(PERP, -5_000, MARK));
    now.addAndGet(30_001);
    assertEquals(-5_000, sizing.slice(PERP, -5_000, MARK));
    // Off for the quarterly: whole, whatever the depth.
    depth.accept(new MarketDepth.Report("BTCUSDT-261225", "binance", 0, 0, now.get()));
    assertEquals(-5_000, sizing.slice("BTCUSDT-261225", -5_000, MARK));
    assertEquals(-5_000, CloseSizing.WHOLE.slice(PERP, -5_000, MARK));
  }
}
