package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.MarginReserved;
import io.clearinghouse.account.AccountEntity.Rejected;
import io.clearinghouse.account.AccountEntity.ReleaseReservation;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.ReservationReleased;
import io.clearinghouse.account.AccountEntity.ReserveMargin;
import io.clearinghouse.account.AccountEntity.Reserved;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.margin.OrderRules;
import io.clearinghouse.money.Asset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * The account's pre-trade reservations: the order-cost rule ({@link OrderRules}) decides what an
 * order holds, and releasing an order re-prices the orders left on its side. Each either persists
 * its events or refuses and changes nothing. (Split from {@link TradingHandlers}.)
 */
final class ReservationHandlers {
  private final EffectFactories<Event, State> effect;
  private final RiskView risk;
  private final Instruments instruments;
  private final Consumer<State> changed;
  private final Asset asset;
  private final PendingSides pending;
  private final java.util.function.ToLongFunction<String> openInterest;
  private final TradingHandlers trading;

  /** {@code trading}: the sides still settling, as a fill judges them (one rule at the order and the fill). */
  ReservationHandlers(EffectFactories<Event, State> effect, RiskView risk, Instruments instruments, Asset asset,
      PendingSides pending, TradingHandlers trading,
      Consumer<State> changed, java.util.function.ToLongFunction<String> openInterest) {
    this.trading = trading;
    this.openInterest = openInterest;
    this.effect = effect;
    this.risk = risk;
    this.instruments = instruments;
    this.asset = asset;
    this.pending = pending;
    this.changed = changed;
  }

  // --- reservations ---------------------------------------------------------------------

