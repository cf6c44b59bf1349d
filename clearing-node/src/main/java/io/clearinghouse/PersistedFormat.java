package io.clearinghouse;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValueFactory;
import io.clearinghouse.ops.ClusterCompatibility;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;

/**
 * The persisted format of this build: a fingerprint of the shape of every class the journal
 * stores ({@link JournalClasses#ENTITIES}' events and states, down to the records, sealed types
 * and enums inside them), of the stored snapshots outside them ({@link #STORED_ROOTS}), and of
 * every message nodes send each other ({@link #WIRE_ROOTS}: commands, replies, topic messages),
 * derived from the classes themselves when the node starts. {@code PersistedFormatTest} fails
 * when a {@code CborSerializable} class is covered by none of them.
 *
 * <p>The journal reader is strict ({@link JournalClasses}): an event with a field this build does
 * not know does not read. A node of an older build reading an event written by a newer one with
 * an added field (a rolling update) would stop that entity ({@code JOURNAL_UNREADABLE}), and
 * ignoring the field instead would drop money silently. So nodes of builds whose persisted
 * format differs may not share a cluster: {@link #stamp} puts the fingerprint in the node's
 * configuration before its actor system starts, the join sends it, and
 * {@link ClusterCompatibility} refuses a node whose fingerprint is not the cluster's.
 */
public final class PersistedFormat {
  private static final class Computed {
    static final List<String> SHAPE = describe();
    static final String FINGERPRINT = digest(SHAPE);
  }

  private PersistedFormat() {}

  /** Classes stored outside the entities' Event and State types: a snapshot adapter's form. */
  public static final List<Class<?>> STORED_ROOTS = JournalClasses.SNAPSHOTS;

  /**
   * The messages nodes send each other (through sharding, singletons, receptionist-found actors
   * and topics), walked as the journal's classes are: a command whose reply or field changed
   * shape means a node of the other build may not join, since a reply it cannot read would fail
   * the ask on the other node. The non-public ones are named (resolved when the shape is first
   * computed; a rename fails there and in the test).
   */
  public static final List<Class<?>> WIRE_ROOTS = List.of(
      io.clearinghouse.account.AccountEntity.Command.class, io.clearinghouse.account.AccountEntity.Reply.class,
      io.clearinghouse.clearing.TradeRegister.Command.class, io.clearinghouse.clearing.TradeRegister.Reply.class,
      io.clearinghouse.expiry.ExpirySettlement.Command.class, io.clearinghouse.expiry.ExpirySettlement.Reply.class,
      io.clearinghouse.funding.FundingClock.Command.class, io.clearinghouse.instrument.PinnedUnits.Command.class,
      io.clearinghouse.liquidation.BackstopProviders.Command.class, io.clearinghouse.liquidation.FundUnwind.Command.class,
      io.clearinghouse.liquidation.InsuranceFund.Command.class, io.clearinghouse.liquidation.InsuranceFund.Reply.class,
      io.clearinghouse.liquidation.LiquidationSaga.Command.class, named("io.clearinghouse.liquidation.StepAnswer"),
      io.clearinghouse.monitor.StressSchedule.Command.class, io.clearinghouse.price.PriceFeed.Command.class,
      io.clearinghouse.price.PriceEvent.class, io.clearinghouse.price.MarketDepth.Report.class,
      io.clearinghouse.monitor.AdlRanker.RankQuery.class, io.clearinghouse.monitor.MarginMonitor.AdlQuery.class,
      io.clearinghouse.monitor.MarginMonitor.FundingHoldersQuery.class, io.clearinghouse.monitor.MarginMonitor.StressQuery.class,
      io.clearinghouse.monitor.MarginMonitor.ClosestQuery.class, io.clearinghouse.monitor.MarginMonitor.HistogramQuery.class,
      io.clearinghouse.monitor.MarginMonitor.OpenInterestQuery.class, io.clearinghouse.ops.CascadeProgress.Report.class,
      io.clearinghouse.account.Exposure.class,
      named("io.clearinghouse.liquidation.ReserveSchedule$Tick"),
      named("io.clearinghouse.liquidation.ReserveSchedule$RunDone"));

