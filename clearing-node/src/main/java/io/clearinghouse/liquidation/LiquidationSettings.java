package io.clearinghouse.liquidation;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * How liquidations run, from {@code clearinghouse.liquidation}: defaults for every instrument
 * ({@code insurance-fund}, {@code negative-balance-policy}, {@code backstop-spread}), which
 * {@code clearinghouse.liquidation.instruments."SYMBOL"} may override per instrument.
 */
public record LiquidationSettings(Map<String, Rules> rules, Duration retryInterval, Duration stepTimeout,
    int fundHistory, int adlCandidatesPerNode, boolean crashAtEveryStep, Duration topUpKeyRetention) {

  /** What is left of a deficit when the insurance fund cannot cover it. */
  public enum NegativeBalancePolicy { ADL, DEBT }

  /**
   * One instrument's rules: the fund that takes its penalties and covers its deficits, the
   * policy beyond the fund, and the spread (ppm of the mark) a backstop provider gets.
   */
  public record Rules(String fund, NegativeBalancePolicy policy, long backstopSpreadPpm) {}

  public LiquidationSettings {
    rules = Collections.unmodifiableMap(new TreeMap<>(rules));
  }

  public Rules rules(String instrument) {
    Rules r = rules.get(instrument);
    if (r == null) {
      throw new IllegalArgumentException("no liquidation rules for " + instrument);
    }
    return r;
  }

  /** Every configured fund. */
  public Set<String> funds() {
    Set<String> funds = new TreeSet<>();
    rules.values().forEach(r -> funds.add(r.fund()));
    return funds;
  }

  public static LiquidationSettings fromConfig(Config config, Instruments instruments) {
    Config defaults = config.getConfig("clearinghouse.liquidation");
    Config overrides = defaults.getConfig("instruments");
    for (String key : overrides.root().keySet()) {
      if (!instruments.all().stream().anyMatch(i -> i.symbol().equals(key))) {
        throw new ConfigException.BadValue("clearinghouse.liquidation.instruments", "unknown instrument " + key);
      }
    }
    Map<String, Rules> rules = new TreeMap<>();
    for (Instrument instrument : instruments.all()) {
      String symbol = instrument.symbol();
      String quoted = ConfigUtil.joinPath(symbol);
      Config entry = (overrides.hasPath(quoted) ? overrides.getConfig(quoted) : ConfigFactory.empty()).withFallback(defaults);
      String path = "clearinghouse.liquidation.instruments." + quoted;
      String fund = entry.hasPath("insurance-fund") ? entry.getString("insurance-fund") : instrument.symbol();
      if (!fund.matches("[A-Za-z0-9._:-]{1,64}")) {
        throw new ConfigException.BadValue(path + ".insurance-fund", "must be 1-64 characters [A-Za-z0-9._:-], was " + fund);
      }
      NegativeBalancePolicy policy = switch (entry.getString("negative-balance-policy").toLowerCase(Locale.ROOT)) {
        case "adl" -> NegativeBalancePolicy.ADL;
        case "debt" -> NegativeBalancePolicy.DEBT;
        default -> throw new ConfigException.BadValue(path + ".negative-balance-policy", "must be adl or debt");
      };
      rules.put(symbol, new Rules(fund, policy, percentPpm(entry.getString("backstop-spread"),
          path + ".backstop-spread")));
    }
    int history = defaults.getInt("fund-history");
    if (history < 1) {
      throw new ConfigException.BadValue("clearinghouse.liquidation.fund-history", "must be at least 1");
    }
    int candidates = defaults.getInt("adl-candidates-per-node");
    if (candidates < 1) {
      throw new ConfigException.BadValue("clearinghouse.liquidation.adl-candidates-per-node", "must be at least 1");
    }
    Duration topUpKeyRetention = defaults.getDuration("top-up-key-retention");
    if (topUpKeyRetention.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new ConfigException.BadValue("clearinghouse.liquidation.top-up-key-retention",
          "must be at least 1s (keep it at 7d or more: custody systems retry for days)");
    }
    return new LiquidationSettings(rules, defaults.getDuration("retry-interval"), defaults.getDuration("step-timeout"),
        history, candidates, defaults.getBoolean("fault-injection.crash-at-every-step"), topUpKeyRetention);
  }

  private static long percentPpm(String text, String path) {
    String t = text.trim();
    try {
      if (!t.endsWith("%")) {
        throw new NumberFormatException();
      }
      long ppm = new BigDecimal(t.substring(0, t.length() - 1).trim()).movePointRight(4).longValueExact();
      if (ppm < 0 || ppm >= 1_000_000) {
        throw new NumberFormatException();
      }
      return ppm;
    } catch (NumberFormatException | ArithmeticException e) {
      throw new ConfigException.BadValue(path, "must be a percentage from 0% to below 100% such as \"0.5%\", was " + text);
    }
  }
}
