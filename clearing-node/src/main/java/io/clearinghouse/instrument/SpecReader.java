package io.clearinghouse.instrument;
// Over 450 lines: the one reader of every instrument term (tick, lot, fees, tiers, funds, bands, limits, depth,
// funding, expiry), each with its own bounds and start-up message naming the key; split by term it would scatter them.

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.clearinghouse.common.Ppm;
import io.clearinghouse.margin.FundingMath;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.InstrumentKind;
import io.clearinghouse.margin.RiskTiers;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The one parser of instrument specifications. Each key of an instrument is looked up, first hit
 * wins, in:
 * <ol>
 *   <li>{@code clearinghouse.instrument-overrides."SYMBOL"} (HOCON cannot override one element of a list);
 *   <li>{@code clearinghouse.liquidation.instruments."SYMBOL"} (the older place of the liquidation keys);
 *   <li>the instrument's entry in {@code clearinghouse.instruments};
 *   <li>{@code clearinghouse.price-band} and {@code clearinghouse.liquidation.<key>} (older defaults, if set);
 *   <li>{@code clearinghouse.instrument-defaults}.
 * </ol>
 * A bad value names the key of the layer it came from. Over 450 lines because it is the one place
 * every instrument key is read and validated (issue 12 asked for one parser, not several).
 */
final class SpecReader {
  static final String ROOT = "clearinghouse";
  static final String ENTRIES = ROOT + ".instruments";
  static final String DEFAULTS = ROOT + ".instrument-defaults";
  static final String OVERRIDES = ROOT + ".instrument-overrides";
  static final String LEGACY_OVERRIDES = ROOT + ".liquidation.instruments";
  static final String TIER_TABLES = ROOT + ".risk-tier-tables";

  /** Every key an instrument may carry. */
  static final Set<String> KEYS = Set.of("symbol", "kind", "expiry", "tick-size", "lot-size", "maker-fee", "taker-fee",
      "liquidation-fee", "risk-tiers", "price-band", "insurance-fund", "negative-balance-policy", "backstop-spread",
      "penalty-split", "insurance-fund-takeover-limit", "operator-capital-per-day", "funding-interval",
      "funding-interest", "funding-clamp", "funding-cap", "max-account-position", "max-open-interest",
      "max-account-share", "account-share-from", "volatility-margin-reference", "volatility-margin-sensitivity",
      "volatility-margin-cap", "volatility-margin-hysteresis", "volatility-margin-warning", "open-interest-margin-lower",
      "open-interest-margin-upper", "thin-market-depth", "liquidation-depth-share",
      "liquidation-min-slice-share", "settlement-window", "delivery-fee",
      "next");
  /** The shares of a penalty split. */
  static final Set<String> SHARES = Set.of("insurance-fund", "market-making", "platform-revenue",
      "investor-protection", "liquidator");
  private static final Set<String> LIQUIDATION_KEYS = Set.of("insurance-fund", "negative-balance-policy",
      "backstop-spread");

  /** Far below the 64-bit limit, so that sums of configured amounts never overflow. */
  static final long MAX_AMOUNT = 1_000_000_000_000_000L;

  /** One place a key may come from. */
  private record Layer(Config config, String path, Set<String> keys) {}

  private SpecReader() {}

