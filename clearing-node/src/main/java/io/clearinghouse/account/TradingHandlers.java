package io.clearinghouse.account;

// Over 450 lines: a trade side checked, applied, forced and reversed share one clear(), with the fill and reversal rules of the money-integrity reviews; reservations are already apart. To split with issue 12 (state records).

import io.clearinghouse.account.AccountEntity.AdjustIsolatedMargin;
import io.clearinghouse.account.AccountEntity.ApplyTrade;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.IsolatedMarginAdjusted;
import io.clearinghouse.account.AccountEntity.LeverageCapSet;
import io.clearinghouse.account.AccountEntity.LeverageSet;
import io.clearinghouse.account.AccountEntity.MarginModeSet;
import io.clearinghouse.account.AccountEntity.MarginReserved;
import io.clearinghouse.account.AccountEntity.Rejected;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.SetLeverage;
import io.clearinghouse.account.AccountEntity.SetLeverageCap;
import io.clearinghouse.account.AccountEntity.SetMarginMode;
import io.clearinghouse.account.AccountEntity.Snapshot;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.account.AccountEntity.TradeCleared;
import io.clearinghouse.account.AccountEntity.TradeSideApplied;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.account.AccountEntity.ReverseTradeSide;
import io.clearinghouse.account.AccountEntity.TradeSideReversed;
import io.clearinghouse.account.AccountEntity.TradeSideReverted;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.MarginMath;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.margin.MulDiv;
import io.clearinghouse.margin.OrderRules;
import io.clearinghouse.margin.Position;
import io.clearinghouse.margin.PositionChange;
import io.clearinghouse.money.Asset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * The account's trading commands: trade sides from the clearing stream (checked, applied, forced,
 * reversed), leverage and margin mode ({@link ReservationHandlers} has the pre-trade reservations). Each decides with exact integers at the current marks and either
 * persists one event carrying every money movement, or refuses and changes nothing.
 */
final class TradingHandlers {
  private final EffectFactories<Event, State> effect;
  private final RiskView risk;
  private final Instruments instruments;
  private final Consumer<State> changed;
  private final PendingSides pending;
  private final boolean checkUnreservedFills;

  private final Asset asset;

  /** The dated futures' expiries and settlement prices, for sides after an expiry. */
  private final LateSettlement.Expiry expiry;

  LateSettlement.Expiry expiry() {
    return expiry;
  }

  TradingHandlers(EffectFactories<Event, State> effect, RiskView risk, Instruments instruments, Asset asset,
      PendingSides pending, boolean checkUnreservedFills, Consumer<State> changed) {
    this(effect, risk, instruments, asset, pending, checkUnreservedFills, changed, System::currentTimeMillis);
  }

  /** {@code now}: the funding cut of a side that comes without one (the account's clock). */
  TradingHandlers(EffectFactories<Event, State> effect, RiskView risk, Instruments instruments, Asset asset,
      PendingSides pending, boolean checkUnreservedFills, Consumer<State> changed, java.util.function.LongSupplier now) {
    this(effect, risk, instruments, asset, pending, checkUnreservedFills, changed, now, () -> 0, null,
        SettlementPrices.NONE);
  }

  /**
   * {@code lastSequenceNumber}: the account journal's last (a liquidation's id when funding leaves a
   * deficit); {@code settlingSides}: the sides still settling (null: not tracked, no register).
   */
  TradingHandlers(EffectFactories<Event, State> effect, RiskView risk, Instruments instruments, Asset asset,
      PendingSides pending, boolean checkUnreservedFills, Consumer<State> changed, java.util.function.LongSupplier now,
      java.util.function.LongSupplier lastSequenceNumber, SettlingSides settlingSides, SettlementPrices prices) {
    this.expiry = new LateSettlement.Expiry(instruments, prices, now);
    this.settlingSides = settlingSides;
    this.lastSequenceNumber = lastSequenceNumber;
    this.now = now;
    this.asset = asset;
    this.pending = pending;
    this.checkUnreservedFills = checkUnreservedFills;
    this.effect = effect;
    this.risk = risk;
    this.instruments = instruments;
    this.changed = changed;
  }

  private final java.util.function.LongSupplier now;
  private final java.util.function.LongSupplier lastSequenceNumber;
  private final SettlingSides settlingSides;

  /** What sides still settling (but {@code except}) realized at a profit: not to be moved out of a reversal's reach. */
  long settlingProfit(Account account, long except) {
    return settlingSides == null ? 0 : settlingSides.settlingProfit(account, except);
  }

  /**
   * The account as if every side still settling were reversed (its position and margin back
   * as before the side, what the side realized and paid gone); the account itself when no side is
   * settling. What a fill, a reservation or a move of margin may spend must be there in both: a
   * reversal that a side's profit or freed margin had paid for would leave the account short, and
   * the fund would carry it. Throws ArithmeticException when a reversal would not fit a long.
   */
  Account settlingReversed(Account account) {
    Map<Long, String> settling = settlingSequences(account);
    return settling.isEmpty() ? account : asIfReversed(account, new ArrayList<>(settling.keySet()));
  }

  /**
   * The account's own sides still settling in {@code view} (the account, or its promised view),
   * oldest first, each with its instrument: a side held from its check (promised) is not one of
   * them, it is applied in that view and no register reverses it (review rev10h, finding 3).
   * Those the account forgot are included (SettlingSides.track, finding 4).
   */
  private Map<Long, String> settlingSequences(Account view) {
    if (settlingSides == null) {
      return Map.of();
    }
    Map<Long, String> settling = new java.util.TreeMap<>();
    for (TradeRef ref : settlingSides.open(view)) {
      if (!pending.holds(ref.sequence())) {
        settling.put(ref.sequence(), ref.instrument());
      }
    }
    return settling;
  }

  /**
   * The views of {@code base} (the account or its promised view) in which what an isolated fill,
   * an order, a withdrawal or a move of margin takes must be there, whichever of the sides still
   * settling end reversed ({@link SettlingViews}): every side reversed, and the worst for each of
   * {@code measures}, the group of {@code instrument} (null: none) both ways. Empty when nothing
   * settles. Throws ArithmeticException when a reversal would not fit a long.
   */
  List<Account> settlingViews(Account base, String instrument, List<ToLongFunction<Account>> measures) {
    return SettlingViews.of(base, settlingSequences(base), instrument, measures, this::asIfReversed);
  }

  /** What an isolated position is funded from: free cash (not held by orders) and available margin. */
  List<ToLongFunction<Account>> fundingMeasures() {
    return List.of(view -> Math.subtractExact(view.cash(), view.reserved()), view -> risk.evaluate(view).available());
  }

