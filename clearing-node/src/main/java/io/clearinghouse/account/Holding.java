package io.clearinghouse.account;

import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.persistence.CborSerializable;

/**
 * An account's standing in one instrument: its position (signed lots and signed cost basis in
 * minor units), the leverage and margin mode it chose (leverage 0: the configured default), the
 * margin allocated to it when isolated, and the price of its last trade (its mark until a
 * published mark exists).
 */
public record Holding(long lots, long cost, int leverage, MarginMode mode, long isolatedMargin, long lastPriceTicks)
    implements CborSerializable {

  public static final Holding NONE = new Holding(0, 0, 0, MarginMode.CROSS, 0, 0);

  public boolean flat() {
    return lots == 0;
  }

  /** Nothing worth keeping: flat, default settings, no margin. */
  boolean empty() {
    return lots == 0 && cost == 0 && leverage == 0 && mode == MarginMode.CROSS && isolatedMargin == 0;
  }
}
