package io.clearinghouse.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.clearinghouse.JournalClasses;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.Holding;
import io.clearinghouse.instrument.PinnedUnits;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 18, finding 3: a stored event whose field name was damaged (still valid CBOR)
 * no longer reads with that field at 0; it does not read at all (JOURNAL_UNREADABLE), while a
 * message between nodes that is not stored still ignores a property it does not know.
 */
class DamagedFieldNameTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** {@code value} serialized, with the first {@code from} in its bytes replaced by {@code to} (same length). */
  private static Object damagedRead(Object value, String from, String to) {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    byte[] bytes = serialization.serialize(value).get();
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    int at = text.indexOf(from);
    assertTrue(at >= 0 && from.length() == to.length());
    byte[] damaged = (text.substring(0, at) + to + text.substring(at + from.length()))
        .getBytes(StandardCharsets.ISO_8859_1);
    var serializer = serialization.findSerializerFor(value);
    return serialization.deserialize(damaged, serializer.identifier(), Serializers.manifestFor(serializer, value)).get();
  }

  @Test
  void aDepositWhoseAmountFieldNameIsDamagedDoesNotRead() {
    AccountEntity.Deposited deposit = new AccountEntity.Deposited("custody-1", 5_000_000L, 1L, 0L, "operator");
    Exception e = assertThrows(Exception.class, () -> damagedRead(deposit, "amount", "amounX"));
    assertTrue(e instanceof UnrecognizedPropertyException, e.toString());
    assertTrue(e.getMessage().contains("amounX"), e.getMessage());
    // The same bytes undamaged read back as they were.
    assertEquals(deposit, damagedRead(deposit, "amount", "amount"));
  }

  @Test
  void aRecordNestedInAStoredStateIsStrictToo() {
    assertTrue(JournalClasses.stored().contains(Holding.class), JournalClasses.stored().toString());
    assertTrue(JournalClasses.stored().contains(PinnedUnits.Units.class));
    PinnedUnits.State state = new PinnedUnits.State(java.util.Map.of("BTCUSDT-PERP",
        new PinnedUnits.Units("0.1", "0.001", 6)));
    assertThrows(UnrecognizedPropertyException.class, () -> damagedRead(state, "tickSize", "tickSizf"));
  }

  @Test
  void aMessageThatIsNotStoredStillIgnoresAnUnknownProperty() {
    PinnedUnits.Verdict verdict = new PinnedUnits.Verdict(java.util.List.of("x"), java.util.List.of("BTCUSDT-PERP"));
    assertEquals(new PinnedUnits.Verdict(java.util.List.of("x"), java.util.List.of()),
        damagedRead(verdict, "leftOut", "leftOuX"));
  }
}
