package io.clearinghouse.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The one percentage parser: exact to 1 ppm, bounds inclusive, the key named on every refusal. */
class PpmTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "0.05%    | 500",
      "10%      | 100000",
      " 0.2 %   | 2000",
      "0.0001%  | 1",
      "-0.01%   | -100",
      "100%     | 1000000",
      "0%       | 0"})
  void percentagesAreExactPartsPerMillion(String text, long ppm) {
    assertEquals(ppm, Ppm.percent(text, "a.key", -Ppm.MILLION, Ppm.MILLION));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "0.00001% | -1000000 | 1000000",
      "0.05     | -1000000 | 1000000",
      "five%    | -1000000 | 1000000",
      "''       | -1000000 | 1000000",
      "100%     | 0        | 999999",
      "0%       | 1        | 999999",
      "-1%      | 0        | 1000000"})
  void anythingFinerThanOnePpmOrOutOfRangeIsRefusedNamingTheKey(String text, long min, long max) {
    ConfigException e = assertThrows(ConfigException.class, () -> Ppm.percent(text, "clearinghouse.some.key", min, max));
    assertTrue(e.getMessage().contains("clearinghouse.some.key"), e.getMessage());
  }

  @org.junit.jupiter.api.Test
  void formatsWithTheDecimalsItNeeds() {
    assertEquals("0.2%", Ppm.format(2_000));
    assertEquals("100%", Ppm.format(1_000_000));
    assertEquals("0.0001%", Ppm.format(1));
  }
}
