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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.TreeSet;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Every event and state (snapshot) class of every persisted entity has a golden serialized form
 * under {@code src/test/resources/golden/}, written once from a sample of the class (see
 * {@link Samples}); each must still read back, as the same value. A change that would leave the
 * journal unreadable (a renamed or retyped field, a moved class) fails here, and needs a Jackson
 * migration (see {@link RenamedFieldMigrationTest}) instead of a new golden file. Golden files are
 * never rewritten: a new class gets one with {@code -Dgolden.write=true}.
 */
class GoldenFormsTest {
  private static final Path GOLDEN = Path.of("src/test/resources/golden");
  private static final List<Class<?>> ENTITIES = List.of(AccountEntity.class, TradeRegister.class, PriceFeed.class,
      InsuranceFund.class, LiquidationSaga.class, FundUnwind.class, BackstopProviders.class, PinnedUnits.class,
      io.clearinghouse.funding.FundingClock.class);
  private static final ObjectMapper JSON = new ObjectMapper();
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

  @Test
  void everyEventAndStateStillReadsItsGoldenForm() throws IOException {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    boolean write = Boolean.getBoolean("golden.write");
    List<String> missing = new ArrayList<>();
    List<String> unreadable = new ArrayList<>();
    List<Class<?>> classes = persistedClasses();
    assertTrue(classes.size() > 30, "found only " + classes);
    for (Class<?> type : classes) {
      Path file = GOLDEN.resolve(type.getName() + ".json");
      Object sample = Samples.of(type);
      if (!Files.exists(file)) {
        if (write) {
          byte[] bytes = serialization.serialize(sample).get();
          var serializer = serialization.findSerializerFor(sample);
          ObjectNode golden = JSON.createObjectNode().put("class", type.getName())
              .put("serializerId", serializer.identifier()).put("manifest", Serializers.manifestFor(serializer, sample))
              .put("bytes", Base64.getEncoder().encodeToString(bytes)).put("sample", sample.toString());
          Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(golden) + "\n");
        } else {
          missing.add(type.getName());
        }
        continue;
      }
      var golden = JSON.readTree(file.toFile());
      try {
        Object read = serialization.deserialize(Base64.getDecoder().decode(golden.get("bytes").asText()),
            golden.get("serializerId").asInt(), golden.get("manifest").asText()).get();
        if (!sample.equals(read)) {
          unreadable.add(type.getName() + ": reads as " + read + ", was " + golden.get("sample").asText());
        }
      } catch (RuntimeException e) {
        unreadable.add(type.getName() + ": " + e);
      }
    }
    assertEquals(List.of(), missing, "no golden form (run once with -Dgolden.write=true and commit the files)");
    assertEquals(List.of(), unreadable, "golden forms that no longer read back: add a migration, never a new file");
  }
}
