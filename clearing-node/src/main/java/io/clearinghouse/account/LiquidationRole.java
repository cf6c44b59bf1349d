package io.clearinghouse.account;

/** An account's part in a liquidation transfer. Names are stored in journals: never rename. */
public enum LiquidationRole {
  /** The liquidated account closing its position (penalty charged). */
  LIQUIDATED,
  /** A protective stop closing the position through the liquidation venues (no penalty). */
  STOPPED,
  /** A registered backstop liquidity provider taking the position over. */
  BACKSTOP,
  /** An opposing account deleveraged at the bankruptcy price. */
  DELEVERAGED,
  /** An insurance fund taking the position over at the bankruptcy price (its side is in the fund's journal). */
  INSURANCE_FUND;

  public boolean closing() {
    return this == LIQUIDATED || this == STOPPED;
  }
}
