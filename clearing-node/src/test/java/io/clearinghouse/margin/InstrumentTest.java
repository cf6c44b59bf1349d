package io.clearinghouse.margin;

import static io.clearinghouse.margin.Fixtures.BINANCE_TIERS;
import static io.clearinghouse.margin.Fixtures.BTC_PERP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class InstrumentTest {
  private static Instrument perpetual(String tick, String lot, int scale) {
    return Instrument.define("TEST-PERP", InstrumentKind.PERPETUAL, null, scale, tick, lot, 200, 400, 5_000, BINANCE_TIERS);
  }

  @ParameterizedTest(name = "tick {0} x lot {1} at scale {2} = {3}")
  @CsvSource({
      "0.1,  0.001, 6, 100",
      "0.01, 0.01,  6, 100",
      "0.5,  1,     0, 0.5",
      "0.10, 0.0010, 6, 100",
      "10,   0.1,   2, 100",
      "0.5,  2,     0, 1",
      "1,    1,     18, 1000000000000000000"
  })
  void derivesTheNotionalMultiplierExactly(String tick, String lot, int scale, String expected) {
    if (new BigDecimal(expected).stripTrailingZeros().scale() > 0) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> perpetual(tick, lot, scale));
      assertTrue(e.getMessage().contains("TEST-PERP") && e.getMessage().contains("not a whole number"), e.getMessage());
    } else {
      assertEquals(Long.parseLong(expected), perpetual(tick, lot, scale).notionalMultiplier());
    }
  }

  @Test
  void btcPerpetualHasMultiplierOneHundred() {
    assertEquals(100, BTC_PERP.notionalMultiplier());
  }

  @Test
  void subMinorUnitStepsAreRefusedNamingTheInstrument() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> perpetual("0.0000001", "0.001", 6));
    assertTrue(e.getMessage().startsWith("TEST-PERP:"), e.getMessage());
    assertTrue(e.getMessage().contains("0.0001"), e.getMessage());
  }

  @Test
  void multiplierTooLargeForALongIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> perpetual("1000", "1000", 18));
    assertTrue(e.getMessage().contains("does not fit a long"), e.getMessage());
  }

  @Test
  void equivalentStepSpellingsGiveEqualInstruments() {
    assertEquals(perpetual("0.1", "0.001", 6), perpetual("0.100", "0.00100", 6));
  }

  @Test
  void canonicalConstructorRefusesAMultiplierThatIsNotTheDerivedOne() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Instrument(
        "BTCUSDT-PERP", InstrumentKind.PERPETUAL, null, 6, new BigDecimal("0.1"), new BigDecimal("0.001"), 10,
        200, 400, 5_000, BINANCE_TIERS));
    assertTrue(e.getMessage().contains("must be 100, was 10"), e.getMessage());
  }

  @Test
  void expiryGoesWithDatedFuturesOnly() {
    Instant expiry = Instant.parse("2021-06-25T08:00:00Z");
    Instrument future = Instrument.define("BTCUSDT-210625", InstrumentKind.DATED_FUTURE, expiry, 6, "0.1", "0.001",
        200, 400, 5_000, BINANCE_TIERS);
    assertEquals(expiry, future.expiry());
    assertThrows(IllegalArgumentException.class, () -> Instrument.define("BTCUSDT-210625", InstrumentKind.DATED_FUTURE,
        null, 6, "0.1", "0.001", 200, 400, 5_000, BINANCE_TIERS));
    assertThrows(IllegalArgumentException.class, () -> Instrument.define("BTCUSDT-PERP", InstrumentKind.PERPETUAL,
        expiry, 6, "0.1", "0.001", 200, 400, 5_000, BINANCE_TIERS));
  }

  @ParameterizedTest(name = "maker {0}, taker {1}, liquidation {2} accepted: {3}")
  @CsvSource({
      "200,     400,     5000,    true",
      "-100,    400,     5000,    true",
      "-400,    400,     5000,    true",
      "-401,    400,     5000,    false",
      "200,     -1,      5000,    false",
      "200,     1000001, 5000,    false",
      "1000001, 400,     5000,    false",
      "200,     400,     -1,      false",
      "200,     400,     1000001, false"
  })
  void feesAreRatesAndRebatesNeverExceedTheTakerFee(long maker, long taker, long liquidation, boolean accepted) {
    if (accepted) {
      assertEquals(maker, Instrument.define("X", InstrumentKind.PERPETUAL, null, 6, "0.1", "0.001", maker, taker,
          liquidation, BINANCE_TIERS).makerFeePpm());
    } else {
      assertThrows(IllegalArgumentException.class, () -> Instrument.define("X", InstrumentKind.PERPETUAL, null, 6,
          "0.1", "0.001", maker, taker, liquidation, BINANCE_TIERS));
    }
  }

  @ParameterizedTest
  @CsvSource({"'', 0.001", "0, 0.001", "-0.1, 0.001", "0.1, abc", "0.1, 1e-3"})
  void stepsMustBePositivePlainDecimals(String tick, String lot) {
    assertThrows(IllegalArgumentException.class, () -> perpetual(tick, lot, 6));
  }

  @ParameterizedTest(name = "price {0} = {1} ticks")
  @CsvSource({
      "50000.1,  500001",
      "50000,    500000",
      "50000.10, 500001",
      "0.1,      1",
      "007.5,    75",
      "922337203685477580.7, 9223372036854775807"
  })
  void parsesPricesToTicks(String text, long ticks) {
    assertEquals(ticks, BTC_PERP.parsePriceTicks(text));
  }

  @ParameterizedTest(name = "quantity {0} = {1} lots")
  @CsvSource({"0.001, 1", "1.5, 1500", "1, 1000", "2.0000, 2000"})
  void parsesQuantitiesToLots(String text, long lots) {
    assertEquals(lots, BTC_PERP.parseQuantityLots(text));
  }

  @ParameterizedTest(name = "price ''{0}'' -> {1}")
  @CsvSource({
      "'',                    MALFORMED",
      "abc,                   MALFORMED",
      "1e5,                   MALFORMED",
      "+5,                    MALFORMED",
      "' 5',                  MALFORMED",
      "5.,                    MALFORMED",
      ".5,                    MALFORMED",
      "1.2.3,                 MALFORMED",
      "'1,000',               MALFORMED",
      "--5,                   MALFORMED",
      "-abc,                  MALFORMED",
      "12345678901234567890123456789012345678901, MALFORMED",
      "0,                     NOT_POSITIVE",
      "0.0,                   NOT_POSITIVE",
      "-5,                    NOT_POSITIVE",
      "-0.1,                  NOT_POSITIVE",
      "50000.15,              OFF_TICK",
      "0.05,                  OFF_TICK",
      "922337203685477580.8,  OVERFLOW",
      "99999999999999999999999, OVERFLOW"
  })
  void refusesBadPricesWithAStableProblem(String text, ParseProblem expected) {
    InstrumentInputException e = assertThrows(InstrumentInputException.class, () -> BTC_PERP.parsePriceTicks(text));
    assertEquals(expected, e.problem(), e.getMessage());
    assertInstanceOf(IllegalArgumentException.class, e);
  }

  @ParameterizedTest(name = "quantity ''{0}'' -> {1}")
  @CsvSource({
      "'',      MALFORMED",
      "0,       NOT_POSITIVE",
      "-1,      NOT_POSITIVE",
      "0.0015,  OFF_LOT",
      "0.0001,  OFF_LOT",
      "9223372036854775.808, OVERFLOW"
  })
  void refusesBadQuantitiesWithAStableProblem(String text, ParseProblem expected) {
    InstrumentInputException e = assertThrows(InstrumentInputException.class, () -> BTC_PERP.parseQuantityLots(text));
    assertEquals(expected, e.problem(), e.getMessage());
  }

  @Test
  void offStepMessagesSayWhichStep() {
    String tick = assertThrows(InstrumentInputException.class, () -> BTC_PERP.parsePriceTicks("50000.15")).getMessage();
    assertEquals("price 50000.15 is not a multiple of the tick size 0.1 of BTCUSDT-PERP", tick);
    String lot = assertThrows(InstrumentInputException.class, () -> BTC_PERP.parseQuantityLots("0.0015")).getMessage();
    assertEquals("quantity 0.0015 is not a multiple of the lot size 0.001 of BTCUSDT-PERP", lot);
  }

  @Test
  void parsesOnCoarseSteps() {
    Instrument halfTick = perpetual("0.5", "2", 0);
    assertEquals(201, halfTick.parsePriceTicks("100.5"));
    assertEquals(ParseProblem.OFF_TICK,
        assertThrows(InstrumentInputException.class, () -> halfTick.parsePriceTicks("100.3")).problem());
    assertEquals(3, halfTick.parseQuantityLots("6"));
    assertEquals(ParseProblem.OFF_LOT,
        assertThrows(InstrumentInputException.class, () -> halfTick.parseQuantityLots("5")).problem());
  }

  @ParameterizedTest(name = "{0} ticks = {1}")
  @CsvSource({"500001, 50000.1", "1, 0.1", "0, 0.0", "500000, 50000.0", "9223372036854775807, 922337203685477580.7"})
  void formatsPricesAtTheTicksDecimals(long ticks, String expected) {
    assertEquals(expected, BTC_PERP.formatPrice(ticks));
    if (ticks > 0) {
      assertEquals(ticks, BTC_PERP.parsePriceTicks(expected));
    }
  }

  @ParameterizedTest(name = "{0} lots = {1}")
  @CsvSource({"1500, 1.500", "1, 0.001", "-1, -0.001", "-2000, -2.000", "0, 0.000"})
  void formatsSignedQuantitiesAtTheLotsDecimals(long lots, String expected) {
    assertEquals(expected, BTC_PERP.formatQuantity(lots));
  }

  @Test
  void wholeNumberStepsFormatWithoutDecimals() {
    Instrument tens = perpetual("10", "0.1", 2);
    assertEquals("30", tens.formatPrice(3));
    assertEquals(3, tens.parsePriceTicks("30"));
    assertEquals(ParseProblem.OFF_TICK, assertThrows(InstrumentInputException.class, () -> tens.parsePriceTicks("35")).problem());
  }

  @ParameterizedTest(name = "{0} ticks x {1} lots = {2}")
  @CsvSource({
      // 1 BTC at 50,000.0 USDT = 50,000 USDT = 5e10 minor units
      "500000, 1000,  50000000000",
      "500000, -1000, 50000000000",
      "500001, 1,     50000100",
      "1,      1,     100"
  })
  void notionalIsExactInMinorUnits(long priceTicks, long lots, long expected) {
    assertEquals(expected, BTC_PERP.notional(priceTicks, lots));
  }

  @ParameterizedTest
  @CsvSource({"92233720368547759, 1", "1, 92233720368547759", "1, -9223372036854775808"})
  void notionalOverflowThrows(long priceTicks, long lots) {
    assertThrows(ArithmeticException.class, () -> BTC_PERP.notional(priceTicks, lots));
  }
}
