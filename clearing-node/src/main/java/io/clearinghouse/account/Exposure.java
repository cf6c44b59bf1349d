package io.clearinghouse.account;

import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.persistence.CborSerializable;
import java.util.List;

/**
 * What the margin monitor needs of one account to decide, at any mark, whether it is at or below
 * maintenance: cash, whether it is already being liquidated, and its open positions.
 */
public record Exposure(long cash, boolean liquidating, List<Position> positions) implements CborSerializable {
  /** {@code stopTicks}: the position's protective stop, 0 without one. */
  public record Position(String instrument, long lots, long cost, MarginMode mode, long isolatedMargin, long stopTicks)
      implements CborSerializable {
    public Position(String instrument, long lots, long cost, MarginMode mode, long isolatedMargin) {
      this(instrument, lots, cost, mode, isolatedMargin, 0);
    }
  }

  public Exposure {
    positions = List.copyOf(positions);
  }
}
