package io.clearinghouse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.monitor.StressEvaluation;
import io.clearinghouse.persistence.CborSerializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 18, finding 2: the persisted-format fingerprint is derived from the stored
 * classes themselves (every class the strict journal reader guards, with its components, the
 * types a sealed event permits and an enum's constants), so a field added to any of them changes
 * it without anyone bumping a number; the fingerprint is stamped into the node's configuration
 * whatever the configuration says, and a node started without it stops naming the key. Every
 * {@code CborSerializable} class of the build (every class that may be stored or cross a node
 * boundary) is covered: by the journal's classes or by the stored and wire roots.
 */
class PersistedFormatTest {
  @Test
  void theShapeNamesEveryStoredClassWithItsComponents() {
    Set<String> described = PersistedFormat.shape().stream().map(line -> line.substring(0, line.indexOf(' ')))
        .collect(Collectors.toSet());
    for (Class<?> stored : JournalClasses.stored()) {
      assertTrue(described.contains(stored.getName()), stored + " missing from " + PersistedFormat.shape());
    }
    List<String> shape = PersistedFormat.shape();
    assertTrue(shape.stream().anyMatch(line -> line.startsWith("io.clearinghouse.account.FundingLedger$Position record ")
        && line.contains("missed java.util.Map<java.lang.Long, java.lang.Long>")), String.join("\n", shape));
    assertTrue(shape.stream().anyMatch(line -> line.startsWith("io.clearinghouse.account.AccountEntity$SettlementApplied "
        + "record ") && line.contains("shortfall long")), String.join("\n", shape));
    assertTrue(shape.stream().anyMatch(line -> line.startsWith("io.clearinghouse.account.AccountEntity$Event permits ")
        && line.contains("io.clearinghouse.account.AccountEntity$Deposited")), String.join("\n", shape));
    assertTrue(shape.stream().anyMatch(line -> line.contains(" enum [")), "enums are part of the format");
  }

  @Test
  void theFingerprintIsStableAndStampedWhateverTheConfigurationSays() {
    assertTrue(PersistedFormat.fingerprint().matches("[0-9a-f]{16}"), PersistedFormat.fingerprint());
    assertEquals(PersistedFormat.fingerprint(), PersistedFormat.fingerprint());
    var configured = ConfigFactory.parseString("clearinghouse.persisted-format.fingerprint = hand-made")
        .withFallback(ConfigFactory.load());
    assertEquals(PersistedFormat.fingerprint(), PersistedFormat.of(PersistedFormat.stamp(configured)));
    ConfigException e = assertThrows(ConfigException.class, () -> PersistedFormat.of(ConfigFactory.load()));
    assertTrue(e.getMessage().contains("clearinghouse.persisted-format.fingerprint"), e.getMessage());
  }

  /**
   * The fingerprint gap: a message between nodes (a StressRun's NodeResult, a command, a reply)
   * that changed shape would fail between two builds that still agree on the journal. Every
   * {@code CborSerializable} class compiled into target/classes must appear in the shape, reached
   * from {@link JournalClasses#ENTITIES}, {@link PersistedFormat#STORED_ROOTS} or
   * {@link PersistedFormat#WIRE_ROOTS}; a plain interface is judged by its implementations.
   */
  @Test
  void everyCborSerializableClassIsInTheFingerprint() throws Exception {
    Path classes = Path.of(PersistedFormat.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    assertTrue(Files.isDirectory(classes), classes + " should be the build's classes directory");
    Set<String> described = PersistedFormat.shape().stream().map(line -> line.substring(0, line.indexOf(' ')))
        .collect(Collectors.toSet());
    List<String> serializable = new ArrayList<>();
    try (Stream<Path> files = Files.walk(classes)) {
      for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
        String name = classes.relativize(file).toString().replace(java.io.File.separatorChar, '.')
            .replaceAll("\\.class$", "");
        Class<?> c = Class.forName(name, false, PersistedFormatTest.class.getClassLoader());
        boolean plainInterface = c.isInterface() && !c.isSealed();
        if (CborSerializable.class.isAssignableFrom(c) && !plainInterface && !c.isAnonymousClass()) {
          serializable.add(name);
        }
      }
    }
    // Not a vacuous scan: the build has hundreds of them, among them the example of the gap.
    assertTrue(serializable.size() > 200, "found only " + serializable);
    assertTrue(serializable.contains(StressEvaluation.NodeResult.class.getName()), serializable.toString());
    List<String> uncovered = serializable.stream().filter(name -> !described.contains(name)).sorted().toList();
    assertEquals(List.of(), uncovered, "CborSerializable classes outside the persisted-format fingerprint: add "
        + "each to PersistedFormat.WIRE_ROOTS (a message) or STORED_ROOTS (stored), or reach it from a root's "
        + "records; a class that is neither a record, an enum nor sealed has no shape (make it a record)");
    assertTrue(described.contains(StressEvaluation.NodeResult.class.getName()));
    assertTrue(described.contains(io.clearinghouse.clearing.TradeRegister.Snapshot.class.getName()),
        "the trade register's stored snapshot");
  }
}
