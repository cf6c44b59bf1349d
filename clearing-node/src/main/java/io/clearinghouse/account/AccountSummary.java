package io.clearinghouse.account;

import io.clearinghouse.persistence.CborSerializable;
import java.util.List;

/**
 * What an account looks like from outside, in minor units of the settlement asset, valued at the
 * marks of the moment. {@code marginRatioPpm} is {@link #NO_RATIO} without positions and
 * {@link #INFINITE_RATIO} when equity is zero or negative. {@code liquidationId} is null unless
 * a liquidation is in progress.
 */
public record AccountSummary(String accountId, long cash, long equity, long available, long withdrawable,
    long reserved, long marginRatioPpm, int leverageCap, List<PositionSummary> positions, String liquidationId)
    implements CborSerializable {
  public static final long NO_RATIO = -1;
  public static final long INFINITE_RATIO = Long.MAX_VALUE;

  public AccountSummary {
    positions = List.copyOf(positions);
  }
}
