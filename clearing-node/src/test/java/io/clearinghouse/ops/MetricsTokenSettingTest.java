package io.clearinghouse.ops;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 18, finding 1: {@code GET /metrics} needs the operator token unless
 * {@code clearinghouse.management.metrics-token-required} is off, which only local mode
 * ({@code local.conf}, loopback) sets; a value that is not a boolean stops the node naming the key.
 */
class MetricsTokenSettingTest {
  @Test
  void theMetricsTokenIsRequiredOutsideLocalModeAndABadValueStopsTheNodeNamingTheKey() {
    assertTrue(NodeRoutes.metricsTokenRequired(ConfigFactory.load()));
    assertFalse(NodeRoutes.metricsTokenRequired(ConfigFactory.load("local.conf")));
    Config bad = ConfigFactory.parseString("clearinghouse.management.metrics-token-required = sometimes")
        .withFallback(ConfigFactory.load());
    ConfigException e = assertThrows(ConfigException.class, () -> NodeRoutes.metricsTokenRequired(bad));
    assertTrue(e.getMessage().contains("clearinghouse.management.metrics-token-required"), e.getMessage());
  }
}
