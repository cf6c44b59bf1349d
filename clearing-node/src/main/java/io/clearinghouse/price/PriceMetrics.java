package io.clearinghouse.price;

/** What a price feed counts (the node's Prometheus metrics implement it). */
public interface PriceMetrics {
  PriceMetrics NONE = new PriceMetrics() {};

  /** A mark persisted and published. */
  default void markPublished(String instrument) {}

  /** A majority of the sources moved beyond the allowed jump: the move is held for confirmation. */
  default void jumpHeld(String instrument) {}

  /** A held jump outlasted the confirmation time and was published. */
  default void jumpConfirmed(String instrument) {}
}
