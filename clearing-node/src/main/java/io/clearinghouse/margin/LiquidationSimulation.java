package io.clearinghouse.margin;

import java.util.ArrayList;
import java.util.List;

/**
 * A liquidation worked out in place, without writing anything (the stress test of issue 16): the
 * trigger of {@link LiquidationRule}, then the saga's closes as the account would plan them
 * ({@link LiquidationRules#nextClose}, {@link LiquidationRules#lotsToClose}, partial tier by
 * tier, again until the account is healthy or flat), each priced at the backstop price
 * ({@link LiquidationRules#backstopPrice}) or at the bankruptcy price
 * ({@link LiquidationRules#closeBankruptcyTicks}: a fund takeover or auto-deleveraging), its
 * realized PnL ({@link Position#apply}), its penalty ({@link LiquidationRules#penalty}), an isolated
 * position's released margin and shortfall, and in the end what the account needs covered (its
 * isolated shortfalls plus its negative cross equity) and what of that its own penalties cover
 * ({@link ReserveRules#penaltyDraw}). Every figure comes from the same rules the account and the
 * saga apply, none from a copy.
 *
 * <p>Marks are given per slot, with whether each may be used. An account holding a position
 * without a usable mark is not simulated beyond its trigger: the saga would wait for a fresh mark.
 * Each planned close is cut by the node's own {@link Slicing} (the saga's rule, passed in, so the
 * stress test closes in the same slices of the market depth as a real liquidation would).
 */
public final class LiquidationSimulation {
  private LiquidationSimulation() {}

  /**
   * A guard against a plan that never ends (it always does: every close reduces a position), and a
   * bound on the work per account: an outcome that reaches it stops there and says so
   * ({@link Outcome#truncated}; the stress test's report is then approximate), where the saga goes
   * on closing. Tiny slices (a thin market with a small {@code liquidation-min-slice-share}) reach it.
   */
  public static final int MAX_CLOSES = 10_000;

  /**
   * One close: {@code slot} of its instrument, the signed lots closed, the price, whether it was
   * priced at the backstop price (a provider takes it) or at bankruptcy, its notional at that
   * price, the penalty taken and the penalty before the cut.
   */
  public record Close(int slot, long signedLots, long priceTicks, boolean backstop, long notional, long penalty,
      long fullPenalty) {}

  /**
   * A liquidation's figures: its closes; {@code need}, the shortfalls of its isolated closes plus
   * its negative cross equity after them (what the penalty, the fund, the operator's capital and
   * the policy cover); {@code penaltyApplied}, what of the need its own penalties cover;
   * {@code hold}, the largest amount the fund would have been asked to hold before a backstop close
   * (that close's loss beyond bankruptcy plus earlier isolated shortfalls); {@code waiting}: the
   * account is at or below maintenance but a position has no usable mark (the saga would wait);
   * {@code truncated}: the plan was stopped at {@link #MAX_CLOSES} closes with positions still to
   * close (its figures are those of a half-finished liquidation: approximate).
   */
  public record Outcome(boolean triggered, boolean waiting, List<Close> closes, long need, long penaltyApplied,
      long hold, boolean truncated) {
    public Outcome {
      closes = List.copyOf(closes);
    }

    public Outcome(boolean triggered, boolean waiting, List<Close> closes, long need, long penaltyApplied, long hold) {
      this(triggered, waiting, closes, need, penaltyApplied, hold, false);
    }

    public boolean liquidated() {
      return !closes.isEmpty();
    }

    public long penalties() {
      long sum = 0;
      for (Close c : closes) {
        sum = Math.addExact(sum, c.penalty());
      }
      return sum;
    }

    /** The slot of the instrument the deficit is settled in: the first close's; -1 without closes. */
    public int coverSlot() {
      return closes.isEmpty() ? -1 : closes.get(0).slot();
    }

    /** Each close's penalty less what of it covered the need (taken from the first closes first). */
    public long[] penaltiesLeft() {
      long[] penalties = new long[closes.size()];
      for (int i = 0; i < penalties.length; i++) {
        penalties[i] = closes.get(i).penalty();
      }
      return ReserveRules.penaltiesLeft(penalties, penaltyApplied);
    }
  }

