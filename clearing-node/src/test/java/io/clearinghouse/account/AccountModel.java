package io.clearinghouse.account;

import java.math.BigInteger;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A small reference model of accounts for the model-based test, written from DESIGN sections 3-4
 * and the instrument config, on BigInteger: it never calls the production margin classes. It
 * knows the two BTCUSDT contracts of instruments.conf (tick 0.1, lot 0.001: multiplier 100; taker
 * 0.05%, maker 0.02%; Binance's 2021-03 tiers) and the default leverage of the test settings (20).
 *
 * <p>Position per (account, instrument): signed lots q and signed cost c. A reduction by r lots
 * removes ceil(c * r / |q|) of cost (the payout rounds down for both sides, in the house's
 * favour), a close removes all of it, a flip closes then opens the rest at the trade price; the
 * realized PnL is minus the traded value minus the cost removed. An isolated position releases
 * its margin in proportion (floor) on a reduction, all of it on a close or flip, and allocates
 * ceil(opened notional / leverage) on what it opens, but never more than the cash there is.
 */
public final class AccountModel {
  public static final long MULTIPLIER = 100;
  static final long TAKER_PPM = 500;
  static final long MAKER_PPM = 200;
  static final long LIQUIDATION_FEE_PPM = 10_000;
  static final int DEFAULT_LEVERAGE = 20;
  private static final long PPM = 1_000_000;
  private static final long USDT = 1_000_000;
  /** Upper bounds (exclusive, USDT) of the tiers and each tier's maximum leverage; the last tier is open-ended. */
  private static final long[] TIER_UP_TO_USDT = {50_000, 250_000, 1_000_000, 10_000_000, 20_000_000, 50_000_000,
      100_000_000, 200_000_000, 300_000_000};
  private static final int[] TIER_MAX_LEVERAGE = {125, 100, 50, 20, 10, 5, 4, 3, 2, 1};

  public static final class Holding {
    public long lots;
    public long cost;
    int leverage;
    boolean isolated;
    long isolatedMargin;
  }

  public static final class Acc {
    public long cash;
    long debt;
    /** What closed isolated positions lost beyond their margin, not yet paid: never taken from the cash. */
    long owed;
    int leverageCap;
    final Map<String, Holding> holdings = new TreeMap<>();

    public Holding holding(String instrument) {
      return holdings.computeIfAbsent(instrument, i -> new Holding());
    }

    boolean anyOpen() {
      return holdings.values().stream().anyMatch(h -> h.lots != 0);
    }
  }

  /** What one side of a trade or transfer does, as the model computes it. */
  public record Movement(long signedLots, long realizedPnl, long costDelta, long isolatedMarginDelta, long fee,
      long isolatedMarginMissing) {}

  final Map<String, Acc> accounts = new HashMap<>();

  Acc account(String id) {
    return accounts.computeIfAbsent(id, i -> new Acc());
  }

  // --- the rules ------------------------------------------------------------------------

  public static long fee(long lots, long priceTicks, boolean taker) {
    BigInteger notional = big(Math.abs(lots)).multiply(big(priceTicks)).multiply(big(MULTIPLIER));
    return ceilDiv(notional.multiply(big(taker ? TAKER_PPM : MAKER_PPM)), big(PPM)).longValueExact();
  }

  static int tierMaxLeverage(BigInteger notional) {
    for (int k = 0; k < TIER_UP_TO_USDT.length; k++) {
      if (notional.compareTo(big(TIER_UP_TO_USDT[k]).multiply(big(USDT))) < 0) {
        return TIER_MAX_LEVERAGE[k];
      }
    }
    return TIER_MAX_LEVERAGE[TIER_MAX_LEVERAGE.length - 1];
  }

  static int leverage(Acc account, Holding h, BigInteger notional) {
    int chosen = h.leverage > 0 ? h.leverage : DEFAULT_LEVERAGE;
    if (account.leverageCap > 0) {
      chosen = Math.min(chosen, account.leverageCap);
    }
    return Math.min(chosen, tierMaxLeverage(notional));
  }

  /**
   * One side at {@code priceTicks} of {@code signedLots} for {@code account} (not applied): the
   * fee is charged for a trade side ({@code feeTaker} non-null), none for a liquidation transfer.
   */
  public static Movement movement(Acc account, String instrument, long signedLots, long priceTicks, Boolean feeTaker) {
    return movement(account, instrument, signedLots, priceTicks, feeTaker, 0);
  }

  /**
   * The same, for a trade side with the instrument's mark at {@code markTicks} (0: none): an
   * isolated position opened by a trade is funded in full with its initial margin at the price
   * plus the loss it opens against the mark, or the side is refused ({@code isolatedMarginMissing}
   * says by how much cash falls short); a liquidation transfer allocates what cash there is.
   */
  public static Movement movement(Acc account, String instrument, long signedLots, long priceTicks, Boolean feeTaker,
      long markTicks) {
    Holding h = account.holdings.getOrDefault(instrument, new Holding());
    BigInteger q = big(h.lots);
    BigInteger c = big(h.cost);
    BigInteger value = big(signedLots).multiply(big(priceTicks)).multiply(big(MULTIPLIER));
    BigInteger newLots = q.add(big(signedLots));
    BigInteger newCost;
    BigInteger realized;
    if (q.signum() == 0 || q.signum() == Long.signum(signedLots)) {
      newCost = c.add(value);
      realized = BigInteger.ZERO;
    } else if (Math.abs(signedLots) < Math.abs(h.lots)) {
      BigInteger removed = ceilDiv(c.multiply(big(Math.abs(signedLots))), q.abs());
      newCost = c.subtract(removed);
      realized = value.negate().subtract(removed);
    } else {
      BigInteger closing = q.negate().multiply(big(priceTicks)).multiply(big(MULTIPLIER));
      realized = closing.negate().subtract(c);
      newCost = newLots.multiply(big(priceTicks)).multiply(big(MULTIPLIER));
    }
    long fee = feeTaker == null ? 0 : fee(signedLots, priceTicks, feeTaker);
    long isolatedDelta = 0;
    long missing = 0;
    if (h.isolated) {
      BigInteger oldAbs = q.abs();
      BigInteger newAbs = newLots.abs();
      boolean closedOrFlipped = q.signum() != 0 && newLots.signum() != q.signum();
      BigInteger released;
      BigInteger opened;
      if (closedOrFlipped) {
        released = big(h.isolatedMargin);
        opened = newAbs;
      } else if (newAbs.compareTo(oldAbs) < 0) {
        released = big(h.isolatedMargin).multiply(oldAbs.subtract(newAbs)).divide(oldAbs);
        opened = BigInteger.ZERO;
      } else {
        released = BigInteger.ZERO;
        opened = newAbs.subtract(oldAbs);
      }
      BigInteger allocated = BigInteger.ZERO;
      if (opened.signum() > 0) {
        BigInteger wanted = ceilDiv(opened.multiply(big(priceTicks)).multiply(big(MULTIPLIER)),
            big(leverage(account, h, newAbs.multiply(big(priceTicks)).multiply(big(MULTIPLIER)))));
        BigInteger cashThere = big(account.cash).add(realized).subtract(big(fee)).add(released);
        if (feeTaker != null) {
          // Open loss: a buy above the mark or a sell below it, on the lots opened.
          BigInteger reference = big(markTicks > 0 ? markTicks : priceTicks);
          BigInteger perLot = big(Long.signum(newLots.signum())).multiply(big(priceTicks).subtract(reference));
          BigInteger openLoss = perLot.max(BigInteger.ZERO).multiply(opened).multiply(big(MULTIPLIER));
          wanted = wanted.add(openLoss);
          // Growing into a higher tier: the whole position must carry that tier's initial margin.
          BigInteger wholeNotional = newAbs.multiply(big(priceTicks)).multiply(big(MULTIPLIER));
          BigInteger whole = ceilDiv(wholeNotional, big(leverage(account, h, wholeNotional)))
              .add(openLoss).subtract(big(h.isolatedMargin).subtract(released));
          wanted = wanted.max(whole);
          allocated = wanted;
          missing = wanted.subtract(cashThere).max(BigInteger.ZERO).longValueExact();
        } else {
          allocated = wanted.min(cashThere.max(BigInteger.ZERO));
          missing = wanted.subtract(allocated).longValueExact();
        }
      }
      isolatedDelta = allocated.subtract(released).longValueExact();
    }
    return new Movement(signedLots, realized.longValueExact(), newCost.subtract(c).longValueExact(), isolatedDelta, fee,
        missing);
  }

  /** Undoes a trade side's movement exactly, as the trade register's reversal does (the fee comes back). */
  public static void revert(Acc account, String instrument, Movement m) {
    Holding h = account.holding(instrument);
    account.cash = Math.addExact(Math.subtractExact(Math.addExact(Math.subtractExact(account.cash, m.realizedPnl()),
        m.fee()), 0), m.isolatedMarginDelta());
    h.lots = Math.subtractExact(h.lots, m.signedLots());
    h.cost = Math.subtractExact(h.cost, m.costDelta());
    h.isolatedMargin = Math.subtractExact(h.isolatedMargin, m.isolatedMarginDelta());
  }

  /** Applies a movement (and, for a liquidation transfer, its penalty) to the account. */
  public static void apply(Acc account, String instrument, Movement m, long penalty) {
    Holding h = account.holding(instrument);
    account.cash = Math.subtractExact(Math.subtractExact(Math.subtractExact(Math.addExact(account.cash, m.realizedPnl()),
        m.fee()), m.isolatedMarginDelta()), penalty);
    h.lots = Math.addExact(h.lots, m.signedLots());
    h.cost = Math.addExact(h.cost, m.costDelta());
    h.isolatedMargin = Math.addExact(h.isolatedMargin, m.isolatedMarginDelta());
  }

  public static void deposit(Acc account, long amount) {
    // A deposit repays what isolated positions owe first, then the cash; debt is what is still
    // short in the cash plus what is still owed.
    long repaid = Math.min(account.owed, amount);
    account.owed -= repaid;
    account.cash = Math.addExact(account.cash, amount - repaid);
    account.debt = Math.max(0, Math.min(account.debt - repaid, Math.max(0, -account.cash) + account.owed));
  }


  private static BigInteger big(long value) {
    return BigInteger.valueOf(value);
  }

  private static BigInteger ceilDiv(BigInteger numerator, BigInteger denominator) {
    BigInteger[] qr = numerator.divideAndRemainder(denominator);
    return qr[1].signum() > 0 ? qr[0].add(BigInteger.ONE) : qr[0];
  }
}
