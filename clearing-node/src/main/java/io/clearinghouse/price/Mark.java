package io.clearinghouse.price;

/**
 * A mark price: the price positions are valued and liquidated at. {@code sequence} orders the
 * marks of one instrument and survives a feed moving to another node; a mark never replaces a
 * newer one. {@code scales}: the volatility-scaled margins the feed computed with this mark
 * ({@link MarkScales}); null when the instrument has none (or the mark came from an older feed).
 */
public record Mark(String instrument, long priceTicks, long sequence, long epochMillis, MarkScales scales)
    implements PriceEvent {
  public Mark(String instrument, long priceTicks, long sequence, long epochMillis) {
    this(instrument, priceTicks, sequence, epochMillis, null);
  }
}
