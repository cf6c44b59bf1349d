package io.clearinghouse.account;

import io.clearinghouse.persistence.CborSerializable;

/**
 * Margin held for an open order by a pre-trade check: what is left of the order
 * ({@code remainingLots}, signed: buy > 0) and of the amount held for it. Fills release the held
 * amount in proportion to the quantity they fill.
 */
public record Reservation(String orderId, String instrument, long remainingLots, long priceTicks, long amount)
    implements CborSerializable {

  /** The part of the held amount a fill of {@code filledLots} (same sign) releases. */
  long releasedBy(long filledLots) {
    long filled = Math.min(Math.abs(filledLots), Math.abs(remainingLots));
    if (filled == Math.abs(remainingLots)) {
      return amount;
    }
    return io.clearinghouse.margin.MulDiv.mulDivFloor(amount, filled, Math.abs(remainingLots));
  }
}
