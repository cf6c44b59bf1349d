package io.clearinghouse.it;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.clearinghouse.Main;
import io.clearinghouse.api.Authenticator;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.persistence.CassandraSchema;
import io.clearinghouse.persistence.LocalCassandra;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;

/**
 * Real nodes for integration tests: each on free loopback ports, against the real local Cassandra
 * (started once per test JVM), in a keyspace of its own so test classes never see each other's data.
 */
public final class TestNodes {
  public static final String OPERATOR_TOKEN = "it-operator-token";
  public static final String ALICE_TOKEN = "it-alice-token";
  public static final String BOB_TOKEN = "it-bob-token";
  public static final String ENGINE_TOKEN = "it-engine-token";
  /** A read-only monitor token (as Prometheus is given), named {@code prometheus}. */
  public static final String MONITOR_TOKEN = "it-monitor-token";
  public static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  private TestNodes() {}

  /** A fresh pair of keyspaces with the schema applied. */
  public static String newKeyspace(String prefix) {
    LocalCassandra cassandra = LocalCassandra.shared();
    String keyspace = (prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10))
        .toLowerCase(Locale.ROOT);
    CassandraSchema.apply(cassandra.contactPoint(), "datacenter1", keyspace, keyspace + "_snap");
    return keyspace;
  }

  /** Configuration of one node using {@code keyspace}; {@code extra} overrides anything. */
  public static Config nodeConfig(String keyspace, String extra) {
    String contactPoint = LocalCassandra.shared().contactPoint();
    // As Main.main does: the build's persisted format, compared at join (a test of two builds restamps it).
    return io.clearinghouse.PersistedFormat.stamp(ConfigFactory.parseString(extra)
        .withFallback(ConfigFactory.parseString(String.join("\n",
            "clearinghouse.grpc.port = " + freePort(),
            "pekko.management.http.port = " + freePort(),
            "pekko.remote.artery.canonical.port = " + freePort(),
            "pekko.persistence.cassandra.journal.keyspace = " + keyspace,
            "pekko.persistence.cassandra.snapshot.keyspace = " + keyspace + "_snap",
            "datastax-java-driver.basic.contact-points = [\"" + contactPoint + "\"]",
            "pekko.coordinated-shutdown.exit-jvm = off",
            // Most tests trade without a feeder; the tests of the market checks turn it on.
            "clearinghouse.require-mark = off",
            // No funding unless a test asks for it: an interval ending during a test would move money it does not expect.
            "clearinghouse.funding.enabled = off",
            // The tests' accounts trade above the beginner profile's 3x; its own test turns it on.
            "clearinghouse.account.beginner-leverage = 0",
            // Tests call faster than one client token may in production (QuotaIntegrationTest sets its own).
            "clearinghouse.quotas.client { requests-per-second = 100000, burst = 100000 }",
            "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
            "clearinghouse.auth.tokens = [",
            "  { name = operator, role = operator, sha256 = \"" + Authenticator.sha256Hex(OPERATOR_TOKEN) + "\" }",
            "  { name = alice, role = client, sha256 = \"" + Authenticator.sha256Hex(ALICE_TOKEN)
                + "\", accounts = [alice-1, alice-2, alice-unopened] }",
            "  { name = bob, role = client, sha256 = \"" + Authenticator.sha256Hex(BOB_TOKEN) + "\", accounts = [bob-1] }",
            "  { name = engine, role = engine, sha256 = \"" + Authenticator.sha256Hex(ENGINE_TOKEN) + "\" }",
            "  { name = prometheus, role = monitor, sha256 = \"" + Authenticator.sha256Hex(MONITOR_TOKEN) + "\" }",
            String.join("\n", Feeders.tokenEntries()),
            "]",
            // Tests not about the jump hold publish confirmed moves at once (the price-integrity
            // suite sets its own).
            "clearinghouse.price-feed.jump-confirm-time = 0s")))
        .withFallback(ConfigFactory.load())
        .resolve());
  }

  public static Main.Node start(Config config) {
    try {
      return startOnce(config);
    } catch (PortTaken taken) {
      // A port free when handed out was taken before the node bound it (another socket's): the
      // same node on two other ports, once. Its remoting port is kept (the other nodes' seeds).
      System.err.println("TestNodes: " + taken.getMessage() + "; starting it again on other ports");
      return startOnce(config
          .withValue("clearinghouse.grpc.port", ConfigValueFactory.fromAnyRef(freePort()))
          .withValue("pekko.management.http.port", ConfigValueFactory.fromAnyRef(freePort())));
    }
  }

  /** A node that could not bind one of its ports. */
  private static final class PortTaken extends IllegalStateException {
    PortTaken(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private static Main.Node startOnce(Config config) {
    long began = System.nanoTime();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), Main.SYSTEM_NAME, config);
    try {
      return Main.init(system).toCompletableFuture().get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      system.terminate();
      // Its remoting port is free again before another node takes it.
      system.getWhenTerminated().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).exceptionally(x -> null).join();
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      // The report names the root cause in its one summary line (a CI log shows little more).
      String message = "node did not start after " + Duration.ofNanos(System.nanoTime() - began).toMillis()
          + " ms (grpc port " + config.getInt("clearinghouse.grpc.port") + ", management port "
          + config.getInt("pekko.management.http.port") + "): " + root;
      // Pekko's own bind failure may not chain the JDK's: its name or message says so.
      if (root instanceof java.net.BindException || root.getClass().getName().contains("BindFailed")
          || String.valueOf(root.getMessage()).contains("already in use")) {
        throw new PortTaken(message, e);
      }
      throw new IllegalStateException(message, e);
    }
  }

  public static void stop(Main.Node node) {
    node.system().terminate();
    node.system().getWhenTerminated().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
  }

  /** An actor system for gRPC clients only: no cluster, nothing shared with the node. */
  public static ActorSystem<Void> clientSystem() {
    return ActorSystem.create(Behaviors.empty(), "clients", ConfigFactory.parseString(
        "pekko.actor.provider = local")
        .withFallback(ConfigFactory.defaultReference()));
  }

  public static GrpcClientSettings clientSettings(Main.Node node, ActorSystem<?> clients) {
    return GrpcClientSettings.connectToServiceAt("127.0.0.1", node.grpcAddress().getPort(), clients).withTls(false);
  }

  /**
   * A loopback port free now and never handed out before in this JVM: the kernel may offer a port again
   * once it is closed, and two of one node's ports (or a stopped node's and a new one's) must not meet.
   */
  static int freePort() {
    while (true) {
      try (ServerSocket socket = new ServerSocket(0)) {
        int port = socket.getLocalPort();
        if (HANDED_OUT.add(port)) {
          return port;
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();
}
