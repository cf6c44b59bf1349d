package io.clearinghouse.clearing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.LiquidationRole;
import io.clearinghouse.account.PositionSummary;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review rev10i of commits 74b0f53 and 3ff279e: the settling wait (TRADE_SETTLING) of
 * a liquidation's plan, of a stop's plan, of the plan that finds nothing to close and of the
 * settlement's assessment, timed since 3ff279e from the NEWEST unconfirmed side's cut time. The
 * saga's steps are sent by hand as its saga would (no saga runs); a step that waits sees the
 * account after the side settled or was reversed. BTCUSDT-PERP: 1 BTC = 1,000 lots, 10 ticks a
 * USDT of price, 1 USDT = 1,000,000. The trader: cash 3,000, buys 1 BTC at 50,000 (20x, taker fee
 * 25); the mark falls to 45,000 (equity -2,025) and the account is liquidated.
 */
class Rev10iReviewTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.parseString("""
      clearinghouse.instruments = ${clearinghouse.instruments} [
        { symbol = "ETHUSDT-PERP", kind = perpetual, tick-size = "0.1", lot-size = "0.001", maker-fee = "0.02%",
          taker-fee = "0.05%", liquidation-fee = "1%", risk-tiers = binance-btcusdt-2021-03 }
      ]
      """).withFallback(ConfigFactory.load()).resolve(), 6);
  /** The review settings (retained-trades 5), with a liquidation waiting at most 2 s for a side (10 s shipped). */
  private static final AccountSettings SHORT_WAIT =
      new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 100, Duration.ofDays(8), 1000,
          Duration.ofSeconds(3), 5, 20, true, 0, Duration.ofSeconds(2));
  private static final AccountSettings SETTINGS =
      new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 100, Duration.ofDays(8), 1000,
          Duration.ofSeconds(3), 5, 20);
  private static final String BTC = "BTCUSDT-PERP";
  private static final String ETH = "ETHUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long START = 3_000 * USDT;
  private static final AtomicInteger ids = new AtomicInteger();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /**
   * The register's network to the accounts: the seller's check (CheckTrade) answers only after
   * {@code checkDelay}, with a timeout (the seller's node away, as a register step times out), and
   * the seller's side is held until the test lets it through, then refused (the register reverses
   * the buyer's side) or applied.
   */
  private static final class SlowSeller implements TradeRegister.AccountAsker {
    final FakeAccounts accounts;
    final String seller;
    final Duration checkDelay;
    final CompletableFuture<Boolean> sellerGate = new CompletableFuture<>();
    final CompletableFuture<Void> sellerSideSent = new CompletableFuture<>();

    SlowSeller(FakeAccounts accounts, String seller, Duration checkDelay) {
      this.accounts = accounts;
      this.seller = seller;
      this.checkDelay = checkDelay;
    }

    @Override
    public CompletionStage<AccountEntity.Reply> ask(String accountId,
        Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command, Duration timeout) {
      AccountEntity.Command c = command.apply(null);
      if (accountId.equals(seller) && c instanceof AccountEntity.CheckTrade && !checkDelay.isZero()) {
        return CompletableFuture.<AccountEntity.Reply>supplyAsync(() -> {
          throw new CompletionException(new TimeoutException("no answer from " + seller));
        }, CompletableFuture.delayedExecutor(checkDelay.toMillis(), TimeUnit.MILLISECONDS));
      }
      if (accountId.equals(seller) && c instanceof AccountEntity.ApplyTrade) {
        sellerSideSent.complete(null);
        return sellerGate.thenCompose(refuse -> refuse
            ? CompletableFuture.completedFuture(new AccountEntity.Rejected(Rejection.ACCOUNT_LIQUIDATING,
                "the seller's hold was lost and it is being liquidated now"))
            : accounts.ask(accountId, command, timeout));
      }
      return accounts.ask(accountId, command, timeout);
    }

    @Override
    public void tell(String accountId, AccountEntity.Command command) {
      accounts.tell(accountId, command);
    }
  }

  private record Setup(FakeAccounts accounts, MarkPrices marks, String trader, SlowSeller network,
      TestProbe<TradeRegister.Reply> probe) {}

  /** The trader's buy of 1 BTC at 50,000 through a register, its seller's check answering after {@code checkDelay}. */
  private static Setup withABtcBuySettling(AccountSettings settings, Duration checkDelay,
      java.util.function.Consumer<Setup> beforeTheMarkFalls) throws Exception {
    FakeAccounts accounts = new FakeAccounts(testKit, settings, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(BTC, 500_000, 1, 0));
    accounts.marks = marks;
    accounts.askRegister();
    String trader = accounts.open("trader", START);
    String seller = accounts.open("seller", 100_000 * USDT);
    SlowSeller network = new SlowSeller(accounts, seller, checkDelay);
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    Setup s = new Setup(accounts, marks, trader, network, probe);
    ActorRef<TradeRegister.Command> register = accounts.spawnRegister("rev10i-" + ids.incrementAndGet(), network);
    register.tell(new TradeRegister.Submit(new TradeContent(71, "t-71", BTC, trader, seller, 500_000, 1_000, true,
        null, null), probe.getRef()));
    network.sellerSideSent.get(20, TimeUnit.SECONDS);
    assertEquals(1_000, accounts.lots(trader), "the trader's side is applied: long 1 BTC");
    beforeTheMarkFalls.accept(s);
    marks.accept(new Mark(BTC, 450_000, 2, 0));
    accounts.tell(trader, new AccountEntity.StartLiquidation(2));
    return s;
  }

  private static String liquidationOf(Setup s) {
    TestProbe<Object> probe = testKit.createTestProbe();
    return probe.awaitAssert(Duration.ofSeconds(10), () -> {
      String id = s.accounts().summary(s.trader()).liquidationId();
      assertNotNull(id, "the liquidation starts");
      return id;
    });
  }

  private static boolean waits(AccountEntity.Reply reply) {
    return reply instanceof AccountEntity.Rejected refused && refused.reason() == Rejection.TRADE_SETTLING;
  }

  /** The seller's side is refused: the register reverses the trader's side. */
  private static void reverse(Setup s) {
    s.network().sellerGate.complete(true);
    assertInstanceOf(TradeRegister.Refused.class, s.probe().receiveMessage(Duration.ofSeconds(20)));
  }

  /** The next plan, as the saga gets it: a plan that waits (TRADE_SETTLING) sees the account after the reversal. */
  private static AccountEntity.ClosePlan plan(Setup s, String id) {
    AccountEntity.Reply reply = s.accounts().ask(s.trader(), r -> new AccountEntity.PlanLiquidationClose(id, r));
    if (waits(reply) && !s.network().sellerGate.isDone()) {
      reverse(s);
      reply = s.accounts().ask(s.trader(), r -> new AccountEntity.PlanLiquidationClose(id, r));
    }
    return assertInstanceOf(AccountEntity.ClosePlan.class, reply);
  }

  /** The assessment, as the saga gets it: one that waits sees the account after the reversal. */
  private static AccountSummary assess(Setup s, String id) {
    AccountEntity.Reply reply = s.accounts().ask(s.trader(), r -> new AccountEntity.AssessLiquidation(id, r));
    if (waits(reply) && !s.network().sellerGate.isDone()) {
      reverse(s);
      reply = s.accounts().ask(s.trader(), r -> new AccountEntity.AssessLiquidation(id, r));
    }
    return assertInstanceOf(AccountEntity.Snapshot.class, reply).account();
  }

  /**
   * The saga by hand: every close to the fund at its bankruptcy price, the assessment, the fund's
   * cover of the negative equity, the end; then the seller's side is refused if it was not yet.
   * Returns what the fund paid (the closes' price over the mark, and the cover).
   */
  private static long liquidateByHand(Setup s, String id) {
    long fundPaid = 0;
    for (int step = 0; step < 5; step++) {
      AccountEntity.ClosePlan plan = plan(s, id);
      if (plan.signedLots() == 0) {
        break;
      }
      String key = id + "/" + step;
      AccountEntity.LiquidationTransfer closed = assertInstanceOf(AccountEntity.TransferApplied.class,
          s.accounts().ask(s.trader(), r -> new AccountEntity.ApplyLiquidationTransfer(key, id,
              LiquidationRole.LIQUIDATED, "fund", plan.instrument(), plan.signedLots(), plan.bankruptcyTicks(), 0,
              AccountEntity.TransferMode.CLOSE_CLIPPED, r))).transfer();
      // 100 minor units a tick a lot: what the fund's takeover at the bankruptcy price costs it against the mark.
      fundPaid += (plan.bankruptcyTicks() - plan.markTicks()) * 100L * -closed.signedLots();
    }
    AccountSummary assessed = assess(s, id);
    long deficit = Math.max(0, -assessed.equity());
    fundPaid += deficit;
    if (deficit > 0) {
      assertInstanceOf(AccountEntity.StepApplied.class, s.accounts().ask(s.trader(),
          r -> new AccountEntity.CreditLiquidation(id + "/cover", id, deficit, 0, r)));
    }
    assertInstanceOf(AccountEntity.StepApplied.class, s.accounts().ask(s.trader(),
        r -> new AccountEntity.EndLiquidation(id, r)));
    assertNull(s.accounts().summary(s.trader()).liquidationId(), "the liquidation ended");
    if (!s.network().sellerGate.isDone()) {
      reverse(s);
    }
    return fundPaid;
  }

  /** What the trader has at the marks: cash less what is owed, plus each position's margin and unrealized PnL. */
  private static long worth(AccountSummary a) {
    long worth = a.cash() - a.owed();
    for (PositionSummary p : a.positions()) {
      worth += p.isolatedMargin() + p.unrealizedPnl();
    }
    return worth;
  }

  private static String describe(AccountSummary a) {
    StringBuilder b = new StringBuilder("cash " + a.cash() + ", owed " + a.owed());
    for (PositionSummary p : a.positions()) {
      b.append(", ").append(p.mode()).append(' ').append(p.instrument()).append(' ').append(p.lots())
          .append(" lots from ").append(p.entryPriceTicks()).append(" (unrealized ").append(p.unrealizedPnl())
          .append(')');
    }
    return b.toString();
  }

  /**
   * The control for finding 1 (passes): a side applied at once after its register recorded it is
   * waited for: the plan waits, sees the reversal, and the fund pays nothing for the 1 BTC buy
   * (settling-wait as shipped, 10 s).
   */
  @Test
  void aSideAppliedAtOnceIsWaitedForAndTheFundPaysNothingForItsReversal() throws Exception {
    Setup s = withABtcBuySettling(SETTINGS, Duration.ZERO, x -> { });
    String id = liquidationOf(s);
    assertTrue(waits(s.accounts().ask(s.trader(), r -> new AccountEntity.PlanLiquidationClose(id, r))),
        "the buy was applied a moment ago: the plan waits");
    long fundPaid = liquidateByHand(s, id);
    AccountSummary after = s.accounts().summary(s.trader());
    assertEquals(0, fundPaid, "the fund paid for a reversed buy: " + describe(after));
    assertEquals(START, worth(after), describe(after));
  }

  /**
   * Finding 1 (medium; from rev10f's bound, which 3ff279e keeps: "at most settling-wait after it
   * was applied"): the wait is timed from the side's cut time, which is when its REGISTER recorded
   * the trade (TradeRegister: TradeRecorded.epochMillis, sent as ApplyTrade.cutMillis), not when
   * the account applied the side. A side applied late is waited for less, or not at all; and a
   * late side is exactly the one whose trade is likeliest to be reversed: the register applies the
   * buyer's side without the seller's check when that check timed out (the seller's node away),
   * i.e. register-step-timeout (5 s shipped) after recording, so of the shipped 10 s only 5 are
   * left; one more timed-out ask (the buyer's shard moving, or the buyer recovering, which stashes
   * commands for up to ask-timeout, 10 s, while it asks its registers) and the buyer's side is
   * applied more than 10 s after its cut: no wait at all. A seller's check hold that lapses on a
   * slow drive (what makes the register reverse) also needs a slow drive.
   *
   * <p>Here settling-wait is 2 s and the seller's check times out after 2.5 s: the register then
   * applies the trader's buy of 1 BTC at 50,000 (cut 2.5 s old) and sends the seller's side, which
   * is held. The mark falls to 45,000 (equity -2,025): the liquidation's plan, asked milliseconds
   * after the side was applied, does not wait; the long goes to the fund at its bankruptcy price
   * 47,025 (the fund pays 2,025 over the mark), nothing is left to cover, the liquidation ends.
   * The seller's side is then refused and the buy reversed: the opposite fill on a flat holding, a
   * short of 1 BTC from 50,000, 5,000 in profit at 45,000, the fee back. The trader, who had 3,000,
   * is worth about 5,000 (measured in the assertion's message); the fund holds a long it paid 2,025
   * over the mark for. The control above (the check answered at once) pays nothing.
   *
   * <p>Suggested fix: time each side from when this account applied it: keep the account's own
   * clock at TradeCleared in the TradeRef (say appliedMillis; cutMillis stays the funding cut) and
   * wait while the newest unconfirmed side was applied less than settling-wait ago. That also
   * bounds finding 2.
   */
  @Test
  void aSideAppliedLateIsWaitedForAsLongAsOneAppliedAtOnce() throws Exception {
    Setup s = withABtcBuySettling(SHORT_WAIT, Duration.ofMillis(2_500), x -> { });
    String id = liquidationOf(s);
    long fundPaid = liquidateByHand(s, id);
    AccountSummary after = s.accounts().summary(s.trader());
    assertTrue(worth(after) <= START, "the 1 BTC buy never happened, yet the trader who had " + START
        + " is worth " + worth(after) + " (" + describe(after) + "), while the fund paid " + fundPaid
        + " for its loss: the side was applied milliseconds before the plan, but its cut (the register's record"
        + " time) was 2.5 s old, past settling-wait (2 s)");
  }

  /**
   * Finding 2 (low-medium, liveness; 3ff279e): the wait ends settling-wait after the NEWEST
   * unconfirmed side's cut, and nothing bounds a cut from above: a side whose cut is ahead of the
   * account's clock (the cut is the register's System.currentTimeMillis() when it recorded the
   * trade, on another node: a register node whose clock is ahead, or a clock step back on the
   * account's node) holds the liquidation's plan for the skew plus settling-wait while its seller
   * stays away, and the loss grows meanwhile. Before 3ff279e (earliest cut) an older unconfirmed
   * side ended the wait; now one such side holds every wait of the account (close, stop, nothing
   * to close, assessment), and the saga asks every second (retry-interval) for as long, with no
   * back-off: thousands of liquidations held so ask thousands of accounts a second, each ask a
   * risk evaluation and a walk of the unconfirmed sides (up to retained-trades, 1,000 shipped,
   * every one of them unconfirmed after a restart whose registers did not answer).
   *
   * <p>Here: settling-wait 2 s; the trader's buy of 1 BTC at 50,000 arrives with a cut one hour
   * ahead, and its register never finishes it (its seller away). The mark falls to 45,000
   * (equity -2,025), the liquidation starts, and 5 s later (2.5 times settling-wait after the side
   * was applied) its plan still waits, and will for an hour.
   *
   * <p>Suggested fix: as for finding 1 (time the wait from the account's own clock when it applied
   * the side); at least clamp a cut to the account's clock when the side is applied
   * (min(cutMillis, now)) for the wait.
   */
  @Test
  void aCutAheadOfTheAccountsClockDoesNotHoldTheLiquidationPastTheWait() throws Exception {
    FakeAccounts accounts = new FakeAccounts(testKit, SHORT_WAIT, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(BTC, 500_000, 1, 0));
    accounts.marks = marks;
    // The register of sequence 7 never finishes it (its seller away): every ask says so.
    accounts.unfinished = sequences -> CompletableFuture.completedFuture(
        sequences.contains(7L) ? List.of(7L) : List.of());
    String trader = accounts.open("trader", START);
    long aheadAnHour = System.currentTimeMillis() + 3_600_000;
    assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(trader,
        r -> new AccountEntity.ApplyTrade("t-7", 7, BTC, 1_000, 500_000, true, null, "elsewhere", r, aheadAnHour)));
    long applied = System.nanoTime();
    marks.accept(new Mark(BTC, 450_000, 2, 0));
    accounts.tell(trader, new AccountEntity.StartLiquidation(2));
    TestProbe<Object> probe = testKit.createTestProbe();
    String id = probe.awaitAssert(Duration.ofSeconds(10), () -> {
      String started = accounts.summary(trader).liquidationId();
      assertNotNull(started, "the liquidation starts");
      return started;
    });
    assertTrue(waits(accounts.ask(trader, r -> new AccountEntity.PlanLiquidationClose(id, r))),
        "the buy was applied a moment ago: the plan waits");
    probe.awaitAssert(Duration.ofSeconds(5), Duration.ofMillis(250), () -> {
      AccountEntity.Reply reply = accounts.ask(trader, r -> new AccountEntity.PlanLiquidationClose(id, r));
      assertFalse(waits(reply), (System.nanoTime() - applied) / 1_000_000 + " ms after the side was applied"
          + " (settling-wait 2 s) the plan still waits, for a side whose cut is an hour ahead: " + reply);
      return null;
    });
  }

  /**
   * Finding 3 (low; pre-existing since rev10e, but 74b0f53 documents the opposite): latestSettling
   * says "a side whose reference was forgotten counts for every instrument"; it counts for none.
   * SettlingSides.unconfirmed lists only the sides still in recentTrades, so account.trade(...)
   * always finds the ref and the Optional.empty branch never runs; a side pushed out of
   * recentTrades (more than retained-trades sides applied since, 1,000 shipped) is simply not
   * waited for any more (nor counted by settlingReversed), while its register may still reverse it:
   * it reads the account's journal and undoes it as the opposite fill (verified).
   *
   * <p>Here (retained-trades 5, settling-wait 10 s): the trader's buy of 1 BTC at 50,000 is
   * applied and its seller's side held; six settled trades of 0.01 BTC follow within the second
   * (net flat): the buy is forgotten. The mark falls to 45,000; the plan does not wait, the long
   * goes to the fund at its bankruptcy price, the liquidation ends; the seller refuses and the
   * register reverses the forgotten buy from the journal: a short of 1 BTC from 50,000 at 45,000,
   * the fund having paid for the long's loss. With 1,000 retained this needs 1,000 sides of the
   * account within settling-wait after the stuck one (a market maker; the stream's
   * hold-after-unconfirmed holds its trades only after confirm-timeout, 3 s).
   *
   * <p>Suggested fix: never forget a side the account has not seen settled and whose cut (or apply
   * time, finding 1) is within settling-wait (keep it beyond retained-trades until then), or remember
   * the newest forgotten side's time and let it hold the waits as an "every instrument" side, as
   * the comment says.
   */
  @Test
  void aForgottenSettlingSideStillHoldsTheLiquidation() throws Exception {
    Setup s = withABtcBuySettling(SETTINGS, Duration.ZERO, x -> {
      x.accounts().busyElsewhere(x.trader());
      for (long seq = 100; seq < 106; seq++) {
        x.accounts().tell(x.trader(), new AccountEntity.SideSettled(seq));
      }
      assertEquals(1_000, x.accounts().lots(x.trader()), "the busy trades leave the long as it was");
    });
    String id = liquidationOf(s);
    long fundPaid = liquidateByHand(s, id);
    AccountSummary after = s.accounts().summary(s.trader());
    assertTrue(worth(after) <= START, "the 1 BTC buy never"
        + " happened, yet the trader who had " + START + " (less the busy trades' fees) is worth " + worth(after)
        + " (" + describe(after) + "), while the fund paid " + fundPaid + " for its loss: the buy was forgotten"
        + " (retained-trades 5) and no wait held for it");
  }

  /** Whether the account holds a cross position with its cross equity at or below their maintenance margin. */
  private static boolean crossDue(AccountSummary a) {
    return a.positions().stream().anyMatch(p -> p.mode() == io.clearinghouse.margin.MarginMode.CROSS)
        && a.equity() <= a.positions().stream().filter(p -> p.mode() == io.clearinghouse.margin.MarginMode.CROSS)
            .mapToLong(PositionSummary::maintenanceMargin).sum();
  }

  /**
   * Finding 4 (medium-low; 74b0f53's assessment wait, which 3ff279e's "nothing to close" wait
   * does not cover): the last plan waits for the sides there are, but a side applied AFTER it (the
   * trader's reduce-only fill of a position the liquidation left open, its seller slow) makes the
   * assessment wait, up to settling-wait, and a market move meanwhile is then covered by the fund
   * instead of closed: rev10g's finding 3 (theFundCoversNoOpenPositionThatFellThroughWhileTheAssessmentWaited),
   * with the side arriving between the two steps. Before 74b0f53 the assessment (a plain Get)
   * answered at once after the last plan.
   *
   * <p>Cash 6,000: long 1 ETH-like at 60,000, isolated (3,000 of margin, fee 30), and short 1 BTC
   * from 50,000, cross (fee 25), both settled: cash 2,945. ETH falls to 56,000: the isolated long
   * is liquidated (closed at the mark, shortfall 1,000); the next plan finds nothing due (cross
   * equity 2,945 against 200 of maintenance) and, no side settling, answers at once: the closes
   * end. Then the trader's reduce-only buy of 0.001 BTC at 50,000 is applied, its seller slow:
   * the assessment waits (TRADE_SETTLING). Meanwhile BTC rises to 54,000 and the buy settles: the
   * assessment sees cross equity about -1,051 with the short of 0.999 BTC still open; the fund
   * covers the 1,000 shortfall and the 1,051, the liquidation ends, and the trader holds the short
   * at equity 0 (due at once), every USDT BTC falls before it is closed the trader's, on the
   * fund's money.
   *
   * <p>Suggested fix: the assessment, after its wait, refuses (a reason of its own, or
   * TRADE_SETTLING's "ask again") while a cross position is due, and the saga goes back to its
   * closes (ClosingFinished is not final until the assessment agrees); or the assessment waits
   * only for the sides the last plan saw, and a later one starts a liquidation of its own.
   */
  @Test
  @Disabled("finding 4 (rev10i): a side applied after the last plan makes the assessment wait, and a move meanwhile"
      + " is covered by the fund with the position left open; see the comment")
  void theFundCoversNoOpenPositionThatFellWhileTheAssessmentWaitedForALaterSide() throws Exception {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(BTC, 500_000, 1, 0));
    marks.accept(new Mark(ETH, 600_000, 1, 0));
    accounts.marks = marks;
    // The registers answer that every side asked about still settles: a side settles only when told (SideSettled).
    accounts.unfinished = sequences -> CompletableFuture.completedFuture(List.copyOf(sequences));
    String trader = accounts.open("trader", 6_000 * USDT);
    assertInstanceOf(AccountEntity.Snapshot.class, accounts.ask(trader,
        r -> new AccountEntity.SetMarginMode(ETH, io.clearinghouse.margin.MarginMode.ISOLATED, r)));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(trader,
        r -> new AccountEntity.ApplyTrade("t-1", 1, ETH, 1_000, 600_000, true, null, "elsewhere", r)));
    accounts.tell(trader, new AccountEntity.SideSettled(1));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(trader,
        r -> new AccountEntity.ApplyTrade("t-2", 2, BTC, -1_000, 500_000, true, null, "elsewhere", r)));
    accounts.tell(trader, new AccountEntity.SideSettled(2));
    assertEquals(2_945 * USDT, accounts.summary(trader).cash());
    marks.accept(new Mark(ETH, 560_000, 2, 0));
    accounts.tell(trader, new AccountEntity.StartLiquidation(2));
    TestProbe<Object> probe = testKit.createTestProbe();
    String id = probe.awaitAssert(Duration.ofSeconds(10), () -> {
      String started = accounts.summary(trader).liquidationId();
      assertNotNull(started, "the liquidation starts");
      return started;
    });

    long shortfalls = 0;
    for (int step = 0; step < 5; step++) {
      AccountEntity.ClosePlan plan = assertInstanceOf(AccountEntity.ClosePlan.class,
          accounts.ask(trader, r -> new AccountEntity.PlanLiquidationClose(id, r)));
      if (plan.signedLots() == 0) {
        break;
      }
      String key = id + "/" + step;
      long price = plan.isolated() ? plan.markTicks() : plan.bankruptcyTicks();
      shortfalls += assertInstanceOf(AccountEntity.TransferApplied.class, accounts.ask(trader,
          r -> new AccountEntity.ApplyLiquidationTransfer(key, id, LiquidationRole.LIQUIDATED, "provider",
              plan.instrument(), plan.signedLots(), price, 0, AccountEntity.TransferMode.CLOSE_CLIPPED, r)))
          .transfer().shortfall();
    }
    assertEquals(1_000 * USDT, shortfalls, "the isolated ETH long closed at 56,000 owes 1,000");
    // After the last plan: the trader's reduce-only buy of 0.001 BTC, its seller slow.
    assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(trader,
        r -> new AccountEntity.ApplyTrade("t-3", 3, BTC, 1, 500_000, true, null, "elsewhere", r)));
    AccountEntity.Reply reply = accounts.ask(trader, r -> new AccountEntity.AssessLiquidation(id, r));
    if (waits(reply)) {
      // While the assessment waits: BTC rises, then the buy settles.
      marks.accept(new Mark(BTC, 540_000, 2, 0));
      accounts.tell(trader, new AccountEntity.SideSettled(3));
      reply = accounts.ask(trader, r -> new AccountEntity.AssessLiquidation(id, r));
    }
    AccountSummary assessed = assertInstanceOf(AccountEntity.Snapshot.class, reply).account();
    long crossDeficit = Math.max(0, -assessed.equity());
    long need = shortfalls + crossDeficit;
    assertInstanceOf(AccountEntity.StepApplied.class, accounts.ask(trader,
        r -> new AccountEntity.CreditLiquidation(id + "/cover", id, need, 1_000 * USDT, r)));
    assertInstanceOf(AccountEntity.StepApplied.class, accounts.ask(trader,
        r -> new AccountEntity.EndLiquidation(id, r)));
    AccountSummary after = accounts.summary(trader);
    assertFalse(crossDue(after), "the fund covered " + crossDeficit + " of negative equity (assessed: "
        + describe(assessed) + ") and the liquidation ended with the trader still holding what no close touched: "
        + describe(after) + ", equity " + after.equity());
  }

  /**
   * Checked, holds (liveness of 3ff279e's "newest side"): the trader's own reduce-only fills during
   * the liquidation, each settled at once, do not extend the wait; only sides still unconfirmed
   * count. Settling-wait 2 s; the trader's buy of 1 BTC at 50,000 stays unconfirmed for good (its
   * register never finishes it); the mark falls to 45,000 and the liquidation starts; every plan
   * is preceded by a new reduce-only sell of 0.001 BTC, settled at once: the plan goes ahead about
   * 2 s after the stuck buy, however many fills follow. (A stream of fills keeps a wait going only
   * while one of them is in flight at each ask; the stream's hold-after-unconfirmed holds an
   * account's trades once one is unconfirmed for confirm-timeout, 3 s.)
   */
  @Test
  void reduceOnlyFillsThatSettleDoNotExtendTheWait() throws Exception {
    FakeAccounts accounts = new FakeAccounts(testKit, SHORT_WAIT, INSTRUMENTS);
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(BTC, 500_000, 1, 0));
    accounts.marks = marks;
    accounts.unfinished = sequences -> CompletableFuture.completedFuture(
        sequences.contains(7L) ? List.of(7L) : List.of());
    String trader = accounts.open("trader", START);
    assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(trader,
        r -> new AccountEntity.ApplyTrade("t-7", 7, BTC, 1_000, 500_000, true, null, "elsewhere", r)));
    long applied = System.nanoTime();
    marks.accept(new Mark(BTC, 450_000, 2, 0));
    accounts.tell(trader, new AccountEntity.StartLiquidation(2));
    TestProbe<Object> probe = testKit.createTestProbe();
    String id = probe.awaitAssert(Duration.ofSeconds(10), () -> {
      String started = accounts.summary(trader).liquidationId();
      assertNotNull(started, "the liquidation starts");
      return started;
    });
    AtomicInteger fills = new AtomicInteger();
    probe.awaitAssert(Duration.ofSeconds(8), Duration.ofMillis(200), () -> {
      long seq = 100 + fills.incrementAndGet();
      AccountEntity.Reply filled = accounts.ask(trader,
          r -> new AccountEntity.ApplyTrade("t-" + seq, seq, BTC, -1, 450_000, false, null, "elsewhere", r));
      assertInstanceOf(AccountEntity.TradeSideApplied.class, filled, "a reduce-only sell is taken");
      accounts.tell(trader, new AccountEntity.SideSettled(seq));
      AccountEntity.Reply reply = accounts.ask(trader, r -> new AccountEntity.PlanLiquidationClose(id, r));
      assertFalse(waits(reply), "still waiting after " + fills.get() + " settled fills");
      return null;
    });
    long waited = (System.nanoTime() - applied) / 1_000_000;
    assertTrue(waited < 5_000, "the plan went ahead " + waited + " ms after the stuck buy (settling-wait 2 s), "
        + fills.get() + " settled fills later");
  }
}
