package io.clearinghouse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 18, finding 2: the persisted-format fingerprint is derived from the stored
 * classes themselves (every class the strict journal reader guards, with its components, the
 * types a sealed event permits and an enum's constants), so a field added to any of them changes
 * it without anyone bumping a number; the fingerprint is stamped into the node's configuration
 * whatever the configuration says, and a node started without it stops naming the key.
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
}
