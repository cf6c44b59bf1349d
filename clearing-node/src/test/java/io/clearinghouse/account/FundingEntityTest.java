package io.clearinghouse.account;

import static io.clearinghouse.account.AccountHarness.ONE_BTC;
import static io.clearinghouse.account.AccountHarness.PERP;
import static io.clearinghouse.account.AccountHarness.FUTURE;
import static io.clearinghouse.account.AccountHarness.assertRejected;
import static io.clearinghouse.account.AccountHarness.price;
import static io.clearinghouse.account.AccountHarness.usdt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.common.Rejection;
import io.clearinghouse.money.Bucket;
import io.clearinghouse.money.Transfer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Funding payments on the account (issue 17): exact amounts for long and short payers and
 * receivers, payers rounded up and receivers down against the instrument's funding pool, once
 * per (instrument, funding time), in one event that moves cash and pool together.
 */
class FundingEntityTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final AtomicInteger sequence = new AtomicInteger(1_000);
  // Funding times after the trades below (which are cut at the account's clock, now).
  private static final long T1 = 1_893_484_800_000L;   // 2030-01-01T08:00:00Z
  private static final long T2 = T1 + 8 * 3_600_000L;
  private static final long BP = 10_000;               // 0.01% in 10^-8

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static AccountHarness holding(long lots, long atUsdt) {
    AccountHarness h = new AccountHarness(testKit, "funded");
    h.deposit(usdt(100_000));
    h.mark(PERP, atUsdt);
    int seq = sequence.incrementAndGet();
    assertInstanceOf(AccountEntity.TradeSideApplied.class, h.run(r -> new AccountEntity.ApplyTrade("t-" + seq, seq,
        PERP, lots, price(atUsdt), false, null, "other", r)).reply());
    return h;
  }

  private static AccountEntity.FundingPaid fund(AccountHarness h, long fundingTime, long rate, long markTicks) {
    return assertInstanceOf(AccountEntity.FundingPaid.class,
        h.run(r -> new AccountEntity.ApplyFunding(PERP, fundingTime, rate, markTicks, r)).reply());
  }

  @Test
  void aLongPaysAPositiveRateAndAShortReceivesIt() {
    AccountHarness longSide = holding(ONE_BTC, 50_000);
    AccountHarness shortSide = holding(-ONE_BTC, 50_000);
    long longCash = longSide.summary().cash();
    long shortCash = shortSide.summary().cash();
    // 1 BTC at 50,000, 0.01%: 5 USDT.
    var paid = longSide.run(r -> new AccountEntity.ApplyFunding(PERP, T1, BP, price(50_000), r));
    assertEquals(new AccountEntity.FundingPaid(-usdt(5), ONE_BTC, false), paid.reply());
    AccountEntity.FundingApplied event = (AccountEntity.FundingApplied) paid.event();
    assertEquals(List.of(new Transfer(Bucket.cash(accountId(longSide)),
        Bucket.fundingPool(PERP), usdt(5))), AccountTransfers.of(accountId(longSide), event));
    assertEquals(new AccountEntity.FundingPaid(usdt(5), -ONE_BTC, false), fund(shortSide, T1, BP, price(50_000)));
    assertEquals(longCash - usdt(5), longSide.summary().cash());
    assertEquals(shortCash + usdt(5), shortSide.summary().cash());
  }

  @Test
  void aNegativeRateMakesTheShortPayAndTheLongReceive() {
    AccountHarness longSide = holding(2 * ONE_BTC, 40_000);
    AccountHarness shortSide = holding(-2 * ONE_BTC, 40_000);
    // 2 BTC at 40,000 = 80,000; -0.0375% = -37,500e-8: 30 USDT from the short to the long.
    assertEquals(usdt(30), fund(longSide, T1, -37_500, price(40_000)).amount());
    assertEquals(-usdt(30), fund(shortSide, T1, -37_500, price(40_000)).amount());
  }

  @Test
  void payersRoundUpReceiversRoundDownAndTheResidueStaysInThePool() {
    AccountHarness longSide = holding(1, 50_000);      // 0.001 BTC
    AccountHarness shortSide = holding(-1, 50_000);
    long markTicks = 500_003;                          // 50,000.3: notional 50.0003 USDT, 0.01% = 5,000.03
    long paid = fund(longSide, T1, BP, markTicks).amount();
    long received = fund(shortSide, T1, BP, markTicks).amount();
    assertEquals(-5_001, paid);
    assertEquals(5_000, received);
    long pool = -(paid + received);
    assertEquals(1, pool, "the rounding residue, never negative");
  }

  @Test
  void eachIntervalAppliesOnceAndARepeatAnswersWithTheFirstPayment() {
    AccountHarness h = holding(ONE_BTC, 50_000);
    assertEquals(-usdt(5), fund(h, T1, BP, price(50_000)).amount());
    long cash = h.summary().cash();
    var again = h.run(r -> new AccountEntity.ApplyFunding(PERP, T1, BP, price(60_000), r));
    assertEquals(new AccountEntity.FundingPaid(-usdt(5), ONE_BTC, true), again.reply());
    assertTrue(again.hasNoEvents());
    // An earlier interval than the last applied is a repeat too (the clock pays in order).
    var earlier = h.run(r -> new AccountEntity.ApplyFunding(PERP, T1 - 1, BP, price(50_000), r));
    assertTrue(earlier.hasNoEvents());
    assertEquals(cash, h.summary().cash());
    // The next interval applies, and survives a restart.
    assertEquals(-usdt(6), fund(h, T2, BP, price(60_000)).amount());
    h.account.restart();
    assertEquals(new AccountEntity.FundingPaid(-usdt(6), ONE_BTC, true), fund(h, T2, BP, price(60_000)));
    AccountEntity.FundingPayments history = assertInstanceOf(AccountEntity.FundingPayments.class,
        h.run(r -> new AccountEntity.GetFundingPayments(null, 0, null, 10, r)).reply());
    assertEquals(List.of(T2, T1), history.newestFirst().stream().map(FundingLedger.Payment::fundingTime).toList());
    assertEquals(-usdt(11), ((Account) h.account.getState()).funding().position(PERP).total());
  }

  @Test
  void aFlatAccountPaysNothingButTheIntervalIsMarkedApplied() {
    AccountHarness h = holding(ONE_BTC, 50_000);
    int seq = sequence.incrementAndGet();
    h.run(r -> new AccountEntity.ApplyTrade("t-" + seq, seq, PERP, -ONE_BTC, price(50_000), false, null, "other", r));
    var flat = h.run(r -> new AccountEntity.ApplyFunding(PERP, T1, BP, price(50_000), r));
    assertEquals(new AccountEntity.FundingPaid(0, 0, false), flat.reply());
    assertTrue(AccountTransfers.of("x", flat.event()).isEmpty(), "nothing moves");
    // Reopening within the interval does not pay it after all.
    int seq2 = sequence.incrementAndGet();
    h.run(r -> new AccountEntity.ApplyTrade("t-" + seq2, seq2, PERP, ONE_BTC, price(50_000), false, null, "other", r));
    assertTrue(fund(h, T1, BP, price(50_000)).duplicate());
  }

  @Test
  void badFundingIsRefusedAndChangesNothing() {
    AccountHarness h = holding(ONE_BTC, 50_000);
    assertRejected(h.run(r -> new AccountEntity.ApplyFunding("ETHUSDT-PERP", T1, BP, price(50_000), r)),
        Rejection.UNKNOWN_INSTRUMENT);
    assertRejected(h.run(r -> new AccountEntity.ApplyFunding(FUTURE, T1, BP, price(50_000), r)),
        Rejection.NOT_PERPETUAL);
    assertRejected(h.run(r -> new AccountEntity.ApplyFunding(PERP, T1, BP, 0, r)), Rejection.PRICE_NOT_POSITIVE);
    assertRejected(h.run(r -> new AccountEntity.ApplyFunding(PERP, T1, Long.MAX_VALUE, price(50_000), r)),
        Rejection.BALANCE_OVERFLOW);
  }

  @Test
  void theHistoryPagesNewestFirstByTimeThenInstrument() {
    AccountHarness h = holding(ONE_BTC, 50_000);
    for (int i = 0; i < 5; i++) {
      long t = T1 + i * 3_600_000L;   // (8 h apart in production; any increasing times will do here)
      fund(h, t, BP, price(50_000));
    }
    AccountEntity.FundingPayments first = assertInstanceOf(AccountEntity.FundingPayments.class,
        h.run(r -> new AccountEntity.GetFundingPayments(PERP, 0, null, 2, r)).reply());
    assertEquals(2, first.newestFirst().size());
    assertTrue(first.more());
    FundingLedger.Payment last = first.newestFirst().get(1);
    AccountEntity.FundingPayments second = assertInstanceOf(AccountEntity.FundingPayments.class,
        h.run(r -> new AccountEntity.GetFundingPayments(PERP, last.fundingTime(), last.instrument(), 10, r)).reply());
    assertEquals(List.of(T1 + 2 * 3_600_000L, T1 + 3_600_000L, T1),
        second.newestFirst().stream().map(FundingLedger.Payment::fundingTime).toList());
    assertTrue(!second.more());
  }

  @Test
  void thePositionAtTheFundingTimePaysNotThePositionWhenTheClockAsks() {
    AccountHarness h = new AccountHarness(testKit, "cut");
    h.deposit(usdt(100_000));
    h.mark(PERP, 50_000);
    // Opened 1 BTC before T1, closed after it (the register's cut times): T1 is still owed on 1 BTC.
    int open = sequence.incrementAndGet();
    h.run(r -> new AccountEntity.ApplyTrade("t-" + open, open, PERP, ONE_BTC, price(50_000), false, null, "o", r,
        T1 - 1_000));
    int close = sequence.incrementAndGet();
    h.run(r -> new AccountEntity.ApplyTrade("t-" + close, close, PERP, -ONE_BTC, price(50_000), false, null, "o", r,
        T1 + 1_000));
    assertEquals(new AccountEntity.FundingPaid(-usdt(5), ONE_BTC, false), fund(h, T1, BP, price(50_000)));
    // Reopened after T1: T2 is paid on what is held then.
    int again = sequence.incrementAndGet();
    h.run(r -> new AccountEntity.ApplyTrade("t-" + again, again, PERP, -2 * ONE_BTC, price(50_000), false, null, "o",
        r, T1 + 2_000));
    assertEquals(new AccountEntity.FundingPaid(usdt(10), -2 * ONE_BTC, false), fund(h, T2, BP, price(50_000)));
  }

  @Test
  void anAccountBeingLiquidatedIsPaidAtOnceAndOnce() {
    AccountHarness h = new AccountHarness(testKit, "liquidated");
    // 1,000 deposited, 1 BTC bought at 50,000 at 100x; at 49,000 it is below maintenance.
    h.deposit(usdt(1_000));
    h.run(r -> new AccountEntity.SetLeverage(PERP, 100, r));
    h.mark(PERP, 50_000);
    int seq = sequence.incrementAndGet();
    h.run(r -> new AccountEntity.ApplyTrade("t-" + seq, seq, PERP, ONE_BTC, price(50_000), true, null, "o", r));
    long markSequence = h.mark(PERP, 49_000);
    h.account.runCommand(new AccountEntity.StartLiquidation(markSequence));
    assertTrue(((Account) h.account.getState()).liquidating());
    long cash = h.summary().cash();
    // Funding does not wait for the liquidation: 1 BTC at 49,000, 0.01% = 4.9 USDT, once.
    assertEquals(new AccountEntity.FundingPaid(-4_900_000, ONE_BTC, false), fund(h, T1, BP, price(49_000)));
    assertEquals(cash - 4_900_000, h.summary().cash());
    assertTrue(fund(h, T1, BP, price(49_000)).duplicate());
    assertEquals(cash - 4_900_000, h.summary().cash());
  }

  private static String accountId(AccountHarness h) {
    return ((Account) h.account.getState()).accountId();
  }
}
