package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.ops.ReadinessCheck;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The transport settings as shipped (application.conf, and the local and Kubernetes files that
 * include it): quiet streams are kept alive by pings well within the idle timeout, stream resets
 * are throttled, connections are limited, a unary call ends with a gRPC status of ours before
 * pekko-http's request timeout, and readiness depends on nothing but the node.
 */
class TransportConfigTest {

  @ParameterizedTest
  @ValueSource(strings = {"application.conf", "local.conf", "kubernetes.conf"})
  void shippedTransportSettingsHoldTogether(String resource) {
    Config config = load(resource);
    Config server = config.getConfig("pekko.http.server");
    Duration idle = server.getDuration("idle-timeout");
    Duration ping = server.getDuration("http2.ping-interval");
    Duration pingTimeout = server.getDuration("http2.ping-timeout");
    assertTrue(ping.compareTo(Duration.ZERO) > 0, "no keep-alive pings: quiet streams die at the idle timeout");
    assertTrue(ping.multipliedBy(2).compareTo(idle) <= 0, "ping-interval " + ping + " too close to idle-timeout " + idle);
    assertTrue(pingTimeout.compareTo(Duration.ZERO) > 0 && pingTimeout.compareTo(ping) <= 0
        && ping.toMillis() % pingTimeout.toMillis() == 0, "ping-timeout must divide ping-interval: " + pingTimeout);
    assertTrue(server.getStringList("http2.frame-type-throttle.frame-types").contains("reset"),
        "HTTP/2 stream resets are not throttled (CVE-2023-44487)");
    int connections = server.getInt("max-connections");
    assertTrue(connections > 0 && connections <= 1024, "max-connections " + connections);
    assertTrue(server.getBytes("http2.incoming-connection-level-buffer-size") <= 1L << 20);

    GrpcGuard.Settings grpc = GrpcGuard.Settings.fromConfig(config);
    assertEquals(1L << 20, grpc.maxMessageBytes());
    assertTrue(grpc.maxUnauthenticatedMessageBytes() <= 16 * 1024);
    assertTrue(grpc.unaryTimeout().compareTo(server.getDuration("request-timeout")) < 0,
        "a unary call must end with our status before pekko-http's request timeout");
    assertTrue(grpc.unaryTimeout().compareTo(config.getDuration("clearinghouse.account.ask-timeout").multipliedBy(2)) > 0,
        "a unary call of two account asks must get their TIMEOUT, not the call's");
    assertEquals(Duration.ofMinutes(10), grpc.unaryTimeout("/clearing.v1.AdminService/Audit"));
    assertEquals(grpc.unaryTimeout(), grpc.unaryTimeout("/clearing.v1.AdminService/Deposit"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"application.conf", "local.conf", "kubernetes.conf"})
  void readinessIsAnUpMemberWhoseJournalAnswersAndWhoseUnitsAgreeAndNothingElse(String resource) throws Exception {
    Config checks = load(resource).getConfig("pekko.management.health-checks.readiness-checks");
    Map<String, Object> named = new java.util.HashMap<>(checks.root().unwrapped());
    named.values().removeIf(""::equals);
    assertEquals(Map.of("cluster-membership", "io.clearinghouse.ops.ClusterUpCheck",
        "journal", "io.clearinghouse.ops.JournalHealthCheck", "instrument-units", "io.clearinghouse.ops.UnitsCheck"),
        named);
    for (Object className : named.values()) {
      assertTrue(ReadinessCheck.class.isAssignableFrom(Class.forName((String) className)),
          className + " must name itself when it fails");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"10s", "40s"})
  void aUnaryTimeoutNotAboveTheAskTimeoutIsRefusedAtStart(String unary) {
    Config config = ConfigFactory.parseString("clearinghouse.grpc.unary-timeout = " + unary
        + "\nclearinghouse.account.ask-timeout = 10s").withFallback(ConfigFactory.load()).resolve();
    if (unary.equals("10s")) {
      ConfigException e = assertThrows(ConfigException.BadValue.class, () -> GrpcGuard.Settings.fromConfig(config));
      assertTrue(e.getMessage().contains("clearinghouse.grpc.unary-timeout"), e.getMessage());
    } else {
      assertEquals(Duration.ofSeconds(40), GrpcGuard.Settings.fromConfig(config).unaryTimeout());
    }
  }

  /** The resource as the node loads it (kubernetes.conf's tokens file is absent here, and optional to HOCON). */
  private static Config load(String resource) {
    return ConfigFactory.parseResourcesAnySyntax(resource).withFallback(ConfigFactory.defaultReference()).resolve();
  }
}
