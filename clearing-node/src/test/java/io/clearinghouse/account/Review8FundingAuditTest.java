package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.clearinghouse.audit.Review8AuditAccess;
import io.clearinghouse.funding.FundingClock;
import io.clearinghouse.it.TestNodes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Review 8, finding D (audit false negatives): the audit checks a funding pool only against what
 * its clock recorded and for being negative. It never re-derives a payment from what the event
 * itself says (lots, mark, rate: FundingMath.payment) nor holds the event's rate and mark to the
 * interval its clock fixed. So any zero-sum misstatement between two accounts, which the protocol
 * never writes, audits clean: money moved from one account to another under the name of funding.
 */
class Review8FundingAuditTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long PRICE = 500_000;
  private static final long LOTS = 1_000;
  private static final long T = 1_772_438_400_000L;   // 2026-03-02T08:00:00Z
  private static final long RATE = 10_000;            // 0.01%

  private static List<Object> holder(String id, long lots) {
    long value = lots * PRICE * TestNodes.INSTRUMENTS.require(PERP).notionalMultiplier();
    List<Object> events = new ArrayList<>();
    events.add(new AccountEntity.AccountOpened(id));
    events.add(new AccountEntity.Deposited("d1", 100_000 * USDT, 1, 0, "op"));
    events.add(new AccountEntity.TradeCleared("t-1", 1, PERP, lots, PRICE, 0, 0, value, 0, null, 0, "other", true,
        null, T - 3_600_000, 8 * 3_600_000L));
    return events;
  }

  private static Map<String, List<Object>> accounts(long longRate, long longAmount, long shortRate, long shortAmount) {
    List<Object> a = holder("a", LOTS);
    a.add(new AccountEntity.FundingApplied(PERP, T, longRate, PRICE, LOTS, longAmount, T + 5_000));
    List<Object> b = holder("b", -LOTS);
    b.add(new AccountEntity.FundingApplied(PERP, T, shortRate, PRICE, -LOTS, shortAmount, T + 5_000));
    return Map.of("a", a, "b", b);
  }

  private static Map<String, List<Object>> clock(long longAmount, long shortAmount) {
    return Map.of(PERP, List.of(
        new FundingClock.PremiumSampled(T, 1, 0),
        new FundingClock.IntervalFixed(T, RATE, PRICE, 0, 1, T + 1_000, T + 8 * 3_600_000L),
        new FundingClock.PaymentsRecorded(T, Map.of("a", longAmount, "b", shortAmount), T + 6_000),
        new FundingClock.IntervalClosed(T, T + 7_000)));
  }

  @Test
  void aFundingPaymentTheProtocolNeverComputesIsAViolation() throws Exception {
    // Control: 1 BTC at 50,000 at 0.01% is 5 USDT from the long to the short.
    assertEquals(List.of(), Review8AuditAccess.auditViolations(accounts(RATE, -5 * USDT, RATE, 5 * USDT),
        clock(-5 * USDT, 5 * USDT)));
    // 500 USDT moved under the events' own lots, mark and rate, which make it 5.
    assertFalse(Review8AuditAccess.auditViolations(accounts(RATE, -500 * USDT, RATE, 500 * USDT),
        clock(-500 * USDT, 500 * USDT)).isEmpty(), "a funding payment 100 times what its own rate, lots and mark give"
        + " audits clean");
  }

  @Test
  void aFundingPaymentAtARateItsClockNeverFixedIsAViolation() throws Exception {
    // Consistent with the event's own rate (0.1%), but the clock fixed 0.01% for 08:00.
    assertFalse(Review8AuditAccess.auditViolations(accounts(10 * RATE, -50 * USDT, 10 * RATE, 50 * USDT),
        clock(-50 * USDT, 50 * USDT)).isEmpty(), "a payment at a rate its clock never fixed audits clean");
  }
}