  private static Class<?> named(String name) {
    try {
      return Class.forName(name, false, PersistedFormat.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("PersistedFormat.WIRE_ROOTS names " + name + ", which is gone: name what "
          + "replaced it", e);
    }
  }

  /** This build's fingerprint: 16 hex digits of a SHA-256 over {@link #shape()}. */
  public static String fingerprint() {
    return Computed.FINGERPRINT;
  }

  /**
   * One line per persisted type, sorted: a record with its components' names and generic types,
   * a sealed type with the types it permits, an enum with its constants.
   */
  public static List<String> shape() {
    return Computed.SHAPE;
  }

  /** {@code config} with this build's fingerprint, whatever it said (the fingerprint is never configured). */
  public static Config stamp(Config config) {
    return stampAs(config, fingerprint());
  }

  /** {@code config} claiming {@code fingerprint}: for tests of nodes of two builds only. */
  public static Config stampAs(Config config, String fingerprint) {
    return config.withValue(ClusterCompatibility.PERSISTED_FORMAT, ConfigValueFactory.fromAnyRef(fingerprint,
        "the persisted format of this build (io.clearinghouse.PersistedFormat)"));
  }

  /** The fingerprint the node's configuration carries; stops a node whose actor system was started without it. */
  static String of(Config config) {
    if (!config.hasPath(ClusterCompatibility.PERSISTED_FORMAT)
        || config.getString(ClusterCompatibility.PERSISTED_FORMAT).isBlank()) {
      throw new ConfigException.BadValue(ClusterCompatibility.PERSISTED_FORMAT, "missing: the node's configuration "
          + "must carry its build's persisted-format fingerprint (io.clearinghouse.PersistedFormat.stamp, which "
          + "Main.main applies), which a joining node is compared on");
    }
    return config.getString(ClusterCompatibility.PERSISTED_FORMAT);
  }

  private static List<String> describe() {
    TreeMap<String, String> lines = new TreeMap<>();
    for (Class<?> entity : JournalClasses.ENTITIES) {
      for (Class<?> nested : entity.getDeclaredClasses()) {
        if (nested.getSimpleName().equals("Event") || nested.getSimpleName().equals("State")) {
          walk(nested, lines);
        }
      }
    }
    STORED_ROOTS.forEach(root -> walk(root, lines));
    WIRE_ROOTS.forEach(root -> walk(root, lines));
    return List.copyOf(new ArrayList<>(lines.values()));
  }

  private static void walk(Type type, TreeMap<String, String> lines) {
    if (type instanceof ParameterizedType parameterized) {
      walk(parameterized.getRawType(), lines);
      for (Type argument : parameterized.getActualTypeArguments()) {
        walk(argument, lines);
      }
      return;
    }
    if (!(type instanceof Class<?> c) || !c.getName().startsWith("io.clearinghouse.") || lines.containsKey(c.getName())) {
      return;
    }
    if (c.isEnum()) {
      List<String> constants = new ArrayList<>();
      for (Object constant : c.getEnumConstants()) {
        constants.add(((Enum<?>) constant).name());
      }
      lines.put(c.getName(), c.getName() + " enum " + constants);
      return;
    }
    if (c.isSealed()) {
      List<String> permitted = new ArrayList<>();
      for (Class<?> sub : c.getPermittedSubclasses()) {
        permitted.add(sub.getName());
      }
      permitted.sort(null);
      lines.put(c.getName(), c.getName() + " permits " + permitted);
      for (Class<?> sub : c.getPermittedSubclasses()) {
        walk(sub, lines);
      }
    }
    if (c.isRecord()) {
      List<String> components = new ArrayList<>();
      for (RecordComponent component : c.getRecordComponents()) {
        components.add(component.getName() + " " + component.getGenericType().getTypeName());
      }
      lines.put(c.getName(), c.getName() + " record " + components);
      for (RecordComponent component : c.getRecordComponents()) {
        walk(component.getGenericType(), lines);
      }
    }
  }

  private static String digest(List<String> shape) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (String line : shape) {
        sha.update(line.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) '\n');
      }
      return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available in this Java runtime", e);
    }
  }
}
