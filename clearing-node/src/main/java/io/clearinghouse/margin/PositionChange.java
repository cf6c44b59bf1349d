package io.clearinghouse.margin;

/**
 * The result of applying one trade to a position: the new position and the realized PnL, the
 * integer amount that moves from the position's cost to the account's cash.
 */
public record PositionChange(Position position, long realizedPnl) {}
