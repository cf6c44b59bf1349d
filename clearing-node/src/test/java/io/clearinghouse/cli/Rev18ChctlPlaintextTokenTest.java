package io.clearinghouse.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Review rev18, finding 1 (medium): chctl sent its bearer token in plaintext to a node off
 * loopback when TLS was not asked for: {@code CLEARINGHOUSE_GRPC=10.0.0.5:8080 chctl account
 * alice-1} opened an h2c connection and sent {@code authorization: Bearer <token>} in the clear
 * (the node on TLS then refused it, but the token had already crossed the network), and {@code
 * CLEARINGHOUSE_MANAGEMENT=http://10.0.0.5:8558 chctl members} sent {@code Authorization: Bearer
 * <token>} in plain HTTP/1.1. Now chctl refuses (usage error, nothing sent) to send a token in
 * plaintext to any host but loopback, and names --tls / CLEARINGHOUSE_TLS and https://.
 */
class Rev18ChctlPlaintextTokenTest {
  private static final String TOKEN = "rev18-secret-operator-token";

  private record Run(int status, String out, String err) {}

  private static Run run(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    int status;
    try (Chctl chctl = new Chctl(env, new PrintStream(out, true, StandardCharsets.UTF_8))) {
      status = chctl.commandLine(new PrintWriter(err, true)).execute(args);
    }
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString());
  }

  /** An address of this machine that is not loopback (the node's pod IP, as chctl would be given). */
  private static Optional<InetAddress> offLoopback() throws Exception {
    for (NetworkInterface nic : java.util.Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!nic.isUp() || nic.isLoopback()) {
        continue;
      }
      for (InetAddress address : java.util.Collections.list(nic.getInetAddresses())) {
        if (address instanceof Inet4Address && !address.isLoopbackAddress() && !address.isLinkLocalAddress()) {
          return Optional.of(address);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * What a listener on {@code server} received until a second after {@code returned} completed
   * (chctl's call returned and chctl was closed), and at most 4 s (empty when nobody connected).
   * A connection chctl opened during its call is in the listener's queue by the time the call
   * returns (the kernel completes it without an accept); the second covers anything it left running.
   */
  private static CompletableFuture<String> received(ServerSocket server, CompletableFuture<Void> returned) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        server.setSoTimeout(100);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
        long afterReturn = Long.MAX_VALUE;
        while (true) {
          try (Socket socket = server.accept()) {
            socket.setSoTimeout(1500);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[4096];
            try {
              for (int n; (n = in.read(buffer)) > 0 && bytes.size() < 65536; ) {
                bytes.write(buffer, 0, n);
              }
            } catch (SocketTimeoutException done) {
              // the client waits for an answer that never comes
            }
            return "CONNECTED:" + bytes.toString(StandardCharsets.ISO_8859_1);
          } catch (SocketTimeoutException nobodyYet) {
            long now = System.nanoTime();
            if (returned.isDone() && afterReturn == Long.MAX_VALUE) {
              afterReturn = now + TimeUnit.SECONDS.toNanos(1);
            }
            if (now - Math.min(deadline, afterReturn) >= 0) {
              return "";
            }
          }
        }
      } catch (Exception e) {
        return "ERROR:" + e;
      }
    });
  }

  @Test
  void aTokenIsNeverSentInPlaintextToTheManagementPortOffLoopback() throws Exception {
    Optional<InetAddress> address = offLoopback();
    Assumptions.assumeTrue(address.isPresent(), "this machine has no address off loopback");
    try (ServerSocket server = new ServerSocket(0, 5, address.get())) {
      CompletableFuture<Void> returned = new CompletableFuture<>();
      CompletableFuture<String> got = received(server, returned);
      Run members = run(Map.of("CLEARINGHOUSE_TOKEN", TOKEN, "CLEARINGHOUSE_MANAGEMENT",
          "http://" + address.get().getHostAddress() + ":" + server.getLocalPort()), "--timeout", "2", "members");
      returned.complete(null);
      String wire = got.get(10, TimeUnit.SECONDS);
      assertFalse(wire.contains(TOKEN), "the token crossed the network in plaintext:\n" + wire);
      assertEquals("", wire, "chctl connected in plaintext with a token");
      assertEquals(Chctl.USAGE, members.status(), members.err());
      assertTrue(members.err().contains("https://"), members.err());
    }
  }

  @Test
  void aTokenIsNeverSentInPlaintextToTheGrpcPortOffLoopback() throws Exception {
    Optional<InetAddress> address = offLoopback();
    Assumptions.assumeTrue(address.isPresent(), "this machine has no address off loopback");
    try (ServerSocket server = new ServerSocket(0, 5, address.get())) {
      CompletableFuture<Void> returned = new CompletableFuture<>();
      CompletableFuture<String> got = received(server, returned);
      Run account = run(Map.of("CLEARINGHOUSE_TOKEN", TOKEN, "CLEARINGHOUSE_GRPC",
          address.get().getHostAddress() + ":" + server.getLocalPort()), "--timeout", "2", "account", "alice-1");
      returned.complete(null);
      String wire = got.get(10, TimeUnit.SECONDS);
      assertEquals("", wire, "chctl opened a plaintext (h2c) connection carrying its token");
      assertEquals(Chctl.USAGE, account.status(), account.err());
      assertTrue(account.err().contains("--tls"), account.err());
    }
  }

  @Test
  void loopbackStaysPlaintextForTheLocalMode() {
    // Port 1 on loopback: nothing answers, so the call goes as far as the network (UNAVAILABLE), not refused as usage.
    Run account = run(Map.of("CLEARINGHOUSE_TOKEN", TOKEN, "CLEARINGHOUSE_GRPC", "127.0.0.1:1",
        "CLEARINGHOUSE_MANAGEMENT", "http://localhost:1"), "--timeout", "2", "account", "alice-1");
    assertEquals(Chctl.UNAVAILABLE, account.status(), account.err());
    Run members = run(Map.of("CLEARINGHOUSE_TOKEN", TOKEN, "CLEARINGHOUSE_MANAGEMENT", "http://localhost:1"),
        "--timeout", "2", "members");
    assertEquals(Chctl.UNAVAILABLE, members.status(), members.err());
  }
}
