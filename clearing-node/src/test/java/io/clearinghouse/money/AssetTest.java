package io.clearinghouse.money;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AssetTest {
  private static final Asset USDT = new Asset("USDT", 6);

  @ParameterizedTest
  @CsvSource({
      "1250.000000, 1250000000",
      "1250.5,      1250500000",
      "1250,        1250000000",
      "0.000001,    1",
      "007.10,      7100000",
      "9223372036854.775807, 9223372036854775807"
  })
  void parsesExactly(String text, long expected) {
    assertEquals(expected, USDT.parsePositive(text));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "''                    | MALFORMED_AMOUNT",
      "abc                   | MALFORMED_AMOUNT",
      "1.2.3                 | MALFORMED_AMOUNT",
      "1e6                   | MALFORMED_AMOUNT",
      "+5                    | MALFORMED_AMOUNT",
      "' 5'                  | MALFORMED_AMOUNT",
      "5.                    | MALFORMED_AMOUNT",
      ".5                    | MALFORMED_AMOUNT",
      "1,000                 | MALFORMED_AMOUNT",
      "--5                   | MALFORMED_AMOUNT",
      "0                     | AMOUNT_NOT_POSITIVE",
      "0.000000              | AMOUNT_NOT_POSITIVE",
      "-5                    | AMOUNT_NOT_POSITIVE",
      "-0.5                  | AMOUNT_NOT_POSITIVE",
      "0.0000001             | AMOUNT_TOO_PRECISE",
      "1.1234567             | AMOUNT_TOO_PRECISE",
      "9223372036854.775808  | AMOUNT_OVERFLOW",
      "99999999999999999999  | AMOUNT_OVERFLOW",
      "12345678901234567890123456789012345678901 | MALFORMED_AMOUNT"
  })
  void refusesBadAmounts(String text, Rejection expected) {
    RejectedException e = assertThrows(RejectedException.class, () -> USDT.parsePositive(text));
    assertEquals(expected, e.reason(), e.getMessage());
  }

  @ParameterizedTest
  @CsvSource({
      "0,                    0.000000",
      "1,                    0.000001",
      "1250500000,           1250.500000",
      "-1,                   -0.000001",
      "-1250500000,          -1250.500000",
      "9223372036854775807,  9223372036854.775807",
      "-9223372036854775808, -9223372036854.775808"
  })
  void formatsAtScale(long units, String expected) {
    assertEquals(expected, USDT.format(units));
  }

  @ParameterizedTest
  @CsvSource({"1", "999999", "1000000", "123456789012", "9223372036854775807"})
  void formatThenParseIsIdentity(long units) {
    assertEquals(units, USDT.parsePositive(USDT.format(units)));
  }

  @ParameterizedTest
  @CsvSource({"12, 12", "0, 0"})
  void scaleZeroHasNoPoint(long units, String expected) {
    assertEquals(expected, new Asset("UNIT", 0).format(units));
  }

  @ParameterizedTest
  @CsvSource({
      "0.000000,     0",
      "0,            0",
      "-53.250001,   -53250001",
      "1250.5,       1250500000",
      "-0.000001,    -1"
  })
  void parsesSignedAmountsAsTheApiWritesThem(String text, long expected) {
    assertEquals(expected, USDT.parseSigned(text));
    assertEquals(USDT.format(expected), USDT.format(USDT.parseSigned(USDT.format(expected))));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "--5        | MALFORMED_AMOUNT",
      "-          | MALFORMED_AMOUNT",
      "''         | MALFORMED_AMOUNT",
      "-1.0000001 | AMOUNT_TOO_PRECISE"
  })
  void refusesMalformedSignedAmounts(String text, Rejection expected) {
    RejectedException e = assertThrows(RejectedException.class, () -> USDT.parseSigned(text));
    assertEquals(expected, e.reason(), e.getMessage());
  }
}
