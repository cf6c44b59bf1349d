package io.clearinghouse.account;

import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.persistence.CborSerializable;
import java.util.List;

/**
 * What the margin monitor needs of one account to decide, at any mark, whether it is at or below
 * maintenance: cash, whether it is already being liquidated, and its open positions.
 */
public record Exposure(long cash, boolean liquidating, List<Position> positions, java.util.Map<String, Long> fundingDue)
    implements CborSerializable {
  /**
   * Without {@code fundingDue}: instruments the account no longer holds but held at a funding time
   * it has not been paid yet, with the last funding time it applied (the funding clocks find it so).
   */
  public Exposure(long cash, boolean liquidating, List<Position> positions) {
    this(cash, liquidating, positions, java.util.Map.of());
  }

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
    fundingDue = fundingDue == null ? java.util.Map.of() : java.util.Map.copyOf(fundingDue);
  }
}
