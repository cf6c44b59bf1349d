package io.clearinghouse.account;

// Over 400 lines: the account's side of every saga step (plan, take, close, undo, cover, debt, end, forget), each checked against the same liquidation and applied at most once; the rules themselves are in margin.LiquidationRules.
import io.clearinghouse.account.AccountEntity.ApplyLiquidationTransfer;
import io.clearinghouse.account.AccountEntity.ClosePlan;
import io.clearinghouse.account.AccountEntity.CreditLiquidation;
import io.clearinghouse.account.AccountEntity.DebtRecorded;
import io.clearinghouse.account.AccountEntity.EndLiquidation;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.LiquidationCredited;
import io.clearinghouse.account.AccountEntity.LiquidationEnded;
import io.clearinghouse.account.AccountEntity.LiquidationStep;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.AccountEntity.PlanLiquidationClose;
import io.clearinghouse.account.AccountEntity.RecordDebt;
import io.clearinghouse.account.AccountEntity.Rejected;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.account.AccountEntity.StepApplied;
import io.clearinghouse.account.AccountEntity.TransferApplied;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.AccountRisk;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.MarginMath;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.margin.Position;
import io.clearinghouse.margin.PositionChange;
import io.clearinghouse.margin.PositionRisk;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * The account's side of a liquidation saga (DESIGN section 6): which position to close next and
 * how much (partial, tier by tier, when the position sits above the first tier; the largest
 * maintenance margin first), the closes and takeovers themselves, the insurance fund's cover and
 * recorded debt. Every step carries the saga's key and is applied at most once; a retry gets the
 * first result.
 */
final class LiquidationHandlers {
  private final EffectFactories<Event, State> effect;
  private final RiskView risk;
  private final Instruments instruments;
  private final TradingHandlers trading;
  private final Clock clock;
  private final Consumer<State> changed;
  private final String accountId;
  private final Consumer<AccountEntity.Notice> notify;
  private final LongSupplier lastSequenceNumber;
  private final java.time.Duration settlingWait;

  LiquidationHandlers(EffectFactories<Event, State> effect, RiskView risk, Instruments instruments,
      TradingHandlers trading, Clock clock, Consumer<State> changed, String accountId,
      Consumer<AccountEntity.Notice> notify, LongSupplier lastSequenceNumber, java.time.Duration settlingWait) {
    this.settlingWait = settlingWait;
    this.lastSequenceNumber = lastSequenceNumber;
    this.notify = notify;
    this.accountId = accountId;
    this.effect = effect;
    this.risk = risk;
    this.instruments = instruments;
    this.trading = trading;
    this.clock = clock;
    this.changed = changed;
  }

  // --- plan -----------------------------------------------------------------------------

