package io.clearinghouse.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.clearinghouse.account.Account;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The account's golden form from before expiry (issue 17) added its {@code settlements}: it still
 * reads, as the same account with no settlement. (Adding the field changed the account's sample,
 * so its golden form under {@code golden/} was written again; the one before is kept here.)
 */
class AccountBeforeExpiryTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void theAccountWrittenBeforeSettlementsReadsWithNone() throws IOException {
    var golden = new ObjectMapper().readTree(Path.of("src/test/resources/golden-before-expiry",
        "io.clearinghouse.account.Account.json").toFile());
    Account read = (Account) SerializationExtension.get(testKit.system().classicSystem()).deserialize(
        Base64.getDecoder().decode(golden.get("bytes").asText()), golden.get("serializerId").asInt(),
        golden.get("manifest").asText()).get();
    assertEquals(Map.of(), read.settlements());
    String before = golden.get("sample").asText();
    assertEquals(before.substring(0, before.length() - 1) + ", settlements={}]", read.toString());
  }
}
