package io.clearinghouse.price;

/** A feed's index went stale (too few fresh sources) or fresh again. */
public record FeedStatus(String instrument, boolean stale, long sequence, long epochMillis) implements PriceEvent {}
