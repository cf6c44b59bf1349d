package io.clearinghouse.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.apache.pekko.cluster.ConfigValidation;
import org.apache.pekko.cluster.Invalid;
import org.apache.pekko.cluster.Valid$;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Review rev18, finding 2 (low): a node whose tick size, lot size or settlement-asset scale differs
 * from the cluster's was let into the cluster (only the symbols were compared at the join) and
 * refused only afterwards, by its own check against the journal (PinnedUnits, run once it is a
 * member). In between it is an Up member: the coordinator allocates new shards to it first (it
 * hosts the fewest), so accounts it hosts judge trades and margins in its wrong units, and its
 * margin monitor values positions in them, until its check stops it. Issue 18 item 6 asks to
 * "refuse a joining node when configuration disagrees". The running members agree with the pinned
 * units (or they would have stopped), so the join compares the units of every shared symbol,
 * resolved as the node resolves them (the override, else the entry, else the defaults), and the
 * asset's scale, both ways.
 */
class Rev18JoinUnitsTest {
  private static final Config NODE = io.clearinghouse.PersistedFormat.stamp(ConfigFactory.load());
  private final ClusterCompatibility checker = new ClusterCompatibility();

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

  private static Config with(String hocon) {
    return ConfigFactory.parseString(hocon).withFallback(NODE).resolve();
  }

  private static String problems(ConfigValidation validation) {
    assertTrue(validation instanceof Invalid, "a node with other units joined: " + validation);
    return String.join("; ", CollectionConverters.asJava(((Invalid) validation).errorMessages()));
  }

  @Test
  void aNodeWithAnotherTickSizeLotSizeOrScaleIsRefusedAtTheJoinEitherWay() {
    Config tick = with("clearinghouse.instrument-overrides.\"BTCUSDT-PERP\".tick-size = \"1\"");
    Config lot = with("clearinghouse.instrument-overrides.\"BTCUSDT-271231\".lot-size = \"0.01\"");
    Config scale = with("clearinghouse.settlement-asset.scale = 8");
    for (Config other : List.of(tick, lot, scale)) {
      for (ConfigValidation refused : List.of(checker.check(sent(other), NODE), checker.check(sent(NODE), other))) {
        String message = problems(refused);
        assertTrue(message.contains("units differ"), message);
      }
    }
    assertTrue(problems(checker.check(sent(tick), NODE)).contains("BTCUSDT-PERP"));
  }

  @Test
  void theSameUnitsWrittenOtherwiseAndOtherTermsJoin() {
    // 0.10 is 0.1; a fee is not a unit.
    Config same = with("clearinghouse.instrument-overrides.\"BTCUSDT-PERP\" { tick-size = \"0.10\", "
        + "maker-fee = \"0.01%\" }");
    assertEquals(Valid$.MODULE$, checker.check(sent(same), NODE));
    assertEquals(Valid$.MODULE$, checker.check(sent(NODE), same));
    assertEquals(Valid$.MODULE$, checker.check(sent(NODE), NODE));
  }
}
