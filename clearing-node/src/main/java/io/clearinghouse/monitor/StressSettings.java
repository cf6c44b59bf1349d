package io.clearinghouse.monitor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import io.clearinghouse.common.Ppm;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.LiquidationSimulation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The stress test's settings, from {@code clearinghouse.stress}, checked at start: the ladder of
 * shocks, the named scenarios (each a set of shocks by instrument), how long the nodes may take,
 * how many deficit accounts each returns one by one, and how long the price feeds may take to say
 * what a shocked mark does to the volatility-scaled margins ({@code scalesTimeout}). A bad value
 * stops the node naming its key.
 */
public record StressSettings(List<Long> ladderPpm, Map<String, Map<String, Long>> scenarios, Duration timeout,
    int maxDeficitAccountsPerNode, Schedule schedule, Duration scalesTimeout) {
  /** The price feeds' time when none is configured. */
  public static final Duration DEFAULT_SCALES_TIMEOUT = Duration.ofSeconds(2);

  /**
   * Scheduled stress tests (issue 16 item 8): the named {@code scenarios} every {@code interval}
   * (zero: off); a fund whose deficit under a scenario reaches {@code warningSharePpm} of its free
   * balance is a warning, {@code actionSharePpm} an action level; the last {@code history} runs kept.
   */
  public record Schedule(Duration interval, List<String> scenarios, long warningSharePpm, long actionSharePpm,
      int history) {
    public static final Schedule OFF = new Schedule(Duration.ZERO, List.of(), 400_000, 900_000, 100);

    public Schedule {
      scenarios = List.copyOf(scenarios);
    }

    public boolean enabled() {
      return !interval.isZero() && !scenarios.isEmpty();
    }
  }

  public StressSettings(List<Long> ladderPpm, Map<String, Map<String, Long>> scenarios, Duration timeout,
      int maxDeficitAccountsPerNode) {
    this(ladderPpm, scenarios, timeout, maxDeficitAccountsPerNode, Schedule.OFF);
  }

  public StressSettings(List<Long> ladderPpm, Map<String, Map<String, Long>> scenarios, Duration timeout,
      int maxDeficitAccountsPerNode, Schedule schedule) {
    this(ladderPpm, scenarios, timeout, maxDeficitAccountsPerNode, schedule, DEFAULT_SCALES_TIMEOUT);
  }

  public static final String KEY = "clearinghouse.stress";
  private static final Set<String> SCENARIO_KEYS = Set.of("name", "shocks");
  /** The shock key that stands for every configured instrument. */
  static final String EVERY = "*";

  public StressSettings {
    ladderPpm = List.copyOf(ladderPpm);
    Map<String, Map<String, Long>> copy = new LinkedHashMap<>();
    scenarios.forEach((name, shocks) -> copy.put(name, Map.copyOf(shocks)));
    scenarios = java.util.Collections.unmodifiableMap(copy);
  }

  public static StressSettings fromConfig(Config config, Instruments instruments) {
    Config stress = config.getConfig(KEY);
    List<Long> ladder = new ArrayList<>();
    List<String> steps = stress.getStringList("ladder");
    if (steps.isEmpty()) {
      throw new ConfigException.BadValue(KEY + ".ladder", "must name at least one shock, such as \"-5%\"");
    }
    for (String step : steps) {
      long ppm = shock(step, KEY + ".ladder");
      // Each step names its scenario: a step given twice ("-5%" and "-5.0%") would fail every ladder request.
      if (ladder.contains(ppm)) {
        throw new ConfigException.BadValue(KEY + ".ladder", "the step " + step.trim() + " is given twice ("
            + io.clearinghouse.common.Ppm.format(ppm) + ")");
      }
      ladder.add(ppm);
    }
    Map<String, Map<String, Long>> scenarios = new LinkedHashMap<>();
    List<? extends ConfigObject> entries = stress.getObjectList("scenarios");
    for (int i = 0; i < entries.size(); i++) {
      String at = KEY + ".scenarios." + i;
      ConfigObject entry = entries.get(i);
      for (String key : entry.keySet()) {
        if (!SCENARIO_KEYS.contains(key)) {
          throw new ConfigException.BadValue(at + "." + key, "unknown key: a scenario has a name and shocks");
        }
      }
      Config scenario = entry.toConfig();
      if (!scenario.hasPath("name") || scenario.getString("name").isBlank()) {
        throw new ConfigException.BadValue(at + ".name", "a scenario needs a name");
      }
      String name = scenario.getString("name").trim();
      if (scenarios.containsKey(name)) {
        throw new ConfigException.BadValue(at + ".name", "the scenario " + name + " is defined twice");
      }
      if (!scenario.hasPath("shocks") || scenario.getObject("shocks").isEmpty()) {
        throw new ConfigException.BadValue(at + ".shocks", "a scenario needs at least one shock, such as "
            + "{ \"BTCUSDT-PERP\" = \"-20%\" }");
      }
      Map<String, Long> shocks = new LinkedHashMap<>();
      // "*" shocks every configured instrument (so that the shipped scenarios suit any instrument
      // list); an instrument named beside it takes its own shock.
      ConfigValue every = scenario.getObject("shocks").get(EVERY);
      if (every != null) {
        long ppm = shock(String.valueOf(every.unwrapped()), at + ".shocks.\"" + EVERY + "\"");
        instruments.all().forEach(instrument -> shocks.put(instrument.symbol(), ppm));
      }
      for (Map.Entry<String, ConfigValue> shock : scenario.getObject("shocks").entrySet()) {
        String symbol = shock.getKey();
        if (symbol.equals(EVERY)) {
          continue;
        }
        String path = at + ".shocks." + symbol;
        if (instruments.all().stream().noneMatch(instrument -> instrument.symbol().equals(symbol))) {
          throw new ConfigException.BadValue(path, "no instrument " + symbol + " is configured");
        }
        shocks.put(symbol, shock(String.valueOf(shock.getValue().unwrapped()), path));
      }
      scenarios.put(name, shocks);
    }
    Duration timeout = stress.getDuration("timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new ConfigException.BadValue(KEY + ".timeout", "must be positive");
    }
    int maxDeficits = stress.getInt("max-deficit-accounts-per-node");
    if (maxDeficits < 0) {
      throw new ConfigException.BadValue(KEY + ".max-deficit-accounts-per-node", "must not be negative");
    }
    Duration scalesTimeout = stress.getDuration("scales-timeout");
    if (scalesTimeout.isNegative() || scalesTimeout.isZero()) {
      throw new ConfigException.BadValue(KEY + ".scales-timeout", "must be positive");
    }
    return new StressSettings(ladder, scenarios, timeout, maxDeficits, schedule(stress, scenarios.keySet()),
        scalesTimeout);
  }

  private static Schedule schedule(Config stress, Set<String> named) {
    String at = KEY + ".schedule";
    Config c = stress.getConfig("schedule");
    Duration interval = c.getDuration("interval");
    if (interval.isNegative() || (!interval.isZero() && interval.compareTo(Duration.ofSeconds(1)) < 0)) {
      throw new ConfigException.BadValue(at + ".interval", "must be 0 (off) or at least 1s");
    }
    List<String> scenarios = c.getStringList("scenarios");
    if (!interval.isZero() && scenarios.isEmpty()) {
      throw new ConfigException.BadValue(at + ".scenarios", "a schedule needs at least one scenario of "
          + KEY + ".scenarios");
    }
    // Checked only when the schedule runs: an operator's own scenarios need not keep the shipped names.
    for (String name : interval.isZero() ? List.<String>of() : scenarios) {
      if (!named.contains(name)) {
        throw new ConfigException.BadValue(at + ".scenarios", "no scenario named " + name + " in " + KEY
            + ".scenarios");
      }
    }
    long warning = Ppm.percent(c.getString("warning-share"), at + ".warning-share", 1, 100 * Ppm.MILLION);
    long action = Ppm.percent(c.getString("action-share"), at + ".action-share", 1, 100 * Ppm.MILLION);
    if (action < warning) {
      throw new ConfigException.BadValue(at + ".action-share", "must not be below the warning share");
    }
    int history = c.getInt("history");
    if (history < 1 || history > 10_000) {
      throw new ConfigException.BadValue(at + ".history", "must be from 1 to 10000");
    }
    return new Schedule(interval, scenarios, warning, action, history);
  }

  /** A shock as configured ("-20%"), within ±99% and not zero. */
  static long shock(String text, String path) {
    long ppm = Ppm.percent(text, path, -LiquidationSimulation.MAX_SHOCK_PPM, LiquidationSimulation.MAX_SHOCK_PPM);
    if (ppm == 0) {
      throw new ConfigException.BadValue(path, "a shock of 0% moves nothing");
    }
    return ppm;
  }
}
