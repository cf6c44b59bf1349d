package io.clearinghouse.account;

import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.persistence.CborSerializable;
import java.util.List;

/**
 * What the margin monitor needs of one account to decide, at any mark, whether it is at or below
 * maintenance: cash, whether it is already being liquidated, and its open positions.
 */
public record Exposure(long cash, boolean liquidating, List<Position> positions) implements CborSerializable {
  /**
   * {@code stopTicks}: the position's protective stop, 0 without one; {@code fundedUpTo}: the
   * funding time of the last funding interval the account applied in the instrument (0: none).
   */
  public record Position(String instrument, long lots, long cost, MarginMode mode, long isolatedMargin, long stopTicks,
      long fundedUpTo) implements CborSerializable {
    public Position(String instrument, long lots, long cost, MarginMode mode, long isolatedMargin, long stopTicks) {
      this(instrument, lots, cost, mode, isolatedMargin, stopTicks, 0);
    }

    public Position(String instrument, long lots, long cost, MarginMode mode, long isolatedMargin) {
      this(instrument, lots, cost, mode, isolatedMargin, 0, 0);
    }
  }

  public Exposure {
    positions = List.copyOf(positions);
  }
}
