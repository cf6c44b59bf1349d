package io.clearinghouse.margin;

/**
 * How a position is collateralized: CROSS positions share the account's cash, an ISOLATED
 * position only risks the margin allocated to it.
 */
public enum MarginMode {
  CROSS,
  ISOLATED
}
