package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.clearinghouse.audit.Review7AuditAccess;
import io.clearinghouse.it.TestNodes;
import io.clearinghouse.liquidation.InsuranceFund;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Review 7 of e9332c7 (the audit's fee-sweep rules). Legitimate journals the protocol writes must
 * audit clean (the first tests); journals the protocol never writes must not (the last ones).
 */
class Review7FeeSweepAuditTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long PRICE = 500_000;
  private static final long LOTS = 1_000;

  private static long value(long lots) {
    return lots * PRICE * TestNodes.INSTRUMENTS.require(PERP).notionalMultiplier();
  }

  /** One side of trade {@code seq}: opening {@code lots} (cost = value), with {@code fee} (negative: rebate). */
  private static AccountEntity.TradeCleared side(long seq, long lots, long fee) {
    return new AccountEntity.TradeCleared("t-" + seq, seq, PERP, lots, PRICE, fee, 0, value(lots), 0, null, 0,
        "other", fee > 0, null);
  }

  /** A refund of the side of trade {@code seq} (its trade refused). */
  private static AccountEntity.TradeSideReversed reversal(long seq, long lots, long feeRefund) {
    return new AccountEntity.TradeSideReversed("t-" + seq, seq, PERP, -lots, PRICE, feeRefund, 0, value(-lots), 0, PRICE);
  }

  private static List<Object> opened(String id) {
    List<Object> events = new ArrayList<>();
    events.add(new AccountEntity.AccountOpened(id));
    events.add(new AccountEntity.Deposited("d1", 100_000 * USDT, 1, 0, "op"));
    return events;
  }

  // --- legitimate journals (these pass: no false positive found) -----------------------------

  /** A 25 fee, then a maker rebate of 40: the first sweep is -15, a net rebate; -40 would leave 25 behind. */
  @Test
  void aNegativeFirstSweepTakesEveryFeeSinceTheAccountOpened() {
    List<Object> e = opened("a");
    e.add(side(1, LOTS, 25 * USDT));
    e.add(side(2, -LOTS, -40 * USDT));
    List<Object> left = new ArrayList<>(e);
    e.add(new AccountEntity.FeesSwept(FeeSweep.key("a", 1), -15 * USDT));
    e.add(new AccountEntity.FeesCollected(FeeSweep.key("a", 1)));
    assertEquals(List.of(), Review7AuditAccess.accountViolations("a", e));
    left.add(new AccountEntity.FeesSwept(FeeSweep.key("a", 1), -40 * USDT));
    assertFalse(Review7AuditAccess.accountViolations("a", left).isEmpty(), "a first sweep leaving 25 behind");
  }

  /** The first sweep (a rebate claim) voided, then re-claimed netted with new fees under the next number. */
  @Test
  void aVoidedFirstSweepReSweptWithNewFeesIsClean() {
    List<Object> e = opened("a");
    e.add(side(1, LOTS, 25 * USDT));
    e.add(side(2, -LOTS, -40 * USDT));
    e.add(new AccountEntity.FeesSwept(FeeSweep.key("a", 1), -15 * USDT));
    e.add(new AccountEntity.FeesSweepVoided(FeeSweep.key("a", 1), -15 * USDT));
    e.add(side(3, LOTS, 10 * USDT));
    e.add(new AccountEntity.FeesSwept(FeeSweep.key("a", 2), -5 * USDT));
    e.add(new AccountEntity.FeesCollected(FeeSweep.key("a", 2)));
    e.add(side(4, -LOTS, 5 * USDT));
    e.add(new AccountEntity.FeesSwept(FeeSweep.key("a", 3), 5 * USDT));
    assertEquals(List.of(), Review7AuditAccess.accountViolations("a", e));
    List<Object> reserve = List.of(new InsuranceFund.FeeSweepVoided("a", 1, 1));
    assertEquals(List.of(), Review7AuditAccess.reserveViolations("platform-revenue", reserve));
  }

  /** A fee refunded (its trade refused) before the first sweep: the sweep takes what is left. */
  @Test
  void aRefundBeforeTheFirstSweepIsClean() {
    List<Object> e = opened("a");
    e.add(side(1, LOTS, 25 * USDT));
    e.add(side(2, LOTS, 25 * USDT));
    e.add(reversal(1, LOTS, 25 * USDT));
    e.add(new AccountEntity.FeesSwept(FeeSweep.key("a", 1), 25 * USDT));
    assertEquals(List.of(), Review7AuditAccess.accountViolations("a", e));
    List<Object> f = opened("b");
    f.add(side(1, LOTS, 25 * USDT));
    f.add(reversal(1, LOTS, 25 * USDT));
    f.add(side(2, LOTS, 7 * USDT));
    f.add(new AccountEntity.FeesSwept(FeeSweep.key("b", 1), 7 * USDT));
    assertEquals(List.of(), Review7AuditAccess.accountViolations("b", f));
  }

  @Test
  void anAccountThatNeverTradedIsClean() {
    assertEquals(List.of(), Review7AuditAccess.accountViolations("a", opened("a")));
    assertEquals(List.of(), Review7AuditAccess.accountViolations("a", List.of(new AccountEntity.AccountOpened("a"))));
  }

  // --- journals the protocol never writes --------------------------------------------------

  /**
   * Finding 1 (false negative, cross-ledger). The reserve voided rebate claim 1 of account "b" for
   * good (FeeSweepVoided) but the account recorded it as taken in (FeesCollected) instead of
   * voided: the account's fee revenue holds +5 it never got, the claim is "in transit" forever.
   * Neither ledger's new void rules see it: the account ledger ignores FeesCollected, and the
   * reserve's voided keys never meet the accounts' sweeps, so the audit books it as in transit.
   * Control: the same journals with the account's FeesSweepVoided audit clean.
   */
  @Test
  void aSweepVoidedByTheReserveButCollectedByTheAccountIsAViolation() throws Exception {
    List<Object> a = opened("a");
    a.add(side(1, LOTS, 25 * USDT));
    List<Object> b = opened("b");
    b.add(side(1, -LOTS, -5 * USDT));
    String key = FeeSweep.key("b", 1);
    b.add(new AccountEntity.FeesSwept(key, -5 * USDT));
    List<Object> reserve = List.of(new InsuranceFund.FeeSweepVoided("b", 1, 1));

    List<Object> voided = new ArrayList<>(b);
    voided.add(new AccountEntity.FeesSweepVoided(key, -5 * USDT));
    assertEquals(List.of(), Review7AuditAccess.auditViolations(Map.of("a", a, "b", voided),
        Map.of("platform-revenue", reserve)), "control: the legitimate journals");

    List<Object> collected = new ArrayList<>(b);
    collected.add(new AccountEntity.FeesCollected(key));
    List<String> violations = Review7AuditAccess.auditViolations(Map.of("a", a, "b", collected),
        Map.of("platform-revenue", reserve));
    assertFalse(violations.isEmpty(), "sweep " + key + " voided by the reserve, recorded collected by the account,"
        + " audits clean (booked as in transit for ever)");
  }

  /**
   * Finding 2 (false negative). An account that paid 25, 25, 25 in its first three trades sweeps 25
   * first: 50 were booked "collected before fee sweeps existed" and never swept (the rule accepted
   * any event boundary as a possible pre-sweep snapshot). No released snapshot predates fee sweeps:
   * the first sweep now takes every fee since the account opened.
   */
  @Test
  void aFirstSweepLeavingFeesBehindAtABoundaryNoSnapshotWasTakenIsAViolation() {
    List<Object> e = opened("a");
    e.add(side(1, LOTS, 25 * USDT));
    e.add(side(2, -LOTS, 25 * USDT));
    e.add(side(3, LOTS, 25 * USDT));
    e.add(new AccountEntity.FeesSwept(FeeSweep.key("a", 1), 25 * USDT));
    assertFalse(Review7AuditAccess.accountViolations("a", e).isEmpty(),
        "a first sweep leaving 50 behind at sequence 4 (no snapshot there) audits clean");
  }

  /**
   * Finding 3 (false negative). FeesCollected is not checked at all by the account's ledger: a
   * FeesCollected for a key never swept, or for a voided key, audits clean in the account.
   */
  @Test
  void aFeesCollectedForAKeyNeverSweptOrVoidedIsAViolation() {
    List<Object> e = opened("a");
    e.add(side(1, LOTS, 25 * USDT));
    e.add(new AccountEntity.FeesSwept(FeeSweep.key("a", 1), 25 * USDT));
    e.add(new AccountEntity.FeesSweepVoided(FeeSweep.key("a", 1), 25 * USDT));
    e.add(new AccountEntity.FeesCollected(FeeSweep.key("a", 1)));
    e.add(new AccountEntity.FeesCollected(FeeSweep.key("a", 7)));
    assertFalse(Review7AuditAccess.accountViolations("a", e).isEmpty(),
        "FeesCollected for a voided key and for a key never swept audit clean");
  }
}
