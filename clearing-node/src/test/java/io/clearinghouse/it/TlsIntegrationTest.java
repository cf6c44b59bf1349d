package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.cli.Chctl;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.junit.jupiter.api.Test;

/**
 * A node with TLS on both its ports (PEM files from a certificate authority made in the test):
 * TLS clients that trust the authority are served, over gRPC (pekko-grpc and chctl) and the
 * management port; a plaintext client and a client trusting another authority are not.
 */
class TlsIntegrationTest {
  private record Run(int status, String out, String err) {}

  @Test
  void tlsClientsAreServedPlaintextAndStrangersAreNot() throws Exception {
    TestCertificates.Authority ca = TestCertificates.authority("it-grpc-ca");
    TestCertificates.Authority other = TestCertificates.authority("it-other-ca");
    Path files = ca.issue("node-1");
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("tls"), "clearinghouse.tls { enabled = on, "
        + "cert-file = \"" + files.resolve("tls.crt") + "\", key-file = \"" + files.resolve("tls.key") + "\" }"));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      int grpcPort = node.grpcAddress().getPort();
      assertTrue(node.managementUri().startsWith("https://"), node.managementUri());
      String management = node.managementUri().replaceAll("/$", "");

      // gRPC over TLS, trusting the authority: served.
      AdminServiceClient admin = AdminServiceClient.create(GrpcClientSettings.connectToServiceAt("127.0.0.1", grpcPort,
          clients).withTls(true).withTrustManager(ca.trustManager()), clients);
      call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("alice-1").build());
      assertEquals("100.000000", call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder()
          .setAccountId("alice-1").setAmount("100").setIdempotencyKey("tls-1").build()).getCashAfter());

      // chctl over TLS, trusting the authority: gRPC and the management port.
      Map<String, String> env = new HashMap<>(Map.of("CLEARINGHOUSE_GRPC", "127.0.0.1:" + grpcPort,
          "CLEARINGHOUSE_MANAGEMENT", management, "CLEARINGHOUSE_TOKEN", OPERATOR_TOKEN,
          "CLEARINGHOUSE_CA_FILE", ca.caFile().toString()));
      Run deposit = chctl(env, "deposit", "alice-1", "50", "tls-2");
      assertEquals(0, deposit.status(), deposit.err());
      assertTrue(deposit.out().contains("cash after    150.000000"), deposit.out());
      Run members = chctl(env, "members");
      assertEquals(0, members.status(), members.err());
      assertTrue(members.out().contains("\"status\":\"Up\""), members.out());

      // The management port over TLS with Java's own client.
      HttpClient trusting = HttpClient.newBuilder().sslContext(ca.clientContext()).build();
      assertEquals(200, trusting.send(HttpRequest.newBuilder(URI.create(management + "/alive")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode());

      // A plaintext chctl: no answer (UNAVAILABLE, 69), nothing done.
      Map<String, String> plain = new HashMap<>(env);
      plain.remove("CLEARINGHOUSE_CA_FILE");
      plain.put("CLEARINGHOUSE_MANAGEMENT", management.replace("https://", "http://"));
      Run refused = chctl(plain, "--timeout", "5", "deposit", "alice-1", "1", "tls-3");
      assertEquals(69, refused.status(), refused.out() + refused.err());
      Run plainMembers = chctl(plain, "--timeout", "5", "members");
      assertNotEquals(0, plainMembers.status(), plainMembers.out());
      assertThrows(IOException.class, () -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create(management.replace("https://", "http://") + "/alive")).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString()));

      // A client trusting another authority refuses the node's certificate.
      Map<String, String> stranger = new HashMap<>(env);
      stranger.put("CLEARINGHOUSE_CA_FILE", other.caFile().toString());
      Run strange = chctl(stranger, "--timeout", "5", "deposit", "alice-1", "1", "tls-4");
      assertEquals(69, strange.status(), strange.out() + strange.err());
      HttpClient wrongTrust = HttpClient.newBuilder().sslContext(other.clientContext()).build();
      assertThrows(IOException.class, () -> wrongTrust.send(HttpRequest.newBuilder(URI.create(management + "/alive"))
          .build(), HttpResponse.BodyHandlers.ofString()));

      // Only the two deposits over TLS moved money.
      LedgerAudit.Report report = await(new LedgerAudit(node.system(), new Accounts(node.system(),
          Duration.ofSeconds(10)), TestNodes.INSTRUMENTS).run());
      assertTrue(report.clean(), "ledger audit: " + report.violations());
      assertEquals(150_000_000L, report.deposits());
      assertEquals(report.deposits(), report.totalCash());
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  private static Run chctl(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    int status;
    try (Chctl chctl = new Chctl(env, new PrintStream(out, true, StandardCharsets.UTF_8))) {
      status = chctl.commandLine(new PrintWriter(err, true)).execute(args);
    }
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString());
  }
}
