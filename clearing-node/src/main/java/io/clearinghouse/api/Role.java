package io.clearinghouse.api;

/** What a token may do. Each gRPC service admits exactly one role. */
public enum Role {
  /** Exchange operator: opens accounts, credits deposits, reads any account. */
  OPERATOR,
  /** Trading client: reads and withdraws from the accounts it owns. */
  CLIENT,
  /** The matching engine: streams executed trades and asks pre-trade margin checks. */
  ENGINE,
  /** A price feeder: publishes index prices from spot venues, for its sources. */
  FEEDER
}
