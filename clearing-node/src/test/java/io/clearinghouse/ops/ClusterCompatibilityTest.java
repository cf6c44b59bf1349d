package io.clearinghouse.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.cluster.ConfigValidation;
import org.apache.pekko.cluster.Invalid;
import org.apache.pekko.cluster.Valid$;
import java.util.List;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Review of issue 18, finding 2: nodes listing different instruments may not share a cluster (a
 * node without an instrument would retire it while the others clear it). Both sides of a join run
 * the check with the other's configuration, so a list missing a symbol and a list with one more
 * are both refused, naming them.
 */
class ClusterCompatibilityTest {
  private static final Config NODE = io.clearinghouse.PersistedFormat.stamp(ConfigFactory.load());
  private final ClusterCompatibility checker = new ClusterCompatibility();

  private static Config listing(String... symbols) {
    StringBuilder list = new StringBuilder("clearinghouse.instruments = [");
    for (String symbol : symbols) {
      list.append("{ symbol = \"").append(symbol).append("\", kind = perpetual, tick-size = \"0.1\" }, ");
    }
    return ConfigFactory.parseString(list.append("]").toString()).withFallback(NODE).resolve();
  }

  /** What the joining node sends: its values of the checker's keys only. */
  private Config sent(Config node) {
    Config sent = ConfigFactory.empty();
    for (String key : CollectionConverters.asJava(checker.requiredKeys())) {
      if (node.hasPath(key)) {
        sent = sent.withValue(key, node.getValue(key));
      }
    }
    return sent;
  }

  @Test
  void theSameInstrumentsInAnotherOrderAndWithOtherTermsJoin() {
    // Other terms, not other units: a tick size that differs is refused (Rev18JoinUnitsTest).
    Config other = ConfigFactory.parseString("clearinghouse.instruments = [{ symbol = B, kind = perpetual, "
        + "tick-size = \"0.10\", maker-fee = \"0.01%\" }, { symbol = A, tick-size = \"0.1\" }]").withFallback(NODE).resolve();
    assertEquals(Valid$.MODULE$, checker.check(sent(other), listing("A", "B")));
    assertEquals(Valid$.MODULE$, checker.check(sent(NODE), NODE));
  }

  @Test
  void aNodeWithoutAnInstrumentOfTheClusterIsRefusedEitherWay() {
    for (ConfigValidation refused : java.util.List.of(checker.check(sent(listing("A")), listing("A", "B")),
        checker.check(sent(listing("A", "B")), listing("A")))) {
      assertTrue(refused instanceof Invalid, String.valueOf(refused));
      String message = String.join("; ", CollectionConverters.asJava(((Invalid) refused).errorMessages()));
      assertTrue(message.contains("clearinghouse.instruments differs") && message.contains("[B]"), message);
    }
  }

  @Test
  void theInstrumentsAreSentWithTheJoinAndAnOlderMemberThatSendsNoneIsNotCompared() {
    assertTrue(sent(listing("A")).hasPath("clearinghouse.instruments"));
    Config older = sent(NODE).withoutPath("clearinghouse.instruments");
    assertEquals(Valid$.MODULE$, checker.check(older, listing("A")));
  }

  @Test
  void theOtherKeysStillMatchExactly() {
    Config otherKeyspace = ConfigFactory.parseString("pekko.persistence.cassandra.journal.keyspace = other")
        .withFallback(NODE).resolve();
    assertTrue(checker.check(sent(otherKeyspace), NODE) instanceof Invalid);
  }

  private static String problems(ConfigValidation validation) {
    assertTrue(validation instanceof Invalid, String.valueOf(validation));
    return String.join("; ", CollectionConverters.asJava(((Invalid) validation).errorMessages()));
  }

  /**
   * Review of issue 18, finding 2: a node of a build with another persisted format is refused
   * either way, naming both fingerprints and what such a release needs; one that states none (a
   * build before the check) is refused too; the same fingerprint joins.
   */
  @Test
  void aNodeOfAnotherPersistedFormatIsRefusedEitherWay() {
    assertTrue(sent(NODE).hasPath(ClusterCompatibility.PERSISTED_FORMAT), "the fingerprint is sent with the join");
    assertEquals(io.clearinghouse.PersistedFormat.fingerprint(), sent(NODE).getString(ClusterCompatibility.PERSISTED_FORMAT));
    Config other = io.clearinghouse.PersistedFormat.stampAs(NODE, "0123456789abcdef");
    for (ConfigValidation refused : List.of(checker.check(sent(other), NODE), checker.check(sent(NODE), other))) {
      String message = problems(refused);
      assertTrue(message.contains("clearinghouse.persisted-format.fingerprint differs")
          && message.contains("0123456789abcdef") && message.contains(io.clearinghouse.PersistedFormat.fingerprint())
          && message.contains("needs every node of the old release stopped"), message);
    }
    Config older = sent(NODE).withoutPath(ClusterCompatibility.PERSISTED_FORMAT);
    assertTrue(problems(checker.check(older, NODE)).contains("the other node states no "
        + ClusterCompatibility.PERSISTED_FORMAT), problems(checker.check(older, NODE)));
    assertTrue(problems(checker.check(sent(NODE), ConfigFactory.load())).contains("this node states no"));
    assertEquals(Valid$.MODULE$, checker.check(sent(io.clearinghouse.PersistedFormat.stamp(ConfigFactory.load())), NODE));
  }
}