  ReplyEffect<Event, State> plan(Account account, PlanLiquidationClose cmd) {
    if (!account.liquidating() || !account.liquidation().liquidationId().equals(cmd.liquidationId())) {
      return effect.reply(cmd.replyTo(), new ClosePlan(null, 0, 0, 0, false, account.cash()));
    }
    if (risk.anyPositionStale(account)) {
      return reject(cmd.replyTo(), Rejection.MARK_STALE, "a position's index is stale: the close waits for fresh marks");
    }
    AccountRisk evaluation = risk.evaluate(account);
    // A side its register may still reverse would give back what a close was judged on (rev10e):
    // its bankruptcy price, the fund's hold, the position itself (a stop of a side then reversed
    // would leave the trader the opposite position), or that nothing is left to close. The plan
    // waits until the side settled or was undone (milliseconds normally), at most settlingWait
    // after the newest such side was applied (rev10f: with the counterparty's account away the
    // wait had no end while the loss grew). An isolated close is judged on its own margin alone:
    // it waits only for a side in its instrument (rev10f finding 2); anything else (a cross close,
    // a cross stop, nothing to close) waits for any side (rev10g findings 1 to 4).
    if (account.liquidation().stop()) {
      // A stop closes its whole position, once; nothing else.
      for (int i = 0; i < evaluation.positionCount(); i++) {
        PositionRisk p = evaluation.position(i);
        if (p.instrumentId().equals(account.liquidation().stopInstrument()) && p.lots() != 0) {
          Optional<ReplyEffect<Event, State>> waiting = waitForSettling(account, scope(p), cmd.replyTo(), "the stop");
          if (waiting.isPresent()) {
            return waiting.get();
          }
          return effect.reply(cmd.replyTo(), new ClosePlan(p.instrumentId(), -p.lots(), p.markTicks(),
              bankruptcyTicks(evaluation, i), p.mode() == MarginMode.ISOLATED, account.cash()));
        }
      }
      return nothingToClose(account, cmd);
    }
    int chosen = io.clearinghouse.margin.LiquidationRules.nextClose(evaluation);
    if (chosen < 0) {
      return nothingToClose(account, cmd);
    }
    PositionRisk p = evaluation.position(chosen);
    Optional<ReplyEffect<Event, State>> waiting = waitForSettling(account, scope(p), cmd.replyTo(), "the close");
    if (waiting.isPresent()) {
      return waiting.get();
    }
    long closeLots = lotsToClose(p, evaluation.metrics(chosen).notional());
    long bankruptcy = bankruptcyTicks(evaluation, chosen);
    return effect.reply(cmd.replyTo(), new ClosePlan(p.instrumentId(), -Long.signum(p.lots()) * closeLots,
        p.markTicks(), bankruptcy, p.mode() == MarginMode.ISOLATED, account.cash()));
  }

  /** The sides a close of {@code p} waits for: its instrument's when isolated (null: every side). */
  private static String scope(PositionRisk p) {
    return p.mode() == MarginMode.ISOLATED ? p.instrumentId() : null;
  }

  /** The closes end: once no side may still change whether anything is due (rev10g finding 3). */
  private ReplyEffect<Event, State> nothingToClose(Account account, PlanLiquidationClose cmd) {
    Optional<ReplyEffect<Event, State>> waiting = waitForSettling(account, null, cmd.replyTo(),
        "the end of the closes");
    return waiting.orElseGet(() -> effect.reply(cmd.replyTo(), new ClosePlan(null, 0, 0, 0, false, account.cash())));
  }

  /**
   * The account for the settlement of a liquidation whose closes are done: the deficit the fund
   * covers is judged on the cash, which a side still settling may yet change (any side: a cross
   * side's realized PnL, an isolated one's margin); the same bounded wait as the plan's.
   */
  ReplyEffect<Event, State> assess(Account account, AccountEntity.AssessLiquidation cmd, Reply snapshot) {
    if (account.liquidating() && account.liquidation().liquidationId().equals(cmd.liquidationId())) {
      Optional<ReplyEffect<Event, State>> waiting = waitForSettling(account, null, cmd.replyTo(), "the settlement");
      if (waiting.isPresent()) {
        return waiting.get();
      }
    }
    return effect.reply(cmd.replyTo(), snapshot);
  }

  /**
   * A TRADE_SETTLING refusal while a side in {@code instrument} (null: any) may still be reversed
   * and the newest such side was applied less than settlingWait ago (timed from the newest: one
   * side stuck for long must not switch the wait off for the others, rev10g finding 5); empty
   * when nothing holds {@code what}.
   */
  private Optional<ReplyEffect<Event, State>> waitForSettling(Account account, String instrument,
      ActorRef<Reply> replyTo, String what) {
    long latest = trading.latestSettling(account, instrument);
    if (latest >= 0 && clock.millis() - latest < settlingWait.toMillis()) {
      return Optional.of(reject(replyTo, Rejection.TRADE_SETTLING, "a " + (instrument == null ? "" : instrument + " ")
          + "trade of the account is still settling: " + what + " waits for it to settle or be reversed (at most "
          + settlingWait.toSeconds() + " s after it was applied)"));
    }
    return Optional.empty();
  }

