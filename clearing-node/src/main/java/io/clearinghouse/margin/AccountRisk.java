package io.clearinghouse.margin;

import java.util.List;
import java.util.OptionalLong;

/**
 * One account's risk at given marks (DESIGN section 4), on exact integers in minor units.
 *
 * <ul>
 *   <li>equity {@code E = cash + sum(U over cross positions)};
 *   <li>maintenance and initial margin are summed over cross positions only;
 *   <li>{@code available = E - sum(IM) - reservations}: an isolated position's margin has
 *       already left the cash when it was allocated, and its unrealized PnL stays with it until
 *       it is closed, so it appears in neither term;
 *   <li>{@code withdrawable = max(0, min(cash, available))};
 *   <li>cross liquidatable when the account holds a cross position and {@code E <= sum(MM)};
 *       an isolated position is liquidatable when {@code isolatedMargin + U <= MM}.
 * </ul>
 *
 * <p>Evaluated for every hosted account on every mark, so the evaluation is a plain indexed loop
 * that allocates only this object and one array of per-position figures.
 */
public final class AccountRisk {
  private static final int NOTIONAL = 0;
  private static final int UNREALIZED_PNL = 1;
  private static final int MAINTENANCE_MARGIN = 2;
  private static final int INITIAL_MARGIN = 3;
  private static final int FIGURES_PER_POSITION = 4;

  private final long cash;
  private final long reservations;
  private final List<PositionRisk> positions;
  private final long[] figures;
  private final long equity;
  private final long maintenanceMargin;
  private final long initialMargin;
  private final boolean hasCrossPositions;
  private final int liquidatableIsolatedPositions;

  private AccountRisk(long cash, long reservations, List<PositionRisk> positions, long[] figures,
      long equity, long maintenanceMargin, long initialMargin, boolean hasCrossPositions,
      int liquidatableIsolatedPositions) {
    this.cash = cash;
    this.reservations = reservations;
    this.positions = positions;
    this.figures = figures;
    this.equity = equity;
    this.maintenanceMargin = maintenanceMargin;
    this.initialMargin = initialMargin;
    this.hasCrossPositions = hasCrossPositions;
    this.liquidatableIsolatedPositions = liquidatableIsolatedPositions;
  }

  /** Evaluates the account; the positions list is copied unless it is already immutable. */
  public static AccountRisk evaluate(long cash, long reservations, List<PositionRisk> positions) {
    if (reservations < 0) {
      throw new IllegalArgumentException("reservations must not be negative, were " + reservations);
    }
    List<PositionRisk> held = List.copyOf(positions);
    int count = held.size();
    long[] figures = new long[count * FIGURES_PER_POSITION];
    long equity = cash;
    long maintenanceMargin = 0;
    long initialMargin = 0;
    boolean hasCrossPositions = false;
    int liquidatableIsolated = 0;
    for (int i = 0; i < count; i++) {
      PositionRisk p = held.get(i);
      if (p.lots() == 0) {
        continue;
      }
      long notional = MarginMath.notional(p.lots(), p.markTicks(), p.multiplier());
      RiskTier tier = p.tiers().tierFor(notional);
      long unrealizedPnl = MarginMath.unrealizedPnl(p.lots(), p.cost(), p.markTicks(), p.multiplier());
      long maintenance = MarginMath.maintenanceMargin(notional, tier);
      long initial = PositionMetrics.initialMargin(notional, p.tiers(), tier, p.leverage());
      int at = i * FIGURES_PER_POSITION;
      figures[at + NOTIONAL] = notional;
      figures[at + UNREALIZED_PNL] = unrealizedPnl;
      figures[at + MAINTENANCE_MARGIN] = maintenance;
      figures[at + INITIAL_MARGIN] = initial;
      if (p.mode() == MarginMode.CROSS) {
        hasCrossPositions = true;
        equity = Math.addExact(equity, unrealizedPnl);
        maintenanceMargin = Math.addExact(maintenanceMargin, maintenance);
        initialMargin = Math.addExact(initialMargin, initial);
      } else if (LiquidationRule.isolatedBreached(p.isolatedMargin(), unrealizedPnl, maintenance)) {
        liquidatableIsolated++;
      }
    }
    return new AccountRisk(cash, reservations, held, figures, equity, maintenanceMargin,
        initialMargin, hasCrossPositions, liquidatableIsolated);
  }