  /**
   * When the newest side of the account in {@code instrument} (null: of every instrument) its
   * register may still reverse was applied, by this account's clock ({@link SettlingSides#appliedAt}),
   * or -1 when none may.
   */
  long latestSettling(Account account, String instrument) {
    if (settlingSides == null) {
      return -1;
    }
    long latest = -1;
    for (long sequence : settlingSides.unconfirmed(account)) {
      Optional<TradeRef> ref = account.trade(sequence).or(() -> settlingSides.forgottenRef(sequence));
      if (instrument != null && ref.isPresent() && ref.get().instrument() != null
          && !instrument.equals(ref.get().instrument())) {
        continue;
      }
      latest = Math.max(latest, settlingSides.appliedAt(sequence));
    }
    return latest;
  }

  /** Whether a side in {@code instrument} may still be reversed by its register. */
  private boolean settling(Account account, String instrument) {
    return settlingSequences(account).containsValue(instrument);
  }

  /**
   * Cash an isolated fill may fund from in {@code account}: its cash after the fill's realized
   * PnL and fee, less what other orders hold ({@code released}: this order's reservation, given
   * back by the fill).
   */
  private static long freeCash(Account account, long realizedPnl, long fee, long released) {
    return Math.subtractExact(Math.subtractExact(Math.addExact(account.cash(), realizedPnl), fee),
        Math.subtractExact(account.reserved(), released));
  }

  /** Available margin, the lower of the account's and its {@link #settlingReversed} view's. */
  private long spendable(Account account) {
    long available = risk.evaluate(account).available();
    for (Account view : settlingViews(account, null, List.of(this::availableIn))) {
      available = Math.min(available, availableIn(view));
    }
    return available;
  }

  /** Available margin in {@code view}: the measure a cross fill or order is judged on (review rev10j, finding 3). */
  long availableIn(Account view) {
    return risk.evaluate(view).available();
  }

  /**
   * {@code events} with the late funding adjustments of a change of {@code delta} lots cut at
   * {@code cut}, and the settlement of a deficit they, or the change itself when it closes the
   * account's last position, leave (see FundingHandlers). Throws
   * ArithmeticException when a redone payment overflows: the caller refuses the change.
   */
  List<Event> withLateFunding(Account account, List<Event> events, String instrument, long delta, long cut) {
    List<Event> late = FundingHandlers.lateAdjustments(account, instruments, instrument, delta, cut, now.getAsLong());
    boolean leavesFlat = leavesFlat(account, instrument, delta);
    if (late.isEmpty() && !leavesFlat) {
      return events;
    }
    List<Event> all = new ArrayList<>(events);
    all.addAll(late);
    if (!late.isEmpty()) {
      long mark = ((AccountEntity.FundingAdjusted) late.get(0)).markTicks();
      all.addAll(FundingHandlers.deficitSettled(account, all, instrument, mark, lastSequenceNumber.getAsLong(),
          now.getAsLong()));
    }
    if (leavesFlat && all.stream().noneMatch(e -> e instanceof AccountEntity.LiquidationStarted)) {
      // A change that closes the account's last position with its cash short (closed at or beyond
      // its bankruptcy price, by a fill the pre-trade check did not see or a reversal): no monitor
      // watches a flat account, so the deficit is settled at once (FundingHandlers.unsettledDeficit).
      Account after = account;
      for (Event e : all) {
        after = after.apply(e, Long.MAX_VALUE);
      }
      all.addAll(FundingHandlers.unsettledDeficit(after,
          java.util.Map.of(instrument, risk.markTicks(instrument, account.holding(instrument))),
          lastSequenceNumber.getAsLong() + all.size() + 1, now.getAsLong()));
    }
    return all.size() == events.size() ? events : all;
  }

  /** Whether a change of {@code delta} lots in {@code instrument} leaves the account with no position. */
  private static boolean leavesFlat(Account account, String instrument, long delta) {
    for (var held : account.holdings().entrySet()) {
      long lots = held.getKey().equals(instrument) ? Math.addExact(held.getValue().lots(), delta) : held.getValue().lots();
      if (lots != 0) {
        return false;
      }
    }
    return delta != 0 && account.holding(instrument).lots() + delta == 0;
  }

  // --- trades ---------------------------------------------------------------------------

  ReplyEffect<Event, State> applyTrade(Account account, ApplyTrade cmd) {
    return applyTrade(account, cmd, false);
  }

  /**
   * Whether {@code cmd} would be applied now, without applying it: the trade register asks the
   * seller before it applies the buyer's side, so that a trade the seller would refuse moves
   * nothing on either side. A side that passes is held ({@link PendingSides}) until it is applied:
   * every later decision of this account counts it as applied already.
   */
  ReplyEffect<Event, State> checkTrade(Account account, AccountEntity.CheckTrade cmd) {
    pending.release(cmd.side().sequence());
    return applyTrade(account, cmd.side(), true, false);
  }

  /** {@code account} as the sides it passed in a check and has not applied yet will leave it. */
  Account promised(Account account) {
    return pending.view(account, PendingSides.NONE);
  }

  /** The trade of a side this account passed in a check was refused by the other side: it holds nothing any more. */
  ReplyEffect<Event, State> releaseCheck(AccountEntity.ReleaseCheck cmd) {
    pending.release(cmd.sequence());
    return effect.reply(cmd.replyTo(), new AccountEntity.CheckReleased());
  }

  /**
   * The side of a trade whose other side is already applied, whatever this account's own rules
   * would now say (position limit, isolated funding, a reduce-only order that would open): the
   * trade was executed, and taking it back from the other side would be worse. An account this
   * leaves short of margin is the margin monitor's to liquidate. Never beyond what fits a long,
   * never a sequence applied with other content.
   */
  ReplyEffect<Event, State> forceTrade(Account account, AccountEntity.ForceTradeSide cmd) {
    // Only a side this account still holds from its check is taken whatever its rules say: after
    // a restart or once the hold expired, what the check promised may have been used since, so the
    // side is judged as any other (a refusal makes the register reverse the buyer's side).
    return applyTrade(account, cmd.side(), false, pending.holds(cmd.side().sequence()));
  }

  private ReplyEffect<Event, State> applyTrade(Account account, ApplyTrade cmd, boolean checkOnly) {
    return applyTrade(account, cmd, checkOnly, false);
  }

