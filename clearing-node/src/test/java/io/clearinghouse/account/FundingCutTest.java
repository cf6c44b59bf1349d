package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Funding is paid on the position held at the funding time (see {@link FundingLedger}): changes
 * after it do not count, a change from before it that arrives late does, and both sides of a trade
 * agree because they share its cut time.
 */
class FundingCutTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final long H = 3_600_000L;
  private static final long T8 = 1_767_254_400_000L;   // 2026-01-01T08:00:00Z
  private static final long EIGHT_H = 8 * H;

  private static FundingLedger.Position at(FundingLedger l) {
    return l.position(PERP);
  }

  @Test
  void aTradeAfterTheFundingTimeDoesNotCountForIt() {
    FundingLedger l = FundingLedger.EMPTY.changed(PERP, 0, 1_000, T8 - H, EIGHT_H);   // opened at 07:00
    l = l.changed(PERP, 1_000, 500, T8 + 1_000, EIGHT_H);                             // more at 08:00:01
    assertEquals(1_000, at(l).lotsAtFundingTime(T8, 1_500));
    // The next funding time: nothing changed since, the lots held now.
    assertEquals(1_500, at(l).lotsAtFundingTime(T8 + EIGHT_H, 1_500));
  }

  @Test
  void aPositionOpenedAfterTheFundingTimeOwesNothingForIt() {
    FundingLedger l = FundingLedger.EMPTY.changed(PERP, 0, 1_000, T8 + 5, EIGHT_H);
    assertEquals(0, at(l).lotsAtFundingTime(T8, 1_000));
  }

  @Test
  void aPositionClosedAfterTheFundingTimeStillOwesIt() {
    FundingLedger l = FundingLedger.EMPTY.changed(PERP, 0, -2_000, T8 - H, EIGHT_H);
    l = l.changed(PERP, -2_000, 2_000, T8 + 10, EIGHT_H);
    assertEquals(-2_000, at(l).lotsAtFundingTime(T8, 0));
  }

  @Test
  void aLateChangeFromBeforeTheFundingTimeIsCounted() {
    // Trades can reach an account out of order: one cut at 08:00:02 arrives, then one cut at 07:59:59.
    FundingLedger l = FundingLedger.EMPTY.changed(PERP, 0, 100, T8 - 2 * H, EIGHT_H);
    l = l.changed(PERP, 100, 50, T8 + 2_000, EIGHT_H);
    l = l.changed(PERP, 150, 30, T8 - 1_000, EIGHT_H);
    assertEquals(130, at(l).lotsAtFundingTime(T8, 180));
  }

  @Test
  void bothSidesOfATradeStraddlingTheFundingTimeAgree() {
    // The buyer applies the trade before 08:00 on its own clock, the seller after: the cut is the
    // register's, so both count it after (or both before).
    long cut = T8 + 3;
    FundingLedger buyer = FundingLedger.EMPTY.changed(PERP, 0, 500, T8 - H, EIGHT_H).changed(PERP, 500, 700, cut,
        EIGHT_H);
    FundingLedger seller = FundingLedger.EMPTY.changed(PERP, 0, -500, T8 - H, EIGHT_H).changed(PERP, -500, -700, cut,
        EIGHT_H);
    assertEquals(0, at(buyer).lotsAtFundingTime(T8, 1_200) + at(seller).lotsAtFundingTime(T8, -1_200));
  }

  @Test
  void aPaymentForgetsTheLotsRecordedUpToItsTime() {
    FundingLedger l = FundingLedger.EMPTY.changed(PERP, 0, 100, T8 - H, EIGHT_H);
    l = l.changed(PERP, 100, 100, T8 + EIGHT_H + 1, EIGHT_H);   // passes 08:00 and 16:00
    // The first change records that nothing was held at the funding times it passes (a later side
    // cut before them adds to them); the second the 100 lots held at 08:00 and 16:00.
    assertEquals(List.of(0L, 100L, 100L), List.of(at(l).lotsAtFundingTime(T8 - EIGHT_H, 200),
        at(l).lotsAtFundingTime(T8, 200), at(l).lotsAtFundingTime(T8 + EIGHT_H, 200)));
    l = l.with(new FundingLedger.Payment(PERP, T8, 10_000, 500_000, 100, -500, T8 + 5), 200);
    assertEquals(List.of(T8 + EIGHT_H), List.copyOf(new java.util.TreeSet<>(at(l).lotsAt().keySet())),
        "the records up to the payment's time are forgotten");
    assertEquals(100, at(l).lotsAtFundingTime(T8 + EIGHT_H, 200));
  }
}