  /**
   * How much of a planned close goes in one step: the lots (same sign, at least one, at most the
   * plan's) of {@code signedLots} of the instrument in {@code slot} at {@code markTicks}. The node
   * passes the same rule its liquidation saga cuts its closes with.
   */
  @FunctionalInterface
  public interface Slicing {
    /** Every close whole. */
    Slicing WHOLE = (slot, signedLots, markTicks) -> signedLots;

    long slice(int slot, long signedLots, long markTicks);
  }

  /** The largest shock a stress test may apply, either way: 99%. */
  public static final long MAX_SHOCK_PPM = 990_000;

  /**
   * A mark moved by {@code shockPpm} (-20% is -200,000): {@code floor(mark * (1e6 + shock) / 1e6)},
   * at least one tick; a shock beyond {@link #MAX_SHOCK_PPM} either way is refused.
   */
  public static long shockedMarkTicks(long markTicks, long shockPpm) {
    if (shockPpm < -MAX_SHOCK_PPM || shockPpm > MAX_SHOCK_PPM) {
      throw new IllegalArgumentException("a shock must be within -99% and +99%, was " + shockPpm + " ppm");
    }
    if (markTicks <= 0) {
      throw new IllegalArgumentException("a mark must be positive, was " + markTicks);
    }
    return Math.max(1, MulDiv.mulDivFloor(markTicks, MarginMath.PPM + shockPpm, MarginMath.PPM));
  }

  public static final Outcome NONE = new Outcome(false, false, List.of(), 0, 0, 0);

  /** A position as the simulation changes it. */
  private static final class Sim {
    final LiquidationRule.Held held;
    long lots;
    long cost;
    long isolatedMargin;

    Sim(LiquidationRule.Held held) {
      this.held = held;
      this.lots = held.lots();
      this.cost = held.cost();
      this.isolatedMargin = held.isolated() ? held.isolatedMargin() : 0;
    }
  }

  /**
   * Simulates the liquidation of an account with {@code cash} and {@code positions} at the marks
   * given per slot. A close of an instrument whose slot has {@code atBankruptcy} set is priced at
   * the bankruptcy price, any other at the backstop price with that slot's {@code spreadPpm}.
   */
  public static Outcome simulate(long cash, LiquidationRule.Held[] positions, long[] markTicks, boolean[] usable,
      boolean[] atBankruptcy, long[] spreadPpm) {
    return simulate(cash, positions, markTicks, usable, atBankruptcy, spreadPpm, null);
  }

  /**
   * The same with each slot's tiers as they are now ({@code tiersBySlot}; null: each position's
   * instrument's): margins scaled since the positions were reported (issue 16) count as in the
   * monitor's trigger.
   */
  public static Outcome simulate(long cash, LiquidationRule.Held[] positions, long[] markTicks, boolean[] usable,
      boolean[] atBankruptcy, long[] spreadPpm, RiskTiers[] tiersBySlot) {
    return simulate(cash, positions, markTicks, usable, atBankruptcy, spreadPpm, tiersBySlot, Slicing.WHOLE);
  }

