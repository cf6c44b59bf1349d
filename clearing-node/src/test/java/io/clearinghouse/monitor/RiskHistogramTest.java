package io.clearinghouse.monitor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import org.junit.jupiter.api.Test;

/**
 * The console's risk histogram (GetRiskHistogram): every holder of an instrument counted by the
 * distance from the mark to its liquidation price, as ListClosestToLiquidation measures it.
 */
class RiskHistogramTest {
  private static final Instrument PERP = Instruments.fromConfig(ConfigFactory.load(), 6).require("BTCUSDT-PERP");
  private static final long USDT = 1_000_000L;

  /** 1 BTC long from 50,000 on {@code cash} USDT, cross. */
  private static MarginMonitor.Tracked longOne(String id, long cash, boolean liquidating) {
    return new MarginMonitor.Tracked(id, null, cash * USDT, liquidating,
        new MarginMonitor.Held[] {new MarginMonitor.Held(PERP, 0, 1_000, 50_000 * USDT, false, 0)});
  }

  @Test
  void eachDistanceFallsInOneBucketAtItsEdges() {
    assertEquals(0, ClosestToLiquidation.bucket(-1));
    assertEquals(0, ClosestToLiquidation.bucket(0));
    assertEquals(1, ClosestToLiquidation.bucket(1));
    assertEquals(1, ClosestToLiquidation.bucket(49_999));
    assertEquals(2, ClosestToLiquidation.bucket(50_000));
    assertEquals(7, ClosestToLiquidation.bucket(999_999));
    assertEquals(8, ClosestToLiquidation.bucket(1_000_000));
    assertEquals(8, ClosestToLiquidation.bucket(Long.MAX_VALUE));
  }

  @Test
  void everyHolderIsCountedNotOnlyTheNearestAndThoseBeingLiquidatedAreLeftOut() {
    MarginMonitor.Tracked[] holders = {
        longOne("past", 100, false),          // equity 100 under 200 of maintenance: at or past
        longOne("near", 1_000, false),        // (1,000 - 200) / 50,000 = 1.6%
        longOne("alice-2", 3_000, false),     // 5.57%, as the risk review says
        longOne("rich", 100_000, false),      // no liquidation price
        longOne("being-liquidated", 100, true),
    };
    long[] marks = {500_000};
    boolean[] usable = {true};
    ClosestToLiquidation.Counts counts = ClosestToLiquidation.histogram(holders, holders.length, 0, marks, usable);
    assertArrayEquals(new long[] {1, 1, 1, 0, 0, 0, 0, 0, 0}, counts.buckets(), counts.toString());
    assertEquals(1, counts.withoutLiquidationPrice());
    // The same positions the nearest-first listing ranks, each in the bucket of its distance.
    for (ClosestToLiquidation.Entry e : ClosestToLiquidation.nearest(holders, holders.length, 0, marks, usable, 10)) {
      assertEquals(1, counts.buckets()[ClosestToLiquidation.bucket(e.distancePpm())], e.toString());
    }
    assertEquals(3, ClosestToLiquidation.nearest(holders, holders.length, 0, marks, usable, 10).size());
    // A stale mark: nothing counted, as nothing is listed.
    ClosestToLiquidation.Counts stale = ClosestToLiquidation.histogram(holders, holders.length, 0, marks,
        new boolean[] {false});
    assertArrayEquals(new long[9], stale.buckets());
    assertEquals(0, stale.withoutLiquidationPrice());
  }
}
