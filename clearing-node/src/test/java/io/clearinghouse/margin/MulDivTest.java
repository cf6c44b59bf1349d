package io.clearinghouse.margin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MulDivTest {
  private static final long MAX = Long.MAX_VALUE;
  private static final long MIN = Long.MIN_VALUE;

  @ParameterizedTest(name = "{0} * {1} / {2} -> floor {3}, ceil {4}")
  @CsvSource({
      // small products, both signs: 21 / 2 = 10.5
      "7, 3, 2, 10, 11",
      "-7, 3, 2, -11, -10",
      "7, -3, 2, -11, -10",
      "-7, -3, 2, 10, 11",
      "6, 1, 3, 2, 2",
      "-6, 1, 3, -2, -2",
      "0, 123, 7, 0, 0",
      "1, 1, 1, 1, 1",
      "-1, 1, 1000000, -1, 0",
      "1, 1, 1000000, 0, 1",
      // products that fit a long exactly at its ends
      "9223372036854775807, 1, 1, 9223372036854775807, 9223372036854775807",
      "-9223372036854775808, 1, 1, -9223372036854775808, -9223372036854775808",
      // 128-bit products: 500M USDT notional (5e14 minor) times a 50% rate
      "500000000000000, 500000, 1000000, 250000000000000, 250000000000000",
      "500000000000001, 500000, 1000000, 250000000000000, 250000000000001",
      "-500000000000001, 500000, 1000000, -250000000000001, -250000000000000",
      "9223372036854775807, 9223372036854775807, 9223372036854775807, 9223372036854775807, 9223372036854775807",
      "9223372036854775807, 2, 2, 9223372036854775807, 9223372036854775807",
      "-9223372036854775808, 2, 2, -9223372036854775808, -9223372036854775808",
      "-9223372036854775808, 3, 3, -9223372036854775808, -9223372036854775808",
      "-9223372036854775808, -1, 2, 4611686018427387904, 4611686018427387904",
      // (2^64 - 1) / 2: floor is exactly Long.MAX_VALUE, ceil would be 2^63 (checked below)
      "-4294967295, 4294967297, 2, -9223372036854775808, -9223372036854775807"
  })
  void roundsTowardMinusAndPlusInfinity(long a, long b, long d, long floor, long ceil) {
    assertEquals(floor, MulDiv.mulDivFloor(a, b, d), "floor");
    assertEquals(ceil, MulDiv.mulDivCeil(a, b, d), "ceil");
    assertEquals(floor, MulDiv.mulDivFloor(b, a, d), "floor, operands swapped");
    assertEquals(ceil, MulDiv.mulDivCeil(b, a, d), "ceil, operands swapped");
  }

  @Test
  void quotientOneStepPastTheRangeOverflowsOnlyInThatDirection() {
    // (2^64 - 1) / 2 = 2^63 - 0.5: floor fits, ceil is 2^63.
    assertEquals(MAX, MulDiv.mulDivFloor(4294967295L, 4294967297L, 2));
    assertThrows(ArithmeticException.class, () -> MulDiv.mulDivCeil(4294967295L, 4294967297L, 2));
    // -(2^64 + 1) / 2 = -2^63 - 0.5: ceil is Long.MIN_VALUE, floor one below it.
    assertEquals(MIN, MulDiv.mulDivCeil(-274177L, 67280421310721L, 2));
    assertThrows(ArithmeticException.class, () -> MulDiv.mulDivFloor(-274177L, 67280421310721L, 2));
  }

  @ParameterizedTest
  @CsvSource({
      "9223372036854775807, 9223372036854775807, 1",
      "9223372036854775807, 2, 1",
      "-9223372036854775808, -1, 1",
      "-9223372036854775808, 2, 1",
      "-9223372036854775808, -9223372036854775808, 9223372036854775807",
      "4611686018427387904, 4, 2"
  })
  void resultsOutsideLongThrow(long a, long b, long d) {
    assertThrows(ArithmeticException.class, () -> MulDiv.mulDivFloor(a, b, d));
    assertThrows(ArithmeticException.class, () -> MulDiv.mulDivCeil(a, b, d));
  }

  @ParameterizedTest
  @CsvSource({"0", "-1", "-9223372036854775808"})
  void divisorMustBePositive(long d) {
    assertThrows(IllegalArgumentException.class, () -> MulDiv.mulDivFloor(1, 1, d));
    assertThrows(IllegalArgumentException.class, () -> MulDiv.mulDivCeil(1, 1, d));
    assertThrows(IllegalArgumentException.class, () -> MulDiv.ceilDiv(1, d));
    assertThrows(IllegalArgumentException.class, () -> MulDiv.floorDiv(1, d));
  }

  @ParameterizedTest(name = "{0} / {1} -> floor {2}, ceil {3}")
  @CsvSource({
      "7, 2, 3, 4",
      "-7, 2, -4, -3",
      "6, 3, 2, 2",
      "-6, 3, -2, -2",
      "0, 5, 0, 0",
      "1, 9223372036854775807, 0, 1",
      "-1, 9223372036854775807, -1, 0",
      "9223372036854775807, 2, 4611686018427387903, 4611686018427387904",
      "-9223372036854775808, 1, -9223372036854775808, -9223372036854775808",
      "-9223372036854775808, 3, -3074457345618258603, -3074457345618258602"
  })
  void plainDivisionRoundsBothWays(long a, long d, long floor, long ceil) {
    assertEquals(floor, MulDiv.floorDiv(a, d));
    assertEquals(ceil, MulDiv.ceilDiv(a, d));
  }

  @Test
  void agreesWithBigIntegerOnRandomOperands() {
    Random random = new Random(20210301L);
    for (int i = 0; i < 200_000; i++) {
      long a = operand(random);
      long b = operand(random);
      long d = Math.max(1, Math.abs(operand(random) | 1));
      assertMatchesOracle(a, b, d);
    }
  }

  private static long operand(Random random) {
    switch (random.nextInt(5)) {
      case 0:
        return random.nextLong();
      case 1:
        return random.nextInt();
      case 2:
        return random.nextInt(2_000_001) - 1_000_000;
      case 3:
        return (random.nextBoolean() ? MAX : MIN) - random.nextInt(3) + (random.nextBoolean() ? 0 : 1);
      default:
        return random.nextLong() >> random.nextInt(64);
    }
  }

  private static void assertMatchesOracle(long a, long b, long d) {
    BigInteger product = BigInteger.valueOf(a).multiply(BigInteger.valueOf(b));
    BigInteger[] qr = product.divideAndRemainder(BigInteger.valueOf(d));
    BigInteger floor = qr[1].signum() < 0 ? qr[0].subtract(BigInteger.ONE) : qr[0];
    BigInteger ceil = qr[1].signum() > 0 ? qr[0].add(BigInteger.ONE) : qr[0];
    String where = a + " * " + b + " / " + d;
    if (floor.bitLength() < 64) {
      assertEquals(floor.longValueExact(), MulDiv.mulDivFloor(a, b, d), where);
    } else {
      assertThrows(ArithmeticException.class, () -> MulDiv.mulDivFloor(a, b, d), where);
    }
    if (ceil.bitLength() < 64) {
      assertEquals(ceil.longValueExact(), MulDiv.mulDivCeil(a, b, d), where);
    } else {
      assertThrows(ArithmeticException.class, () -> MulDiv.mulDivCeil(a, b, d), where);
    }
  }
}