  private ReplyEffect<Event, State> applyTrade(Account account, ApplyTrade cmd, boolean checkOnly, boolean forced) {
    Instrument instrument = instruments.require(cmd.instrument());
    if (settlingSides != null) {
      // Before a side that may push an unconfirmed one out of the account's recent trades.
      settlingSides.track(account);
    }
    Optional<TradeRef> seen = account.trade(cmd.sequence());
    if (seen.isPresent()) {
      TradeRef first = seen.get();
      if (first.reversed()) {
        return reject(cmd.replyTo(), Rejection.TRADE_CONFLICT, "sequence " + cmd.sequence() + " was reversed on "
            + account.accountId() + " (its trade was refused); it is never applied again");
      }
      if (!first.sameAs(cmd)) {
        return reject(cmd.replyTo(), Rejection.TRADE_CONFLICT, "sequence " + cmd.sequence() + " was already applied to "
            + account.accountId() + " as trade " + first.tradeId() + " with other content");
      }
      return effect.reply(cmd.replyTo(), new TradeSideApplied(first.fee(), true));
    }
    if (account.tooOldToVerify(cmd.sequence())) {
      return reject(cmd.replyTo(), Rejection.TRADE_TOO_OLD, "sequence " + cmd.sequence()
          + " is older than every trade " + account.accountId() + " remembers; it cannot be verified");
    }
    if (!forced) {
      // A side in a future this account already settled: refused while nothing has moved yet.
      Optional<RejectedException> settled = LateSettlement.refusal(account, cmd.instrument(), "trade " + cmd.tradeId(),
          expiry);
      if (settled.isPresent()) {
        return reject(cmd.replyTo(), settled.get().reason(), settled.get().getMessage());
      }
    }
    TradeCleared event;
    try {
      // Judged as if every side this account passed in a check (and has not applied yet) were
      // applied: they were promised first. A forced side takes what there is.
      Account promised = forced ? account : pending.view(account, cmd.sequence());
      if (checkOnly) {
        event = clear(promised, instrument, cmd, false);
      } else {
        if (promised != account) {
          clear(promised, instrument, cmd, false);
        }
        event = clear(account, instrument, cmd, forced);
      }
    } catch (ArithmeticException e) {
      return reject(cmd.replyTo(), Rejection.NOTIONAL_OVERFLOW, "trade " + cmd.tradeId() + " overflows "
          + account.accountId() + "'s position or cash");
    } catch (RejectedException e) {
      return reject(cmd.replyTo(), e.reason(), e.getMessage());
    }
    if (checkOnly) {
      pending.hold(event);
      return effect.reply(cmd.replyTo(), new TradeSideApplied(event.fee(), false));
    }
    // A side cut before a funding time the account was already paid for: that payment is redone.
    List<Event> events;
    try {
      events = withLateFunding(account, List.of(event), cmd.instrument(), event.signedLots(), event.cutMillis());
      // Forced into a future this account already settled: closed at once at its settlement price.
      events = LateSettlement.closedAtOnce(account, events, cmd.instrument(), expiry,
          lastSequenceNumber.getAsLong());
    } catch (ArithmeticException e) {
      return reject(cmd.replyTo(), Rejection.NOTIONAL_OVERFLOW, "trade " + cmd.tradeId() + " overflows "
          + account.accountId() + "'s funding payments");
    }
    return effect.persist(events).thenRun(state -> {
      pending.release(cmd.sequence());
      changed.accept(state);
    }).thenReply(cmd.replyTo(), state -> new TradeSideApplied(event.fee(), false));
  }

  private static long fee(Instrument instrument, ApplyTrade cmd) {
    long notional = instrument.notional(cmd.priceTicks(), cmd.signedLots());
    return MarginMath.fee(notional, cmd.taker() ? instrument.takerFeePpm() : instrument.makerFeePpm());
  }

  /**
   * Works out every movement of one trade side; throws ArithmeticException on overflow and
   * RejectedException when the trade breaks a rule of {@link OrderRules}: priced outside the band
   * around the mark, growing the position beyond the risk limit, or opening an isolated position
   * that cash cannot fund in full.
   */
  private TradeCleared clear(Account account, Instrument instrument, ApplyTrade cmd, boolean forced) {
    long fee = fee(instrument, cmd);
    // The price band was judged once for the whole trade by its register (clearing/MarketCheck).
    long mark = risk.publishedMarkTicks(cmd.instrument());
    Holding before = account.holding(cmd.instrument());
    PositionChange change = new Position(before.lots(), before.cost())
        .apply(cmd.signedLots(), cmd.priceTicks(), instrument.notionalMultiplier());
    Position after = change.position();
    if (!forced && Math.abs(after.lots()) > Math.abs(before.lots())
        && !OrderRules.withinPositionLimit(instrument, after.lots(), Math.max(cmd.priceTicks(), mark))) {
      throw new RejectedException(Rejection.POSITION_LIMIT, "trade " + cmd.tradeId() + " would grow "
          + account.accountId() + "'s position beyond the risk limit of " + money(instrument.riskTiers().maxNotional()));
    }
    long costDelta = Math.subtractExact(after.cost(), before.cost());
    long released = 0;
    Reservation reservation = cmd.orderId() == null ? null : account.reservations().get(cmd.orderId());
    if (!forced && reservation != null) {
      beyondOrder(reservation, cmd).ifPresent(why -> {
        throw new RejectedException(Rejection.FILL_BEYOND_ORDER, "trade " + cmd.tradeId() + " fills order "
            + cmd.orderId() + " of " + account.accountId() + " " + why);
      });
    }
    if (reservation != null && reservation.instrument().equals(cmd.instrument())
        && Long.signum(reservation.remainingLots()) == Long.signum(cmd.signedLots())) {
      released = reservation.releasedBy(cmd.signedLots());
    }
    boolean opens = Math.abs(after.lots()) > Math.abs(before.lots())
        || (after.lots() != 0 && Long.signum(after.lots()) != Long.signum(before.lots()));
    if (!forced && opens && account.liquidating()) {
      throw new RejectedException(Rejection.ACCOUNT_LIQUIDATING, "trade " + cmd.tradeId() + " would open or grow a"
          + " position of " + account.accountId() + ", which is being liquidated: only reducing trades are taken");
    }
    if (!forced && opens && account.inDebt()) {
      throw new RejectedException(Rejection.ACCOUNT_IN_DEBT, "trade " + cmd.tradeId() + " would open or grow a"
          + " position of " + account.accountId() + ", which owes " + money(account.debt()) + " from a liquidation");
    }
    if (!forced && opens && reservation != null && reservation.amount() == 0 && released == 0
        && reservation.instrument().equals(cmd.instrument())) {
      // It was reserved without margin because it only reduced; the position has shrunk since.
      throw new RejectedException(Rejection.INSUFFICIENT_MARGIN, "order " + cmd.orderId() + " was accepted as"
          + " reduce-only and would now open a position with no margin reserved for it");
    }
    if (!forced && (reservation != null || checkUnreservedFills)) {
      closingBeyondBankruptcy(account, instrument, before, cmd, mark, fee, released);
    }
    if (!forced && opens && reservation == null && before.mode() != MarginMode.ISOLATED && checkUnreservedFills) {
      // Nothing was reserved for it (no order named, or its reservation released or used up
      // before the fill came): the order-cost rule judges it now, against what is available.
      OrderRules.Cost cost = OrderRules.cost(instrument, before.lots(), 0, cmd.signedLots(), cmd.priceTicks(),
          mark > 0 ? mark : cmd.priceTicks(), risk.chosenLeverage(account, before));
      long available = spendable(account);
      if (!cost.reducing() && cost.amount() > available) {
        throw new RejectedException(Rejection.INSUFFICIENT_MARGIN, "trade " + cmd.tradeId() + " has no reservation"
            + " and needs " + money(cost.amount()) + " of margin, open loss and fee but " + account.accountId()
            + " has " + money(Math.max(0, available)) + " available");
      }
    }
    long isolatedDelta = 0;
    if (before.mode() == MarginMode.ISOLATED && forced) {
      // What cash there is: the monitor liquidates a position this leaves short.
      long cashAfterTrade = Math.subtractExact(Math.addExact(account.cash(), change.realizedPnl()), fee);
      isolatedDelta = isolatedMarginDelta(account, instrument, before, after, cmd.priceTicks(), cashAfterTrade);
    } else if (before.mode() == MarginMode.ISOLATED) {
      // Never funded from what a side still settling realized (a reversal takes it back from the cross cash).
      isolatedDelta = isolatedFill(account, instrument, cmd, mark, fee, released,
          settlingProfit(account, cmd.sequence()), "");
      // Nor from what such a side gave back to cash (an isolated close's margin, a fee): its
      // reversal takes that too, and cross profit would then be all that carried the new position.
      // So the fill must also be funded in each view of the sides still settling reversed (all of
      // them, and the worst mix of reversed and settled: review rev10h, findings 1 and 5), applied
      // to that view's own holding: in the instrument of a settling close it first closes the
      // position the reversal restores, whose margin comes back to cash (review rev10f, finding 4).
      // A fill that only reduces in the account may open in a view (rev10h, finding 2): judged
      // there; one that only reduces in the view too is never refused for want of cash.
      for (Account view : settlingViews(account, cmd.instrument(), fundingMeasures())) {
        isolatedFill(view, instrument, cmd, mark, fee, released, 0, " were some of the trades still settling reversed");
      }
    }
    // The cash after the trade must fit a long too.
    Math.subtractExact(Math.subtractExact(Math.addExact(account.cash(), change.realizedPnl()), fee), isolatedDelta);
    boolean fills = reservation != null && reservation.instrument().equals(cmd.instrument())
        && Long.signum(reservation.remainingLots()) == Long.signum(cmd.signedLots());
    var funding = instruments.spec(cmd.instrument()).funding();
    TradeCleared cleared = new TradeCleared(cmd.tradeId(), cmd.sequence(), cmd.instrument(), cmd.signedLots(),
        cmd.priceTicks(), fee, change.realizedPnl(), costDelta, isolatedDelta, fills ? cmd.orderId() : null, released,
        cmd.counterparty(), cmd.taker(), cmd.orderId(), cmd.cutMillis() > 0 ? cmd.cutMillis() : now.getAsLong(),
        funding == null ? 0 : funding.intervalMillis());
    if (!forced && !opens && before.mode() == MarginMode.ISOLATED && settling(account, cmd.instrument())) {
      // A close or reduction while a side in this instrument still settles: that side, reversed
      // after the fill, is the opposite fill at its own price against the holding the fill left;
      // where that reopens the position (the side opened it) it must find the margin its
      // allocation says in cash (review rev10h, finding 2), judged in the worst mixes of the other
      // sides reversed too. (The view where the reversal comes first has the same equity but holds
      // the realized loss in cash; a fill that opens in the account is judged there only.)
      Map<Long, String> settling = new HashMap<>(settlingSequences(account));
      settling.remove(cmd.sequence());
      SettlingViews.of(account.apply(cleared), settling, cmd.instrument(), List.of(Account::cash),
          (view, sequences) -> asIfReversed(view, sequences, cmd.instrument()));
    }
    return cleared;
  }

