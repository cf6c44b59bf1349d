package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonParseException;
import java.io.NotSerializableException;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Only an event that does not read marks an account's journal unreadable; a journal that did not answer does not. */
class UnreadableJournalsTest {
  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void anEventThatDoesNotReadIsRecordedUntilTheAccountRecovers() {
    UnreadableJournals journals = UnreadableJournals.get(testKit.system());
    journals.failed("bytes-1", new IllegalStateException("Exception during recovery",
        new JsonParseException(null, "Invalid low bits for Tag token")));
    journals.failed("manifest-1", new IllegalStateException("Exception during recovery",
        new NotSerializableException("Cannot find manifest class")));
    journals.failed("slow-1", new IllegalStateException("Exception during recovery", new TimeoutException()));
    assertTrue(journals.cause("bytes-1").orElseThrow().contains("Invalid low bits"));
    assertTrue(journals.cause("manifest-1").isPresent());
    assertEquals(Optional.empty(), journals.cause("slow-1"));
    journals.recovered("bytes-1");
    assertEquals(Optional.empty(), journals.cause("bytes-1"));
  }
}