  ReplyEffect<Event, State> reserve(Account account, ReserveMargin cmd) {
    Instrument instrument = instruments.require(cmd.instrument());
    Reservation existing = account.reservations().get(cmd.orderId());
    // Sides passed in a check and not yet applied count as applied: an order never takes what they need.
    Account promised = pending.view(account, PendingSides.NONE);
    // The lower of the two: a held side that closes at a profit adds nothing until it is applied.
    // Nor does an applied side its register may still reverse (TradingHandlers.settlingReversed).
    Account reversed;
    long available;
    // Without the reversed view's: an isolated order is judged in that view on its own (below).
    long unreversedAvailable;
    long reversedAvailable = Long.MAX_VALUE;
    try {
      reversed = trading.settlingReversed(account);
      unreversedAvailable = Math.min(risk.evaluate(account).available(), risk.evaluate(promised).available());
      if (reversed != account) {
        // In any mix of the settling sides reversed and settled, not only all of them (rev10j, finding 3).
        for (Account view : trading.settlingViews(account, null, List.of(trading::availableIn))) {
          reversedAvailable = Math.min(reversedAvailable, trading.availableIn(view));
        }
      }
      available = Math.min(unreversedAvailable, reversedAvailable);
    } catch (ArithmeticException e) {
      return reject(cmd.replyTo(), Rejection.NOTIONAL_OVERFLOW, "order " + cmd.orderId()
          + " cannot be judged: a trade still settling overflows the account");
    }
    if (existing != null) {
      boolean same = existing.instrument().equals(cmd.instrument()) && existing.priceTicks() == cmd.priceTicks()
          && Long.signum(existing.remainingLots()) == Long.signum(cmd.signedLots());
      return same
          ? effect.reply(cmd.replyTo(), new Reserved(existing, available))
          : reject(cmd.replyTo(), Rejection.RESERVATION_CONFLICT,
              "order " + cmd.orderId() + " already holds a reservation for another order");
    }
    // An order in a future this account already settled: no settlement would close what it opens.
    java.util.Optional<io.clearinghouse.common.RejectedException> settled =
        LateSettlement.refusal(account, cmd.instrument(), "order " + cmd.orderId(), trading.expiry());
    if (settled.isPresent()) {
      return reject(cmd.replyTo(), settled.get().reason(), settled.get().getMessage());
    }
    // Priced from the position as the checked, not yet applied trade sides will leave it.
    Holding holding = promised.holding(cmd.instrument());
    long mark = risk.publishedMarkTicks(cmd.instrument());
    // Without a published mark yet, the order is valued against the account's last trade price.
    long reference = mark > 0 ? mark : holding.lastPriceTicks() > 0 ? holding.lastPriceTicks() : cmd.priceTicks();
    boolean isolated = holding.mode() == MarginMode.ISOLATED;
    OrderRules.Cost cost;
    long freeCash;
    // What the order would need in the view of the sides still settling reversed that funds it the
    // least (0: none settles, or it only reduces in every view), and what that view has.
    long reversedNeeded = 0;
    long reversedFundable = Long.MAX_VALUE;
    try {
      int leverage = risk.chosenLeverage(account, holding);
      cost = OrderRules.cost(instrument, holding.lots(), pendingLots(account, cmd), cmd.signedLots(), cmd.priceTicks(),
          reference, leverage);
      // An isolated position is funded from cash, never from what a side still settling realized.
      freeCash = Math.subtractExact(Math.min(Math.subtractExact(account.cash(), account.reserved()),
          Math.subtractExact(promised.cash(), promised.reserved())), trading.settlingProfit(account, PendingSides.NONE));
      // Nor what such a side gave back to cash (an isolated close's margin): its reversal takes it.
      // So the order must also be funded in each view of the sides still settling reversed (all of
      // them, and the worst mix of reversed and settled: review rev10h, findings 1 and 5), with and
      // without the checked sides, priced against that view's own position: in the instrument of a
      // settling close it first closes the position the reversal restores (review rev10f, finding
      // 4), as the fill is judged; an order that reduces in the account may open in a view (rev10h,
      // finding 2).
      if (isolated) {
        List<Account> views = new ArrayList<>(trading.settlingViews(account, cmd.instrument(),
            trading.fundingMeasures()));
        if (promised != account) {
          views.addAll(trading.settlingViews(promised, cmd.instrument(), trading.fundingMeasures()));
        }
        for (Account view : views) {
          OrderRules.Cost viewCost = OrderRules.cost(instrument, view.holding(cmd.instrument()).lots(),
              pendingLots(view, cmd), cmd.signedLots(), cmd.priceTicks(), reference, leverage);
          long needed = viewCost.reducing() ? 0 : viewCost.amount();
          long fundable = Math.min(risk.evaluate(view).available(), Math.subtractExact(view.cash(), view.reserved()));
          if (Math.subtractExact(needed, fundable) > Math.subtractExact(reversedNeeded, reversedFundable)
              || reversedFundable == Long.MAX_VALUE) {
            reversedNeeded = needed;
            reversedFundable = fundable;
          }
        }
      }
    } catch (ArithmeticException e) {
      return reject(cmd.replyTo(), Rejection.NOTIONAL_OVERFLOW, "order " + cmd.orderId() + " is too large");
    }
    if (account.inDebt() && !cost.reducing()) {
      // Closing orders stay open to it: a trader in debt with a position left can still get out.
      return reject(cmd.replyTo(), Rejection.ACCOUNT_IN_DEBT, "the account owes " + money(account.debt())
          + " from a liquidation: no new orders that open a position until it is repaid");
    }
    if (account.liquidating() && !cost.reducing()) {
      // Reduce-only: this order and every other open one on the same side together may at most
      // close the position.
      return reject(cmd.replyTo(), Rejection.ACCOUNT_LIQUIDATING,
          "the account is being liquidated: only orders that reduce a position are accepted");
    }
    long closingLoss;
    long cushion;
    try {
      closingLoss = OrderRules.closingLoss(cmd.signedLots(), cmd.priceTicks(), reference,
          instrument.notionalMultiplier());
      cushion = closingCushion(account, promised, reversed, holding, instrument, reference, cmd.signedLots());
    } catch (ArithmeticException e) {
      return reject(cmd.replyTo(), Rejection.NOTIONAL_OVERFLOW, "order " + cmd.orderId() + " is too large");
    }
    long fundable = isolated ? Math.min(unreversedAvailable, freeCash) : available;
    OrderRules.Verdict verdict = OrderRules.check(instrument, cost, cmd.priceTicks(), mark,
        instruments.priceBandPpm(cmd.instrument()), isolated, isolated ? unreversedAvailable : available, freeCash,
        closingLoss, cushion);
    if (verdict == OrderRules.Verdict.ACCEPTED && reversedNeeded > reversedFundable) {
      return reject(cmd.replyTo(), Rejection.INSUFFICIENT_MARGIN, "order " + cmd.orderId() + " would need "
          + money(reversedNeeded) + " of margin, open loss and fee were some of the trades still settling reversed, but only "
          + money(Math.max(0, reversedFundable)) + " would then be available in cash for an isolated position");
    }
    return switch (verdict) {
      case PRICE_OUTSIDE_BAND -> reject(cmd.replyTo(), Rejection.PRICE_OUTSIDE_BAND, "order " + cmd.orderId()
          + " at " + instrument.formatPrice(cmd.priceTicks()) + " is further than "
          + java.math.BigDecimal.valueOf(instruments.priceBandPpm(cmd.instrument()), 4).toPlainString()
          + "% from the mark " + instrument.formatPrice(mark));
      case POSITION_LIMIT -> reject(cmd.replyTo(), Rejection.POSITION_LIMIT, "order " + cmd.orderId()
          + " could grow the position beyond the risk limit of " + money(instrument.riskTiers().maxNotional()));
      case OVERFLOW -> reject(cmd.replyTo(), Rejection.NOTIONAL_OVERFLOW, "order " + cmd.orderId() + " is too large");
      case INSUFFICIENT_MARGIN -> reject(cmd.replyTo(), Rejection.INSUFFICIENT_MARGIN, "order " + cmd.orderId()
          + " needs " + money(cost.amount()) + " of margin, open loss and fee but only "
          + money(Math.max(0, fundable)) + " is available" + (isolated ? " in cash for an isolated position" : ""));
      case BEYOND_BANKRUPTCY -> reject(cmd.replyTo(), Rejection.INSUFFICIENT_MARGIN, "order " + cmd.orderId()
          + " closes at " + instrument.formatPrice(cmd.priceTicks()) + ", a loss of " + money(closingLoss)
          + " against the mark " + instrument.formatPrice(reference) + ", more than the " + money(Math.max(0, cushion))
          + " of equity carrying the position: a closing order may be priced no worse than its bankruptcy price");
      // A reducing order needs no margin: it must never be blocked by the deficit it reduces.
      case ACCEPTED -> concentration(cmd, instrument, cost,
          Long.signum(holding.lots()) == Long.signum(cmd.signedLots()) ? Math.abs(holding.lots()) : 0, reference,
          available);
    };
  }

