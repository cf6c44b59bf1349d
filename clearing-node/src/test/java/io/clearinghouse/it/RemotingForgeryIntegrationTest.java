package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.Main;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;

/**
 * A forged remoting message against a real node whose remoting is Artery {@code tls-tcp} with
 * mutual TLS (issue 18, item 2): two other actor systems, one with a certificate of another
 * authority and one speaking plain TCP, send a sharding envelope with a deposit to the node's
 * account shard region and the same deposit straight to the account entity's path. Neither
 * reaches the account: its cash and its journal stay as they were, and no reply comes back. Raw
 * connections are closed by the node: plain bytes, and a TLS client presenting the foreign
 * certificate. A third system with a certificate of the cluster's authority sends the same
 * envelope and is answered, so the forged messages were well-formed: only the certificate kept
 * them out. Ends with the ledger audit.
 */
class RemotingForgeryIntegrationTest {
  /** How long the strangers are given to get a message in (they are refused at the handshake). */
  private static final Duration REFUSED_FOR = Duration.ofSeconds(10);
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String ACCOUNT = "alice-1";

  private static String tlsFiles(Path files) {
    return tlsFiles(files, files.resolve("ca.crt"));
  }

  /** The rotating-keys engine presenting the key pair in {@code files} and trusting the authority in {@code ca}. */
  private static String tlsFiles(Path files, Path ca) {
    return "pekko.remote.artery.ssl.rotating-keys-engine { key-file = \"" + files.resolve("tls.key")
        + "\", cert-file = \"" + files.resolve("tls.crt") + "\", ca-cert-file = \"" + ca + "\" }\n";
  }

  /** An actor system that is not a member of the node's cluster and never asks to be. */
  private static ActorSystem<Void> outsider(String name, String transport, String tls) {
    Config config = ConfigFactory.parseString(tls + String.join("\n",
            "pekko.remote.artery.transport = " + transport,
            "pekko.remote.artery.canonical.port = " + TestNodes.freePort(),
            "pekko.cluster.seed-nodes = []",
            "pekko.coordinated-shutdown.exit-jvm = off",
            "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off"))
        .withFallback(ConfigFactory.load()).resolve();
    return ActorSystem.create(Behaviors.empty(), name, config);
  }

