package io.clearinghouse.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.api.Authenticator;
import io.clearinghouse.persistence.LocalCassandra;
import io.clearinghouse.protocol.v1.AccountServiceClient;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.GZIPOutputStream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Hostile clients against one real node process (its own JVM with a 512 MB heap, read over JMX),
 * at the HTTP/2 frame level with {@link RawHttp2}: a gRPC frame declaring 2 GiB - 1 without a
 * token and with one, a gzip bomb and a compressed frame, a burst of stream resets, hundreds of
 * idle connections. Each is refused early and costs the node no more than a few megabytes of
 * heap; a well-behaved client is served throughout; the books end exactly as they began and the
 * ledger audit is clean. Figures are printed with the prefix {@code ABUSE}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AbuseIntegrationTest {
  private static final String DEPOSIT = "/clearing.v1.AdminService/Deposit";
  private static final String HEALTH_CHECK = "/grpc.health.v1.Health/Check";
  private static final long DECLARED = (1L << 31) - 1;
  /** What each attack tries to push after the frame header: as much as the live run sent. */
  private static final long ATTACK_BYTES = 48L << 20;
  /** The node may keep this much more heap while an attack's connection is open. */
  private static final long HEAP_BUDGET = 16L << 20;
  /** An attack's bytes the node may take in: the message limit, plus HTTP/2 stream and connection windows. */
  private static final long ACCEPTED_BUDGET = 2L << 20;
  private static final Duration STALL = Duration.ofSeconds(2);
  /** The answer comes in milliseconds; this only allows for a busy machine. "Early" is judged by the bytes taken. */
  private static final Duration ANSWER_WITHIN = Duration.ofSeconds(10);
  private static final int IDLE_CONNECTIONS = 300;

  private NodeProcess node;
  private RemoteHeap heap;
  private ActorSystem<Void> clients;
  private AdminServiceClient admin;
  private AccountServiceClient accounts;
  private HealthClient health;
  private AuditReport booksBefore;

  @BeforeAll
  void startNode() {
    String keyspace = TestNodes.newKeyspace("abuse");
    node = NodeProcess.prepare("abuse", Path.of("target", "abuse", keyspace));
    int jmxPort = TestNodes.freePort();
    List<String> jvm = new ArrayList<>(List.of("-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    jvm.addAll(RemoteHeap.jvmOptions(jmxPort));
    node.start(String.join("\n",
        "pekko.persistence.cassandra.journal.keyspace = " + keyspace,
        "pekko.persistence.cassandra.snapshot.keyspace = " + keyspace + "_snap",
        "datastax-java-driver.basic.contact-points = [\"" + LocalCassandra.shared().contactPoint() + "\"]",
        "clearinghouse.persistence.create-schema = false",
        "clearinghouse.local-cassandra.enabled = false",
        "clearinghouse.demo.enabled = false",
        "pekko.coordinated-shutdown.exit-jvm = off",
        // Short enough that the test sees idle connections cut; the shipped value is checked in
        // TransportConfigTest.
        "pekko.http.server.idle-timeout = 4s",
        "clearinghouse.auth.tokens = [",
        "  { name = operator, role = operator, sha256 = \"" + Authenticator.sha256Hex(TestNodes.OPERATOR_TOKEN) + "\" }",
        "  { name = alice, role = client, sha256 = \"" + Authenticator.sha256Hex(TestNodes.ALICE_TOKEN)
            + "\", accounts = [alice-1] }",
        "]"), jvm);
    clients = TestNodes.clientSystem();
    GrpcClientSettings settings = GrpcClientSettings.connectToServiceAt("127.0.0.1", node.grpcPort, clients)
        .withTls(false).withConnectionAttempts(-1);
    admin = AdminServiceClient.create(settings, clients);
    accounts = AccountServiceClient.create(settings, clients);
    health = HealthClient.create(settings, clients);
    awaitCondition("the node answers gRPC", Duration.ofSeconds(120), () -> {
      node.requireAlive();
      try {
        Calls.call(admin.openAccount(), TestNodes.OPERATOR_TOKEN,
            OpenAccountRequest.newBuilder().setAccountId("alice-1").build());
        return true;
      } catch (RuntimeException notYet) {
        return false;
      }
    });
    Calls.call(admin.deposit(), TestNodes.OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("alice-1")
        .setAmount("1000").setIdempotencyKey("seed").build());
    booksBefore = audit();
    heap = RemoteHeap.connect(jmxPort);
    log("node %s, heap max %d MB, in use after GC %d MB", node, heap.max() >> 20, heap.usedAfterGc() >> 20);
  }

  @AfterAll
  void auditAndStop() {
    try {
      if (node != null) {
        node.requireAlive();
        AuditReport after = audit();
        assertTrue(after.getClean(), "ledger audit: " + after.getViolationsList());
        assertEquals(booksBefore, after, "the books changed under attack");
      }
    } finally {
      if (heap != null) {
        heap.close();
      }
      if (clients != null) {
        clients.terminate();
      }
      if (node != null) {
        node.close();
      }
    }
  }

  @Test
  @Order(1)
  void aHugeDeclaredLengthWithoutATokenIsRefusedBeforeAnyBodyIsRead() {
    Attack attack = declareHugeLength(Map.of());
    assertEquals("16", attack.status, "UNAUTHENTICATED expected: " + attack);
    assertTrue(attack.message.startsWith("MISSING_TOKEN: "), attack.toString());
    attack.assertCheap();
    stillServed();
  }

  @Test
  @Order(2)
  void aHugeDeclaredLengthWithATokenIsRefusedAtTheFrameHeader() {
    Attack attack = declareHugeLength(Map.of("authorization", "Bearer " + TestNodes.OPERATOR_TOKEN));
    assertEquals("8", attack.status, "RESOURCE_EXHAUSTED expected: " + attack);
    assertTrue(attack.message.startsWith("MESSAGE_TOO_LARGE: "), attack.toString());
    attack.assertCheap();
    // An unknown token is refused as early as a missing one.
    Attack unknown = declareHugeLength(Map.of("authorization", "Bearer not-a-token"));
    assertEquals("16", unknown.status, unknown.toString());
    assertTrue(unknown.message.startsWith("UNKNOWN_TOKEN: "), unknown.toString());
    unknown.assertCheap();
    stillServed();
  }

  @Test
  @Order(3)
  void aGzipBombAndACompressedFrameAreRefused() {
    byte[] bomb = gzipOfZeros(512);
    for (boolean declaredGzip : new boolean[] {true, false}) {
      long before = heap.usedAfterGc();
      try (RawHttp2 h2 = RawHttp2.connect(node.grpcPort)) {
        long start = System.nanoTime();
        Map<String, String> headers = declaredGzip
            ? Map.of("authorization", "Bearer " + TestNodes.OPERATOR_TOKEN, "grpc-encoding", "gzip")
            : Map.of("authorization", "Bearer " + TestNodes.OPERATOR_TOKEN);
        int id = h2.openGrpc(DEPOSIT, headers, false);
        long accepted = h2.sendData(id, RawHttp2.grpcMessage(true, bomb), true, STALL);
        long held = heap.usedAfterGc() - before;
        RawHttp2.StreamState stream = answered(h2, id);
        log("gzip bomb (%d KB inflating to 512 MB, grpc-encoding %s): status %s '%s', %d bytes taken, answer after %d ms,"
                + " heap +%d KB", bomb.length >> 10, declaredGzip ? "gzip" : "absent (compressed flag only)",
            stream.grpcStatus().orElse("none"), stream.headers.get("grpc-message"), accepted,
            millis(stream.headersAtNanos - start), held >> 10);
        assertEquals("12", stream.grpcStatus().orElse("none"), "UNIMPLEMENTED expected: " + stream.headers);
        assertTrue(stream.headers.getOrDefault("grpc-message", "").startsWith("COMPRESSION_NOT_SUPPORTED: "),
            stream.headers.toString());
        assertTrue(held < HEAP_BUDGET, "the node holds " + (held >> 20) + " MB more");
      }
      node.requireAlive();
    }
    stillServed();
  }

  @Test
  @Order(4)
  void aBurstOfStreamResetsClosesTheConnection() throws Exception {
    int attempts = 5_000;
    try (RawHttp2 h2 = RawHttp2.connect(node.grpcPort)) {
      long start = System.nanoTime();
      int sent = 0;
      try {
        for (; sent < attempts && !h2.isClosed(); sent++) {
          int id = h2.openGrpc(HEALTH_CHECK, Map.of(), false);
          h2.reset(id, 0x8);
        }
      } catch (UncheckedIOException closedMeanwhile) {
        // the server closed the connection while we were still resetting
      }
      // Closed by the reset throttle, with a GOAWAY (the idle timeout, 4 s here, would close it
      // without one).
      try {
        h2.closed.get(10, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        throw new AssertionError("the node still keeps a connection open 10 s after " + sent + " stream resets");
      }
      log("stream resets: connection closed by the node after %d HEADERS+RST_STREAM pairs were written, %d ms,"
          + " GOAWAY %s", sent, millis(System.nanoTime() - start), h2.goAway.getNow(null));
      assertTrue(h2.goAway.isDone(), "closed without a GOAWAY");
    }
    stillServed();
  }

  @Test
  @Order(5)
  void hundredsOfIdleConnectionsNeitherStopOtherClientsNorStay() {
    long before = heap.usedAfterGc();
    List<RawHttp2> prefaceOnly = new ArrayList<>();
    List<Socket> silent = new ArrayList<>();
    try {
      for (int i = 0; i < IDLE_CONNECTIONS; i++) {
        prefaceOnly.add(RawHttp2.connect(node.grpcPort));
        silent.add(RawHttp2.silent(node.grpcPort));
      }
      long held = heap.usedAfterGc() - before;
      long start = System.nanoTime();
      stillServed();
      log("%d idle HTTP/2 connections and %d silent TCP connections: heap +%d MB (%d KB each); another client served"
          + " in %d ms", IDLE_CONNECTIONS, IDLE_CONNECTIONS, held >> 20, held / (2L * IDLE_CONNECTIONS) >> 10,
          millis(System.nanoTime() - start));
      assertTrue(held < 64L << 20, "idle connections hold " + (held >> 20) + " MB");
      // The idle timeout (4 s here) cuts them all.
      awaitCondition("idle connections cut", Duration.ofSeconds(20),
          () -> prefaceOnly.stream().allMatch(RawHttp2::isClosed) && silent.stream().allMatch(AbuseIntegrationTest::cut));
    } finally {
      prefaceOnly.forEach(RawHttp2::close);
      silent.forEach(s -> {
        try {
          s.close();
        } catch (IOException e) {
          // closing anyway
        }
      });
    }
    stillServed();
  }

  /** What one attack achieved. */
  private record Attack(String status, String message, long acceptedBytes, long millisToAnswer, long heapGrowth) {
    void assertCheap() {
      assertTrue(acceptedBytes < ACCEPTED_BUDGET, "the node took " + acceptedBytes + " bytes: " + this);
      assertTrue(heapGrowth < HEAP_BUDGET, "the node holds " + (heapGrowth >> 20) + " MB more: " + this);
      assertTrue(millisToAnswer >= 0 && millisToAnswer < ANSWER_WITHIN.toMillis(), "no early answer: " + this);
    }
  }

  /**
   * Opens a Deposit call with {@code headers}, sends a frame header declaring 2 GiB - 1, then
   * pushes zeros for as long as the node takes them; measures the node's heap while the
   * connection is still open.
   */
  private Attack declareHugeLength(Map<String, String> headers) {
    long before = heap.usedAfterGc();
    try (RawHttp2 h2 = RawHttp2.connect(node.grpcPort)) {
      long start = System.nanoTime();
      int id = h2.openGrpc(DEPOSIT, headers, false);
      long accepted = h2.sendData(id, RawHttp2.grpcHeader(false, DECLARED), false, STALL);
      accepted += h2.sendZeros(id, ATTACK_BYTES, STALL);
      // Measured at once, while the connection is open (the idle timeout would free what it holds).
      long held = heap.usedAfterGc() - before;
      RawHttp2.StreamState stream = answered(h2, id);
      Attack attack = new Attack(stream.grpcStatus().orElse("none"), stream.headers.getOrDefault("grpc-message", ""),
          accepted, stream.headersAtNanos == 0 ? -1 : millis(stream.headersAtNanos - start), held);
      log("declared %d bytes, %s: %s", DECLARED, headers.isEmpty() ? "no token" : "token " + headers.get("authorization"),
          attack);
      return attack;
    } finally {
      node.requireAlive();
    }
  }

  /** Waits for the stream's answer (at most ANSWER_WITHIN); returns the stream whatever came. */
  private static RawHttp2.StreamState answered(RawHttp2 h2, int id) {
    RawHttp2.StreamState stream = h2.stream(id);
    try {
      stream.ended.get(ANSWER_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException noAnswer) {
      // reported by the caller's assertions
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return stream;
  }

  private void stillServed() {
    node.requireAlive();
    AccountView view = Calls.call(accounts.getAccount(), TestNodes.ALICE_TOKEN,
        GetAccountRequest.newBuilder().setAccountId("alice-1").build());
    assertEquals("alice-1", view.getAccountId());
    assertEquals(ServingStatus.SERVING, Calls.await(health.check().invoke(HealthCheckRequest.getDefaultInstance()))
        .getStatus());
  }

  private AuditReport audit() {
    return Calls.call(admin.audit(), TestNodes.OPERATOR_TOKEN, AuditRequest.getDefaultInstance());
  }

  /** gzip of {@code megabytes} MB of zeros: about a thousandth of that on the wire. */
  private static byte[] gzipOfZeros(int megabytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < megabytes; i++) {
        gzip.write(zeros);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Whether the server closed a raw TCP connection (a read sees the end of the stream). */
  private static boolean cut(Socket socket) {
    try {
      socket.setSoTimeout(1);
      return socket.getInputStream().read() < 0;
    } catch (java.net.SocketTimeoutException stillOpen) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  private static void awaitCondition(String what, Duration budget, java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + budget.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + budget + ": " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
    }
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  private static void log(String format, Object... args) {
    System.out.println("ABUSE " + String.format(format, args));
  }
}