  /** The signed lots of {@code view}'s open orders on the side of {@code cmd} in its instrument. */
  private static long pendingLots(Account view, ReserveMargin cmd) {
    long pending = 0;
    for (Reservation other : view.reservations().values()) {
      if (other.instrument().equals(cmd.instrument())
          && Long.signum(other.remainingLots()) == Long.signum(cmd.signedLots())) {
        pending = Math.addExact(pending, other.remainingLots());
      }
    }
    return pending;
  }

  /**
   * The equity that carries {@code holding} (see OrderRules.closingFits): for a cross position
   * OrderRules.crossClosingCushion (the lowest with and without the promised sides and with the
   * sides still settling reversed) less what the
   * account's other closing cross orders would lose against the mark, with their fees; for an isolated one the
   * order's share of the position's margin plus its unrealized PnL at {@code markTicks}
   * (OrderRules.isolatedClosingCushion).
   */
  private long closingCushion(Account account, Account promised, Account reversed, Holding holding,
      io.clearinghouse.margin.Instrument instrument, long markTicks, long orderLots) {
    if (holding.mode() == MarginMode.ISOLATED) {
      // Each closing order on its own share of the position's equity (the share its fill frees).
      return OrderRules.isolatedClosingCushion(Math.addExact(holding.isolatedMargin(),
          io.clearinghouse.margin.MarginMath.unrealizedPnl(holding.lots(), holding.cost(), markTicks,
              instrument.notionalMultiplier())), orderLots, holding.lots());
    }
    long cushion = Math.min(OrderRules.crossClosingCushion(risk.evaluate(account), instrument.symbol(), orderLots, 0),
        OrderRules.crossClosingCushion(risk.evaluate(promised), instrument.symbol(), orderLots, 0));
    if (reversed != account) {
      cushion = Math.min(cushion, OrderRules.crossClosingCushion(risk.evaluate(reversed), instrument.symbol(), orderLots, 0));
    }
    // Less what the other open closing orders on the same equity lose against the mark if filled.
    for (Reservation other : account.reservations().values()) {
      Holding held = promised.holding(other.instrument());
      boolean closes = held.lots() != 0 && Long.signum(held.lots()) != Long.signum(other.remainingLots());
      if (closes && held.mode() != MarginMode.ISOLATED) {
        io.clearinghouse.margin.Instrument contract = instruments.require(other.instrument());
        long mark = risk.publishedMarkTicks(other.instrument());
        // Valued as this order is: against the mark, else the position's last trade price.
        long otherReference = mark > 0 ? mark : held.lastPriceTicks() > 0 ? held.lastPriceTicks() : other.priceTicks();
        long loss = OrderRules.closingLoss(other.remainingLots(), other.priceTicks(), otherReference,
            contract.notionalMultiplier());
        if (loss > 0) {
          long fee = io.clearinghouse.margin.MarginMath.fee(io.clearinghouse.margin.MarginMath.notional(
              other.remainingLots(), other.priceTicks(), contract.notionalMultiplier()), contract.takerFeePpm());
          cushion = Math.subtractExact(cushion, Math.addExact(loss, fee));
        }
      }
    }
    return cushion;
  }

