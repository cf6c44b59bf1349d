package io.clearinghouse.price;

import io.clearinghouse.persistence.CborSerializable;

/**
 * A mark price: the price positions are valued at. {@code sequence} orders marks of one
 * instrument; a mark never replaces a newer one. Until the price feed exists, the source of marks
 * is the last trade price, sequenced by the matching engine's sequence number.
 */
public record Mark(String instrument, long priceTicks, long sequence, long epochMillis) implements CborSerializable {}
