package io.clearinghouse.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.clearing.TradeRegister;
import io.clearinghouse.instrument.PinnedUnits;
import io.clearinghouse.liquidation.BackstopProviders;
import io.clearinghouse.liquidation.FundUnwind;
import io.clearinghouse.liquidation.InsuranceFund;
import io.clearinghouse.liquidation.LiquidationSaga;
import io.clearinghouse.price.PriceFeed;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Every event and state (snapshot) class of every persisted entity, and every snapshot stored in a
 * form of its own ({@code JournalClasses.SNAPSHOTS}), has a golden serialized form
 * under {@code src/test/resources/golden/}, written once from a sample of the class (see
 * {@link Samples}); each must still read back, as the same value. A change that would leave the
 * journal unreadable (a renamed or retyped field, a moved class) fails here, and needs a Jackson
 * migration (see {@link RenamedFieldMigrationTest}) instead of a new golden file. Golden files are
 * never rewritten: a new class gets one with {@code -Dgolden.write=true}, and so does a new form
 * of a class that gained a field (see {@code ADDED_FIELDS}).
 */
class GoldenFormsTest {
  private static final Path GOLDEN = Path.of("src/test/resources/golden");
  private static final List<Class<?>> ENTITIES = io.clearinghouse.JournalClasses.ENTITIES;
  private static final ObjectMapper JSON = new ObjectMapper();
  /** A field added to a record nested in persisted classes (review 8, finding 7), named as ADDED_FIELDS names one. */
  private static final String POSITION_MISSED = io.clearinghouse.account.FundingLedger.Position.class.getName()
      + ".missed";
  /**
   * Fields added to a class after a golden form of it was written, oldest addition first. Each
   * addition starts a new form ({@code NAME.json}, then {@code NAME.v2.json}, ...); every form
   * must still read, as the sample with the fields added after it at the value a missing field
   * takes (the canonical constructor given null, 0 or false). Adding a field: list it here and
   * write the new form with {@code -Dgolden.write=true}; the old files stay as they are. A field of
   * a record nested in the class is named by record and component ({@code
   * "io.clearinghouse.account.FundingLedger$Position.missed"}), and is absent from the older forms
   * wherever the record occurs (see {@link Samples#of(Class, Set)}).
   */
  private static final Map<String, List<Set<String>>> ADDED_FIELDS = Map.ofEntries(
      Map.entry(AccountEntity.AccountOpened.class.getName(), List.of(Set.of("by"))),
      Map.entry(InsuranceFund.Withdrawn.class.getName(), List.of(Set.of("by"))),
      Map.entry(BackstopProviders.ProviderRegistered.class.getName(), List.of(Set.of("by"))),
      Map.entry(PinnedUnits.State.class.getName(), List.of(Set.of("retired"))),
      // Review of issue 18, finding 4: the third form carries the funding positions' missed intervals.
      // Issue 17 (expiry's known limits): the fourth form carries the late closes not yet reported.
      Map.entry(io.clearinghouse.account.Account.class.getName(), List.of(Set.of("settlements"),
          Set.of(POSITION_MISSED), Set.of("lateCloses"))),
      Map.entry(AccountEntity.SettlementApplied.class.getName(), List.of(Set.of("shortfall"))),
      Map.entry(io.clearinghouse.expiry.ExpirySettlement.State.class.getName(), List.of(Set.of("requested"),
          Set.of("forceReason"), Set.of("lateCloses"))),
      Map.entry(io.clearinghouse.expiry.ExpirySettlement.PriceFixed.class.getName(), List.of(Set.of("forceReason"))),
      // Review of issue 16, finding 9: the feed persists the volatility scales with each mark.
      Map.entry(io.clearinghouse.price.PriceFeed.MarkPublished.class.getName(), List.of(Set.of("scales"))),
      Map.entry(io.clearinghouse.price.PriceFeed.State.class.getName(), List.of(Set.of("scales"))));
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** The persisted classes: each entity's Event and State types, down to their records. */
  static List<Class<?>> persistedClasses() {
    TreeSet<String> names = new TreeSet<>();
    List<Class<?>> classes = new ArrayList<>();
    for (Class<?> entity : ENTITIES) {
      for (Class<?> nested : entity.getDeclaredClasses()) {
        if (nested.getSimpleName().equals("Event") || nested.getSimpleName().equals("State")) {
          collect(nested, classes, names);
        }
      }
    }
    for (Class<?> snapshot : io.clearinghouse.JournalClasses.SNAPSHOTS) {
      collect(snapshot, classes, names);
    }
    return classes;
  }

  private static void collect(Class<?> type, List<Class<?>> into, TreeSet<String> seen) {
    if (type.isSealed()) {
      for (Class<?> sub : type.getPermittedSubclasses()) {
        collect(sub, into, seen);
      }
    } else if (type.isRecord() && seen.add(type.getName())) {
      into.add(type);
    }
  }