  /**
   * The closing rule at the fill (OrderRules.closingFits), for an order's fill and, when unreserved
   * fills are checked, any other: a fill priced worse than the mark may lose against it (with the
   * fee) only what the equity carrying the position holds now. The check at the order saw the
   * equity and the mark then; a withdrawal, an isolated margin moved out, other fills or a mark
   * move since can have taken it, and a fill beyond the bankruptcy price hands the insurance fund's
   * money to the counterparty. Isolated: the closing lots on their share of the position (its
   * opening lots are funded at the fill from cash, isolatedFill). Cross: the closing and opening
   * lots together, on the equity less what the other orders hold and the maintenance margin of
   * what stays open, the position the fill opens or grows included.
   */
  private void closingBeyondBankruptcy(Account account, Instrument instrument, Holding before, ApplyTrade cmd,
      long mark, long fee, long released) {
    boolean closes = before.lots() != 0 && Long.signum(before.lots()) != Long.signum(cmd.signedLots());
    boolean isolated = before.mode() == MarginMode.ISOLATED;
    if (!closes && isolated) {
      return;
    }
    long order = Math.absExact(cmd.signedLots());
    long closingLots = closes ? Math.min(order, Math.absExact(before.lots())) : 0;
    long openingLots = Math.subtractExact(order, closingLots);
    int sign = Long.signum(cmd.signedLots());
    long reference = mark > 0 ? mark : before.lastPriceTicks() > 0 ? before.lastPriceTicks() : cmd.priceTicks();
    long m = instrument.notionalMultiplier();
    long loss = OrderRules.closingLoss(sign * closingLots, cmd.priceTicks(), reference, m);
    if (!isolated) {
      loss = Math.addExact(loss, OrderRules.closingLoss(sign * openingLots, cmd.priceTicks(), reference, m));
    }
    boolean crossOpens = !isolated && openingLots > 0;
    if (loss == 0 && !crossOpens) {
      return;
    }
    long cushion;
    if (isolated) {
      cushion = OrderRules.isolatedClosingCushion(Math.addExact(before.isolatedMargin(),
          MarginMath.unrealizedPnl(before.lots(), before.cost(), reference, m)), closingLots, before.lots());
    } else {
      cushion = OrderRules.crossClosingCushion(risk.evaluate(account), cmd.instrument(), closingLots, released);
      Account reversed = settlingReversed(account);
      if (reversed != account) {
        // Nor more than would carry it once the sides still settling were reversed.
        cushion = Math.min(cushion, OrderRules.crossClosingCushion(risk.evaluate(reversed), cmd.instrument(),
            closingLots, released));
      }
      if (openingLots > 0) {
        // The maintenance margin the fill adds: of the position it leaves, less what stays counted of the one before.
        long after = Math.addExact(before.lots(), cmd.signedLots());
        long mmAfter = MarginMath.maintenanceMargin(Math.abs(instrument.notional(reference, after)),
            instrument.riskTiers());
        long mmKept = closes ? 0 : MarginMath.maintenanceMargin(Math.abs(instrument.notional(reference, before.lots())),
            instrument.riskTiers());
        cushion = Math.subtractExact(cushion, Math.max(0, Math.subtractExact(mmAfter, mmKept)));
      }
    }
    // A cross fill that opens lots must leave the account above maintenance whatever its price (its
    // order's reservation can have been priced against other orders that filled since): its loss
    // against the mark, if any, and its fee within the cushion. Closing only: OrderRules.closingFits.
    boolean fits = crossOpens ? Math.addExact(loss, Math.max(0, fee)) <= cushion
        : OrderRules.closingFits(loss, fee, cushion);
    if (!fits) {
      throw new RejectedException(Rejection.INSUFFICIENT_MARGIN, "trade " + cmd.tradeId() + " at "
          + instrument.formatPrice(cmd.priceTicks()) + " loses " + money(loss) + " against the mark "
          + instrument.formatPrice(reference) + ", more than the " + money(Math.max(0, cushion))
          + " of equity carrying " + account.accountId() + "'s position: beyond its bankruptcy price");
    }
    if (crossOpens) {
      // And the order-cost rule at the fill, as for an unreserved fill, with what the fill's own
      // order held given back: a reservation priced against sibling orders that filled since may
      // hold too little for the leverage the account chose.
      OrderRules.Cost cost = OrderRules.cost(instrument, before.lots(), 0, cmd.signedLots(), cmd.priceTicks(),
          reference, risk.chosenLeverage(account, before));
      long available = Math.addExact(spendable(account), Math.max(0, released));
      if (cost.amount() > available) {
        throw new RejectedException(Rejection.INSUFFICIENT_MARGIN, "trade " + cmd.tradeId() + " needs "
            + money(cost.amount()) + " of margin, loss against the mark and fee but " + account.accountId()
            + " has " + money(Math.max(0, available)) + " available with its order's reservation");
      }
    }
  }