  /** See {@link io.clearinghouse.margin.LiquidationRules#closeBankruptcyTicks}. */
  static long bankruptcyTicks(AccountRisk evaluation, int index) {
    return io.clearinghouse.margin.LiquidationRules.closeBankruptcyTicks(evaluation, index);
  }

  /**
   * Above the first tier: just enough lots that the rest falls into the tier below, so the
   * position gets the lower tier's maintenance rate; in the first tier: all of it.
   */
  static long lotsToClose(PositionRisk p, long notional) {
    return io.clearinghouse.margin.LiquidationRules.lotsToClose(p, notional);
  }


  // --- transfers ------------------------------------------------------------------------

  ReplyEffect<Event, State> transfer(Account account, ApplyLiquidationTransfer cmd) {
    Optional<LiquidationStep> done = account.liquidationStep(cmd.key());
    if (done.isPresent()) {
      LiquidationTransfer first = done.get().transfer();
      return first == null
          ? reject(cmd.replyTo(), Rejection.IDEMPOTENCY_KEY_REUSED, "step " + cmd.key() + " was not a transfer")
          : effect.reply(cmd.replyTo(), new TransferApplied(first));
    }
    Instrument instrument = instruments.require(cmd.instrument());
    Holding holding = account.holding(cmd.instrument());
    long lots = cmd.signedLots();
    switch (cmd.mode()) {
      case CLOSE_CLIPPED -> {
        if (!account.liquidating() || !account.liquidation().liquidationId().equals(cmd.liquidationId())) {
          return reject(cmd.replyTo(), Rejection.NOT_LIQUIDATING, account.accountId() + " is not in liquidation "
              + cmd.liquidationId());
        }
        // Only ever reduces: the trader's own reduce-only fills may have shrunk the position meanwhile.
        lots = reducing(holding, lots);
      }
      case REDUCE_CLIPPED -> lots = account.liquidating() ? 0 : reducing(holding, lots);
      case TAKE_CHECKED, FORCED -> { }
    }
    if (lots == 0) {
      // Nothing to apply, nothing persisted: the saga records the zero and moves on.
      return effect.reply(cmd.replyTo(), new TransferApplied(new LiquidationTransfer(cmd.key(), cmd.liquidationId(),
          cmd.role(), cmd.counterparty(), cmd.instrument(), 0, cmd.priceTicks(), 0, 0, 0, 0, 0, clock.millis())));
    }
    LiquidationTransfer event;
    try {
      event = transferEvent(account, instrument, holding, cmd, lots);
    } catch (ArithmeticException e) {
      return reject(cmd.replyTo(), Rejection.NOTIONAL_OVERFLOW, "the transfer overflows " + account.accountId()
          + "'s position or cash");
    }
    if (cmd.mode() == AccountEntity.TransferMode.TAKE_CHECKED) {
      // A takeover in a future this provider already settled: declined before anything moved.
      Optional<io.clearinghouse.common.RejectedException> settled = LateSettlement.refusal(account, cmd.instrument(),
          "the takeover " + cmd.key(), trading.expiry());
      if (settled.isPresent()) {
        return reject(cmd.replyTo(), Rejection.BACKSTOP_DECLINED, settled.get().getMessage());
      }
      Optional<String> refusal = refusesTakeover(account, instrument, holding, event, cmd.maxNotional());
      if (refusal.isPresent()) {
        return reject(cmd.replyTo(), Rejection.BACKSTOP_DECLINED, refusal.get());
      }
    }
    List<Event> events;
    try {
      events = new ArrayList<>(trading.withLateFunding(account, List.of(event), cmd.instrument(), lots,
          event.epochMillis()));
    } catch (ArithmeticException e) {
      return reject(cmd.replyTo(), Rejection.NOTIONAL_OVERFLOW, "the transfer overflows " + account.accountId()
          + "'s funding payments");
    }
    if (cmd.role().closing()) {
      events.addAll(releaseBeyond(account, cmd.instrument(), Math.abs(holding.lots() + lots)));
    }
    try {
      // Its counterpart already moved: in a future this account already settled, closed at once at its price.
      events = LateSettlement.closedAtOnce(account, events, cmd.instrument(), trading.expiry(),
          lastSequenceNumber.getAsLong());
    } catch (ArithmeticException e) {
      return reject(cmd.replyTo(), Rejection.NOTIONAL_OVERFLOW, "the transfer overflows " + account.accountId()
          + "'s settlement");
    }
    return effect.persist(events).thenRun(changed::accept)
        .thenRun(state -> {
          if (event.role() == LiquidationRole.DELEVERAGED) {
            Instrument i = instruments.require(event.instrument());
            // The liquidation is another account's, and its id names that account (<account id>-<n>):
            // the deleveraged client is told what closed and at what price, never whose liquidation it was.
            notify.accept(new AccountEntity.Notice(AccountEntity.NoticeKind.DELEVERAGED, "",
                i.formatQuantity(event.signedLots()) + " " + event.instrument() + " closed at "
                    + i.formatPrice(event.priceTicks()) + " by auto-deleveraging against a liquidation"));
          }
        })
        .thenReply(cmd.replyTo(), state -> new TransferApplied(event));
  }

