package io.clearinghouse.instrument;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.margin.Instrument;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The tradable instruments and their specifications ({@link InstrumentSpec}), read and checked
 * once at start by {@link #fromConfig} from {@code clearinghouse.instruments} (with
 * {@code instrument-defaults}, {@code instrument-overrides} and the tier tables of
 * {@code clearinghouse.risk-tier-tables}). Any bad value stops the node with an exception naming
 * the configuration key.
 */
public final class Instruments {
  private final Map<String, InstrumentSpec> bySymbol;
  private final List<Instrument> contracts;
  /** The band of an instrument built without configuration (tests): 10%. */
  public static final long DEFAULT_PRICE_BAND_PPM = 100_000;

  /** Instruments with the default band and liquidation terms (tests, benchmarks). */
  public Instruments(Collection<Instrument> instruments) {
    this(instruments, Map.of());
  }

  /** Instruments with their price bands (ppm); an instrument without one gets {@link #DEFAULT_PRICE_BAND_PPM}. */
  public Instruments(Collection<Instrument> instruments, Map<String, Long> priceBandPpm) {
    this(instruments.stream().map(i -> new InstrumentSpec(i, priceBandPpm.getOrDefault(i.symbol(),
        DEFAULT_PRICE_BAND_PPM), LiquidationTerms.defaults(i.symbol()))).toList(), true);
  }

  private Instruments(List<InstrumentSpec> specs, boolean unused) {
    Map<String, InstrumentSpec> map = new LinkedHashMap<>();
    for (InstrumentSpec spec : specs) {
      if (map.put(spec.symbol(), spec) != null) {
        throw new IllegalArgumentException("instrument " + spec.symbol() + " is defined twice");
      }
    }
    this.bySymbol = java.util.Collections.unmodifiableMap(map);
    this.contracts = map.values().stream().map(InstrumentSpec::contract).toList();
  }

  /** Instruments of these specifications, in this order. */
  public static Instruments of(List<InstrumentSpec> specs) {
    return new Instruments(specs, true);
  }

  public static Instruments fromConfig(Config config, int settlementScale) {
    try {
      return of(SpecReader.read(config, settlementScale));
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(SpecReader.ENTRIES, e.getMessage());
    }
  }

  /** Scales an instrument's margins (issue 16); null: none. Installed once at start. */
  private volatile java.util.function.UnaryOperator<Instrument> scaling;

  /**
   * From now on {@link #require} gives each instrument as {@code scaling} adjusts it (scaled
   * margin tiers, the same units); {@link #spec} keeps the configured contract.
   */
  public void scaleWith(java.util.function.UnaryOperator<Instrument> scaling) {
    this.scaling = scaling;
  }

  /** The instrument, with its margins as scaled now (volatility, open interest) when scaling is on. */
  public Instrument require(String symbol) {
    Instrument contract = spec(symbol).contract();
    java.util.function.UnaryOperator<Instrument> scale = scaling;
    return scale == null ? contract : scale.apply(contract);
  }

  /** The whole specification of {@code symbol}; an unknown symbol is refused (UNKNOWN_INSTRUMENT). */
  public InstrumentSpec spec(String symbol) {
    InstrumentSpec spec = symbol == null ? null : bySymbol.get(symbol);
    if (spec == null) {
      throw new RejectedException(Rejection.UNKNOWN_INSTRUMENT, "unknown instrument " + io.clearinghouse.common.Inputs.quote(symbol));
    }
    return spec;
  }

  /** How far from the mark (ppm) an order's or a trade's price may lie in {@code symbol}. */
  public long priceBandPpm(String symbol) {
    InstrumentSpec spec = bySymbol.get(symbol);
    return spec == null ? DEFAULT_PRICE_BAND_PPM : spec.priceBandPpm();
  }

  public Collection<Instrument> all() {
    return contracts;
  }

  public Collection<InstrumentSpec> specs() {
    return bySymbol.values();
  }

  /** Every insurance fund some instrument names. */
  public Set<String> funds() {
    Set<String> funds = new TreeSet<>();
    bySymbol.values().forEach(s -> funds.add(s.liquidation().insuranceFund()));
    return funds;
  }
}