  /**
   * Why a fill of a reserved order goes beyond what was reserved for it (the margin held was worked
   * out for that order's instrument, side, limit price and quantity), if it does.
   */
  private Optional<String> beyondOrder(Reservation order, ApplyTrade fill) {
    if (!order.instrument().equals(fill.instrument())
        || Long.signum(order.remainingLots()) != Long.signum(fill.signedLots())) {
      return Optional.of("which is reserved for " + (order.remainingLots() > 0 ? "a buy of " : "a sell of ")
          + order.instrument());
    }
    boolean buy = fill.signedLots() > 0;
    if (buy ? fill.priceTicks() > order.priceTicks() : fill.priceTicks() < order.priceTicks()) {
      Instrument instrument = instruments.require(fill.instrument());
      return Optional.of("at " + instrument.formatPrice(fill.priceTicks()) + ", beyond its limit of "
          + instrument.formatPrice(order.priceTicks()));
    }
    if (Math.abs(fill.signedLots()) > Math.abs(order.remainingLots())) {
      return Optional.of("for more than its remaining quantity");
    }
    return Optional.empty();
  }

  /**
   * Undoes the side of trade {@code sequence} exactly: every movement of its TradeCleared back
   * (a money-conserving transfer between the same buckets), once. A sequence this account never
   * applied (and can still tell apart from one it forgot) is marked reversed with nothing moved,
   * so that a late resend of it is refused rather than applied.
   */
  ReplyEffect<Event, State> reverseTrade(Account account, ReverseTradeSide cmd) {
    pending.release(cmd.sequence());
    Optional<TradeRef> seen = account.trade(cmd.sequence());
    if (seen.isEmpty() && account.tooOldToVerify(cmd.sequence()) && cmd.instrument() != null && cmd.verified()) {
      // Forgotten, but the register read this account's journal: the side is applied and not
      // reversed. Undone as the opposite fill at its price with its fee refunded, and remembered
      // as reversed. (Unverified, it may have been reversed already and forgotten since: refused
      // below as too old, and the register reads the journal.)
      try {
        Instrument instrument = instruments.require(cmd.instrument());
        Holding holding = account.holding(cmd.instrument());
        long lots = Math.negateExact(cmd.buyLots());
        PositionChange change = new Position(holding.lots(), holding.cost())
            .apply(lots, cmd.priceTicks(), instrument.notionalMultiplier());
        long costDelta = Math.subtractExact(change.position().cost(), holding.cost());
        long cashAfter = Math.addExact(Math.addExact(account.cash(), change.realizedPnl()), cmd.fee());
        long isolatedDelta = holding.mode() == MarginMode.ISOLATED
            ? isolatedMarginDelta(account, instrument, holding, change.position(), cmd.priceTicks(), cashAfter)
            : 0;
        TradeSideReversed event = new TradeSideReversed(cmd.tradeId(), cmd.sequence(), cmd.instrument(), lots,
            cmd.priceTicks(), cmd.fee(), change.realizedPnl(), costDelta, isolatedDelta,
            holding.lastPriceTicks() > 0 ? holding.lastPriceTicks() : cmd.priceTicks());
        account.apply(event);
        // A reversal that leaves the account flat with its cash short settles the deficit at once,
        // as any change that closes the last position does (no monitor watches a flat account).
        // The funding of the forgotten side's time is not redone (no cut is known for it).
        List<Event> events = withLateFunding(account, List.of(event), cmd.instrument(), lots, 0);
        events = LateSettlement.closedAtOnce(account, events, cmd.instrument(), expiry,
            lastSequenceNumber.getAsLong());
        return effect.persist(events).thenRun(state -> reversed(cmd.sequence(), state))
            .thenReply(cmd.replyTo(), state -> new TradeSideReverted(false));
      } catch (ArithmeticException e) {
        return reject(cmd.replyTo(), Rejection.NOTIONAL_OVERFLOW, "reversing trade " + cmd.tradeId() + " overflows "
            + account.accountId() + "'s position or cash");
      }
    }
    if (seen.isEmpty()) {
      if (account.tooOldToVerify(cmd.sequence())) {
        return reject(cmd.replyTo(), Rejection.TRADE_TOO_OLD, "sequence " + cmd.sequence()
            + " is older than every trade " + account.accountId() + " remembers; it cannot be reversed");
      }
      return effect.persist(new TradeSideReversed(cmd.tradeId(), cmd.sequence(), null, 0, 0, 0, 0, 0, 0, 0))
          .thenReply(cmd.replyTo(), state -> new TradeSideReverted(false));
    }
    TradeRef ref = seen.get();
    if (!ref.tradeId().equals(cmd.tradeId())) {
      return reject(cmd.replyTo(), Rejection.TRADE_CONFLICT, "sequence " + cmd.sequence() + " is trade " + ref.tradeId()
          + " on " + account.accountId() + ", not " + cmd.tradeId());
    }
    if (ref.reversed()) {
      return effect.reply(cmd.replyTo(), new TradeSideReverted(true));
    }
    List<Event> events;
    try {
      events = reversal(account, ref);
    } catch (ArithmeticException e) {
      return reject(cmd.replyTo(), Rejection.NOTIONAL_OVERFLOW, "reversing trade " + ref.tradeId() + " overflows "
          + account.accountId() + "'s position, cash or funding payments");
    }
    return effect.persist(events).thenRun(state -> reversed(cmd.sequence(), state))
        .thenReply(cmd.replyTo(), state -> new TradeSideReverted(false));
  }