  /** The concentration and open-interest limits of issue 16, then the reservation. */
  private ReplyEffect<Event, State> concentration(ReserveMargin cmd, io.clearinghouse.margin.Instrument instrument,
      OrderRules.Cost cost, long heldOnSideLots, long markTicks, long available) {
    var limits = instruments.spec(cmd.instrument()).limits();
    io.clearinghouse.margin.ConcentrationRules.Verdict verdict;
    long interest = openInterest.applyAsLong(cmd.instrument());
    try {
      // The open interest after counts every lot the account's orders on this side could still open.
      verdict = io.clearinghouse.margin.ConcentrationRules.check(limits, cost.openingLots(), cost.exposureAfter(),
          heldOnSideLots, interest, markTicks, instrument.notionalMultiplier());
    } catch (ArithmeticException e) {
      return reject(cmd.replyTo(), Rejection.NOTIONAL_OVERFLOW, "order " + cmd.orderId() + " is too large");
    }
    return switch (verdict) {
      case ACCOUNT_POSITION_LIMIT -> reject(cmd.replyTo(), Rejection.ACCOUNT_POSITION_LIMIT, "order " + cmd.orderId()
          + " could grow the position beyond " + money(limits.maxAccountPosition()) + ", the most one account may hold"
          + " in " + cmd.instrument());
      case OPEN_INTEREST_LIMIT -> reject(cmd.replyTo(), Rejection.OPEN_INTEREST_LIMIT, "order " + cmd.orderId()
          + " would take the open interest of " + cmd.instrument() + " beyond " + money(limits.maxOpenInterest()));
      case CONCENTRATION_LIMIT -> reject(cmd.replyTo(), Rejection.CONCENTRATION_LIMIT, "order " + cmd.orderId()
          + " would give this account more than " + java.math.BigDecimal.valueOf(limits.maxAccountSharePpm(), 4)
              .stripTrailingZeros().toPlainString() + "% of the open interest of " + cmd.instrument());
      case ACCEPTED -> persistReservation(cmd, cost.reducing() ? 0 : cost.amount(), available);
    };
  }

