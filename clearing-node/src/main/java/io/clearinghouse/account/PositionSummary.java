package io.clearinghouse.account;

import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.persistence.CborSerializable;

/**
 * One position as shown to its owner, at the mark it was valued at. Prices in ticks, quantity in
 * lots, money in minor units; {@code entryPriceTicks} and {@code liquidationPriceTicks} are 0 when
 * there is none.
 */
public record PositionSummary(String instrument, long lots, long entryPriceTicks, long markTicks, long notional,
    long unrealizedPnl, long initialMargin, long maintenanceMargin, int leverage, MarginMode mode,
    long isolatedMargin, long liquidationPriceTicks) implements CborSerializable {}