  /** The side of {@code sequence} was reversed: nothing of it is left settling. */
  private void reversed(long sequence, State state) {
    if (settlingSides != null) {
      settlingSides.reversed(sequence);
    }
    changed.accept(state);
  }

  /**
   * The events that take back the applied, not yet reversed side {@code ref}: the opposite fill at
   * the same price against the holding as it is now, with the fee refunded. Right after the fill
   * that is its exact inverse (and the order's reservation and the position's stop come back as
   * they were); if the holding moved in between (a liquidation close, a margin move) it is still a
   * valid holding, and the trade's own bucket nets to zero (never a blind negation of movements
   * that no longer apply). Taken back after a funding time its trade counted for was paid, that
   * payment is redone. Throws ArithmeticException when a result would not fit a long.
   */
  List<Event> reversal(Account account, TradeRef ref) {
    Instrument instrument = instruments.require(ref.instrument());
    Holding holding = account.holding(ref.instrument());
    if (ref.untouchedSince(holding)) {
      TradeSideReversed event = new TradeSideReversed(ref.tradeId(), ref.sequence(), ref.instrument(),
          Math.negateExact(ref.signedLots()), ref.priceTicks(), ref.fee(), Math.negateExact(ref.realizedPnl()),
          Math.negateExact(ref.costDelta()), Math.negateExact(ref.isolatedMarginDelta()), ref.priorLastPriceTicks());
      Account reversedAccount = account.apply(event);
      List<Event> given = new ArrayList<>(List.of(event));
      given.addAll(givenBack(reversedAccount, ref));
      return LateSettlement.closedAtOnce(account,
          withLateFunding(account, given, ref.instrument(), event.signedLots(), ref.cutMillis()), ref.instrument(),
          expiry, lastSequenceNumber.getAsLong());
    }
    long lots = Math.negateExact(ref.signedLots());
    PositionChange change = new Position(holding.lots(), holding.cost())
        .apply(lots, ref.priceTicks(), instrument.notionalMultiplier());
    long costDelta = Math.subtractExact(change.position().cost(), holding.cost());
    long cashAfter = Math.addExact(Math.addExact(account.cash(), change.realizedPnl()), ref.fee());
    long isolatedDelta = holding.mode() == MarginMode.ISOLATED
        ? isolatedMarginDelta(account, instrument, holding, change.position(), ref.priceTicks(), cashAfter)
        : 0;
    TradeSideReversed event = new TradeSideReversed(ref.tradeId(), ref.sequence(), ref.instrument(), lots,
        ref.priceTicks(), ref.fee(), change.realizedPnl(), costDelta, isolatedDelta,
        ref.priorLastPriceTicks() > 0 ? ref.priorLastPriceTicks() : ref.priceTicks());
    // What the event handler will compute must fit a long.
    account.apply(event);
    // Taken back in a future this account already settled: what it leaves is closed at the settlement price.
    return LateSettlement.closedAtOnce(account,
        withLateFunding(account, List.of(event), ref.instrument(), event.signedLots(), ref.cutMillis()),
        ref.instrument(), expiry, lastSequenceNumber.getAsLong());
  }

  /**
   * {@code account} as it would be if the applied sides of {@code sequences} (oldest first) were
   * reversed, the newest first, as {@link #reverseTrade} would; a sequence not applied, or already
   * reversed, is left as it is. Throws ArithmeticException when a reversal would not fit a long.
   */
  Account asIfReversed(Account account, List<Long> sequences) {
    return asIfReversed(account, sequences, null);
  }

  /**
   * As {@link #asIfReversed(Account, List)}; a reversal in {@code strict} (null: none) that would
   * leave the isolated position it reopens short of the margin its allocation rule says is
   * refused (RejectedException).
   */
  private Account asIfReversed(Account account, List<Long> sequences, String strict) {
    Account view = account;
    for (int i = sequences.size() - 1; i >= 0; i--) {
      long sequence = sequences.get(i);
      Optional<TradeRef> ref = view.trade(sequence);
      if (ref.isEmpty() && settlingSides != null && view.tooOldToVerify(sequence)) {
        // Forgotten by the account, still unconfirmed (SettlingSides.track): reversed as the register would.
        ref = settlingSides.forgottenRef(sequence);
      }
      if (ref.isEmpty() || ref.get().reversed()) {
        continue;
      }
      if (ref.get().instrument().equals(strict)) {
        long shortfall = reversalShortfall(view, ref.get());
        if (shortfall > 0) {
          throw new RejectedException(Rejection.INSUFFICIENT_MARGIN, "the " + strict + " side of trade "
              + ref.get().tradeId() + " still settles: reversed after this fill it would reopen the isolated position "
              + money(shortfall) + " short of its margin in cash");
        }
      }
      for (Event event : reversal(view, ref.get())) {
        view = view.apply(event, Long.MAX_VALUE);
      }
    }
    return view;
  }

  /**
   * How much less margin than its allocation rule says the reversal of {@code ref} in {@code view}
   * would give the isolated position it reopens for want of cash (0: none, or not isolated, or an
   * exact inverse).
   */
  private long reversalShortfall(Account view, TradeRef ref) {
    Holding holding = view.holding(ref.instrument());
    if (holding.mode() != MarginMode.ISOLATED || ref.untouchedSince(holding)) {
      return 0;
    }
    Instrument instrument = instruments.require(ref.instrument());
    PositionChange change = new Position(holding.lots(), holding.cost())
        .apply(Math.negateExact(ref.signedLots()), ref.priceTicks(), instrument.notionalMultiplier());
    long cashAfter = Math.addExact(Math.addExact(view.cash(), change.realizedPnl()), ref.fee());
    long full = isolatedMarginDelta(view, instrument, holding, change.position(), ref.priceTicks(), Long.MAX_VALUE / 4);
    long allocated = isolatedMarginDelta(view, instrument, holding, change.position(), ref.priceTicks(), cashAfter);
    return Math.subtractExact(full, allocated);
  }

  /** The reservation part a reversed side had consumed, and the stop it had removed, given back. */
  private static List<Event> givenBack(Account reversed, TradeRef ref) {
    List<Event> events = new ArrayList<>(2);
    Reservation consumed = ref.reservation();
    Reservation now = consumed == null ? null : reversed.reservations().get(consumed.orderId());
    if (consumed != null && consumed.remainingLots() != 0 && now != null) {
      // Only to an order that still holds a reservation: one the engine released (or that the
      // side filled completely) is gone for the engine too.
      long lots = Math.addExact(now.remainingLots(), consumed.remainingLots());
      long amount = Math.addExact(now.amount(), consumed.amount());
      events.add(new MarginReserved(consumed.orderId(), consumed.instrument(), lots, consumed.priceTicks(), amount));
    }
    if (ref.stopBefore() > 0 && !reversed.stops().containsKey(ref.instrument()) && reversed.holding(ref.instrument()).lots() != 0) {
      events.add(new AccountEntity.StopSet(ref.instrument(), ref.stopBefore()));
    }
    return events;
  }

