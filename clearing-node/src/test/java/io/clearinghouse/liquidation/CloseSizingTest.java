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
    depth.accept(new MarketDepth.Report("BTCUSDT-271231", "binance", 0, 0, now.get()));
    assertEquals(-5_000, sizing.slice("BTCUSDT-271231", -5_000, MARK));
    assertEquals(-5_000, CloseSizing.WHOLE.slice(PERP, -5_000, MARK));
  }

  /**
   * A depth feed reporting nothing (0) on the side a close hits, or a market that thin, must not
   * make a liquidation crawl one lot at a time: a 1,000 BTC position would take a million closes
   * (each a saga step, its state growing with every one). Each slice is at least the instrument's
   * {@code liquidation-min-slice-share} (1% by default) of what the plan closes: a thousand and
   * some slices at most here, and the last 100 lots one by one.
   */
  @Test
  void anEmptyDepthStillClosesInABoundedNumberOfSlices() {
    Instruments instruments = Instruments.fromConfig(ConfigFactory.parseString(
        "clearinghouse.instrument-overrides.\"" + PERP + "\".liquidation-depth-share = \"10%\"")
        .withFallback(ConfigFactory.load()).resolve(), 6);
    MarketDepth depth = MarketDepth.local(java.time.Clock.systemUTC(), Duration.ofMinutes(1));
    depth.accept(new MarketDepth.Report(PERP, "binance", 0, 0, System.currentTimeMillis()));
    CloseSizing sizing = CloseSizing.byDepth(instruments, depth);
    long left = -1_000_000;
    int slices = 0;
    while (left != 0) {
      long slice = sizing.slice(PERP, left, MARK);
      org.junit.jupiter.api.Assertions.assertTrue(slice < 0 && slice >= left, "slice " + slice + " of " + left);
      left -= slice;
      slices++;
      org.junit.jupiter.api.Assertions.assertTrue(slices <= 1_100, "still " + left + " lots after " + slices);
    }
    assertEquals(-10_000, sizing.slice(PERP, -1_000_000, MARK));
    assertEquals(-1, sizing.slice(PERP, -100, MARK));
  }
}
