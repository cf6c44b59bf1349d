package io.clearinghouse.clearing;

import static io.clearinghouse.clearing.SettlingHarness.BTC;
import static io.clearinghouse.clearing.SettlingHarness.ETH;
import static io.clearinghouse.clearing.SettlingHarness.SETTINGS;
import static io.clearinghouse.clearing.SettlingHarness.SOL;
import static io.clearinghouse.clearing.SettlingHarness.USDT;
import static io.clearinghouse.clearing.SettlingHarness.holding;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.PositionSummary;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import io.clearinghouse.clearing.SettlingHarness.Setup;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review rev10h of commit 6a77134 (an isolated fill or reservation in the instrument
 * of a side still settling is judged in the reversed view against that view's own position).
 *
 * <p>The account here has no trade register: which of its sides still settle is what the test
 * says ({@link #settling}, answered to the account's asks), a side is settled by SideSettled and
 * reversed by ReverseTradeSide, as a register would tell them. The trader is the buyer of every
 * side a register may reverse.
 */
class Rev10hReviewTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static Setup setup(long deposit, String... isolated) {
    return setup(SETTINGS, deposit, isolated);
  }

  private static Setup setup(AccountSettings settings, long deposit, String... isolated) {
    return SettlingHarness.setup(testKit, settings, deposit, isolated);
  }


  /**
   * The common premise of finding 1: an isolated ETH short of 1 at 60,000 (3,000 of margin) and an
   * isolated SOL short of 0.4 at 130,000 (2,600), cash 344 of a deposit of 6,000 (fees 30 and 26).
   * The ETH mark rises to 62,000 and the trader buys both back by sides their registers still
   * drive: t-3 closes the ETH short at 62,000 (a loss of 2,000, fee 31, its 3,000 back to cash),
   * t-4 the SOL short at entry (fee 26, its 2,600 back). Cash 3,887.
   */
  private static Setup twoSettlingCloses() {
    Setup s = setup(6_000 * USDT, ETH, SOL);
    s.applied(1, ETH, -1_000, 600_000);
    s.applied(2, SOL, -400, 1_300_000);
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(1));
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(2));
    assertEquals(344 * USDT, s.summary().cash(), "both isolated shorts funded from cash");
    s.marks().accept(new Mark(ETH, 620_000, 2, 0));
    s.settling().add(3L);
    s.settling().add(4L);
    s.applied(3, ETH, 1_000, 620_000);
    s.applied(4, SOL, 400, 1_300_000);
    assertEquals(3_887 * USDT, s.summary().cash(), "the premise: both closes' margin back in cash, the loss paid");
    return s;
  }

  /**
   * Finding 1 (high): with two sides still settling, "all reversed" is not the worst view. The
   * trader (premise above: cash 3,887, t-3 ETH close at a loss and t-4 SOL close both settling)
   * buys 1 ETH at 62,000 (t-5): 3,100 of isolated margin and a fee of 31. The account view funds
   * it (3,856 free). In the reversed view (cash 344) the buy only closes the restored ETH short
   * (its 3,000 and the 2,000 loss given back), so since 6a77134 that view is not checked at all
   * (isolatedFill returns at openedLots == 0); before, the account's change (3,100) was judged
   * against the reversed view's free cash (313) and refused. Accepted: cash 756.
   *
   * <p>Then the two registers end differently, which nothing forbids: t-3 settles (the ETH close
   * and its loss stand), t-4 is reversed (its seller refused with no hold: the SOL short comes
   * back with its 2,600, taken from cash exactly, the holding untouched since). Cash
   * 756 + 26 - 2,600 = -1,818, behind an isolated ETH long holding 3,100 and an isolated SOL short
   * holding 2,600: the new ETH position was funded by the SOL close's margin, which its reversal
   * took back — the rev10d rule. The 1,818 is cross cash nobody holds; an isolated liquidation
   * never reaches it (the insurance fund's exposure).
   *
   * <p>The view that binds is "every settling side reversed except those of the fill's own
   * instrument" (the sides of other instruments only take cash back; keeping the fill's own
   * instrument as the account holds it gives the account's own change). Suggested fix: in
   * TradingHandlers.clear (and ReservationHandlers.reserve), judge an isolated fill that opens in
   * the account also in that view (asIfReversed with the unconfirmed sides of other instruments),
   * applied to the account's own holding — i.e. keep the pre-6a77134 bound for the cash the other
   * instruments' reversals take — besides the all-reversed view 6a77134 added; and judge the
   * all-reversed view even when the fill only reduces there (closing beyond bankruptcy there). With
   * several settling sides in the fill's own instrument, each prefix of them may be reversed
   * independently, so the same-instrument relief should be allowed only for the sides a single
   * register decides together (or simply only when one side in the instrument is settling).
   */
  @Test
  void anIsolatedFillIsNotFundedByAnotherInstrumentsSettlingCloseWhenItsOwnInstrumentsSideSettles() {
    Setup s = twoSettlingCloses();
    AccountEntity.Reply reply = s.side(5, ETH, 1_000, 620_000);
    if (reply instanceof AccountEntity.Rejected) {
      return; // refused: what the bound should do (3,100 > 3,887 - 2,600 + 26 - 31 = 1,282)
    }
    s.settle(3);
    s.reverse(4, SOL, 400, 1_300_000, 26 * USDT);
    AccountSummary after = s.summary();
    assertEquals(-400, holding(after, SOL).lots(), "the SOL short is back");
    assertTrue(after.cash() >= 0, "the reversal of t-4 left cash at " + after.cash() + " behind isolated positions"
        + " (ETH long " + holding(after, ETH) + ", SOL short " + holding(after, SOL) + ")");
  }

  /**
   * Finding 1 for reservations: ReservationHandlers.reserve has the same hole (reversedCost is
   * reducing, so reversedNeeded is 0). The buy of 1 ETH at 62,000 is reserved (3,131 against
   * 3,887 of free cash), filled, and t-4's reversal alone leaves the same -1,818.
   */
  @Test
  void anIsolatedReservationIsNotFundedByAnotherInstrumentsSettlingCloseWhenItsOwnInstrumentsSideSettles() {
    Setup s = twoSettlingCloses();
    AccountEntity.Reply reserved = s.accounts().ask(s.trader(),
        r -> new AccountEntity.ReserveMargin("o-5", ETH, 1_000, 620_000, r));
    if (reserved instanceof AccountEntity.Rejected) {
      return;
    }
    AccountEntity.Reply reply = s.side(5, ETH, 1_000, 620_000, "o-5");
    if (reply instanceof AccountEntity.Rejected) {
      return;
    }
    s.settle(3);
    s.reverse(4, SOL, 400, 1_300_000, 26 * USDT);
    AccountSummary after = s.summary();
    assertTrue(after.cash() >= 0, "the reversal of t-4 left cash at " + after.cash() + " behind isolated positions");
  }

  /**
   * Note (b) of 6a77134, not a finding: a forced isolated side is funded as before (the forced
   * branch computes the same isolatedMarginDelta from the cash there is; it only no longer builds
   * the reversed view, which could refuse a forced side with NOTIONAL_OVERFLOW). And a side is
   * forced only while the account holds it from its check, which judged it in both views: an
   * isolated SOL buy of 0.5 at 130,000 (3,250 of margin, fee 32.50) that only the settling ETH
   * close's 3,000 would fund (cash 3,940, 940 were the close reversed) is refused by the check,
   * and the same side forced without a hold is judged as any other and refused; nothing moves.
   */
  @Test
  void aForcedIsolatedSideWithoutAHoldIsNotFundedByASettlingClose() {
    Setup s = setup(4_000 * USDT, ETH, SOL);
    s.applied(1, ETH, -1_000, 600_000);
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(1));
    s.settling().add(2L);
    s.applied(2, ETH, 1_000, 600_000);
    AccountSummary before = s.summary();
    assertEquals(3_940 * USDT, before.cash(), "the premise: the close's 3,000 back in cash, the close settling");
    AccountEntity.Reply checked = s.accounts().ask(s.trader(), r -> new AccountEntity.CheckTrade(
        new AccountEntity.ApplyTrade("t-3", 3, SOL, 500, 1_300_000, true, null, "elsewhere", r)));
    AccountEntity.Rejected refused = assertInstanceOf(AccountEntity.Rejected.class, checked, String.valueOf(checked));
    assertEquals(io.clearinghouse.common.Rejection.INSUFFICIENT_MARGIN, refused.reason(), refused.message());
    AccountEntity.Reply forced = s.accounts().ask(s.trader(), r -> new AccountEntity.ForceTradeSide(
        new AccountEntity.ApplyTrade("t-3", 3, SOL, 500, 1_300_000, true, null, "elsewhere", r)));
    assertInstanceOf(AccountEntity.Rejected.class, forced, "forced without a hold: judged as any side: " + forced);
    AccountSummary after = s.summary();
    assertEquals(before.cash(), after.cash());
    assertEquals(before.positions(), after.positions());
  }

  /**
   * Note (c) of 6a77134, not a finding for a reversal that reduces: fill-then-reversal ends where
   * the reversed view's reversal-then-fill does, whatever the prices (fills are linear in price,
   * the reversal refunds the fee, a reduction releases its share). ETH short 2 at 60,000 would be
   * too many figures; short 1 at 60,000 (3,000 of margin), the mark at 62,000, t-2 (settling) buys
   * it back at 62,000 (a loss of 2,000, fee 31); the mark at 63,000, t-3 buys 2 at 63,000 (6,300 of
   * margin, fee 63), exactly what the account's cash of 6,363 funds (deposit 8,424). The reversed
   * view (the short back) closes it at a loss of 3,000 and opens a long of 1 with 3,150: cash
   * 8,424 - 3,030 - 3,000 + 3,000 - 63 - 3,150 = 2,181. The real reversal (a sell of 1 at 62,000
   * against the long of 2 at 63,000: a loss of 1,000, half the 6,300 released, the fee of 31
   * refunded) leaves the same: a long of 1 holding 3,150 and cash 2,181.
   */
  @Test
  void aReversalAfterASameInstrumentFillAtAnotherPriceLeavesWhatTheReversedViewFunded() {
    Setup s = setup(8_424 * USDT, ETH);
    s.applied(1, ETH, -1_000, 600_000);
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(1));
    s.marks().accept(new Mark(ETH, 620_000, 2, 0));
    s.settling().add(2L);
    s.applied(2, ETH, 1_000, 620_000);
    s.marks().accept(new Mark(ETH, 630_000, 3, 0));
    s.applied(3, ETH, 2_000, 630_000);
    assertEquals(0, s.summary().cash(), "the fill took all the account's cash");
    s.reverse(2, ETH, 1_000, 620_000, 31 * USDT);
    AccountSummary after = s.summary();
    assertEquals(1_000, holding(after, ETH).lots());
    assertEquals(3_150 * USDT, holding(after, ETH).isolatedMargin());
    assertEquals(2_181 * USDT, after.cash());
  }

  /**
   * Finding 2 (low, not of 6a77134: its note (a), the same before it): a fill that only reduces
   * in the account is never judged in the reversed view, where it may open. Deposit 3,030: t-1
   * (settling) buys 1 ETH at 60,000 into an isolated long (3,000 of margin, fee 30, cash 0); the
   * mark falls to 57,500 and t-2 sells it there (a loss of 2,500, fee 28.75, cash 471.25). In the
   * reversed view t-2 opens a short of 1 at 57,500 needing 2,875 and its fee; nothing checks it.
   * t-1 reversed: a sell of 1 at 60,000 against the flat holding opens a short of 1 at 60,000,
   * fee 30 refunded, and isolatedMarginDelta allocates what cash there is: 501.25 of the 3,000
   * its allocation rule says, cash 0. No money is created (the short's 2,500 of unrealized profit
   * at the mark makes up the difference: isolated equity 3,001.25, the same as the reversed
   * view's), so the exposure is only what a liquidation of a thinly margined short loses in a
   * fast market; hence low. Suggested fix: in TradingHandlers.clear, run the reversed-view
   * isolatedFill whenever the fill opens lots in that view (compute "opens" against
   * reversed.holding), not only when it opens in the account.
   */
  @Test
  void aFillThatOnlyReducesInTheAccountIsFundedWhereTheReversalOpensIt() {
    Setup s = setup(3_030 * USDT, ETH);
    s.settling().add(1L);
    s.applied(1, ETH, 1_000, 600_000);
    assertEquals(0, s.summary().cash());
    s.marks().accept(new Mark(ETH, 575_000, 2, 0));
    AccountEntity.Reply reply = s.side(2, ETH, -1_000, 575_000);
    if (reply instanceof AccountEntity.Rejected) {
      return; // refused: what the suggested bound does (2,875 + 28.75 > 0 of reversed-view cash)
    }
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(2));
    s.reverse(1, ETH, 1_000, 600_000, 30 * USDT);
    AccountSummary after = s.summary();
    PositionSummary restored = holding(after, ETH);
    assertEquals(-1_000, restored.lots(), "the reversal opened a short of 1 at 60,000");
    assertTrue(after.cash() >= 0, "cash " + after.cash());
    assertTrue(restored.isolatedMargin() >= 3_000 * USDT, "the short opened by the reversal holds "
        + restored.isolatedMargin() + " of the 3,000 its allocation says: " + restored);
  }

  /**
   * Finding 3 (high; not of 6a77134, the same before it): a side held from its check (promised)
   * and a side still settling are never judged together. In the promised view the held side counts
   * as applied, but TradingHandlers.settlingReversed(promised) reverses it too (it is in the view's
   * recent trades and no register has confirmed it), so no view has the settling side reversed
   * AND the held side applied. Deposit 4,000: an isolated ETH short of 1 at 60,000 (3,000, fee 30)
   * closed at entry by t-2, still settling (fee 30; cash 3,940, 970 were it reversed). The trader
   * sells 0.1 SOL at 130,000 into an isolated short (650 of margin, fee 6.50): its check passes
   * (970 fund it) and the side is held. Then an isolated BTC buy of 0.3 at 60,000 (900, fee 9):
   * judged on the account (3,940), its reversed view (970), the promised view (3,283.50) and the
   * promised view reversed (970 again, the held SOL side given back): accepted, although with
   * t-2 reversed and the promised SOL side applied only 313.50 is left for it. The register
   * applies (or forces, the hold being there) the SOL side, t-2 is reversed: cash
   * 3,940 - 909 - 656.50 + 30 - 3,000 = -595.50 behind three isolated positions.
   *
   * <p>Suggested fix: settlingReversed(promised) must reverse only the account's own unconfirmed
   * sides, not the held ones: asIfReversed(promised, settlingSides.unconfirmed(account)), as
   * TransferHandlers.withdraw already does (asIfReversed(held, unsettled), unsettled taken from the
   * account); ReservationHandlers.reserve and the isolated margin move should judge that view too.
   */
  @Test
  void aHeldSideAndASettlingSideAreJudgedTogether() {
    Setup s = setup(4_000 * USDT, ETH, SOL, BTC);
    s.applied(1, ETH, -1_000, 600_000);
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(1));
    s.settling().add(2L);
    s.applied(2, ETH, 1_000, 600_000);
    assertEquals(3_940 * USDT, s.summary().cash());
    AccountEntity.Reply checked = s.accounts().ask(s.trader(), r -> new AccountEntity.CheckTrade(
        new AccountEntity.ApplyTrade("t-3", 3, SOL, -100, 1_300_000, true, null, "buyer", r)));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, checked, "the SOL side's check: " + checked);
    AccountEntity.Reply fill = s.side(4, BTC, 300, 600_000);
    if (fill instanceof AccountEntity.Rejected) {
      return; // refused: what the suggested bound does (909 > 313.50)
    }
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(4));
    AccountEntity.Reply held = s.side(3, SOL, -100, 1_300_000);
    if (held instanceof AccountEntity.Rejected) {
      held = s.accounts().ask(s.trader(), r -> new AccountEntity.ForceTradeSide(
          new AccountEntity.ApplyTrade("t-3", 3, SOL, -100, 1_300_000, true, null, "buyer", r)));
    }
    assertInstanceOf(AccountEntity.TradeSideApplied.class, held, "the held SOL side is taken: " + held);
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(3));
    s.reverse(2, ETH, 1_000, 600_000, 30 * USDT);
    AccountSummary after = s.summary();
    assertTrue(after.cash() >= 0, "t-2's reversal left cash at " + after.cash() + " behind isolated positions: "
        + after.positions());
  }

  /**
   * Finding 4 (medium; not of 6a77134, the same before it): a side still settling that the
   * account has forgotten (more than retained-trades newer sides: 5 here, 1,000 shipped) is no
   * longer in SettlingSides.unconfirmed, so no bound sees it. Deposit 4,000: an isolated ETH short
   * of 1 at 60,000 (3,000, fee 30) closed at entry by t-2, still settling (cash 3,940; 970 were it
   * reversed). Six tiny BTC cross trades (0.001 at 60,000, fee 0.03 each) push t-2 out of memory.
   * An isolated SOL buy of 0.5 at 130,000 (3,250, fee 32.50) that only t-2's 3,000 funds (the
   * rev10d case, refused while t-2 is remembered) is applied: cash 657.32. The register reverses
   * t-2 from the journal (verified): the ETH short comes back with the 687.32 there is, not its
   * 3,000, and cash 0: the SOL position was funded by the close's margin, and the restored short,
   * under-margined by 2,312.68, is the insurance fund's once the price rises about 1%.
   *
   * <p>Suggested fix: do not forget a TradeRef (or keep its sequence in SettlingSides, which
   * then needs the ref's content for asIfReversed) while its side is unconfirmed; or refuse an
   * opening side while the oldest unconfirmed side is about to be evicted from recentTrades.
   */
  @Test
  void aSettlingSideTheAccountForgotIsStillBounded() {
    AccountSettings fewTrades = new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 100,
        Duration.ofDays(8), 1000, Duration.ofSeconds(3), 5, 20);
    Setup s = setup(fewTrades, 4_000 * USDT, ETH, SOL);
    s.applied(1, ETH, -1_000, 600_000);
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(1));
    s.settling().add(2L);
    s.applied(2, ETH, 1_000, 600_000);
    for (long seq = 3; seq <= 8; seq++) {
      s.applied(seq, BTC, seq % 2 == 1 ? 1 : -1, 600_000);
      s.accounts().tell(s.trader(), new AccountEntity.SideSettled(seq));
    }
    AccountEntity.Reply fill = s.side(9, SOL, 500, 1_300_000);
    if (fill instanceof AccountEntity.Rejected) {
      return; // refused: what the bound does while t-2 is remembered
    }
    s.settling().remove(2L);
    AccountEntity.Reply reversed = s.accounts().ask(s.trader(),
        r -> new AccountEntity.ReverseTradeSide("t-2", 2, ETH, 1_000, 600_000, 30 * USDT, true, r));
    assertInstanceOf(AccountEntity.TradeSideReverted.class, reversed, String.valueOf(reversed));
    AccountSummary after = s.summary();
    PositionSummary restored = holding(after, ETH);
    assertEquals(-1_000, restored.lots(), "the short is back");
    assertTrue(restored.isolatedMargin() >= 3_000 * USDT, "the restored short holds " + restored.isolatedMargin()
        + " of its 3,000; cash " + after.cash() + ", SOL " + holding(after, SOL));
  }

  /**
   * Finding 5 (high; not of 6a77134, the rev10d bound itself): "every settling side reversed" is
   * not the worst case when one of them realized a LOSS that its reversal gives back as cash while
   * another freed isolated margin. Deposit 8,686: an isolated SOL short of 0.4 at 130,000 (2,600,
   * fee 26) and a cross BTC short of 1 at 60,000 (fee 30), both settled; the BTC mark stays at
   * 60,000. Two sides still settling: t-3 buys the BTC short back at 64,000 from a cooperating
   * seller (a loss of 4,000 against the mark: 4,000 handed over, fee 32), t-4 closes the SOL short
   * at entry (its 2,600 back, fee 26). Cash 4,572. Reversed view: the loss back and the SOL margin
   * gone, cash 6,030, the BTC short back at the mark holding 3,000 of cross margin: 3,030
   * available. An isolated ETH buy of 1 at 60,000 (3,000, fee 30) fits it exactly and is
   * applied: cash 1,542. t-3 settles (the 4,000 stays with the seller), t-4 is reversed (the SOL
   * short takes its 2,600 back, fee 26 refunded): cash -1,032 behind two isolated positions.
   * Only the view with t-4 reversed and t-3 kept (cash 1,998, no cross position) would have
   * refused it: the shortfall is the loss beyond the mark (4,000) less the restored position's
   * initial margin (3,000), and fees.
   *
   * <p>Suggested fix: the reversed view should give back no realized loss (as settlingProfit
   * withholds realized profit): in asIfReversed for the bound, or more simply bound isolated
   * funding by (the reversed view's free cash) minus (what settling sides realized at a loss,
   * and the fees they paid), i.e. the cash the account has if the losing sides settle and the
   * others are reversed.
   */
  @Test
  void aSettlingLossGivenBackInTheReversedViewDoesNotFundAnIsolatedFill() {
    Setup s = setup(8_686 * USDT, ETH, SOL);
    s.applied(1, SOL, -400, 1_300_000);
    s.applied(2, BTC, -1_000, 600_000);
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(1));
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(2));
    s.settling().add(3L);
    s.settling().add(4L);
    s.applied(3, BTC, 1_000, 640_000);
    s.applied(4, SOL, 400, 1_300_000);
    assertEquals(4_572 * USDT, s.summary().cash(), "the premise: the BTC loss paid, the SOL margin back in cash");
    AccountEntity.Reply fill = s.side(5, ETH, 1_000, 600_000);
    if (fill instanceof AccountEntity.Rejected) {
      return; // refused: what a bound without the given-back loss does (3,030 > 1,998)
    }
    s.settle(3);
    s.reverse(4, SOL, 400, 1_300_000, 26 * USDT);
    AccountSummary after = s.summary();
    assertTrue(after.cash() >= 0, "t-4's reversal left cash at " + after.cash() + " behind isolated positions: "
        + after.positions());
  }

  /**
   * Finding 5 for withdrawals (TransferHandlers.withdraw has the same all-reversed bound, although
   * its comment says "each reversal on its own terms too"): on the same premise (cash 4,572, the
   * reversed view 3,030 withdrawable) the trader withdraws 3,030, which then leaves the clearing
   * house; t-3 settles, t-4 is reversed: cash 4,572 - 3,030 + 26 - 2,600 = -1,032 behind the
   * isolated SOL short. Suggested fix as for the fill (the view in which the losing sides stand).
   */
  @Test
  void aSettlingLossGivenBackInTheReversedViewIsNotWithdrawn() {
    Setup s = setup(8_686 * USDT, ETH, SOL);
    s.applied(1, SOL, -400, 1_300_000);
    s.applied(2, BTC, -1_000, 600_000);
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(1));
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(2));
    s.settling().add(3L);
    s.settling().add(4L);
    s.applied(3, BTC, 1_000, 640_000);
    s.applied(4, SOL, 400, 1_300_000);
    assertEquals(4_572 * USDT, s.summary().cash());
    AccountEntity.Reply withdrawn = s.accounts().ask(s.trader(), r -> new AccountEntity.Withdraw("w-1", 3_030 * USDT, r));
    if (withdrawn instanceof AccountEntity.Rejected) {
      return; // refused: what a bound without the given-back loss does (1,998 withdrawable were t-4 alone reversed)
    }
    assertInstanceOf(AccountEntity.Transferred.class, withdrawn, String.valueOf(withdrawn));
    s.settle(3);
    s.reverse(4, SOL, 400, 1_300_000, 26 * USDT);
    AccountSummary after = s.summary();
    assertTrue(after.cash() >= 0, "t-4's reversal left cash at " + after.cash() + " after a withdrawal of 3,030: "
        + after.positions());
  }

  /**
   * The fix of findings 1 and 5 does not refuse what every outcome funds. On finding 1's premise
   * (cash 3,887; t-3's ETH close and t-4's SOL close settling), a buy of 0.3 ETH at 62,000 (930 of
   * isolated margin, fee 9.30) fits the worst view (t-4 reversed, t-3 settled: 1,313 of cash) and
   * the all-reversed one (it reduces the restored short there); t-3 settles, t-4 is reversed: cash
   * 1,313 - 939.30 = 373.70.
   */
  @Test
  void aFillEveryOutcomeFundsIsStillAccepted() {
    Setup s = twoSettlingCloses();
    AccountEntity.Reply reply = s.side(5, ETH, 300, 620_000);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, reply, String.valueOf(reply));
    s.settle(3);
    s.reverse(4, SOL, 400, 1_300_000, 26 * USDT);
    AccountSummary after = s.summary();
    assertEquals(373_700_000L, after.cash());
    assertEquals(930 * USDT, holding(after, ETH).isolatedMargin());
  }

  /**
   * Finding 5's withdrawal bound is the worst view's, no lower: 1,998 (cash were t-4 alone
   * reversed) may leave, 1,999 not; after t-3 settles and t-4 is reversed cash is 0.
   */
  @Test
  void aWithdrawalUpToTheWorstViewIsAccepted() {
    Setup s = setup(8_686 * USDT, ETH, SOL);
    s.applied(1, SOL, -400, 1_300_000);
    s.applied(2, BTC, -1_000, 600_000);
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(1));
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(2));
    s.settling().add(3L);
    s.settling().add(4L);
    s.applied(3, BTC, 1_000, 640_000);
    s.applied(4, SOL, 400, 1_300_000);
    AccountEntity.Reply tooMuch = s.accounts().ask(s.trader(), r -> new AccountEntity.Withdraw("w-1", 1_999 * USDT, r));
    assertInstanceOf(AccountEntity.Rejected.class, tooMuch, String.valueOf(tooMuch));
    AccountEntity.Reply withdrawn = s.accounts().ask(s.trader(), r -> new AccountEntity.Withdraw("w-2", 1_998 * USDT, r));
    assertInstanceOf(AccountEntity.Transferred.class, withdrawn, String.valueOf(withdrawn));
    s.settle(3);
    s.reverse(4, SOL, 400, 1_300_000, 26 * USDT);
    assertEquals(0, s.summary().cash());
  }

  /**
   * Finding 2's fix judges a close after the fill only where a side still settling is in its
   * instrument: the close of a settled isolated position at a loss is taken while a side of another
   * instrument settles. Deposit 5,656: an isolated ETH long of 1 at 60,000 (3,000, fee 30) and an
   * isolated SOL short of 0.2 at 130,000 (1,300, fee 13), both settled (cash 1,313); t-3 buys the
   * SOL short back at entry, still settling (cash 2,600, 1,313 were it reversed); the ETH mark falls
   * to 57,500 and the long is sold there (a loss of 2,500, fee 28.75): applied, flat in ETH.
   */
  @Test
  void anOrdinaryCloseOfASettledPositionIsTakenWhileAnotherInstrumentSettles() {
    Setup s = setup(5_656 * USDT, ETH, SOL);
    s.applied(1, ETH, 1_000, 600_000);
    s.applied(2, SOL, -200, 1_300_000);
    s.settle(1);
    s.settle(2);
    s.settling().add(3L);
    s.applied(3, SOL, 200, 1_300_000);
    s.marks().accept(new Mark(ETH, 575_000, 2, 0));
    AccountEntity.Reply reply = s.side(4, ETH, -1_000, 575_000);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, reply, String.valueOf(reply));
    PositionSummary eth = holding(s.summary(), ETH);
    assertTrue(eth == null || eth.lots() == 0, String.valueOf(eth));
  }

  /**
   * Finding 4's fix holds back only while the forgotten side is unconfirmed: on its premise (t-2,
   * forgotten, still settling, refuses the SOL buy of 0.5 that only its freed 3,000 funds), t-2's
   * register settles it; the same buy is then applied.
   */
  @Test
  void aForgottenSettlingSideNoLongerHoldsBackOnceSettled() {
    AccountSettings fewTrades = new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 100,
        Duration.ofDays(8), 1000, Duration.ofSeconds(3), 5, 20);
    Setup s = setup(fewTrades, 4_000 * USDT, ETH, SOL);
    s.applied(1, ETH, -1_000, 600_000);
    s.accounts().tell(s.trader(), new AccountEntity.SideSettled(1));
    s.settling().add(2L);
    s.applied(2, ETH, 1_000, 600_000);
    for (long seq = 3; seq <= 8; seq++) {
      s.applied(seq, BTC, seq % 2 == 1 ? 1 : -1, 600_000);
      s.accounts().tell(s.trader(), new AccountEntity.SideSettled(seq));
    }
    AccountEntity.Reply refused = s.side(9, SOL, 500, 1_300_000);
    assertInstanceOf(AccountEntity.Rejected.class, refused, "t-2 forgotten and still settling: " + refused);
    s.settle(2);
    AccountEntity.Reply applied = s.side(10, SOL, 500, 1_300_000);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, applied, "t-2 settled: " + applied);
    assertEquals(3_250 * USDT, holding(s.summary(), SOL).isolatedMargin());
  }
}