  /**
   * The isolated fill of {@code cmd} in {@code view} (the account, or its {@link #settlingReversed}
   * view), applied to the view's own holding: what it may fund is the view's cash after the fill's
   * realized PnL and fee, less what other orders hold and {@code withheld}, and never more than the
   * view has available ({@code released}: this order's reservation, given back by the fill, one rule
   * with the check). {@code where} ends the refusal's message.
   */
  private long isolatedFill(Account view, Instrument instrument, ApplyTrade cmd, long markTicks, long fee,
      long released, long withheld, String where) {
    Holding before = view.holding(cmd.instrument());
    PositionChange change = new Position(before.lots(), before.cost())
        .apply(cmd.signedLots(), cmd.priceTicks(), instrument.notionalMultiplier());
    long freeCash = Math.subtractExact(freeCash(view, change.realizedPnl(), fee, released), withheld);
    long fundable = Math.min(freeCash, Math.addExact(risk.evaluate(view).available(), released));
    return isolatedFill(view, instrument, before, change.position(), cmd.priceTicks(), markTicks, fundable, where);
  }

  /**
   * An isolated position's fill: the margin it releases (a reduction's share, all of it on a close
   * or flip) and the margin the lots it opens need ({@link OrderRules#isolatedAllocation}), which
   * must come in full from what the account can fund, or the fill is refused.
   */
  private long isolatedFill(Account account, Instrument instrument, Holding before, Position after, long priceTicks,
      long markTicks, long fundable, String where) {
    long oldAbs = Math.abs(before.lots());
    long newAbs = Math.abs(after.lots());
    boolean closedOrFlipped = before.lots() != 0
        && (after.lots() == 0 || Long.signum(after.lots()) != Long.signum(before.lots()));
    long released = closedOrFlipped ? before.isolatedMargin()
        : newAbs < oldAbs ? MulDiv.mulDivFloor(before.isolatedMargin(), oldAbs - newAbs, oldAbs) : 0;
    long openedLots = closedOrFlipped ? newAbs : Math.max(0, newAbs - oldAbs);
    if (openedLots == 0) {
      return -released;
    }
    long reference = markTicks > 0 ? markTicks : priceTicks;
    int leverage = risk.chosenLeverage(account, before);
    long wanted = OrderRules.isolatedAllocation(instrument, Long.signum(after.lots()) * openedLots, after.lots(),
        priceTicks, reference, leverage);
    // Growing into a higher tier: the whole position must carry that tier's initial margin.
    long wholeMargin = OrderRules.initialMargin(instrument,
        MarginMath.notional(after.lots(), priceTicks, instrument.notionalMultiplier()), leverage);
    long staying = Math.subtractExact(before.isolatedMargin(), released);
    wanted = Math.max(wanted, Math.subtractExact(Math.addExact(wholeMargin,
        OrderRules.openLoss(Long.signum(after.lots()) * openedLots, priceTicks, reference,
            instrument.notionalMultiplier())), staying));
    if (wanted > Math.addExact(fundable, released)) {
      throw new RejectedException(Rejection.INSUFFICIENT_MARGIN, "the isolated " + instrument.symbol()
          + " position needs " + money(wanted) + " of margin from cash but only "
          + money(Math.max(0, Math.addExact(fundable, released))) + " can fund it" + where);
    }
    return Math.subtractExact(wanted, released);
  }

  /**
   * Margin moving between cash and an isolated position in a liquidation transfer: a reduction releases its share of the
   * allocated margin, a close or flip releases all of it, and whatever the trade opens allocates
   * its initial margin from the cash there is (never driving cash below zero).
   */
  long isolatedMarginDelta(Account account, Instrument instrument, Holding before, Position after,
      long priceTicks, long cashAfterTrade) {
    long oldAbs = Math.abs(before.lots());
    long newAbs = Math.abs(after.lots());
    boolean closedOrFlipped = before.lots() != 0
        && (after.lots() == 0 || Long.signum(after.lots()) != Long.signum(before.lots()));
    long released = io.clearinghouse.margin.LiquidationRules.isolatedRelease(before.lots(), after.lots(),
        before.isolatedMargin());
    long openedLots = closedOrFlipped ? newAbs : Math.max(0, newAbs - oldAbs);
    long allocated = 0;
    if (openedLots > 0) {
      long newNotional = instrument.notional(priceTicks, after.lots());
      int leverage = risk.effectiveLeverage(account, instrument, before, newNotional);
      long wanted = MarginMath.initialMargin(instrument.notional(priceTicks, openedLots), leverage);
      allocated = Math.min(wanted, Math.max(0, Math.addExact(cashAfterTrade, released)));
    }
    return Math.subtractExact(allocated, released);
  }

  // --- leverage and margin mode ---------------------------------------------------------

  ReplyEffect<Event, State> setLeverage(Account account, SetLeverage cmd) {
    Instrument instrument = instruments.require(cmd.instrument());
    if (cmd.leverage() < 1) {
      return reject(cmd.replyTo(), Rejection.INVALID_LEVERAGE, "leverage must be at least 1");
    }
    if (account.leverageCap() > 0 && cmd.leverage() > account.leverageCap()) {
      return reject(cmd.replyTo(), Rejection.LEVERAGE_ABOVE_CAP,
          "leverage " + cmd.leverage() + " is above this account's cap of " + account.leverageCap());
    }
    Holding holding = account.holding(cmd.instrument());
    long notional = holding.flat() ? 0 : MarginMath.notional(holding.lots(),
        risk.markTicks(cmd.instrument(), holding), instrument.notionalMultiplier());
    int tierMaximum = instrument.riskTiers().tierFor(notional).maxLeverage();
    if (cmd.leverage() > tierMaximum) {
      return reject(cmd.replyTo(), Rejection.LEVERAGE_ABOVE_TIER_MAXIMUM, "leverage " + cmd.leverage()
          + " is above the maximum of " + tierMaximum + " for a position of this size");
    }
    if (cmd.leverage() < risk.chosenLeverage(account, holding) && hasOpenOrders(account, cmd.instrument())) {
      return reject(cmd.replyTo(), Rejection.ORDERS_OPEN, "the open " + cmd.instrument() + " orders were reserved at"
          + " leverage " + risk.chosenLeverage(account, holding) + ": release them before lowering it");
    }
    Account promised = pending.view(account, PendingSides.NONE);
    Holding promisedHolding = promised.holding(cmd.instrument());
    Map<String, Holding> whatIf = new HashMap<>(promised.holdings());
    whatIf.put(cmd.instrument(), new Holding(promisedHolding.lots(), promisedHolding.cost(), cmd.leverage(),
        promisedHolding.mode(), promisedHolding.isolatedMargin(), promisedHolding.lastPriceTicks()));
    Map<String, Holding> actualWhatIf = new HashMap<>(account.holdings());
    actualWhatIf.put(cmd.instrument(), new Holding(holding.lots(), holding.cost(), cmd.leverage(), holding.mode(),
        holding.isolatedMargin(), holding.lastPriceTicks()));
    if (risk.evaluate(promised, whatIf).available() < 0 || risk.evaluate(account, actualWhatIf).available() < 0) {
      return reject(cmd.replyTo(), Rejection.INSUFFICIENT_MARGIN,
          "leverage " + cmd.leverage() + " would leave the account under-margined");
    }
    return persistThenSnapshot(new LeverageSet(cmd.instrument(), cmd.leverage()), cmd.replyTo());
  }

