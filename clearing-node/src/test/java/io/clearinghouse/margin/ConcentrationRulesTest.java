package io.clearinghouse.margin;

import static io.clearinghouse.margin.ConcentrationRules.Verdict.ACCEPTED;
import static io.clearinghouse.margin.ConcentrationRules.Verdict.ACCOUNT_POSITION_LIMIT;
import static io.clearinghouse.margin.ConcentrationRules.Verdict.CONCENTRATION_LIMIT;
import static io.clearinghouse.margin.ConcentrationRules.Verdict.OPEN_INTEREST_LIMIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Concentration and open-interest limits (issue 16 item 4): each boundary, exactly at it and one lot beyond. */
class ConcentrationRulesTest {
  private static final long USDT = 1_000_000;
  private static final long MARK = 500_000;
  private static final long M = 100;
  /** 200,000 per account, 250,000 of open interest, 60% per account once the open interest is 100,000. */
  private static final ConcentrationRules.Limits LIMITS = new ConcentrationRules.Limits(250_000 * USDT,
      200_000 * USDT, 600_000, 100_000 * USDT);

  @Test
  void theAccountsPositionCap() {
    // 4 BTC at 50,000 is 200,000: at the cap; one lot more is beyond it.
    assertEquals(ACCEPTED, ConcentrationRules.check(LIMITS, 1_000, 4_000, 0, MARK, M));
    assertEquals(ACCOUNT_POSITION_LIMIT, ConcentrationRules.check(LIMITS, 1_000, 4_001, 0, MARK, M));
  }

  @Test
  void theOpenInterestCap() {
    // 2 BTC open and 3 more: 5 BTC, 250,000: at the cap (and 60% of it, not above); one lot more is beyond.
    assertEquals(ACCEPTED, ConcentrationRules.check(LIMITS, 3_000, 3_000, 2_000, MARK, M));
    assertEquals(OPEN_INTEREST_LIMIT, ConcentrationRules.check(LIMITS, 3_001, 3_001, 2_000, MARK, M));
  }

  @Test
  void theAccountsShareOnceTheOpenInterestIsLargeEnough() {
    // 2 BTC open, all the account's, and 0.5 more: 2.5 of 2.5 BTC (125,000 >= 100,000): 100% > 60%.
    assertEquals(CONCENTRATION_LIMIT, ConcentrationRules.check(LIMITS, 500, 2_500, 2_000, MARK, M));
    // In a young market (1 BTC, 50,000 < 100,000) every first position is all of it: not judged.
    assertEquals(ACCEPTED, ConcentrationRules.check(LIMITS, 500, 1_000, 500, MARK, M));
    // 3 of 5 BTC is 60%: at the share; 3.001 of 5.001 above it (but the open interest cap comes first).
    assertEquals(ACCEPTED, ConcentrationRules.check(LIMITS, 1_000, 3_000, 4_000, MARK, M));
    assertEquals(CONCENTRATION_LIMIT, ConcentrationRules.check(new ConcentrationRules.Limits(0, 0, 600_000,
        100_000 * USDT), 1_000, 3_001, 4_000, MARK, M));
  }

  @Test
  void reducingOrdersAndNoLimitsAlwaysPass() {
    assertEquals(ACCEPTED, ConcentrationRules.check(LIMITS, 0, 100_000, 100_000, MARK, M));
    assertEquals(ACCEPTED, ConcentrationRules.check(ConcentrationRules.Limits.NONE, 1_000_000, 1_000_000, 0, MARK, M));
    assertThrows(ArithmeticException.class, () -> ConcentrationRules.check(LIMITS, 1, Long.MAX_VALUE, 0, MARK, M));
    assertThrows(IllegalArgumentException.class, () -> new ConcentrationRules.Limits(-1, 0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new ConcentrationRules.Limits(0, 0, 1_000_001, 0));
  }
}
