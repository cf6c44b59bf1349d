package io.clearinghouse.api;

/**
 * What a token may do. Each gRPC service admits exactly one role; the management port's reads
 * also admit {@link #MONITOR}.
 */
public enum Role {
  /** Exchange operator: opens accounts, credits deposits, reads any account. */
  OPERATOR,
  /** Trading client: reads and withdraws from the accounts it owns. */
  CLIENT,
  /** The matching engine: streams executed trades and asks pre-trade margin checks. */
  ENGINE,
  /** A price feeder: publishes index prices from spot venues, for its sources. */
  FEEDER,
  /**
   * A monitor (Prometheus, a dashboard): reads the management port's operator reads
   * ({@code /metrics}, {@code /shards}, {@code /insurance-funds}, {@code /cascade},
   * {@code /liquidations/halted}) and changes nothing: every write, the console and every gRPC
   * call that names a role refuse it WRONG_ROLE (as any valid token, it may stream mark prices).
   */
  MONITOR
}
