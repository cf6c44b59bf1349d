package io.clearinghouse.ops;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.cluster.ConfigValidation;
import org.apache.pekko.cluster.Invalid;
import org.apache.pekko.cluster.JoinConfigCompatChecker;
import org.apache.pekko.cluster.Valid$;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Refuses a node that would join a cluster writing to another journal keyspace, snapshot keyspace,
 * number of shards or number of trade registers. Such a node would host shards of the cluster and
 * persist their events where the rest of the cluster never reads them (or look a trade up in
 * another register than the one that recorded it).
 *
 * <p>Also refuses a node that lists other instruments (by symbol) than the cluster's members: a
 * node without an instrument retires it when the journal holds no position in it
 * (instrument.PinnedUnits) while members that list it go on clearing it, and accounts hosted on a
 * node that does not know an instrument cannot value their positions in it. So the list of
 * instruments is the cluster's, as the number of shards is: it changes with every node stopped.
 * Both sides of a join run this check, each with the other's configuration, so the rule is
 * symmetric. A member that does not send its list (a version before this check) is not compared.
 *
 * <p>And refuses a node of a build whose persisted format (io.clearinghouse.PersistedFormat: the
 * shape of every stored event, state and snapshot class) differs from the cluster's: the journal
 * reader refuses fields it does not know, so a node of the older build would find the newer
 * build's events unreadable, and reading them leniently would drop amounts silently. Here a
 * member that does not send its fingerprint (a build before this check, or a system not started
 * through Main) is refused too: with it nothing says the formats agree.
 */
public final class ClusterCompatibility extends JoinConfigCompatChecker {
  static final String INSTRUMENTS = "clearinghouse.instruments";
  /** Set by io.clearinghouse.PersistedFormat before the actor system starts; never configured by hand. */
  public static final String PERSISTED_FORMAT = "clearinghouse.persisted-format.fingerprint";
  private static final List<String> KEYS = List.of(
      "pekko.persistence.cassandra.journal.keyspace",
      "pekko.persistence.cassandra.snapshot.keyspace",
      "pekko.cluster.sharding.number-of-shards",
      "clearinghouse.clearing.register-buckets");

  @Override
  public Seq<String> requiredKeys() {
    List<String> keys = new ArrayList<>(KEYS);
    keys.add(INSTRUMENTS);
    keys.add(PERSISTED_FORMAT);
    keys.addAll(UNIT_KEYS);
    return CollectionConverters.asScala(keys).toSeq();
  }

  @Override
  public ConfigValidation check(Config toCheck, Config actualConfig) {
    ConfigValidation same = JoinConfigCompatChecker.fullMatch(CollectionConverters.asScala(KEYS).toSeq(), toCheck,
        actualConfig);
    List<String> problems = new ArrayList<>();
    if (same instanceof Invalid invalid) {
      problems.addAll(CollectionConverters.asJava(invalid.errorMessages()));
    }
    instrumentProblem(toCheck, actualConfig).ifPresent(problems::add);
    unitsProblem(toCheck, actualConfig).ifPresent(problems::add);
    formatProblem(toCheck, actualConfig).ifPresent(problems::add);
    return problems.isEmpty() ? Valid$.MODULE$ : new Invalid(CollectionConverters.asScala(problems).toSeq());
  }

  /** Why the two lists of instruments may not share a cluster; empty when they list the same symbols. */
  static java.util.Optional<String> instrumentProblem(Config other, Config own) {
    if (!other.hasPath(INSTRUMENTS) || !own.hasPath(INSTRUMENTS)) {
      return java.util.Optional.empty();
    }
    Set<String> theirs;
    Set<String> ours;
    try {
      theirs = symbols(other);
      ours = symbols(own);
    } catch (ConfigException e) {
      return java.util.Optional.of(INSTRUMENTS + " does not read: " + e.getMessage());
    }
    if (theirs.equals(ours)) {
      return java.util.Optional.empty();
    }
    Set<String> onlyTheirs = new TreeSet<>(theirs);
    onlyTheirs.removeAll(ours);
    Set<String> onlyOurs = new TreeSet<>(ours);
    onlyOurs.removeAll(theirs);
    return java.util.Optional.of(INSTRUMENTS + " differs between the joining node and the cluster (listed only by the "
        + "other node: " + onlyTheirs + "; only by this one: " + onlyOurs + "): every node of a cluster must list "
        + "the same instruments, or one would retire an instrument the others still clear; change the list with "
        + "every node stopped");
  }

  /** Where an instrument's units may be set besides its entry, and the asset's scale. */
  private static final String DEFAULTS = "clearinghouse.instrument-defaults";
  private static final String OVERRIDES = "clearinghouse.instrument-overrides";
  private static final String SCALE = "clearinghouse.settlement-asset.scale";
  static final List<String> UNIT_KEYS = List.of(DEFAULTS, OVERRIDES, SCALE);