  private ReplyEffect<Event, State> persistReservation(ReserveMargin cmd, long amount, long available) {
    Reservation reservation = new Reservation(cmd.orderId(), cmd.instrument(), cmd.signedLots(), cmd.priceTicks(), amount);
    long left = available - amount;
    return effect.persist(new MarginReserved(cmd.orderId(), cmd.instrument(), cmd.signedLots(), cmd.priceTicks(), amount))
        .thenRun(changed::accept)
        .thenReply(cmd.replyTo(), state -> new Reserved(reservation, left));
  }

  ReplyEffect<Event, State> release(Account account, ReleaseReservation cmd) {
    Reservation reservation = account.reservations().get(cmd.orderId());
    if (reservation == null) {
      return reject(cmd.replyTo(), Rejection.RESERVATION_NOT_FOUND,
          "order " + cmd.orderId() + " holds no reservation (never reserved, filled, or already released)");
    }
    List<Event> events = new ArrayList<>();
    events.add(new ReservationReleased(cmd.orderId(), reservation.amount()));
    events.addAll(repriced(account, reservation));
    return effect.persist(events)
        .thenRun(changed::accept)
        .thenReply(cmd.replyTo(), state -> new Reserved(
            new Reservation(reservation.orderId(), reservation.instrument(), 0, reservation.priceTicks(), 0),
            risk.evaluate((Account) state).available()));
  }

  /**
   * The other open orders on the released one's side, priced again without it: an order that
   * relied on the released one to carry the growth of the position's tier now holds that growth
   * itself (never less than it held). Without this, reserving a throw-away order first and then
   * releasing it would leave the tier growth unreserved.
   */
  private List<Event> repriced(Account account, Reservation released) {
    Instrument instrument = instruments.require(released.instrument());
    Holding holding = account.holding(released.instrument());
    long mark = risk.publishedMarkTicks(released.instrument());
    int leverage = risk.chosenLeverage(account, holding);
    List<Reservation> sameSide = account.reservations().values().stream()
        .filter(r -> !r.orderId().equals(released.orderId()) && r.instrument().equals(released.instrument())
            && Long.signum(r.remainingLots()) == Long.signum(released.remainingLots()))
        .sorted(java.util.Comparator.comparing(Reservation::orderId))
        .toList();
    List<Event> events = new ArrayList<>();
    long pending = 0;
    try {
      for (Reservation r : sameSide) {
        long reference = mark > 0 ? mark : holding.lastPriceTicks() > 0 ? holding.lastPriceTicks() : r.priceTicks();
        OrderRules.Cost cost = OrderRules.cost(instrument, holding.lots(), pending, r.remainingLots(), r.priceTicks(),
            reference, leverage);
        long needed = cost.reducing() ? 0 : cost.amount();
        if (needed > r.amount()) {
          events.add(new MarginReserved(r.orderId(), r.instrument(), r.remainingLots(), r.priceTicks(), needed));
        }
        pending = Math.addExact(pending, r.remainingLots());
      }
    } catch (ArithmeticException e) {
      // Figures that no longer fit stay as they were reserved.
    }
    return events;
  }

  private String money(long amount) {
    return asset.format(amount) + " " + asset.code();
  }

  private ReplyEffect<Event, State> reject(ActorRef<Reply> replyTo, Rejection reason, String message) {
    return effect.reply(replyTo, new Rejected(reason, message));
  }
}