  @Test
  void aForgedShardingEnvelopeFromOutsideTheClusterNeverReachesAnAccount() throws Exception {
    TestCertificates.Authority cluster = TestCertificates.authority("forgery-cluster-ca");
    TestCertificates.Authority foreign = TestCertificates.authority("forgery-foreign-ca");
    Path foreignFiles = foreign.issue("mallory");
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("forgery"),
        tlsFiles(cluster.issue("node-a")) + "pekko.remote.artery.transport = tls-tcp"));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    List<ActorSystem<?>> outsiders = new ArrayList<>();
    try {
      assertEquals("tls-tcp", node.system().settings().config().getString("pekko.remote.artery.transport"));
      AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(node, clients), clients);
      call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId(ACCOUNT).build());
      call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId(ACCOUNT).setAmount("100")
          .setIdempotencyKey("d-1").build());
      Accounts accounts = new Accounts(node.system(), Duration.ofSeconds(10));
      long cashBefore = Calls.await(accounts.get(ACCOUNT)).cash();
      long eventsBefore = events(node);
      assertEquals(100_000_000L, cashBefore);

      String nodeAddress = node.system().address().toString();
      String region = nodeAddress + "/system/sharding/" + AccountEntity.TYPE_KEY.name();
      String entity = region + "/*/" + ACCOUNT;

      // The strangers: another authority's certificate (trusting the cluster's authority, whose
      // certificate is public, so that only the node's check of the stranger's certificate can
      // keep it out), and plain TCP.
      ActorSystem<Void> stranger = outsider(Main.SYSTEM_NAME, "tls-tcp", tlsFiles(foreignFiles, cluster.caFile()));
      ActorSystem<Void> plaintext = outsider(Main.SYSTEM_NAME, "tcp", "");
      outsiders.add(stranger);
      outsiders.add(plaintext);
      List<TestProbe<AccountEntity.Reply>> strangerReplies = new ArrayList<>();
      for (ActorSystem<Void> outsider : List.of(stranger, plaintext)) {
        TestProbe<AccountEntity.Reply> replies = TestProbe.create(outsider);
        strangerReplies.add(replies);
        for (int i = 0; i < 3; i++) {
          outsider.classicSystem().actorSelection(region).tell(new ShardingEnvelope<>(ACCOUNT,
              new AccountEntity.Deposit("forged-" + i, 1_000_000_000L, "mallory", replies.getRef())),
              org.apache.pekko.actor.ActorRef.noSender());
          outsider.classicSystem().actorSelection(entity).tell(
              new AccountEntity.Deposit("forged-direct-" + i, 1_000_000_000L, "mallory", replies.getRef()),
              org.apache.pekko.actor.ActorRef.noSender());
        }
      }
      strangerReplies.get(0).expectNoMessage(REFUSED_FOR);
      strangerReplies.get(1).expectNoMessage(Duration.ofSeconds(1));

      // The node closes raw connections that do not bring the cluster's certificate.
      int remotingPort = node.system().address().getPort().get();
      assertClosed(plainConnection(remotingPort), "plain TCP");
      assertClosed(tlsConnection(remotingPort, foreignFiles, cluster.trustManager()), "foreign certificate");

      // The account is as it was: same cash, not one event more in its journal.
      assertEquals(cashBefore, Calls.await(accounts.get(ACCOUNT)).cash());
      assertEquals(eventsBefore, events(node));

      // The same envelope from a system with the cluster's certificate is delivered and answered.
      ActorSystem<Void> insider = outsider(Main.SYSTEM_NAME, "tls-tcp", tlsFiles(cluster.issue("insider")));
      outsiders.add(insider);
      TestProbe<AccountEntity.Reply> insiderReplies = TestProbe.create(insider);
      insider.classicSystem().actorSelection(region).tell(new ShardingEnvelope<>(ACCOUNT,
          new AccountEntity.Deposit("insider-1", 1_000_000L, "insider", insiderReplies.getRef())),
          org.apache.pekko.actor.ActorRef.noSender());
      assertInstanceOf(AccountEntity.Transferred.class, insiderReplies.receiveMessage(WAIT));
      assertEquals(cashBefore + 1_000_000L, Calls.await(accounts.get(ACCOUNT)).cash());
      assertEquals(eventsBefore + 1, events(node));

      LedgerAudit.Report audit = Calls.await(new LedgerAudit(node.system(), accounts, TestNodes.INSTRUMENTS).run());
      assertTrue(audit.clean(), audit.violations().toString());
      assertEquals(List.of(1, 101_000_000L, 101_000_000L), List.of(audit.accounts(), audit.totalCash(),
          audit.deposits()));
    } finally {
      outsiders.forEach(ActorSystem::terminate);
      outsiders.forEach(s -> s.getWhenTerminated().toCompletableFuture().join());
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  private static long events(Main.Node node) {
    CassandraReadJournal journal = PersistenceQuery.get(node.system())
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    return Calls.await(journal.currentEventsByPersistenceId(AccountEntity.TYPE_KEY.name() + "|" + ACCOUNT, 0L,
        Long.MAX_VALUE).runWith(Sink.seq(), node.system())).size();
  }

  private static Socket plainConnection(int port) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    // What an Artery TCP peer sends first (the protocol's magic and a stream id), then junk.
    socket.getOutputStream().write("PEKKO\u0001forged".getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    return socket;
  }

  private static Socket tlsConnection(int port, Path clientFiles, TrustManager trust) throws Exception {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(clientFiles.resolve("node.p12"))) {
      keys.load(in, "test-only".toCharArray());
    }
    KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, "test-only".toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers.getKeyManagers(), new TrustManager[] {trust}, null);
    SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    try {
      socket.startHandshake();
      socket.getOutputStream().write("PEKKO\u0001forged".getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
    } catch (IOException refused) {
      // Refused during the handshake: closed, as asserted below.
    }
    return socket;
  }

  /** The node ends the connection (end of stream or an error), well before the read timeout. */
  private static void assertClosed(Socket socket, String what) throws IOException {
    try (socket) {
      socket.setSoTimeout((int) WAIT.toMillis());
      int read = socket.getInputStream().read();
      assertEquals(-1, read, what + ": the node answered a byte");
    } catch (SocketTimeoutException e) {
      fail(what + ": the node kept the connection open for " + WAIT);
    } catch (IOException closed) {
      // Reset or a TLS alert: the node refused it.
    }
  }
}