  /** {@code lots} as far as they reduce the holding, never past flat; 0 if they would not reduce it. */
  private static long reducing(Holding holding, long lots) {
    boolean reduces = holding.lots() != 0 && Long.signum(lots) == -Long.signum(holding.lots());
    return reduces ? Long.signum(lots) * Math.min(Math.abs(lots), Math.abs(holding.lots())) : 0;
  }

  /**
   * Releases the reduce-only reservations on {@code instrument} that would now close more than
   * the {@code remaining} lots (newest kept first): once the liquidation has closed part of the
   * position, orders reserved against the larger one must not be counted on to reduce it.
   */
  private static List<Event> releaseBeyond(Account account, String instrument, long remaining) {
    List<Event> released = new ArrayList<>();
    long covered = 0;
    List<Reservation> same = new ArrayList<>();
    account.reservations().values().forEach(r -> {
      if (r.instrument().equals(instrument)) {
        same.add(r);
      }
    });
    same.sort(java.util.Comparator.comparing(Reservation::orderId));
    for (Reservation r : same) {
      covered = Math.addExact(covered, Math.abs(r.remainingLots()));
      if (covered > remaining) {
        released.add(new AccountEntity.ReservationReleased(r.orderId(), r.amount()));
      }
    }
    return released;
  }

  private LiquidationTransfer transferEvent(Account account, Instrument instrument, Holding holding,
      ApplyLiquidationTransfer cmd, long lots) {
    PositionChange change = new Position(holding.lots(), holding.cost())
        .apply(lots, cmd.priceTicks(), instrument.notionalMultiplier());
    Position after = change.position();
    long realized = change.realizedPnl();
    long costDelta = Math.subtractExact(after.cost(), holding.cost());
    long isolatedDelta = holding.mode() == MarginMode.ISOLATED
        ? trading.isolatedMarginDelta(account, instrument, holding, after, cmd.priceTicks(),
            Math.addExact(account.cash(), realized))
        : 0;
    long penalty = 0;
    long shortfall = 0;
    if (cmd.role() == LiquidationRole.LIQUIDATED) {
      // A protective stop (role STOPPED) closes without penalty.
      long closedNotional = instrument.notional(cmd.priceTicks(), lots);
      long remainingEquity;
      if (holding.mode() == MarginMode.ISOLATED) {
        // What the position's own margin still holds after the close: the account's cash is not its to pay.
        remainingEquity = Math.subtractExact(realized, isolatedDelta);
      } else {
        Map<String, Holding> holdingsAfter = new HashMap<>(account.holdings());
        holdingsAfter.put(cmd.instrument(), new Holding(after.lots(), after.cost(), holding.leverage(), holding.mode(),
            0, holding.lastPriceTicks()));
        remainingEquity = Math.addExact(risk.evaluate(account, holdingsAfter).equity(), realized);
      }
      penalty = io.clearinghouse.margin.LiquidationRules.penalty(closedNotional, instrument.liquidationFeePpm(),
          remainingEquity);
    }
    if (cmd.role().closing() && holding.mode() == MarginMode.ISOLATED) {
      shortfall = Math.max(0, -Math.subtractExact(realized, isolatedDelta));
    }
    var funding = instruments.spec(cmd.instrument()).funding();
    return new LiquidationTransfer(cmd.key(), cmd.liquidationId(), cmd.role(), cmd.counterparty(), cmd.instrument(),
        lots, cmd.priceTicks(), realized, costDelta, isolatedDelta, penalty, shortfall,
        cmd.cutMillis() > 0 ? cmd.cutMillis() : clock.millis(), funding == null ? 0 : funding.intervalMillis());
  }

