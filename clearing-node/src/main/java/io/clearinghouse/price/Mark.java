package io.clearinghouse.price;

/**
 * A mark price: the price positions are valued and liquidated at. {@code sequence} orders the
 * marks of one instrument and survives a feed moving to another node; a mark never replaces a
 * newer one.
 */
public record Mark(String instrument, long priceTicks, long sequence, long epochMillis) implements PriceEvent {}
