package io.clearinghouse.margin;

import static io.clearinghouse.margin.Fixtures.BINANCE_TIERS;
import static io.clearinghouse.margin.Fixtures.BTC_MULTIPLIER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MarginMathTest {

  @ParameterizedTest(name = "{0} lots at {1} ticks: N {2}")
  @CsvSource({
      "1000,  500000, 50000000000",
      "-1000, 500000, 50000000000",
      "1,     1,      100",
      "0,     500000, 0"
  })
  void notionalIsQuantityTimesMarkTimesMultiplier(long lots, long markTicks, long expected) {
    assertEquals(expected, MarginMath.notional(lots, markTicks, BTC_MULTIPLIER));
  }

  @ParameterizedTest(name = "{0} lots, cost {1}, mark {2}: U {3}")
  @CsvSource({
      // 1 BTC long from 50,000 marked at 48,000: -2,000 USDT
      "1000,  50000000000,  480000, -2000000000",
      // 1 BTC short from 50,000 marked at 48,000: +2,000 USDT
      "-1000, -50000000000, 480000, 2000000000",
      "0,     0,            480000, 0"
  })
  void unrealizedPnlIsMarkValueMinusCost(long lots, long cost, long markTicks, long expected) {
    assertEquals(expected, MarginMath.unrealizedPnl(lots, cost, markTicks, BTC_MULTIPLIER));
  }

  @ParameterizedTest(name = "N {0} -> MM {1}")
  @CsvSource({
      "0,              0",
      // ceil(1 * 0.004) = 1: a margin requirement rounds up
      "1,              1",
      "250,            1",
      "251,            2",
      // 40,000 USDT * 0.4% = 160 USDT
      "40000000000,    160000000",
      // Binance's worked form: 60,000 USDT * 0.5% - 50 = 250 USDT
      "60000000000,    250000000",
      // 2,000,000 USDT * 2.5% - 16,300 = 33,700 USDT
      "2000000000000,  33700000000",
      // beyond the table: 600M USDT * 50% - 100,016,300 = 199,983,700 USDT
      "600000000000000, 199983700000000",
      // a notional of Long.MAX_VALUE: the product with the rate needs 128 bits
      "9223372036854775807, 4611586002127387904"
  })
  void maintenanceMarginIsTheBinanceForm(long notional, long expected) {
    assertEquals(expected, MarginMath.maintenanceMargin(notional, BINANCE_TIERS));
  }

  @ParameterizedTest(name = "N {0} at {1}x -> IM {2}")
  @CsvSource({
      "10000000000, 125, 80000000",
      "10000000001, 125, 80000001",
      "1,           125, 1",
      "0,           20,  0",
      "10000000000, 1,   10000000000"
  })
  void initialMarginRoundsUp(long notional, int leverage, long expected) {
    assertEquals(expected, MarginMath.initialMargin(notional, leverage));
  }

  @Test
  void leverageBelowOneIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> MarginMath.initialMargin(1, 0));
  }

  @ParameterizedTest(name = "N {0} at {1} ppm -> fee {2}")
  @CsvSource({
      // 50,000 USDT taker at 0.04% = 20 USDT
      "50000000000, 400,  20000000",
      "1,           400,  1",
      "2499,        400,  1",
      "2500,        400,  1",
      "2501,        400,  2",
      "0,           400,  0",
      // a maker rebate rounds toward zero: the house pays the smaller amount
      "2499,        -200, 0",
      "5000,        -200, -1",
      "5001,        -200, -1",
      // 500M USDT at 100%: the product needs 128 bits
      "500000000000000, 1000000, 500000000000000"
  })
  void feeRoundsInTheHousesFavour(long notional, long ppm, long expected) {
    assertEquals(expected, MarginMath.fee(notional, ppm));
  }

  @Test
  void overflowingInputsThrow() {
    assertThrows(ArithmeticException.class, () -> MarginMath.notional(Long.MAX_VALUE / 100, 2, BTC_MULTIPLIER));
    assertThrows(ArithmeticException.class, () -> MarginMath.notional(Long.MIN_VALUE, 1, 1));
    assertThrows(ArithmeticException.class, () -> MarginMath.unrealizedPnl(1, Long.MIN_VALUE, 1, 1));
    assertThrows(ArithmeticException.class, () -> MarginMath.unrealizedPnl(Long.MAX_VALUE, 0, 2, 1));
  }

  @Test
  void maintenanceMarginOfANegativeNotionalIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> MarginMath.maintenanceMargin(-1, BINANCE_TIERS));
  }
}
