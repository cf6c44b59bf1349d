package io.clearinghouse.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The failover settings every way of running a node ships with (the default application.conf,
 * ./run.sh and deploy/local's local.conf, Kubernetes' kubernetes.conf): fast (about 20 s from a
 * node's death to its accounts answering elsewhere, not Pekko's 45 s) and safe (a Split Brain
 * Resolver, no shorter margins than Pekko recommends, remembered accounts restarted at a bounded
 * rate). NodeKillIntegrationTest measures the failover with them.
 */
class FailoverSettingsTest {
  private static Config shipped(String resource) {
    return ConfigFactory.parseResources(resource).withFallback(ConfigFactory.defaultReference()).resolve();
  }

  @ParameterizedTest
  @ValueSource(strings = {"application.conf", "local.conf", "kubernetes.conf"})
  void failoverIsFastAndSafe(String resource) {
    Config config = shipped(resource);
    assertEquals("org.apache.pekko.cluster.sbr.SplitBrainResolverProvider",
        config.getString("pekko.cluster.downing-provider-class"));
    assertEquals("keep-majority", config.getString("pekko.cluster.split-brain-resolver.active-strategy"));
    assertEquals("on", config.getString("pekko.cluster.split-brain-resolver.down-all-when-unstable"));
    Duration stableAfter = config.getDuration("pekko.cluster.split-brain-resolver.stable-after");
    Duration margin = config.getDuration("pekko.cluster.down-removal-margin");
    Duration pause = config.getDuration("pekko.cluster.failure-detector.acceptable-heartbeat-pause");
    Duration heartbeat = config.getDuration("pekko.cluster.failure-detector.heartbeat-interval");
    // Pekko's recommended minimum for up to 5 nodes, and never a shorter margin than it.
    assertTrue(stableAfter.compareTo(Duration.ofSeconds(7)) >= 0, "stable-after " + stableAfter);
    assertTrue(margin.compareTo(stableAfter) >= 0, "down-removal-margin " + margin + " < stable-after");
    // Noticing (heartbeats missed beyond the acceptable pause) plus deciding plus the margin.
    Duration expected = heartbeat.plus(pause).plus(Duration.ofSeconds(1)).plus(stableAfter).plus(margin);
    assertTrue(expected.compareTo(Duration.ofSeconds(20)) <= 0, "expected failover " + expected);
    assertTrue(pause.compareTo(Duration.ofSeconds(3)) >= 0, "acceptable-heartbeat-pause " + pause);
    // Remembered accounts restart a batch at a time after a failover.
    assertEquals("constant", config.getString("pekko.cluster.sharding.entity-recovery-strategy"));
    assertTrue(config.getInt("pekko.cluster.sharding.entity-recovery-constant-rate-strategy.number-of-entities") > 0);
    assertTrue(config.getBoolean("pekko.cluster.sharding.remember-entities"));
  }
}
