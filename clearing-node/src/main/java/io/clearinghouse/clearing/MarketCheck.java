package io.clearinghouse.clearing;

import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.OrderRules;
import io.clearinghouse.price.MarkPrices;
import java.util.Optional;

/**
 * New trades and orders against the market. A trade is decided once, on one reading of the mark,
 * before either side moves (so that its two sides can never see two different marks): a price
 * beyond the instrument's band around the mark is refused for good ({@code PRICE_OUTSIDE_BAND});
 * beyond the band around a stale mark, for now ({@code MARK_STALE}).
 * With {@code requireMark} on, trades and orders on an instrument that has no mark yet are refused
 * for now ({@code MARK_STALE}, retryable): without a market price nothing bounds the price two
 * colluding accounts could agree on. A dated future at or after its expiry, and the next contract
 * of a series before it is listed, are refused for good ({@code INSTRUMENT_EXPIRED},
 * {@code INSTRUMENT_SETTLED}, {@code INSTRUMENT_NOT_LISTED}), before the mark is looked at.
 */
public final class MarketCheck {
  /** No checks (tests of the register's own rules). */
  public static final MarketCheck NONE = new MarketCheck(null, null, false);

  /** Whether a dated future is known to be settled (to name the refusal). */
  @FunctionalInterface
  public interface Settled {
    Settled UNKNOWN = instrument -> false;

    boolean settled(String instrument);
  }

  private final Instruments instruments;
  private final MarkPrices marks;
  private final boolean requireMark;
  private final java.time.Clock clock;
  private final Settled settled;

  public MarketCheck(Instruments instruments, MarkPrices marks, boolean requireMark) {
    this(instruments, marks, requireMark, java.time.Clock.systemUTC(), Settled.UNKNOWN);
  }

  public MarketCheck(Instruments instruments, MarkPrices marks, boolean requireMark, java.time.Clock clock,
      Settled settled) {
    this.instruments = instruments;
    this.marks = marks;
    this.requireMark = requireMark;
    this.clock = clock;
    this.settled = settled;
  }

  /** The refusal of a new {@code trade}, if any. */
  public Optional<RejectedException> trade(TradeContent trade) {
    Optional<RejectedException> closed = closed(trade.instrument());
    if (closed.isPresent() || marks == null) {
      return closed;
    }
    long mark = markTicks(trade.instrument());
    if (mark == 0) {
      return noMark(trade.instrument());
    }
    if (!OrderRules.withinBand(trade.priceTicks(), mark, instruments.priceBandPpm(trade.instrument()))) {
      Instrument instrument = instruments.require(trade.instrument());
      if (marks.stale(trade.instrument())) {
        // A mark nobody vouches for any more is no ground for a final refusal: judged again
        // when the index is fresh.
        return Optional.of(new RejectedException(Rejection.MARK_STALE, "trade " + trade.tradeId() + " at "
            + instrument.formatPrice(trade.priceTicks()) + " is outside the price band around the stale mark "
            + instrument.formatPrice(mark) + ": resend it when the index is fresh"));
      }
      return Optional.of(new RejectedException(Rejection.PRICE_OUTSIDE_BAND, "trade " + trade.tradeId() + " at "
          + instrument.formatPrice(trade.priceTicks()) + " is outside the price band around the mark "
          + instrument.formatPrice(mark)));
    }
    return Optional.empty();
  }

  /** The refusal of a pre-trade check on {@code instrument}, if any (the band is the account's to check). */
  public Optional<RejectedException> order(String instrument) {
    Optional<RejectedException> closed = closed(instrument);
    if (closed.isPresent()) {
      return closed;
    }
    return marks != null && markTicks(instrument) == 0 ? noMark(instrument) : Optional.empty();
  }

  private Optional<RejectedException> closed(String instrument) {
    return instruments == null ? Optional.empty()
        : instruments.closedForTrading(instrument, clock.millis(), settled.settled(instrument));
  }

  private long markTicks(String instrument) {
    return marks.get(instrument).map(m -> m.priceTicks()).orElse(0L);
  }

  private Optional<RejectedException> noMark(String instrument) {
    return requireMark
        ? Optional.of(new RejectedException(Rejection.MARK_STALE, "no mark price has been published for "
            + instrument + " yet: retry when its index is fresh"))
        : Optional.empty();
  }
}
