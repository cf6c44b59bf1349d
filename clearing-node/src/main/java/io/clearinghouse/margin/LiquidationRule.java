package io.clearinghouse.margin;

/**
 * The one liquidation rule (DESIGN section 4): a cross account is liquidatable when it holds a
 * cross position and its equity is at or below the sum of its cross maintenance margins; an
 * isolated position when its own margin plus its unrealized PnL is at or below its maintenance
 * margin. A trigger is never decided on a stale or missing mark: a cross account needs a usable
 * mark for every cross position, an isolated position is judged on its own mark.
 *
 * <p>The node's margin monitor (on every mark), the account re-checking the monitor's finding,
 * and {@link AccountRisk} (for planning and display) all decide with these methods.
 */
public final class LiquidationRule {
  private LiquidationRule() {}

  /** One position as the rule sees it; {@code slot} indexes the marks read for the evaluation. */
  public interface Held {
    Instrument instrument();

    int slot();

    long lots();

    long cost();

    boolean isolated();

    long isolatedMargin();
  }

  /** Cross: the account holds a cross position and {@code E <= sum(MM)}. */
  public static boolean crossBreached(boolean holdsCross, long equity, long maintenanceMargin) {
    return holdsCross && equity <= maintenanceMargin;
  }

  /** Isolated: {@code isolatedMargin + U <= MM}. */
  public static boolean isolatedBreached(long isolatedMargin, long unrealizedPnl, long maintenanceMargin) {
    return Math.addExact(isolatedMargin, unrealizedPnl) <= maintenanceMargin;
  }

  /**
   * The trigger, on marks already read: per slot the mark in ticks and whether it may be used
   * (published and fresh). Allocates nothing: the monitor calls it for every account on every mark.
   */
  public static boolean breached(long cash, Held[] positions, long[] markTicks, boolean[] usable) {
    return breached(cash, positions, markTicks, usable, null);
  }

  /**
   * The same, with each slot's tiers as they are now ({@code tiersBySlot}; null: each position's
   * instrument's): the monitor resolves an account's instruments when it reports, and margins
   * scaled since (issue 16) must count at once.
   */
  public static boolean breached(long cash, Held[] positions, long[] markTicks, boolean[] usable,
      RiskTiers[] tiersBySlot) {
    long equity = cash;
    long maintenance = 0;
    boolean cross = false;
    boolean crossEvaluable = true;
    for (Held p : positions) {
      if (!usable[p.slot()]) {
        if (!p.isolated()) {
          crossEvaluable = false;
        }
        continue;
      }
      long mark = markTicks[p.slot()];
      long m = p.instrument().notionalMultiplier();
      long notional = MarginMath.notional(p.lots(), mark, m);
      long pnl = MarginMath.unrealizedPnl(p.lots(), p.cost(), mark, m);
      long mm = MarginMath.maintenanceMargin(notional, tiersBySlot == null ? p.instrument().riskTiers()
          : tiersBySlot[p.slot()]);
      if (p.isolated()) {
        if (isolatedBreached(p.isolatedMargin(), pnl, mm)) {
          return true;
        }
      } else {
        cross = true;
        equity = Math.addExact(equity, pnl);
        maintenance = Math.addExact(maintenance, mm);
      }
    }
    return crossEvaluable && crossBreached(cross, equity, maintenance);
  }
}
