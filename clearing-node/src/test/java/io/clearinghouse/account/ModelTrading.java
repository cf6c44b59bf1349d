package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.Rejected;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.Reserved;
import io.clearinghouse.account.AccountEntity.TradeSideApplied;
import io.clearinghouse.account.ModelActions.Action;
import io.clearinghouse.account.ModelWorld.Invariant;
import io.clearinghouse.margin.MarginMode;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Performs one client, operator or engine action on the {@link ModelWorld} and applies what the
 * entity accepted to the reference model, checking on the way what the model can tell without
 * the production margin rules (a deposit of nothing or one that overflows, a withdrawal of more
 * than the cash, an accepted trade side's fee, a resent trade never applied twice).
 */
final class ModelTrading {
  /** A trade both sides acknowledged, as the engine would resend it. */
  record SentTrade(long sequence, String tradeId, String instrument, String buyer, String seller, long lots,
      long priceTicks, boolean buyerTakes, String buyerOrder, String sellerOrder) {}

  private final ModelWorld world;
  private int step;

  ModelTrading(ModelWorld world) {
    this.world = world;
  }

  void perform(Action action) {
    step++;
    if (action instanceof ModelActions.Deposit d) {
      deposit(world.traders.get(d.account()), d.amount());
    } else if (action instanceof ModelActions.Withdraw w) {
      withdraw(world.traders.get(w.account()), w);
    } else if (action instanceof ModelActions.Reserve r) {
      String instrument = ModelActions.INSTRUMENTS.get(r.instrument());
      long price = r.priceTicks() == 0 ? world.mark(instrument) : r.priceTicks();
      world.ask(world.traders.get(r.account()), reply -> new AccountEntity.ReserveMargin("r-" + step, instrument,
          r.signedLots(), price, reply));
    } else if (action instanceof ModelActions.Release r) {
      String id = world.traders.get(r.account());
      List<String> open = new ArrayList<>(new java.util.TreeSet<>(world.state(id).reservations().keySet()));
      String orderId = r.which() < 0 || open.isEmpty() ? "unknown-" + step : open.get(r.which() % open.size());
      world.ask(id, reply -> new AccountEntity.ReleaseReservation(orderId, reply));
    } else if (action instanceof ModelActions.Trade t) {
      trade(t);
    } else if (action instanceof ModelActions.Resend r) {
      resend(r);
    } else if (action instanceof ModelActions.SetLeverage s) {
      setLeverage(world.traders.get(s.account()), ModelActions.INSTRUMENTS.get(s.instrument()), s.leverage());
    } else if (action instanceof ModelActions.SetLeverageCap c) {
      String id = world.traders.get(c.account());
      Optional<Reply> reply = world.ask(id, r -> new AccountEntity.SetLeverageCap(c.cap(), r));
      if (accepted(reply)) {
        expect(c.cap() >= 0, "a negative leverage cap " + c.cap() + " was accepted");
        world.model.account(id).leverageCap = c.cap();
      }
    } else if (action instanceof ModelActions.SetMarginMode m) {
      setMarginMode(world.traders.get(m.account()), ModelActions.INSTRUMENTS.get(m.instrument()), m.isolated());
    } else if (action instanceof ModelActions.AdjustIsolatedMargin a) {
      adjust(world.traders.get(a.account()), ModelActions.INSTRUMENTS.get(a.instrument()), a.amount());
    } else if (action instanceof ModelActions.SetStop s) {
      String instrument = ModelActions.INSTRUMENTS.get(s.instrument());
      long mark = world.mark(instrument);
      long stop = s.offsetPpm() == 0 ? 0 : BigInteger.valueOf(mark).multiply(BigInteger.valueOf(1_000_000L + s.offsetPpm()))
          .divide(BigInteger.valueOf(1_000_000L)).longValueExact();
      long ticks = s.offsetPpm() != 0 && stop == 0 ? -1 : stop;
      world.ask(world.traders.get(s.account()), r -> new AccountEntity.SetStop(instrument, ticks, r));
    } else if (action instanceof ModelActions.Restart r) {
      world.restart(world.traders.get(r.account()));
    } else {
      throw new IllegalArgumentException("not a trading action: " + action);
    }
  }

  private static boolean accepted(Optional<Reply> reply) {
    return reply.isPresent() && !(reply.get() instanceof Rejected);
  }

  private void expect(boolean condition, String message) {
    if (!condition) {
      world.violation(Invariant.AGREES_WITH_MODEL, message);
    }
  }

  private void deposit(String id, long amount) {
    AccountModel.Acc m = world.model.account(id);
    Optional<Reply> reply = world.ask(id, r -> new AccountEntity.Deposit("d-" + step, amount, r));
    if (accepted(reply)) {
      boolean fits = amount > 0 && BigInteger.valueOf(m.cash).add(BigInteger.valueOf(amount))
          .compareTo(BigInteger.valueOf(Long.MAX_VALUE)) <= 0;
      expect(fits, "a deposit of " + amount + " onto cash " + m.cash + " was accepted");
      if (fits) {
        AccountModel.deposit(m, amount);
      }
    }
  }

  private void withdraw(String id, ModelActions.Withdraw w) {
    AccountModel.Acc m = world.model.account(id);
    long amount = w.amount() != 0 ? w.amount()
        : Math.max(1, BigInteger.valueOf(Math.max(0, m.cash)).multiply(BigInteger.valueOf(w.permille()))
            .divide(BigInteger.valueOf(1000)).min(BigInteger.valueOf(Long.MAX_VALUE)).longValueExact());
    Optional<Reply> reply = world.ask(id, r -> new AccountEntity.Withdraw("w-" + step, amount, r));
    if (accepted(reply)) {
      expect(amount > 0 && amount <= m.cash, "a withdrawal of " + amount + " from cash " + m.cash + " was accepted");
      m.cash = Math.subtractExact(m.cash, amount);
    }
  }

  private void setLeverage(String id, String instrument, int leverage) {
    Optional<Reply> reply = world.ask(id, r -> new AccountEntity.SetLeverage(instrument, leverage, r));
    if (accepted(reply)) {
      AccountModel.Acc m = world.model.account(id);
      expect(leverage >= 1 && leverage <= 125 && (m.leverageCap == 0 || leverage <= m.leverageCap),
          "leverage " + leverage + " was accepted (cap " + m.leverageCap + ")");
      m.holding(instrument).leverage = leverage;
    }
  }

  private void setMarginMode(String id, String instrument, boolean isolated) {
    AccountModel.Holding h = world.model.account(id).holding(instrument);
    boolean before = h.isolated;
    Optional<Reply> reply = world.ask(id, r -> new AccountEntity.SetMarginMode(instrument,
        isolated ? MarginMode.ISOLATED : MarginMode.CROSS, r));
    if (accepted(reply)) {
      expect(before == isolated || h.lots == 0, "the margin mode of an open position changed");
      h.isolated = isolated;
      ModelWorld.count("margin modes set");
    }
  }

  private void adjust(String id, String instrument, long amount) {
    AccountModel.Acc m = world.model.account(id);
    AccountModel.Holding h = m.holding(instrument);
    Optional<Reply> reply = world.ask(id, r -> new AccountEntity.AdjustIsolatedMargin(instrument, amount, r));
    if (accepted(reply)) {
      expect(h.isolated && h.lots != 0, "margin moved on a position that is not an open isolated one");
      expect(amount <= 0 || amount <= m.cash, "moved " + amount + " into the position from cash " + m.cash);
      BigInteger isolatedAfter = BigInteger.valueOf(h.isolatedMargin).add(BigInteger.valueOf(amount));
      expect(isolatedAfter.signum() >= 0, "the isolated margin would become " + isolatedAfter);
      m.cash = Math.subtractExact(m.cash, amount);
      h.isolatedMargin = Math.addExact(h.isolatedMargin, amount);
      ModelWorld.count("isolated margin adjustments accepted");
    }
  }

  // --- trades ---------------------------------------------------------------------------

  private void trade(ModelActions.Trade t) {
    String instrument = ModelActions.INSTRUMENTS.get(t.instrument());
    String buyer = world.traders.get(t.buyer());
    String seller = world.traders.get(t.seller());
    long mark = world.mark(instrument);
    long price = BigInteger.valueOf(mark).multiply(BigInteger.valueOf(1_000_000L + t.priceOffsetPpm()))
        .divide(BigInteger.valueOf(1_000_000L)).max(BigInteger.ONE).longValueExact();
    long sequence = ++world.tradeSequence;
    String buyerOrder = "o-" + sequence + "-b";
    String sellerOrder = "o-" + sequence + "-s";
    boolean buyerReserved = world.ask(buyer, r -> new AccountEntity.ReserveMargin(buyerOrder, instrument, t.lots(), price,
        r)).filter(Reserved.class::isInstance).isPresent();
    boolean sellerReserved = world.ask(seller, r -> new AccountEntity.ReserveMargin(sellerOrder, instrument, -t.lots(),
        price, r)).filter(Reserved.class::isInstance).isPresent();
    if (!buyerReserved || !sellerReserved) {
      // The engine does not match an order its pre-trade check refused; the other one is cancelled.
      if (buyerReserved) {
        world.ask(buyer, r -> new AccountEntity.ReleaseReservation(buyerOrder, r));
      }
      if (sellerReserved) {
        world.ask(seller, r -> new AccountEntity.ReleaseReservation(sellerOrder, r));
      }
      return;
    }
    SentTrade sent = new SentTrade(sequence, "t-" + sequence, instrument, buyer, seller, t.lots(), price,
        t.buyerTakes(), buyerOrder, sellerOrder);
    boolean buyerHealthy = !breached(buyer);
    boolean sellerHealthy = !breached(seller);
    if (applyBothSides(sent)) {
      world.acked.add(sent);
      ModelWorld.count("trades applied");
      if (t.priceOffsetPpm() > 20_000 || t.priceOffsetPpm() < -20_000) {
        ModelWorld.count("trades applied more than 2% from the mark");
      }
      for (String id : List.of(buyer, seller)) {
        if ((id.equals(buyer) ? buyerHealthy : sellerHealthy) && breached(id)) {
          world.violation(Invariant.PRE_TRADE_CHECK_COVERS_THE_TRADE, id + " passed the pre-trade check for trade "
              + sent.tradeId() + " at " + price + " (mark " + mark + ") and is liquidatable after it");
        }
      }
    } else {
      ModelWorld.count("trades not applied on both sides");
    }
  }

  /** The monitor's rule on the account's state now. */
  private boolean breached(String id) {
    try {
      return io.clearinghouse.monitor.MarginMonitor.breached(world.state(id).exposure(), AccountEntityTest.INSTRUMENTS,
          world.marks);
    } catch (ArithmeticException e) {
      // Figures beyond a long (the scripts' absurd marks): the monitor skips such an account too.
      return false;
    }
  }

  /**
   * Sends both sides as the trade register does: the buyer's, then the seller's; a seller
   * refused after the buyer applied has the buyer's side reversed, so a trade is applied to both
   * sides or to neither. True when both were applied (now or before).
   */
  private boolean applyBothSides(SentTrade t) {
    AccountModel.Movement buyer = side(t.buyer(), t.seller(), t, t.lots(), t.buyerTakes(), t.buyerOrder());
    if (buyer == null) {
      return false;
    }
    if (side(t.seller(), t.buyer(), t, -t.lots(), !t.buyerTakes(), t.sellerOrder()) != null) {
      return true;
    }
    if (buyer != NOT_NEW) {
      Optional<Reply> undone = world.ask(t.buyer(), r -> new AccountEntity.ReverseTradeSide(t.tradeId(), t.sequence(), r));
      expect(undone.isPresent() && undone.get() instanceof AccountEntity.TradeSideReverted,
          t.buyer() + " did not reverse its side of " + t.tradeId() + ": " + undone.orElse(null));
      AccountModel.revert(world.model.account(t.buyer()), t.instrument(), buyer);
    }
    return false;
  }

  /** A side found applied before: nothing to reverse in the model. */
  private static final AccountModel.Movement NOT_NEW = new AccountModel.Movement(0, 0, 0, 0, 0, 0);

  /** The movement applied now, {@link #NOT_NEW} if applied before, null if refused. */
  private AccountModel.Movement side(String id, String counterparty, SentTrade t, long signedLots, boolean taker,
      String orderId) {
    AccountModel.Acc m = world.model.account(id);
    AccountModel.Movement expected = AccountModel.movement(m, t.instrument(), signedLots, t.priceTicks(), taker,
        world.mark(t.instrument()));
    Optional<Reply> reply = world.ask(id, r -> new AccountEntity.ApplyTrade(t.tradeId(), t.sequence(), t.instrument(),
        signedLots, t.priceTicks(), taker, orderId, counterparty, r));
    if (reply.isEmpty() || !(reply.get() instanceof TradeSideApplied applied)) {
      return null;
    }
    if (applied.duplicate()) {
      return NOT_NEW;
    }
    {
      // Applied now.
      expect(applied.fee() == expected.fee(), id + " was charged a fee of " + applied.fee() + ", the model says "
          + expected.fee());
      if (expected.isolatedMarginMissing() > 0) {
        world.violation(Invariant.PRE_TRADE_CHECK_COVERS_THE_TRADE, id + " opened an isolated position with "
            + expected.isolatedMarginMissing() + " of its initial margin and open loss missing (on credit)");
      }
      if (m.holding(t.instrument()).isolated) {
        ModelWorld.count("isolated trade sides");
      }
      AccountModel.apply(m, t.instrument(), expected, 0);
    }
    return expected;
  }

  private void resend(ModelActions.Resend r) {
    if (world.acked.isEmpty()) {
      return;
    }
    SentTrade first = world.acked.get(world.acked.size() - 1 - r.back() % world.acked.size());
    if (!r.conflicting()) {
      // Applied before: each side answers duplicate, or refuses it as too old to verify; nothing moves.
      for (String id : List.of(first.buyer(), first.seller())) {
        boolean buys = id.equals(first.buyer());
        Optional<Reply> reply = world.ask(id, c -> new AccountEntity.ApplyTrade(first.tradeId(), first.sequence(),
            first.instrument(), buys ? first.lots() : -first.lots(), first.priceTicks(),
            buys == first.buyerTakes(), buys ? first.buyerOrder() : first.sellerOrder(),
            buys ? first.seller() : first.buyer(), c));
        expect(reply.isEmpty() || reply.get() instanceof Rejected
            || (reply.get() instanceof TradeSideApplied a && a.duplicate()),
            id + " applied the resent trade " + first.tradeId() + " again: " + reply.orElse(null));
      }
      return;
    }
    // The engine reuses a sequence for another trade: another seller, one lot more.
    String seller = world.traders.get(r.otherSeller());
    if (seller.equals(first.buyer())) {
      seller = first.seller();
    }
    SentTrade conflicting = new SentTrade(first.sequence(), first.tradeId() + "-x", first.instrument(), first.buyer(),
        seller, first.lots() + 1, first.priceTicks(), first.buyerTakes(), null, null);
    // The register refuses it before any account sees it; the first buyer, asked anyway, refuses it too.
    if (applyBothSides(conflicting)) {
      world.violation(Invariant.BOOKS_BALANCE, "a reused sequence " + first.sequence() + " was applied as a new trade");
    }
  }
}