  public long cash() {
    return cash;
  }

  public long reservations() {
    return reservations;
  }

  /** {@code cash + sum(U over cross positions)}. */
  public long equity() {
    return equity;
  }

  /** Sum of the cross positions' maintenance margins. */
  public long maintenanceMargin() {
    return maintenanceMargin;
  }

  /** Sum of the cross positions' initial margins. */
  public long initialMargin() {
    return initialMargin;
  }

  /** {@code E - sum(IM) - reservations}; negative when the account is over-committed. */
  public long available() {
    return Math.subtractExact(Math.subtractExact(equity, initialMargin), reservations);
  }

  /** {@code max(0, min(cash, available))}: unrealized profit is never withdrawable. */
  public long withdrawable() {
    return Math.max(0, Math.min(cash, available()));
  }

  /**
   * {@code ceil(sum(MM) * 1e6 / E)}, the share of equity maintenance takes (1,000,000 is
   * liquidation); empty when equity is zero or negative, where the ratio means nothing.
   */
  public OptionalLong marginRatioPpm() {
    return equity > 0
        ? OptionalLong.of(MulDiv.mulDivCeil(maintenanceMargin, MarginMath.PPM, equity))
        : OptionalLong.empty();
  }

  public boolean hasCrossPositions() {
    return hasCrossPositions;
  }

  /** The account holds a cross position and {@code E <= sum(MM)}. */
  public boolean crossLiquidatable() {
    return LiquidationRule.crossBreached(hasCrossPositions, equity, maintenanceMargin);
  }

  /** Whether the isolated position at {@code index} has {@code isolatedMargin + U <= MM}. */
  public boolean isolatedLiquidatable(int index) {
    PositionRisk p = positions.get(index);
    return p.mode() == MarginMode.ISOLATED && p.lots() != 0
        && LiquidationRule.isolatedBreached(p.isolatedMargin(), figure(index, UNREALIZED_PNL),
            figure(index, MAINTENANCE_MARGIN));
  }

  public boolean anyIsolatedLiquidatable() {
    return liquidatableIsolatedPositions > 0;
  }

  /** Whether anything in the account must be liquidated at these marks. */
  public boolean liquidatable() {
    return crossLiquidatable() || anyIsolatedLiquidatable();
  }

  public int positionCount() {
    return positions.size();
  }

  public PositionRisk position(int index) {
    return positions.get(index);
  }

  /** The figures of the position at {@code index}, for display; all zero for a flat position. */
  public PositionMetrics metrics(int index) {
    return new PositionMetrics(figure(index, NOTIONAL), figure(index, UNREALIZED_PNL),
        figure(index, MAINTENANCE_MARGIN), figure(index, INITIAL_MARGIN));
  }

  /**
   * The position's liquidation price in ticks, holding every other mark fixed; see
   * {@link LiquidationPrice}. A cross position is backed by the cash plus the other cross
   * positions' PnL minus their maintenance margin, an isolated one by its own margin.
   */
  public OptionalLong liquidationPriceTicks(int index) {
    PositionRisk p = positions.get(index);
    long funds = p.mode() == MarginMode.ISOLATED ? p.isolatedMargin()
        : Math.subtractExact(crossFundsExcluding(index), otherCrossMaintenance(index));
    return LiquidationPrice.liquidationPriceTicks(funds, p.lots(), p.cost(), p.multiplier(), p.tiers());
  }

  /** The mark in ticks at which the position's equity reaches zero, others held fixed. */
  public OptionalLong bankruptcyPriceTicks(int index) {
    PositionRisk p = positions.get(index);
    long funds = p.mode() == MarginMode.ISOLATED ? p.isolatedMargin() : crossFundsExcluding(index);
    return LiquidationPrice.bankruptcyPriceTicks(funds, p.lots(), p.cost(), p.multiplier());
  }

  /** Cash plus the unrealized PnL of every cross position but the one at {@code index}. */
  private long crossFundsExcluding(int index) {
    return Math.subtractExact(equity, figure(index, UNREALIZED_PNL));
  }

  /** Maintenance margin of every cross position but the one at {@code index}. */
  private long otherCrossMaintenance(int index) {
    return maintenanceMargin - figure(index, MAINTENANCE_MARGIN);
  }

  private long figure(int index, int which) {
    return figures[index * FIGURES_PER_POSITION + which];
  }
}
