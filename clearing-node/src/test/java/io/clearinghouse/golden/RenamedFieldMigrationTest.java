package io.clearinghouse.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.persistence.CborSerializable;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.jackson.JacksonMigration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * How a field of a persisted event is renamed without losing the journal: the event's class gets
 * a Jackson migration (registered in {@code pekko.serialization.jackson.migrations}) that rewrites
 * the old form as it is read. Shown here for {@code account} renamed {@code accountId}.
 */
class RenamedFieldMigrationTest {
  /** Version 2 of an event whose version 1 called the account {@code account}. */
  public record CreditRecorded(String accountId, long amount) implements CborSerializable {}

  /** Version 1 to 2: {@code account} became {@code accountId}. */
  public static final class CreditRecordedMigration extends JacksonMigration {
    @Override
    public int currentVersion() {
      return 2;
    }

    @Override
    public JsonNode transform(int fromVersion, JsonNode json) {
      ObjectNode node = (ObjectNode) json;
      if (fromVersion < 2 && node.has("account")) {
        node.set("accountId", node.remove("account"));
      }
      return node;
    }
  }

  private static final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString(
      "pekko.serialization.jackson.migrations { \"" + CreditRecorded.class.getName() + "\" = \""
          + CreditRecordedMigration.class.getName() + "\" }\npekko.actor.provider = local")
      .withFallback(ConfigFactory.load()));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void anEventWrittenWithTheOldFieldNameReadsUnderTheNewOne() throws Exception {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    // Version 1 as the journal holds it: CBOR with the old field name, manifest without a version.
    byte[] old = new ObjectMapper(new CBORFactory()).writeValueAsBytes(Map.of("account", "alice-1", "amount", 5));
    Object read = serialization.deserialize(old, 33, CreditRecorded.class.getName()).get();
    assertEquals(new CreditRecorded("alice-1", 5), read);
    // New events are written as version 2 and read back as they are.
    CreditRecorded now = new CreditRecorded("bob-1", 7);
    var serializer = serialization.findSerializerFor(now);
    String manifest = org.apache.pekko.serialization.Serializers.manifestFor(serializer, now);
    assertEquals(CreditRecorded.class.getName() + "#2", manifest);
    assertEquals(now, serialization.deserialize(serialization.serialize(now).get(), serializer.identifier(), manifest).get());
  }
}
