package io.clearinghouse.margin;

/** What kind of contract an instrument is; only dated futures carry an expiry. */
public enum InstrumentKind {
  PERPETUAL,
  DATED_FUTURE
}