  /**
   * Why the two nodes' units may not share a cluster: a symbol both list with another tick size or
   * lot size (as the node resolves them: the override, else the entry, else the defaults), or
   * another settlement-asset scale. The members agree with the units pinned in the journal
   * (instrument.PinnedUnits stops a node that does not), so a node that disagrees with them is
   * refused before it becomes a member and hosts accounts in its wrong units, not only afterwards
   * by its own check. A member that does not send them (a version before this check) is not compared.
   */
  static java.util.Optional<String> unitsProblem(Config other, Config own) {
    if (!other.hasPath(INSTRUMENTS) || !own.hasPath(INSTRUMENTS) || !other.hasPath(SCALE)) {
      return java.util.Optional.empty();
    }
    List<String> differ = new ArrayList<>();
    try {
      if (other.getInt(SCALE) != own.getInt(SCALE)) {
        differ.add(SCALE + " " + other.getInt(SCALE) + " (the other node) and " + own.getInt(SCALE) + " (this one)");
      }
      java.util.Map<String, List<String>> theirs = units(other);
      java.util.Map<String, List<String>> ours = units(own);
      for (var entry : new java.util.TreeMap<>(ours).entrySet()) {
        List<String> their = theirs.get(entry.getKey());
        if (their != null && !sameUnits(their, entry.getValue())) {
          differ.add(entry.getKey() + " tick-size/lot-size " + their + " (the other node) and " + entry.getValue()
              + " (this one)");
        }
      }
    } catch (ConfigException | NumberFormatException e) {
      return java.util.Optional.of("the instruments' units do not read: " + e.getMessage());
    }
    return differ.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of("the instruments' units differ "
        + "between the joining node and the cluster: " + String.join("; ", differ) + ": events store ticks, lots and "
        + "minor units, so a node in other units would rescale every figure it reads (instrument.PinnedUnits); give "
        + "it the cluster's units");
  }

  /** Each symbol's tick size and lot size, as the node resolves them (null where none is set). */
  private static java.util.Map<String, List<String>> units(Config config) {
    Config defaults = config.hasPath(DEFAULTS) ? config.getConfig(DEFAULTS) : com.typesafe.config.ConfigFactory.empty();
    Config overrides = config.hasPath(OVERRIDES) ? config.getConfig(OVERRIDES) : com.typesafe.config.ConfigFactory.empty();
    java.util.Map<String, List<String>> units = new java.util.HashMap<>();
    for (Config entry : config.getConfigList(INSTRUMENTS)) {
      String symbol = entry.getString("symbol");
      String quoted = com.typesafe.config.ConfigUtil.quoteString(symbol);
      Config override = overrides.hasPath(quoted) ? overrides.getConfig(quoted) : com.typesafe.config.ConfigFactory.empty();
      Config resolved = override.withFallback(entry).withFallback(defaults);
      units.put(symbol, java.util.Arrays.asList(resolved.hasPath("tick-size") ? resolved.getString("tick-size") : null,
          resolved.hasPath("lot-size") ? resolved.getString("lot-size") : null));
    }
    return units;
  }

  private static boolean sameUnits(List<String> a, List<String> b) {
    for (int i = 0; i < a.size(); i++) {
      String x = a.get(i);
      String y = b.get(i);
      if (x == null || y == null ? x != y : new java.math.BigDecimal(x).compareTo(new java.math.BigDecimal(y)) != 0) {
        return false;
      }
    }
    return true;
  }

  /** Why nodes of these two builds may not share a cluster; empty when both state the same persisted format. */
  static java.util.Optional<String> formatProblem(Config other, Config own) {
    String theirs = fingerprint(other);
    String ours = fingerprint(own);
    if (theirs != null && theirs.equals(ours)) {
      return java.util.Optional.empty();
    }
    String cause = theirs == null || ours == null
        ? (theirs == null ? "the other node" : "this node") + " states no " + PERSISTED_FORMAT + " (a build before "
            + "this check, or an actor system not started through io.clearinghouse.Main)"
        : PERSISTED_FORMAT + " differs between the joining node and the cluster (the other node: " + theirs
            + "; this one: " + ours + ")";
    return java.util.Optional.of(cause + ": the two builds store events, states or snapshots in different forms, "
        + "and a node cannot read fields it does not know (JOURNAL_UNREADABLE); a release that changes the "
        + "persisted format needs every node of the old release stopped (or drained with chctl leave) before "
        + "its own nodes start, never a rolling update");
  }

  private static String fingerprint(Config config) {
    try {
      return config.hasPath(PERSISTED_FORMAT) && !config.getString(PERSISTED_FORMAT).isBlank()
          ? config.getString(PERSISTED_FORMAT) : null;
    } catch (ConfigException e) {
      return null;
    }
  }

  private static Set<String> symbols(Config config) {
    Set<String> symbols = new TreeSet<>();
    for (Config entry : config.getConfigList(INSTRUMENTS)) {
      symbols.add(entry.getString("symbol"));
    }
    return symbols;
  }
}
