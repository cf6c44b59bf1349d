package io.clearinghouse.instrument;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.InstrumentKind;
import io.clearinghouse.margin.RiskTiers;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The tradable instruments, read and checked once at start from {@code clearinghouse.instruments}
 * and the tier tables of {@code clearinghouse.risk-tier-tables}. Any bad value stops the node with
 * an exception naming the configuration key.
 */
public final class Instruments {
  private final Map<String, Instrument> bySymbol;
  /** Per instrument: how far (ppm of the mark) an order's or trade's price may lie from the mark. */
  private final Map<String, Long> priceBandPpm;
  /** The band of an instrument built without configuration (tests): 10%. */
  public static final long DEFAULT_PRICE_BAND_PPM = 100_000;

  public Instruments(Collection<Instrument> instruments) {
    this(instruments, Map.of());
  }

  /** Instruments with their price bands (ppm); an instrument without one gets {@link #DEFAULT_PRICE_BAND_PPM}. */
  public Instruments(Collection<Instrument> instruments, Map<String, Long> priceBandPpm) {
    Map<String, Long> bands = new LinkedHashMap<>();
    for (Instrument instrument : instruments) {
      long band = priceBandPpm.getOrDefault(instrument.symbol(), DEFAULT_PRICE_BAND_PPM);
      if (band <= 0 || band >= 1_000_000) {
        throw new IllegalArgumentException(instrument.symbol() + ": price band must be above 0% and below 100%");
      }
      bands.put(instrument.symbol(), band);
    }
    this.priceBandPpm = Map.copyOf(bands);
    Map<String, Instrument> map = new LinkedHashMap<>();
    for (Instrument instrument : instruments) {
      if (map.put(instrument.symbol(), instrument) != null) {
        throw new IllegalArgumentException("instrument " + instrument.symbol() + " is defined twice");
      }
    }
    this.bySymbol = Map.copyOf(map);
  }

  public static Instruments fromConfig(Config config, int settlementScale) {
    List<? extends Config> entries = config.getConfigList("clearinghouse.instruments");
    List<Instrument> instruments = new ArrayList<>();
    Map<String, Long> bands = new LinkedHashMap<>();
    long defaultBand = config.hasPath("clearinghouse.price-band")
        ? ppm(config.getConfig("clearinghouse"), "clearinghouse", "price-band") : DEFAULT_PRICE_BAND_PPM;
    for (int i = 0; i < entries.size(); i++) {
      String path = "clearinghouse.instruments[" + i + "]";
      Instrument instrument = instrument(config, entries.get(i), path, settlementScale);
      instruments.add(instrument);
      long band = entries.get(i).hasPath("price-band") ? ppm(entries.get(i), path, "price-band") : defaultBand;
      if (band <= 0 || band >= 1_000_000) {
        throw new ConfigException.BadValue(path + ".price-band", "must be above 0% and below 100%");
      }
      bands.put(instrument.symbol(), band);
    }
    try {
      return new Instruments(instruments, bands);
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue("clearinghouse.instruments", e.getMessage());
    }
  }

  private static Instrument instrument(Config root, Config entry, String path, int scale) {
    String symbol = entry.getString("symbol");
    InstrumentKind kind = switch (entry.getString("kind").toLowerCase(Locale.ROOT)) {
      case "perpetual" -> InstrumentKind.PERPETUAL;
      case "dated-future" -> InstrumentKind.DATED_FUTURE;
      default -> throw new ConfigException.BadValue(path + ".kind", "must be perpetual or dated-future");
    };
    Instant expiry = null;
    if (entry.hasPath("expiry")) {
      try {
        expiry = Instant.parse(entry.getString("expiry"));
      } catch (DateTimeParseException e) {
        throw new ConfigException.BadValue(path + ".expiry", "must be an ISO-8601 instant such as 2026-12-25T08:00:00Z");
      }
    }
    String tableName = entry.getString("risk-tiers");
    String tablePath = "clearinghouse.risk-tier-tables." + tableName;
    if (!root.hasPath(tablePath)) {
      throw new ConfigException.BadValue(path + ".risk-tiers", "no tier table named " + tableName);
    }
    RiskTiers tiers = tiers(root.getConfigList(tablePath), tablePath, scale);
    try {
      return Instrument.define(symbol, kind, expiry, scale, entry.getString("tick-size"), entry.getString("lot-size"),
          ppm(entry, path, "maker-fee"), ppm(entry, path, "taker-fee"), ppm(entry, path, "liquidation-fee"), tiers);
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(path, e.getMessage());
    }
  }

  private static RiskTiers tiers(List<? extends Config> rows, String path, int scale) {
    List<RiskTiers.Bracket> brackets = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      Config row = rows.get(i);
      String rowPath = path + "[" + i + "]";
      long upTo = decimalTimesPowerOfTen(row.getString("up-to"), scale, rowPath + ".up-to");
      brackets.add(new RiskTiers.Bracket(upTo, ppm(row, rowPath, "maintenance-margin-rate"), row.getInt("max-leverage")));
    }
    try {
      return RiskTiers.fromBrackets(brackets);
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(path, e.getMessage());
    }
  }

  /** "0.05%" -> 500 ppm, exactly; anything finer than 1 ppm is refused rather than rounded. */
  static long ppm(Config entry, String path, String key) {
    String text = entry.getString(key).trim();
    if (!text.endsWith("%")) {
      throw new ConfigException.BadValue(path + "." + key, "must be a percentage such as \"0.05%\", was " + text);
    }
    return decimalTimesPowerOfTen(text.substring(0, text.length() - 1).trim(), 4, path + "." + key);
  }

  private static long decimalTimesPowerOfTen(String text, int power, String path) {
    try {
      return new BigDecimal(text).movePointRight(power).longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw new ConfigException.BadValue(path, "must be an exact decimal with at most " + power + " places, was " + text);
    }
  }

  public Instrument require(String symbol) {
    Instrument instrument = symbol == null ? null : bySymbol.get(symbol);
    if (instrument == null) {
      throw new RejectedException(Rejection.UNKNOWN_INSTRUMENT, "unknown instrument " + io.clearinghouse.common.Inputs.quote(symbol));
    }
    return instrument;
  }

  /** How far from the mark (ppm) an order's or a trade's price may lie in {@code symbol}. */
  public long priceBandPpm(String symbol) {
    return priceBandPpm.getOrDefault(symbol, DEFAULT_PRICE_BAND_PPM);
  }

  public Collection<Instrument> all() {
    return bySymbol.values();
  }
}