  ReplyEffect<Event, State> setLeverageCap(Account account, SetLeverageCap cmd) {
    if (cmd.maxLeverage() < 0) {
      return reject(cmd.replyTo(), Rejection.INVALID_LEVERAGE, "a leverage cap must be 0 (none) or positive");
    }
    return persistThenSnapshot(new LeverageCapSet(cmd.maxLeverage(), cmd.by()), cmd.replyTo());
  }

  ReplyEffect<Event, State> setMarginMode(Account account, SetMarginMode cmd) {
    instruments.require(cmd.instrument());
    Holding holding = account.holding(cmd.instrument());
    if (holding.mode() == cmd.mode()) {
      return effect.reply(cmd.replyTo(), new Snapshot(risk.summary(account)));
    }
    if (!holding.flat() || !pending.view(account, PendingSides.NONE).holding(cmd.instrument()).flat()) {
      return reject(cmd.replyTo(), Rejection.POSITION_OPEN,
          "close the " + cmd.instrument() + " position before changing its margin mode");
    }
    if (hasOpenOrders(account, cmd.instrument())) {
      return reject(cmd.replyTo(), Rejection.ORDERS_OPEN, "the open " + cmd.instrument() + " orders were reserved in "
          + holding.mode().name().toLowerCase() + " margin mode: release them before changing it");
    }
    if (settling(account, cmd.instrument())) {
      // A reversal restores the position the side closed, in the mode it had (its margin with it).
      return reject(cmd.replyTo(), Rejection.TRADE_SETTLING, "a " + cmd.instrument() + " trade of "
          + account.accountId() + " is still settling and may still be reversed: retry once it settles");
    }
    return persistThenSnapshot(new MarginModeSet(cmd.instrument(), cmd.mode()), cmd.replyTo());
  }

  ReplyEffect<Event, State> adjustIsolatedMargin(Account account, AdjustIsolatedMargin cmd) {
    Instrument instrument = instruments.require(cmd.instrument());
    Holding holding = account.holding(cmd.instrument());
    if (holding.mode() != MarginMode.ISOLATED) {
      return reject(cmd.replyTo(), Rejection.NOT_ISOLATED, cmd.instrument() + " is not in isolated margin mode");
    }
    if (holding.flat()) {
      return reject(cmd.replyTo(), Rejection.NO_POSITION, "there is no " + cmd.instrument() + " position");
    }
    try {
      Math.addExact(holding.isolatedMargin(), cmd.amount());
      Math.subtractExact(account.cash(), cmd.amount());
    } catch (ArithmeticException e) {
      return reject(cmd.replyTo(), Rejection.AMOUNT_OVERFLOW, "the move would overflow the position's margin or cash");
    }
    if (risk.anyPositionStale(account)) {
      return reject(cmd.replyTo(), Rejection.MARK_STALE, "a position's index is stale: retry when marks are fresh");
    }
    if (cmd.amount() > 0) {
      Account promised = pending.view(account, PendingSides.NONE);
      long available = Math.min(risk.evaluate(account).available(), risk.evaluate(promised).available());
      long movable = Math.min(available, Math.min(account.cash(), promised.cash()));
      // Not what sides still settling realized, nor what their reversal would need, in any mix
      // of them reversed and settled (SettlingViews), the promised sides applied or not.
      try {
        List<ToLongFunction<Account>> measures = List.of(Account::cash, view -> risk.evaluate(view).available());
        List<Account> views = new ArrayList<>(settlingViews(account, null, measures));
        if (promised != account) {
          views.addAll(settlingViews(promised, null, measures));
        }
        if (!views.isEmpty()) {
          movable = Math.min(movable, Math.subtractExact(account.cash(), settlingProfit(account, PendingSides.NONE)));
        }
        for (Account view : views) {
          movable = Math.min(movable, Math.min(risk.evaluate(view).available(), view.cash()));
        }
      } catch (ArithmeticException e) {
        movable = 0;
      }
      if (cmd.amount() > movable) {
        return reject(cmd.replyTo(), Rejection.INSUFFICIENT_MARGIN,
            "only " + money(Math.max(0, movable)) + " can be moved into the position");
      }
    } else {
      if (account.liquidating()) {
        return reject(cmd.replyTo(), Rejection.ACCOUNT_LIQUIDATING, "the account is being liquidated");
      }
      long mark = risk.markTicks(cmd.instrument(), holding);
      long initialMargin;
      long loss;
      long staying;
      try {
        long notional = MarginMath.notional(holding.lots(), mark, instrument.notionalMultiplier());
        initialMargin = MarginMath.initialMargin(notional, risk.effectiveLeverage(account, instrument, holding, notional));
        loss = Math.min(0, MarginMath.unrealizedPnl(holding.lots(), holding.cost(), mark,
            instrument.notionalMultiplier()));
        staying = Math.addExact(Math.addExact(holding.isolatedMargin(), cmd.amount()), loss);
      } catch (ArithmeticException e) {
        return reject(cmd.replyTo(), Rejection.AMOUNT_OVERFLOW, "the move would overflow the position's margin");
      }
      // What stays must carry the position's initial margin after its unrealized loss.
      if (staying < initialMargin) {
        return reject(cmd.replyTo(), Rejection.INSUFFICIENT_ISOLATED_MARGIN, "the position must keep its initial margin of "
            + money(initialMargin) + " after its unrealized loss of " + money(-loss));
      }
    }
    return persistThenSnapshot(new IsolatedMarginAdjusted(cmd.instrument(), cmd.amount()), cmd.replyTo());
  }

  private static boolean hasOpenOrders(Account account, String instrument) {
    return account.reservations().values().stream().anyMatch(r -> r.instrument().equals(instrument));
  }

  private String money(long amount) {
    return asset.format(amount) + " " + asset.code();
  }

  private ReplyEffect<Event, State> persistThenSnapshot(Event event, ActorRef<Reply> replyTo) {
    return effect.persist(event).thenRun(changed::accept)
        .thenReply(replyTo, state -> new Snapshot(risk.summary((Account) state)));
  }

  private ReplyEffect<Event, State> reject(ActorRef<Reply> replyTo, Rejection reason, String message) {
    return effect.reply(replyTo, new Rejected(reason, message));
  }
}