  /** The same with each planned close cut by {@code slicing}, as the saga cuts it. */
  public static Outcome simulate(long cash, LiquidationRule.Held[] positions, long[] markTicks, boolean[] usable,
      boolean[] atBankruptcy, long[] spreadPpm, RiskTiers[] tiersBySlot, Slicing slicing) {
    if (!LiquidationRule.breached(cash, positions, markTicks, usable, tiersBySlot)) {
      return NONE;
    }
    Sim[] sims = new Sim[positions.length];
    for (int i = 0; i < positions.length; i++) {
      if (!usable[positions[i].slot()]) {
        return new Outcome(true, true, List.of(), 0, 0, 0);
      }
      sims[i] = new Sim(positions[i]);
    }
    List<Close> closes = new ArrayList<>();
    long shortfalls = 0;
    long hold = 0;
    long balance = cash;
    boolean truncated = false;
    while (true) {
      int[] index = new int[sims.length];
      AccountRisk evaluation = evaluate(balance, sims, markTicks, index, -1, 0, 0, tiersBySlot);
      int chosen = LiquidationRules.nextClose(evaluation);
      if (chosen < 0) {
        break;
      }
      if (closes.size() >= MAX_CLOSES) {
        truncated = true;
        break;
      }
      Sim s = sims[index[chosen]];
      PositionRisk p = evaluation.position(chosen);
      Instrument instrument = s.held.instrument();
      int slot = s.held.slot();
      long planned = -Long.signum(p.lots()) * LiquidationRules.lotsToClose(p, evaluation.metrics(chosen).notional());
      long closeLots = slicing.slice(slot, planned, p.markTicks());
      if (closeLots == 0 || Long.signum(closeLots) != Long.signum(planned)
          || Math.abs(closeLots) > Math.abs(planned)) {
        throw new IllegalStateException("a slice of " + planned + " lots must be 1 to all of them, was " + closeLots);
      }
      long bankruptcy = LiquidationRules.closeBankruptcyTicks(evaluation, chosen);
      boolean backstop = !atBankruptcy[slot];
      long price = backstop ? LiquidationRules.backstopPrice(p.markTicks(), closeLots, spreadPpm[slot]) : bankruptcy;
      if (backstop) {
        hold = Math.max(hold, Math.addExact(LiquidationRules.deficit(closeLots, bankruptcy, price, instrument),
            shortfalls));
      }
      PositionChange change = new Position(s.lots, s.cost).apply(closeLots, price, instrument.notionalMultiplier());
      long realized = change.realizedPnl();
      Position after = change.position();
      long isolatedDelta = s.held.isolated()
          ? -LiquidationRules.isolatedRelease(s.lots, after.lots(), s.isolatedMargin) : 0;
      long closedNotional = instrument.notional(price, closeLots);
      long remainingEquity = s.held.isolated() ? Math.subtractExact(realized, isolatedDelta)
          : Math.addExact(evaluate(balance, sims, markTicks, new int[sims.length], index[chosen], after.lots(),
              after.cost(), tiersBySlot).equity(), realized);
      long penalty = LiquidationRules.penalty(closedNotional, instrument.liquidationFeePpm(), remainingEquity);
      long shortfall = s.held.isolated() ? Math.max(0, -Math.subtractExact(realized, isolatedDelta)) : 0;
      // As the close's transfers move it: realized PnL in, the penalty to escrow, the released
      // isolated margin back, an isolated loss beyond its margin owed rather than paid.
      balance = Math.addExact(Math.subtractExact(Math.subtractExact(Math.addExact(balance, realized), penalty),
          isolatedDelta), shortfall);
      shortfalls = Math.addExact(shortfalls, shortfall);
      s.lots = after.lots();
      s.cost = after.cost();
      s.isolatedMargin = Math.addExact(s.isolatedMargin, isolatedDelta);
      closes.add(new Close(slot, closeLots, price, backstop, closedNotional, penalty,
          ReserveRules.fullPenalty(closedNotional, instrument.liquidationFeePpm())));
    }
    long equity = evaluate(balance, sims, markTicks, new int[sims.length], -1, 0, 0, tiersBySlot).equity();
    long need = Math.addExact(shortfalls, Math.max(0, -equity));
    long penalties = 0;
    for (Close c : closes) {
      penalties = Math.addExact(penalties, c.penalty());
    }
    return new Outcome(true, false, closes, need, ReserveRules.penaltyDraw(need, penalties), hold, truncated);
  }

  /**
   * The account's risk with its open positions (position {@code replaced} as {@code lots} and
   * {@code cost} instead); {@code index} receives, per evaluated position, its place in {@code sims}.
   */
  private static AccountRisk evaluate(long cash, Sim[] sims, long[] markTicks, int[] index, int replaced, long lots,
      long cost, RiskTiers[] tiersBySlot) {
    List<PositionRisk> risks = new ArrayList<>(sims.length);
    for (int i = 0; i < sims.length; i++) {
      Sim s = sims[i];
      long l = i == replaced ? lots : s.lots;
      long c = i == replaced ? cost : s.cost;
      if (l == 0) {
        continue;
      }
      Instrument instrument = s.held.instrument();
      index[risks.size()] = i;
      risks.add(new PositionRisk(instrument.symbol(), l, c, markTicks[s.held.slot()], instrument.notionalMultiplier(),
          tiersBySlot == null ? instrument.riskTiers() : tiersBySlot[s.held.slot()], 1,
          s.held.isolated() ? MarginMode.ISOLATED : MarginMode.CROSS,
          s.held.isolated() ? s.isolatedMargin : 0));
    }
    return AccountRisk.evaluate(cash, 0, risks);
  }
}
