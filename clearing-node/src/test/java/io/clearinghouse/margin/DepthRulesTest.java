package io.clearinghouse.margin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** Market depth's rules (issue 16 item 3): thin markets and the liquidation's slices. */
class DepthRulesTest {
  @Test
  void thinIsUnderASetThreshold() {
    assertFalse(DepthRules.thin(0, 0));
    assertTrue(DepthRules.thin(0, 1));
    assertTrue(DepthRules.thin(99, 100));
    assertFalse(DepthRules.thin(100, 100));
  }

  @Test
  void aCloseIsCutToTheShareOfTheDepth() {
    // 1,000,000 USDT of bids, 10%: 100,000 USDT; at 50,000 USDT (500,000 ticks of 0.1, 1 lot = 0.001 BTC,
    // multiplier 100 minor units per tick-lot), one lot is 50 USDT: 2,000 lots.
    long depth = 1_000_000_000_000L;
    assertEquals(-2_000, DepthRules.slice(-5_000, depth, 100_000, 500_000, 100));
    assertEquals(2_000, DepthRules.slice(5_000, depth, 100_000, 500_000, 100));
    // Smaller than the slice: whole.
    assertEquals(-1_500, DepthRules.slice(-1_500, depth, 100_000, 500_000, 100));
    // Off: whole, whatever the depth.
    assertEquals(-5_000, DepthRules.slice(-5_000, 0, 0, 500_000, 100));
    // No depth at all: one lot at a time, never nothing.
    assertEquals(-1, DepthRules.slice(-5_000, 0, 100_000, 500_000, 100));
    assertEquals(1, DepthRules.slice(1, 0, 1_000_000, 500_000, 100));
    assertThrows(IllegalArgumentException.class, () -> DepthRules.slice(-5, -1, 100_000, 500_000, 100));
    assertThrows(IllegalArgumentException.class, () -> DepthRules.slice(-5, 1, 1_000_001, 500_000, 100));
  }

  @Property
  void aSliceKeepsTheSignIsAtLeastOneLotAndAtMostTheClose(
      @ForAll @LongRange(min = -Long.MAX_VALUE, max = Long.MAX_VALUE) long lots,
      @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long depth,
      @ForAll @LongRange(min = 0, max = 1_000_000) long share,
      @ForAll @LongRange(min = 1, max = Long.MAX_VALUE) long mark,
      @ForAll @LongRange(min = 1, max = Long.MAX_VALUE) long multiplier) {
    long slice = DepthRules.slice(lots, depth, share, mark, multiplier);
    assertEquals(Long.signum(lots), Long.signum(slice));
    assertTrue(Math.abs(slice) <= Math.abs(lots));
    if (share > 0 && lots != 0 && Math.abs(slice) > 1) {
      // More than one lot only when those lots fit the share of the depth.
      assertTrue(java.math.BigInteger.valueOf(Math.abs(slice)).multiply(java.math.BigInteger.valueOf(mark))
          .multiply(java.math.BigInteger.valueOf(multiplier)).compareTo(java.math.BigInteger.valueOf(
              MulDiv.mulDivFloor(depth, share, 1_000_000))) <= 0);
    }
  }
}