  /** {@code sample} with the {@code absent} components as a form without them reads: null, 0 or false. */
  private static Object withAbsent(Object sample, Set<String> absent) {
    if (absent.isEmpty()) {
      return sample;
    }
    try {
      RecordComponent[] components = sample.getClass().getRecordComponents();
      Object[] values = new Object[components.length];
      Class<?>[] types = new Class<?>[components.length];
      for (int i = 0; i < components.length; i++) {
        types[i] = components[i].getType();
        values[i] = absent.contains(components[i].getName()) ? missing(types[i])
            : components[i].getAccessor().invoke(sample);
      }
      return sample.getClass().getDeclaredConstructor(types).newInstance(values);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Object missing(Class<?> type) {
    if (type == boolean.class) {
      return false;
    }
    if (type == int.class) {
      return 0;
    }
    if (type == long.class) {
      return 0L;
    }
    return null;
  }

  @Test
  void everyEventAndStateStillReadsItsGoldenForm() throws IOException {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    boolean write = Boolean.getBoolean("golden.write");
    List<String> missing = new ArrayList<>();
    List<String> unreadable = new ArrayList<>();
    List<Class<?>> classes = persistedClasses();
    assertTrue(classes.size() > 30, "found only " + classes);
    for (Class<?> type : classes) {
      List<Set<String>> additions = ADDED_FIELDS.getOrDefault(type.getName(), List.of());
      Object sample = Samples.of(type);
      for (int form = 1; form <= additions.size() + 1; form++) {
        Path file = GOLDEN.resolve(type.getName() + (form == 1 ? "" : ".v" + form) + ".json");
        boolean newest = form == additions.size() + 1;
        if (!Files.exists(file)) {
          if (write && newest) {
            byte[] bytes = serialization.serialize(sample).get();
            var serializer = serialization.findSerializerFor(sample);
            ObjectNode golden = JSON.createObjectNode().put("class", type.getName())
                .put("serializerId", serializer.identifier()).put("manifest", Serializers.manifestFor(serializer, sample))
                .put("bytes", Base64.getEncoder().encodeToString(bytes)).put("sample", sample.toString());
            Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(golden) + "\n");
          } else {
            missing.add(file.getFileName().toString());
          }
          continue;
        }
        Set<String> absent = new HashSet<>();
        Set<String> nestedAbsent = new HashSet<>();
        additions.subList(form - 1, additions.size()).forEach(names -> names.forEach(field ->
            (field.contains(".") ? nestedAbsent : absent).add(field)));
        Object expected = withAbsent(nestedAbsent.isEmpty() ? sample : Samples.of(type, nestedAbsent), absent);
        var golden = JSON.readTree(file.toFile());
        try {
          Object read = serialization.deserialize(Base64.getDecoder().decode(golden.get("bytes").asText()),
              golden.get("serializerId").asInt(), golden.get("manifest").asText()).get();
          if (!expected.equals(read)) {
            unreadable.add(file.getFileName() + ": reads as " + read + ", expected " + expected);
          }
        } catch (RuntimeException e) {
          unreadable.add(file.getFileName() + ": " + e);
        }
      }
    }
    assertEquals(List.of(), missing, "no golden form (run once with -Dgolden.write=true and commit the files)");
    assertEquals(List.of(), unreadable, "golden forms that no longer read back: add a migration, never a new file");
  }

  /**
   * Review of issue 18, finding 4: a field added to a nested record is covered by golden forms
   * only once some form carries it with a value (until then its sample is the default, and a
   * renamed or retyped field would still pass). Each of these is carried by one.
   */
  @Test
  void theAddedNestedFieldsAreCarriedByAGoldenForm() throws IOException {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    for (String field : List.of(POSITION_MISSED)) {
      String record = field.substring(0, field.lastIndexOf('.'));
      String component = field.substring(field.lastIndexOf('.') + 1);
      List<String> carriedBy = new ArrayList<>();
      try (var files = Files.list(GOLDEN)) {
        for (Path file : files.sorted().toList()) {
          var golden = JSON.readTree(file.toFile());
          Object read = serialization.deserialize(Base64.getDecoder().decode(golden.get("bytes").asText()),
              golden.get("serializerId").asInt(), golden.get("manifest").asText()).get();
          if (carries(read, record, component, 0)) {
            carriedBy.add(file.getFileName().toString());
          }
        }
      }
      assertTrue(!carriedBy.isEmpty(), "no golden form carries " + field + " with a value: list it in ADDED_FIELDS "
          + "for the classes that nest it and write their new forms");
    }
  }

  /** Whether {@code value} holds, at any depth, a {@code record} whose {@code component} is not empty or default. */
  private static boolean carries(Object value, String record, String component, int depth) {
    if (value == null || depth > 20) {
      return false;
    }
    if (value instanceof java.util.Optional<?> optional) {
      return carries(optional.orElse(null), record, component, depth + 1);
    }
    if (value instanceof java.util.Collection<?> collection) {
      return collection.stream().anyMatch(v -> carries(v, record, component, depth + 1));
    }
    if (value instanceof Map<?, ?> map) {
      return map.entrySet().stream().anyMatch(e -> carries(e.getKey(), record, component, depth + 1)
          || carries(e.getValue(), record, component, depth + 1));
    }
    if (!value.getClass().isRecord()) {
      return false;
    }
    try {
      for (RecordComponent c : value.getClass().getRecordComponents()) {
        c.getAccessor().setAccessible(true);
        Object part = c.getAccessor().invoke(value);
        if (value.getClass().getName().equals(record) && c.getName().equals(component)) {
          if (part != null && !(part instanceof Map<?, ?> m && m.isEmpty())
              && !(part instanceof java.util.Collection<?> l && l.isEmpty()) && !part.equals(missing(c.getType()))) {
            return true;
          }
        } else if (carries(part, record, component, depth + 1)) {
          return true;
        }
      }
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
    return false;
  }
}
