package io.clearinghouse.price;

import io.clearinghouse.instrument.InstrumentSpec;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.MarginMath;
import io.clearinghouse.margin.MarginScaling;
import io.clearinghouse.margin.RiskTiers;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;

/**
 * The scaled margins of every instrument on this node (issue 16 items 2 and 4), from the
 * volatility scales and the cluster's open interest ({@link MarginScaling}). The volatility
 * scales are the price feed's: it computes them with each mark (the initial scale follows the
 * short-window volatility at once, maintenance follows it with hysteresis, after a warning),
 * persists them with it and sends them with the mark ({@link MarkScales}), so every node applies
 * the same figures and a restarted feed or node goes on from them at once. A mark without scales
 * (from a feed of an older build) is judged here from this node's volatility index, as before. {@link #adjust} gives an instrument with its tiers scaled: installed into
 * {@link Instruments#scaleWith}, so that the accounts' checks, the margin monitor and the risk
 * views all value positions at the scaled rates. An instrument with both options off is never
 * touched.
 */
public final class MarginScales {
  /** One instrument's scales now. */
  public record Scale(long initialPpm, long maintenancePpm, long blendPpm, boolean warning, long pendingPpm) {
    public static final Scale NONE = new Scale(MarginMath.PPM, MarginMath.PPM, 0, false, 0);
  }

  /** One instrument's state and its scaled contract for the inputs it was built from. */
  private static final class Entry {
    long initialPpm = MarginMath.PPM;
    MarginScaling.Maintenance maintenance = MarginScaling.Maintenance.START;
    Instrument cached;
    long cachedInitial = -1;
    long cachedMaintenance = -1;
    long cachedBlend = -1;
    /** The sequence of the mark whose scales are applied (-1: none yet). */
    long sequence = -1;
  }

  private final Instruments instruments;
  private final MarkPrices marks;
  private final VolatilityBoard volatility;
  private final ToLongFunction<String> openInterestLots;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();

  public MarginScales(Instruments instruments, MarkPrices marks, VolatilityBoard volatility,
      ToLongFunction<String> openInterestLots) {
    this.instruments = instruments;
    this.marks = marks;
    this.volatility = volatility;
    this.openInterestLots = openInterestLots;
    for (InstrumentSpec spec : instruments.specs()) {
      if (spec.volatilityMargin().on() || spec.openInterestMargin().on()) {
        entries.put(spec.symbol(), new Entry());
      }
    }
  }

  /**
   * Scales fed by every mark {@code marks} accepts from now on (after the volatility board, which
   * must have been started listening first), and installed into {@code instruments}.
   */
  public static MarginScales listening(Instruments instruments, MarkPrices marks, VolatilityBoard volatility,
      ToLongFunction<String> openInterestLots) {
    MarginScales scales = new MarginScales(instruments, marks, volatility, openInterestLots);
    marks.listen(event -> {
      if (event instanceof Mark mark) {
        scales.accept(mark);
      }
    });
    instruments.scaleWith(scales::adjust);
    // The feed's scales of the marks this node accepted before the listener was added: none is
    // missed (a mark the listener applied meanwhile is newer, and this one is then ignored).
    for (String symbol : scales.entries.keySet()) {
      marks.get(symbol).filter(mark -> mark.scales() != null).ifPresent(scales::accept);
    }
    return scales;
  }

  /**
   * Applies the volatility scales the feed sent with {@code mark} (those of an older mark than the
   * one applied, or out of range, are ignored). A mark without them: recomputes them here at {@code mark} (its index
   * already updated), once the index has {@code clearinghouse.volatility.min-steps} steps; until
   * then they stay.
   */
  public void accept(Mark mark) {
    Entry entry = entries.get(mark.instrument());
    if (entry == null) {
      return;
    }
    if (mark.scales() != null) {
      if (!mark.scales().valid()) {
        // Never made by a feed: the scales in force stay (the mark itself is a mark all the same).
        return;
      }
      synchronized (entry) {
        if (mark.sequence() > entry.sequence) {
          entry.sequence = mark.sequence();
          entry.initialPpm = mark.scales().initialPpm();
          entry.maintenance = mark.scales().maintenance();
        }
      }
      return;
    }
    MarginScaling.VolatilityTerms terms = instruments.spec(mark.instrument()).volatilityMargin();
    if (!terms.on() || !volatility.settled(mark.instrument())) {
      // Too few steps to judge (after a start or a gap longer than the long window): the scales stay.
      return;
    }
    synchronized (entry) {
      entry.initialPpm = MarginScaling.volatilityScale(terms, volatility.index(mark.instrument()).shortPpm());
      entry.maintenance = MarginScaling.follow(terms, entry.maintenance, entry.initialPpm, mark.epochMillis());
    }
  }

  /** The instrument's scales now. */
  public Scale scale(String instrument) {
    Entry entry = entries.get(instrument);
    if (entry == null) {
      return Scale.NONE;
    }
    long blend = blend(instrument);
    synchronized (entry) {
      return new Scale(entry.initialPpm, entry.maintenance.scalePpm(), blend, entry.maintenance.warning(),
          entry.maintenance.pendingPpm());
    }
  }

  /** Every scaled instrument's scales (for the metrics). */
  public Map<String, Scale> all() {
    Map<String, Scale> all = new java.util.TreeMap<>();
    entries.keySet().forEach(symbol -> all.put(symbol, scale(symbol)));
    return all;
  }

  /** {@code contract} with its tiers at the current scales; itself when nothing is scaled. */
  public Instrument adjust(Instrument contract) {
    Entry entry = entries.get(contract.symbol());
    if (entry == null) {
      return contract;
    }
    long blend = blend(contract.symbol());
    synchronized (entry) {
      long initial = entry.initialPpm;
      long maintenance = entry.maintenance.scalePpm();
      if (initial == MarginMath.PPM && maintenance == MarginMath.PPM && blend == 0) {
        return contract;
      }
      if (entry.cached == null || entry.cachedInitial != initial || entry.cachedMaintenance != maintenance
          || entry.cachedBlend != blend) {
        RiskTiers tiers = MarginScaling.scaled(contract.riskTiers(), maintenance, initial, blend);
        entry.cached = new Instrument(contract.symbol(), contract.kind(), contract.expiry(),
            contract.settlementScale(), contract.tickSize(), contract.lotSize(), contract.notionalMultiplier(),
            contract.makerFeePpm(), contract.takerFeePpm(), contract.liquidationFeePpm(), tiers);
        entry.cachedInitial = initial;
        entry.cachedMaintenance = maintenance;
        entry.cachedBlend = blend;
      }
      return entry.cached;
    }
  }

  /** The open-interest blend at the cluster's open interest and this node's mark (0 without a mark). */
  private long blend(String symbol) {
    MarginScaling.OpenInterestTerms terms = instruments.spec(symbol).openInterestMargin();
    if (!terms.on()) {
      return 0;
    }
    long lots = openInterestLots.applyAsLong(symbol);
    Mark mark = marks.get(symbol).orElse(null);
    if (mark == null || lots <= 0) {
      return 0;
    }
    long notional;
    try {
      notional = MarginMath.notional(lots, mark.priceTicks(), instruments.spec(symbol).contract().notionalMultiplier());
    } catch (ArithmeticException e) {
      notional = Long.MAX_VALUE;
    }
    return MarginScaling.openInterestBlend(terms, notional);
  }
}
