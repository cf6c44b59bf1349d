package io.clearinghouse.price;

import io.clearinghouse.persistence.CborSerializable;

/** What price feeds broadcast to every node: marks, stale/fresh transitions and liquidation halts. */
public sealed interface PriceEvent extends CborSerializable permits Mark, FeedStatus, LiquidationHalt {
  String instrument();

  long sequence();
}