  static List<InstrumentSpec> read(Config root, int settlementScale) {
    List<? extends Config> entries = root.getConfigList(ENTRIES);
    Config defaults = root.hasPath(DEFAULTS) ? root.getConfig(DEFAULTS) : ConfigFactory.empty();
    Config overrides = root.hasPath(OVERRIDES) ? root.getConfig(OVERRIDES) : ConfigFactory.empty();
    Config legacyOverrides = root.hasPath(LEGACY_OVERRIDES) ? root.getConfig(LEGACY_OVERRIDES) : ConfigFactory.empty();
    checkKeys(defaults, DEFAULTS, KEYS);
    List<String> symbols = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      String path = ENTRIES + "[" + i + "]";
      checkKeys(entries.get(i), path, KEYS);
      if (!entries.get(i).hasPath("symbol")) {
        throw new ConfigException.BadValue(path + ".symbol", "every instrument needs a symbol");
      }
      symbols.add(entries.get(i).getString("symbol"));
    }
    checkSymbols(overrides, OVERRIDES, symbols, KEYS);
    checkSymbols(legacyOverrides, LEGACY_OVERRIDES, symbols, LIQUIDATION_KEYS);
    Map<String, InstrumentSpec> specs = new LinkedHashMap<>();
    for (int i = 0; i < entries.size(); i++) {
      String symbol = symbols.get(i);
      String quoted = ConfigUtil.joinPath(symbol);
      List<Layer> layers = new ArrayList<>();
      if (overrides.hasPath(quoted)) {
        layers.add(new Layer(overrides.getConfig(quoted), OVERRIDES + "." + quoted, KEYS));
      }
      if (legacyOverrides.hasPath(quoted)) {
        layers.add(new Layer(legacyOverrides.getConfig(quoted), LEGACY_OVERRIDES + "." + quoted, LIQUIDATION_KEYS));
      }
      layers.add(new Layer(entries.get(i), ENTRIES + "[" + i + "]", KEYS));
      if (root.hasPath(ROOT + ".price-band")) {
        layers.add(new Layer(root.getConfig(ROOT), ROOT, Set.of("price-band")));
      }
      if (root.hasPath(ROOT + ".liquidation")) {
        layers.add(new Layer(root.getConfig(ROOT + ".liquidation"), ROOT + ".liquidation", LIQUIDATION_KEYS));
      }
      layers.add(new Layer(defaults, DEFAULTS, KEYS));
      InstrumentSpec spec = new Entry(root, symbol, layers, settlementScale).spec();
      if (specs.put(symbol, spec) != null) {
        throw new ConfigException.BadValue(ENTRIES, "instrument " + symbol + " is defined twice");
      }
    }
    checkSeries(specs);
    return List.copyOf(specs.values());
  }

  /**
   * Each {@code next} names a configured dated future that expires later, and no contract is the
   * next of two others (it is listed from its one predecessor's expiry).
   */
  private static void checkSeries(Map<String, InstrumentSpec> specs) {
    Map<String, String> predecessor = new java.util.HashMap<>();
    int i = 0;
    for (InstrumentSpec spec : specs.values()) {
      String path = ENTRIES + "[" + i++ + "].next";
      ExpiryTerms terms = spec.expiry();
      if (terms == null || terms.next() == null) {
        continue;
      }
      InstrumentSpec next = specs.get(terms.next());
      if (next == null || next.expiry() == null) {
        throw new ConfigException.BadValue(path, "must name a configured dated future, was " + terms.next());
      }
      if (!next.expiry().expiry().isAfter(terms.expiry())) {
        throw new ConfigException.BadValue(path, terms.next() + " expires at " + next.expiry().expiry()
            + ", not after " + spec.symbol() + " (" + terms.expiry() + ")");
      }
      String other = predecessor.put(terms.next(), spec.symbol());
      if (other != null) {
        throw new ConfigException.BadValue(path, terms.next() + " is already the next contract of " + other);
      }
    }
  }

  private static void checkKeys(Config config, String path, Set<String> allowed) {
    for (String key : config.root().keySet()) {
      if (!allowed.contains(key)) {
        throw new ConfigException.BadValue(path + "." + key, "is not a key of an instrument (known: "
            + new java.util.TreeSet<>(allowed) + ")");
      }
    }
  }

  private static void checkSymbols(Config bySymbol, String path, List<String> symbols, Set<String> allowed) {
    for (String key : bySymbol.root().keySet()) {
      if (!symbols.contains(key)) {
        throw new ConfigException.BadValue(path, "unknown instrument " + key + " (configured: " + symbols + ")");
      }
      String quoted = ConfigUtil.joinPath(key);
      checkKeys(bySymbol.getConfig(quoted), path + "." + quoted, allowed);
    }
  }

  /** One instrument's keys, each from the first layer that has it. */
  private static final class Entry {
    private final Config root;
    private final String symbol;
    private final List<Layer> layers;
    private final int scale;

    Entry(Config root, String symbol, List<Layer> layers, int scale) {
      this.root = root;
      this.symbol = symbol;
      this.layers = layers;
      this.scale = scale;
    }

    private Layer layer(String key) {
      for (Layer layer : layers) {
        if (layer.keys().contains(key) && layer.config().hasPath(key)) {
          return layer;
        }
      }
      return null;
    }

    boolean has(String key) {
      return layer(key) != null;
    }

    String path(String key) {
      Layer layer = layer(key);
      return (layer == null ? layers.get(layers.size() - 1).path() : layer.path()) + "." + key;
    }

    String string(String key) {
      Layer layer = layer(key);
      if (layer == null) {
        throw new ConfigException.Missing(path(key));
      }
      try {
        return layer.config().getString(key);
      } catch (ConfigException.WrongType e) {
        throw new ConfigException.BadValue(path(key), "must be a string");
      }
    }

    long percent(String key, long min, long max) {
      return Ppm.percent(string(key), path(key), min, max);
    }

    InstrumentSpec spec() {
      String entryPath = layers.stream().filter(l -> l.path().startsWith(ENTRIES + "[")).findFirst().orElseThrow().path();
      InstrumentKind kind = switch (string("kind").toLowerCase(Locale.ROOT)) {
        case "perpetual" -> InstrumentKind.PERPETUAL;
        case "dated-future" -> InstrumentKind.DATED_FUTURE;
        default -> throw new ConfigException.BadValue(path("kind"), "must be perpetual or dated-future");
      };
      Instant expiry = null;
      if (has("expiry")) {
        if (kind == InstrumentKind.PERPETUAL) {
          throw new ConfigException.BadValue(path("expiry"), "a perpetual has no expiry (kind = dated-future has)");
        }
        try {
          expiry = Instant.parse(string("expiry"));
        } catch (DateTimeParseException e) {
          throw new ConfigException.BadValue(path("expiry"), "must be an ISO-8601 instant such as 2027-12-31T08:00:00Z");
        }
        if (expiry.getNano() != 0 || expiry.isBefore(Instant.parse("2000-01-01T00:00:00Z"))
            || expiry.isAfter(Instant.parse("2200-01-01T00:00:00Z"))) {
          throw new ConfigException.BadValue(path("expiry"), "must be a whole second between 2000 and 2200, was "
              + string("expiry"));
        }
      } else if (kind == InstrumentKind.DATED_FUTURE) {
        String entry = layers.stream().filter(l -> l.path().startsWith(ENTRIES + "[")).findFirst().orElseThrow().path();
        throw new ConfigException.BadValue(entry + ".expiry", "a dated future needs an expiry such as 2027-12-31T08:00:00Z");
      }
      String tableName = string("risk-tiers");
      String tablePath = TIER_TABLES + "." + tableName;
      if (!root.hasPath(tablePath)) {
        throw new ConfigException.BadValue(path("risk-tiers"), "no tier table named " + tableName);
      }
      RiskTiers tiers = tiers(root.getConfigList(tablePath), tablePath, scale);
      Instrument contract;
      try {
        contract = Instrument.define(symbol, kind, expiry, scale, string("tick-size"), string("lot-size"),
            percent("maker-fee", -Ppm.MILLION, Ppm.MILLION), percent("taker-fee", -Ppm.MILLION, Ppm.MILLION),
            percent("liquidation-fee", -Ppm.MILLION, Ppm.MILLION), tiers);
      } catch (IllegalArgumentException e) {
        throw new ConfigException.BadValue(entryPath, e.getMessage());
      }
      long band = percent("price-band", 1, Ppm.MILLION - 1);
      String fund = has("insurance-fund") ? string("insurance-fund") : symbol;
      if (!fund.matches(LiquidationTerms.FUND_NAME)) {
        throw new ConfigException.BadValue(path("insurance-fund"), "must be 1-64 characters [A-Za-z0-9._:-], was " + fund);
      }
      LiquidationTerms.NegativeBalancePolicy policy = switch (string("negative-balance-policy").toLowerCase(Locale.ROOT)) {
        case "adl" -> LiquidationTerms.NegativeBalancePolicy.ADL;
        case "debt" -> LiquidationTerms.NegativeBalancePolicy.DEBT;
        default -> throw new ConfigException.BadValue(path("negative-balance-policy"), "must be adl or debt");
      };
      long spread = percent("backstop-spread", 0, Ppm.MILLION - 1);
      return new InstrumentSpec(contract, band, new LiquidationTerms(fund, policy, spread, penaltySplit(),
          amount("insurance-fund-takeover-limit"), amount("operator-capital-per-day")),
          kind == InstrumentKind.PERPETUAL ? funding(contract) : null,
          new io.clearinghouse.margin.ConcentrationRules.Limits(amount("max-open-interest"),
              amount("max-account-position"), percent("max-account-share", 0, Ppm.MILLION),
              amount("account-share-from")), volatilityMargin(), openInterestMargin(),
          new DepthTerms(amount("thin-market-depth"), percent("liquidation-depth-share", 0, Ppm.MILLION),
              percent("liquidation-min-slice-share", DepthTerms.MIN_SLICE_FLOOR_PPM, Ppm.MILLION)),
          expiry == null ? null : expiryTerms(expiry));
    }

    /** Volatility-scaled margin (issue 16 item 2): off while the reference is 0%; each bad key is named. */
    io.clearinghouse.margin.MarginScaling.VolatilityTerms volatilityMargin() {
      long reference = percent("volatility-margin-reference", 0, 100 * Ppm.MILLION);
      long sensitivity = percent("volatility-margin-sensitivity", 0, 100 * Ppm.MILLION);
      long cap = percent("volatility-margin-cap", Ppm.MILLION, io.clearinghouse.margin.MarginScaling.MAX_SCALE_PPM);
      long hysteresis = percent("volatility-margin-hysteresis", 0, 100 * Ppm.MILLION);
      java.time.Duration warning;
      Layer layer = layer("volatility-margin-warning");
      if (layer == null) {
        throw new ConfigException.Missing(path("volatility-margin-warning"));
      }
      try {
        warning = layer.config().getDuration("volatility-margin-warning");
      } catch (ConfigException e) {
        throw new ConfigException.BadValue(path("volatility-margin-warning"), "must be a duration such as 5m");
      }
      if (warning.isNegative() || warning.compareTo(java.time.Duration.ofDays(1)) > 0) {
        throw new ConfigException.BadValue(path("volatility-margin-warning"), "must be from 0s to 1d");
      }
      if (reference > 0 && sensitivity == 0) {
        throw new ConfigException.BadValue(path("volatility-margin-sensitivity"),
            "must be above 0% when volatility-margin-reference is set");
      }
      if (reference > 0 && cap == Ppm.MILLION) {
        throw new ConfigException.BadValue(path("volatility-margin-cap"),
            "must be above 100% when volatility-margin-reference is set");
      }
      if (hysteresis >= cap - Ppm.MILLION && reference > 0) {
        throw new ConfigException.BadValue(path("volatility-margin-hysteresis"),
            "must be below the cap's rise (volatility-margin-cap - 100%), or maintenance never follows");
      }
      return new io.clearinghouse.margin.MarginScaling.VolatilityTerms(reference, sensitivity, cap, hysteresis,
          warning.toMillis());
    }

    /** Open-interest-scaled initial margin (issue 16 item 4): off while the upper cap is 0. */
    io.clearinghouse.margin.MarginScaling.OpenInterestTerms openInterestMargin() {
      long lower = amount("open-interest-margin-lower");
      long upper = amount("open-interest-margin-upper");
      if (upper > 0 && upper <= lower) {
        throw new ConfigException.BadValue(path("open-interest-margin-upper"),
            "must be above open-interest-margin-lower (or 0: off)");
      }
      return new io.clearinghouse.margin.MarginScaling.OpenInterestTerms(lower, upper);
    }

    /** A dated future's expiry terms; each bad key is named. */
    ExpiryTerms expiryTerms(Instant expiry) {
      java.time.Duration window = ExpiryTerms.DEFAULT_WINDOW;
      Layer layer = layer("settlement-window");
      if (layer != null) {
        try {
          window = layer.config().getDuration("settlement-window");
        } catch (ConfigException e) {
          throw new ConfigException.BadValue(path("settlement-window"), "must be a duration such as 30m");
        }
        if (window.compareTo(java.time.Duration.ofSeconds(1)) < 0 || window.compareTo(java.time.Duration.ofDays(1)) > 0
            || window.toMillis() % 1_000 != 0) {
          throw new ConfigException.BadValue(path("settlement-window"), "must be whole seconds from 1s to 24h, was "
              + string("settlement-window"));
        }
      }
      long fee = has("delivery-fee") ? percent("delivery-fee", 0, Ppm.MILLION / 100) : 0;
      String next = has("next") ? string("next").trim() : null;
      if (next != null && (next.isEmpty() || next.equals(symbol))) {
        throw new ConfigException.BadValue(path("next"), "must name another configured dated future, was '" + next + "'");
      }
      return new ExpiryTerms(expiry, window, fee, next);
    }

    /** A perpetual's funding terms; each bad key is named. */
    FundingTerms funding(Instrument contract) {
      java.time.Duration interval;
      Layer layer = layer("funding-interval");
      if (layer == null) {
        throw new ConfigException.Missing(path("funding-interval"));
      }
      try {
        interval = layer.config().getDuration("funding-interval");
      } catch (ConfigException e) {
        throw new ConfigException.BadValue(path("funding-interval"), "must be a duration such as 8h or 1h");
      }
      long millis = interval.toMillis();
      if (millis < 1_000 || millis % 1_000 != 0 || java.time.Duration.ofDays(1).toMillis() % millis != 0) {
        throw new ConfigException.BadValue(path("funding-interval"),
            "must be whole seconds dividing a UTC day (1h, 2h, 4h, 8h...), was " + string("funding-interval"));
      }
      long interest = rateE8("funding-interest", -FundingMath.ONE / 100, FundingMath.ONE / 100);
      if (Math.multiplyExact(interest, millis) % java.time.Duration.ofHours(8).toMillis() != 0) {
        throw new ConfigException.BadValue(path("funding-interest"), "scaled to the interval of "
            + string("funding-interval") + " it must stay exact to 10^-8, was " + string("funding-interest"));
      }
      long clamp = rateE8("funding-clamp", 0, FundingMath.ONE / 10);
      long cap;
      if ("auto".equalsIgnoreCase(string("funding-cap").trim())) {
        cap = FundingMath.defaultCap(contract.riskTiers());
        if (cap <= 0) {
          throw new ConfigException.BadValue(path("funding-cap"), "auto (75% of initial - maintenance margin rate of "
              + "the first tier) is not above 0 for this tier table: set a percentage");
        }
      } else {
        cap = rateE8("funding-cap", 1, FundingMath.ONE / 10);
      }
      return new FundingTerms(interval, interest, clamp, cap);
    }

    /** A percentage ("0.01%") in 10^-8 units, exact (at most six decimals), within the range. */
    long rateE8(String key, long min, long max) {
      String t = string(key).trim();
      long value;
      try {
        if (!t.endsWith("%")) {
          throw new NumberFormatException();
        }
        value = new BigDecimal(t.substring(0, t.length() - 1).trim()).movePointRight(6).longValueExact();
      } catch (NumberFormatException | ArithmeticException e) {
        throw new ConfigException.BadValue(path(key), "must be a percentage such as \"0.01%\" with at most 6 decimals, "
            + "was " + t);
      }
      if (value < min || value > max) {
        throw new ConfigException.BadValue(path(key), "must be from " + BigDecimal.valueOf(min, 6).toPlainString()
            + "% to " + BigDecimal.valueOf(max, 6).toPlainString() + "%, was " + t);
      }
      return value;
    }

    /** An amount of the settlement asset ("250000"), at least zero and far from the 64-bit limit. */
    long amount(String key) {
      long units = decimalTimesPowerOfTen(string(key), scale, path(key));
      if (units < 0 || units > MAX_AMOUNT) {
        throw new ConfigException.BadValue(path(key), "must be from 0 to " + MAX_AMOUNT + " minor units, was "
            + string(key));
      }
      return units;
    }

    /** The penalty split, as one object from the first layer that has one; shares it leaves out are 0%. */
    io.clearinghouse.margin.PenaltySplit penaltySplit() {
      Layer layer = layer("penalty-split");
      if (layer == null) {
        throw new ConfigException.Missing(path("penalty-split"));
      }
      String path = path("penalty-split");
      Config split;
      try {
        split = layer.config().getConfig("penalty-split");
      } catch (ConfigException.WrongType e) {
        throw new ConfigException.BadValue(path, "must be an object of shares such as { insurance-fund = \"100%\" }");
      }
      checkKeys(split, path, SHARES);
      Map<String, Long> shares = new LinkedHashMap<>();
      for (String share : List.of("insurance-fund", "market-making", "platform-revenue", "investor-protection",
          "liquidator")) {
        shares.put(share, split.hasPath(share) ? Ppm.percent(split.getString(share), path + "." + share, 0, Ppm.MILLION)
            : 0L);
      }
      try {
        return new io.clearinghouse.margin.PenaltySplit(shares.get("insurance-fund"), shares.get("market-making"),
            shares.get("platform-revenue"), shares.get("investor-protection"), shares.get("liquidator"));
      } catch (IllegalArgumentException e) {
        throw new ConfigException.BadValue(path, e.getMessage());
      }
    }
  }

  private static RiskTiers tiers(List<? extends Config> rows, String path, int scale) {
    List<RiskTiers.Bracket> brackets = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      Config row = rows.get(i);
      String rowPath = path + "[" + i + "]";
      long upTo = decimalTimesPowerOfTen(row.getString("up-to"), scale, rowPath + ".up-to");
      brackets.add(new RiskTiers.Bracket(upTo, Ppm.percent(row.getString("maintenance-margin-rate"),
          rowPath + ".maintenance-margin-rate", 0, Ppm.MILLION), row.getInt("max-leverage")));
    }
    try {
      return RiskTiers.fromBrackets(brackets);
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(path, e.getMessage());
    }
  }

  private static long decimalTimesPowerOfTen(String text, int power, String path) {
    try {
      return new BigDecimal(text).movePointRight(power).longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw new ConfigException.BadValue(path, "must be an exact decimal with at most " + power + " places, was " + text);
    }
  }
}
