package io.clearinghouse.price;

import io.clearinghouse.margin.MarginScaling;

/**
 * A price feed's volatility-scaled margins (issue 16 item 2): the feed keeps the volatility index
 * of its own marks and, with each mark it publishes, the scales that mark puts in force ({@link
 * MarginScaling#volatilityScale}, maintenance following with hysteresis). Until the index has
 * {@code min-steps} steps (after a start, a failover or a gap longer than the long window) the
 * scales stay as they were: a restarted feed goes on from the ones it persisted. Not thread-safe:
 * used by its feed only. An instrument without volatility margin has none (null).
 */
final class FeedScales {
  private final String instrument;
  private final MarginScaling.VolatilityTerms terms;
  private final VolatilityBoard board;
  private MarkScales current = MarkScales.NONE;

  FeedScales(String instrument, MarginScaling.VolatilityTerms terms, VolatilityBoard.Settings settings) {
    this.instrument = instrument;
    this.terms = terms;
    this.board = new VolatilityBoard(settings);
  }

  boolean on() {
    return terms.on();
  }

  /** Goes on from the scales persisted with the last mark (none: as configured). */
  void restore(MarkScales persisted) {
    current = persisted == null || !persisted.valid() ? MarkScales.NONE : persisted;
  }

  /** The scales in force; null when the instrument has no volatility margin. */
  MarkScales current() {
    return on() ? current : null;
  }

  /** Counts a mark being published and returns the scales it puts in force (null when off). */
  MarkScales onMark(long priceTicks, long epochMillis) {
    if (!on()) {
      return null;
    }
    board.accept(new Mark(instrument, priceTicks, 0, epochMillis));
    if (board.settled(instrument)) {
      current = next(board.index(instrument).shortPpm(), epochMillis);
    }
    return current;
  }

  /** The scales a mark at {@code priceTicks} published at {@code epochMillis} would put in force; changes nothing. */
  MarkScales at(long priceTicks, long epochMillis) {
    if (!on()) {
      return null;
    }
    VolatilityBoard.Projection projected = board.projected(instrument, priceTicks, epochMillis);
    return projected.settled() ? next(projected.index().shortPpm(), epochMillis) : current;
  }

  private MarkScales next(long shortPpm, long epochMillis) {
    long initial = MarginScaling.volatilityScale(terms, shortPpm);
    return MarkScales.of(initial, MarginScaling.follow(terms, current.maintenance(), initial, epochMillis));
  }
}