  /** Why a backstop provider would not take this position over, if it would not. */
  private Optional<String> refusesTakeover(Account account, Instrument instrument, Holding holding,
      LiquidationTransfer event, long maxNotional) {
    if (account.liquidating()) {
      return Optional.of(account.accountId() + " is being liquidated");
    }
    if (account.inDebt()) {
      return Optional.of(account.accountId() + " is in debt");
    }
    if (risk.anyPositionStale(account)) {
      return Optional.of(account.accountId() + " holds a position with a stale index");
    }
    Holding after = new Holding(holding.lots() + event.signedLots(), holding.cost() + event.costDelta(),
        holding.leverage(), holding.mode(), holding.isolatedMargin() + event.isolatedMarginDelta(), event.priceTicks());
    Map<String, Holding> holdingsAfter = new HashMap<>(account.holdings());
    holdingsAfter.put(event.instrument(), after);
    Account taken = account.edit()
        .cash(Math.subtractExact(Math.addExact(account.cash(), event.realizedPnl()), event.isolatedMarginDelta()))
        .holdings(holdingsAfter)
        .liquidation(null)
        .build();
    // Judged with the trade sides it passed in a check and has not applied yet on top: they were promised first.
    Account whatIf = trading.promised(taken);
    Holding judged = whatIf.holding(event.instrument());
    long markTicks = risk.markTicks(event.instrument(), judged);
    long notionalAfter = Math.max(Math.abs(instrument.notional(markTicks, judged.lots())),
        Math.abs(instrument.notional(risk.markTicks(event.instrument(), after), after.lots())));
    if (maxNotional > 0 && notionalAfter > maxNotional) {
      return Optional.of("the position would reach a notional of " + notionalAfter + ", above the provider's limit of "
          + maxNotional);
    }
    // Carried with and without the held sides (one that closes at a profit adds nothing until applied).
    AccountRisk evaluation = risk.evaluate(whatIf);
    AccountRisk withoutHeld = risk.evaluate(taken);
    if (evaluation.liquidatable() || evaluation.available() < 0 || withoutHeld.liquidatable()
        || withoutHeld.available() < 0) {
      return Optional.of(account.accountId() + " would not have the margin to carry the position");
    }
    // Nor once the trade sides it still settles were reversed: what they realized or freed is not
    // the provider's until they settle (an isolated holding's margin comes from that cash).
    Account reversed;
    try {
      reversed = trading.settlingReversed(taken);
    } catch (ArithmeticException e) {
      return Optional.of(account.accountId() + "'s trades still settling overflow it");
    }
    if (reversed != taken) {
      AccountRisk ifReversed = risk.evaluate(reversed);
      if (ifReversed.liquidatable() || ifReversed.available() < 0
          || (after.mode() == MarginMode.ISOLATED && reversed.cash() < 0)) {
        return Optional.of(account.accountId() + " would not have the margin to carry the position if the trades it"
            + " still settles were reversed");
      }
    }
    return Optional.empty();
  }

