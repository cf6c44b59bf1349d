package io.clearinghouse.price;

import io.clearinghouse.persistence.CborSerializable;

/** What price feeds broadcast to every node: marks and stale/fresh transitions. */
public sealed interface PriceEvent extends CborSerializable permits Mark, FeedStatus {
  String instrument();

  long sequence();
}
