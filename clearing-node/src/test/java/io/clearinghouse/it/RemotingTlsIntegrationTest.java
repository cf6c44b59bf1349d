package io.clearinghouse.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.Main;
import io.clearinghouse.api.TransportSecurity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.Subscribe;
import org.junit.jupiter.api.Test;

/**
 * Remoting between nodes over mutual TLS (Artery tls-tcp, the node's own cluster.conf, PEM files
 * as cert-manager mounts them): a node with the cluster's authority joins; a node whose
 * certificate another authority signed, and a plaintext node, neither join nor get a message to
 * any actor of the cluster.
 */
class RemotingTlsIntegrationTest {
  private static final Duration JOIN = Duration.ofSeconds(30);
  /** How long the strangers are given to get in (they are refused at the handshake, at once). */
  private static final Duration REFUSED_FOR = Duration.ofSeconds(10);

  private static Config node(int port, int seedPort, String transport, Path files) {
    String tls = files == null ? "" : "pekko.remote.artery.ssl.rotating-keys-engine { key-file = \"" + files.resolve("tls.key")
        + "\", cert-file = \"" + files.resolve("tls.crt") + "\", ca-cert-file = \"" + files.resolve("ca.crt") + "\" }\n";
    return ConfigFactory.parseString(tls + String.join("\n",
            "pekko.remote.artery.transport = " + transport,
            "pekko.remote.artery.canonical.port = " + port,
            "pekko.cluster.seed-nodes = [\"pekko://" + Main.SYSTEM_NAME + "@127.0.0.1:" + seedPort + "\"]",
            "pekko.coordinated-shutdown.exit-jvm = off",
            "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off"))
        .withFallback(io.clearinghouse.PersistedFormat.stamp(ConfigFactory.load())).resolve();
  }

  @Test
  void onlyNodesOfTheClustersAuthorityJoinOrReachAnActor() {
    TestCertificates.Authority cluster = TestCertificates.authority("it-cluster-ca");
    TestCertificates.Authority foreign = TestCertificates.authority("it-foreign-ca");
    int seedPort = TestNodes.freePort();
    List<ActorSystem<?>> systems = new ArrayList<>();
    try {
      Config seedConfig = node(seedPort, seedPort, "tls-tcp", cluster.issue("node-a"));
      TransportSecurity.fromConfig(seedConfig);
      ActorSystem<Void> seed = ActorSystem.create(Behaviors.empty(), Main.SYSTEM_NAME, seedConfig);
      systems.add(seed);
      TestProbe<ClusterEvent.MemberUp> ups = TestProbe.create(seed);
      Cluster.get(seed).subscriptions().tell(Subscribe.create(ups.getRef(), ClusterEvent.MemberUp.class));
      TestProbe<String> received = TestProbe.create(seed);
      ActorRef<String> target = seed.systemActorOf(Behaviors.receiveMessage(message -> {
        received.getRef().tell(message);
        return Behaviors.same();
      }), "target", org.apache.pekko.actor.typed.Props.empty());

      ActorSystem<Void> member = ActorSystem.create(Behaviors.empty(), Main.SYSTEM_NAME,
          node(TestNodes.freePort(), seedPort, "tls-tcp", cluster.issue("node-b")));
      systems.add(member);
      ActorSystem<Void> stranger = ActorSystem.create(Behaviors.empty(), Main.SYSTEM_NAME,
          node(TestNodes.freePort(), seedPort, "tls-tcp", foreign.issue("node-c")));
      systems.add(stranger);
      ActorSystem<Void> plaintext = ActorSystem.create(Behaviors.empty(), Main.SYSTEM_NAME,
          node(TestNodes.freePort(), seedPort, "tcp", null));
      systems.add(plaintext);

      // The member of the cluster's authority joins: two Up members.
      ups.awaitAssert(JOIN, () -> {
        assertEquals(Set.of(seedPort, member.address().getPort().get()), upPorts(seed));
        return null;
      });
      // A message from the member reaches the seed's actor; the same from the strangers never does.
      String path = target.path().toStringWithAddress(seed.address());
      member.classicSystem().actorSelection(path).tell("from the member", org.apache.pekko.actor.ActorRef.noSender());
      received.expectMessage(JOIN, "from the member");
      for (int i = 0; i < 5; i++) {
        stranger.classicSystem().actorSelection(path).tell("forged", org.apache.pekko.actor.ActorRef.noSender());
        plaintext.classicSystem().actorSelection(path).tell("forged", org.apache.pekko.actor.ActorRef.noSender());
      }
      received.expectNoMessage(REFUSED_FOR);
      // ...and neither stranger ever became a member.
      assertEquals(Set.of(seedPort, member.address().getPort().get()), upPorts(seed));
      assertEquals(2, StreamSupport.stream(Cluster.get(seed).state().getMembers().spliterator(), false).count());
      assertTrue(Cluster.get(stranger).selfMember().status() != MemberStatus.up());
      assertTrue(Cluster.get(plaintext).selfMember().status() != MemberStatus.up());
    } finally {
      systems.forEach(ActorSystem::terminate);
      systems.forEach(s -> s.getWhenTerminated().toCompletableFuture().join());
    }
  }

  @Test
  void plaintextRemotingOffLoopbackAndMissingCertificatesStopTheNode() {
    ConfigException plain = assertThrows(ConfigException.class, () -> TransportSecurity.fromConfig(ConfigFactory
        .parseString("pekko.remote.artery.canonical.hostname = \"10.1.2.3\"").withFallback(ConfigFactory.load()).resolve()));
    assertTrue(plain.getMessage().contains("pekko.remote.artery.transport"), plain.getMessage());
    ConfigException missing = assertThrows(ConfigException.class, () -> TransportSecurity.fromConfig(ConfigFactory
        .parseString("pekko.remote.artery.transport = tls-tcp").withFallback(ConfigFactory.load()).resolve()));
    assertTrue(missing.getMessage().contains("pekko.remote.artery.ssl.rotating-keys-engine.key-file"),
        missing.getMessage());
  }

  private static Set<Integer> upPorts(ActorSystem<?> system) {
    return StreamSupport.stream(Cluster.get(system).state().getMembers().spliterator(), false)
        .filter(m -> m.status() == MemberStatus.up())
        .map(m -> m.address().getPort().get()).collect(Collectors.toSet());
  }
}