  // --- money steps and the end ----------------------------------------------------------

  ReplyEffect<Event, State> credit(Account account, CreditLiquidation cmd) {
    Optional<LiquidationStep> done = account.liquidationStep(cmd.key());
    if (done.isPresent()) {
      return effect.reply(cmd.replyTo(), new StepApplied(done.get().amount()));
    }
    if (cmd.amount() <= 0) {
      return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "a credit must be positive");
    }
    if (!account.canCredit(cmd.amount())) {
      return reject(cmd.replyTo(), Rejection.BALANCE_OVERFLOW, "the credit would overflow the account's cash");
    }
    // The part meant for isolated shortfalls pays what they still owe (never more), the rest the cash.
    long shortfallCovered = Math.max(0, Math.min(Math.min(cmd.shortfallCovered(), cmd.amount()), account.owed()));
    return effect.persist(new LiquidationCredited(cmd.key(), cmd.liquidationId(), cmd.amount(), shortfallCovered))
        .thenRun(changed::accept).thenReply(cmd.replyTo(), state -> new StepApplied(cmd.amount()));
  }

  ReplyEffect<Event, State> recordDebt(Account account, RecordDebt cmd) {
    Optional<LiquidationStep> done = account.liquidationStep(cmd.key());
    if (done.isPresent()) {
      return effect.reply(cmd.replyTo(), new StepApplied(done.get().amount()));
    }
    if (cmd.amount() <= 0) {
      return reject(cmd.replyTo(), Rejection.AMOUNT_NOT_POSITIVE, "a debt must be positive");
    }
    return effect.persist(new DebtRecorded(cmd.key(), cmd.liquidationId(), cmd.amount()))
        .thenRun(changed::accept).thenReply(cmd.replyTo(), state -> new StepApplied(cmd.amount()));
  }

  ReplyEffect<Event, State> forget(Account account, AccountEntity.ForgetLiquidation cmd) {
    String prefix = cmd.liquidationId() + "/";
    boolean remembered = account.liquidationSteps().stream().anyMatch(step -> step.key().startsWith(prefix));
    if (!remembered) {
      return cmd.replyTo() == null ? effect.noReply() : effect.reply(cmd.replyTo(), org.apache.pekko.Done.done());
    }
    var persisted = effect.persist(new AccountEntity.LiquidationForgotten(cmd.liquidationId()));
    return cmd.replyTo() == null ? persisted.thenNoReply()
        : persisted.thenReply(cmd.replyTo(), state -> org.apache.pekko.Done.done());
  }

  ReplyEffect<Event, State> end(Account account, EndLiquidation cmd) {
    if (!account.liquidating() || !account.liquidation().liquidationId().equals(cmd.liquidationId())) {
      return effect.reply(cmd.replyTo(), new StepApplied(0));
    }
    // Funding paid (or redone) after the saga assessed the deficit is in no assessment: an account
    // that ends flat and short of more than its recorded debt has that rest settled at once by a
    // liquidation with nothing to close (valuing what this one valued), as FundingHandlers does for
    // a flat account it pays; otherwise no monitor would ever see it.
    LiquidationEnded ended = new LiquidationEnded(cmd.liquidationId(), clock.millis());
    List<Event> events = new ArrayList<>();
    events.add(ended);
    events.addAll(FundingHandlers.unsettledDeficit(account.apply(ended, Long.MAX_VALUE),
        account.liquidation().marks(), lastSequenceNumber.getAsLong() + 2, ended.epochMillis()));
    return effect.persist(events)
        .thenRun(changed::accept).thenReply(cmd.replyTo(), state -> new StepApplied(0));
  }

  private ReplyEffect<Event, State> reject(ActorRef<Reply> replyTo, Rejection reason, String message) {
    return effect.reply(replyTo, new Rejected(reason, message));
  }
}
