package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.ENGINE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.protocol.v1.AccountServiceClient;
import io.clearinghouse.protocol.v1.AccountUpdate;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import io.clearinghouse.protocol.v1.StreamAccountRequest;
import io.clearinghouse.protocol.v1.StreamMarkPricesRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * The gRPC transport of a real node: quiet server streams (StreamAccount, StreamMarkPrices,
 * health Watch) outlive the idle timeout because the node pings (and, as a control, are cut
 * without pings); a request that is not protobuf is INVALID_ARGUMENT with a message, in a stream
 * and in a unary call; no status message starts or ends with whitespace; server reflection answers
 * without a token. The idle timeout and ping
 * interval are scaled down here (6 s and 2 s); TransportConfigTest checks the shipped ones keep
 * the same relation.
 */
class TransportIntegrationTest {
  private static final Duration IDLE = Duration.ofSeconds(6);
  private static final String KEEP_ALIVE = String.join("\n",
      "pekko.http.server.idle-timeout = " + IDLE.toSeconds() + "s",
      "pekko.http.server.http2.ping-interval = 2s",
      "pekko.http.server.http2.ping-timeout = 2s");

  /** The three quiet streams of one client; each completes (normally or not) when its stream ends. */
  private record QuietStreams(CompletableFuture<?> account, CompletableFuture<?> marks, CompletableFuture<?> watch,
      TestProbe<AccountUpdate> updates) {}

  @Test
  void quietStreamsOutliveTheIdleTimeoutThanksToPings() throws Exception {
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("keepalive"), KEEP_ALIVE));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      QuietStreams streams = openQuietStreams(node, clients);
      // Three idle timeouts without a byte of data on any of them: all still open.
      assertThrows(TimeoutException.class, () -> CompletableFuture.anyOf(streams.account, streams.marks, streams.watch)
          .get(3 * IDLE.toMillis(), TimeUnit.MILLISECONDS), "a quiet stream ended");
      // And alive, not just unanswered: a deposit reaches the account stream.
      call(AdminServiceClient.create(TestNodes.clientSettings(node, clients), clients).deposit(), OPERATOR_TOKEN,
          DepositRequest.newBuilder().setAccountId("alice-1").setAmount("5").setIdempotencyKey("late").build());
      streams.updates.fishForMessage(Duration.ofSeconds(10), u -> u.getAccount().getCash().equals("15.000000")
          ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
          : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
      // The node is what keeps the connection alive: a raw client sees its pings.
      try (RawHttp2 raw = RawHttp2.connect(node.grpcAddress().getPort())) {
        int id = raw.openGrpc("/grpc.health.v1.Health/Watch", Map.of(), false);
        raw.sendData(id, RawHttp2.grpcMessage(false, HealthCheckRequest.getDefaultInstance().toByteArray()), true,
            Duration.ofSeconds(2));
        assertThrows(TimeoutException.class, () -> raw.closed.get(2 * IDLE.toMillis(), TimeUnit.MILLISECONDS));
        assertTrue(raw.pingsReceived.get() >= 2, raw.pingsReceived.get() + " pings");
      }
      audit(node);
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  /** The control: the same streams on a node that does not ping are cut at the idle timeout. */
  @Test
  void withoutPingsTheIdleTimeoutCutsQuietStreams() throws Exception {
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("nokeepalive"),
        KEEP_ALIVE + "\npekko.http.server.http2.ping-interval = 0s\npekko.http.server.http2.ping-timeout = 0s"));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      QuietStreams streams = openQuietStreams(node, clients);
      ExecutionException cut = assertThrows(ExecutionException.class,
          () -> streams.account.get(5 * IDLE.toMillis(), TimeUnit.MILLISECONDS));
      assertEquals(Status.Code.UNAVAILABLE,
          assertInstanceOf(StatusRuntimeException.class, cut.getCause()).getStatus().getCode());
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  @Test
  void aRequestThatIsNotProtobufIsAnInvalidArgumentWithAMessage() throws Exception {
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("statuses"), ""));
    try (RawHttp2 raw = RawHttp2.connect(node.grpcAddress().getPort())) {
      byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 2, 3};
      for (String path : new String[] {"/clearing.v1.ClearingService/SubmitTrades", "/clearing.v1.AdminService/Deposit"}) {
        String token = path.contains("Clearing") ? ENGINE_TOKEN : OPERATOR_TOKEN;
        int id = raw.openGrpc(path, Map.of("authorization", "Bearer " + token), false);
        raw.sendData(id, RawHttp2.grpcMessage(false, garbage), true, Duration.ofSeconds(2));
        RawHttp2.StreamState stream = raw.stream(id);
        stream.ended.get(10, TimeUnit.SECONDS);
        assertEquals("3", stream.headers.get("grpc-status"), path + ": " + stream.headers);
        assertTrue(stream.headers.getOrDefault("grpc-message", "")
            .startsWith("MALFORMED_MESSAGE: the request is not a valid protobuf message"), path + ": " + stream.headers);
        assertEquals("MALFORMED_MESSAGE", stream.headers.get("clearing-error-reason"), path + ": " + stream.headers);
      }
      // A status message never starts or ends with whitespace (RFC 9113 section 8.2.1): strict
      // HTTP/2 peers (nghttp2: grpc-js, curl) drop such a field and the caller sees no message.
      int id = raw.openGrpc("/grpc.health.v1.Health/Check", Map.of(), false);
      raw.sendData(id, RawHttp2.grpcMessage(false, HealthCheckRequest.newBuilder().setService("foo ").build()
          .toByteArray()), true, Duration.ofSeconds(2));
      RawHttp2.StreamState stream = raw.stream(id);
      stream.ended.get(10, TimeUnit.SECONDS);
      String message = stream.headers.getOrDefault("grpc-message", "");
      assertEquals("5", stream.headers.get("grpc-status"), stream.headers.toString());
      assertEquals(message.strip(), message, "grpc-message '" + message + "'");
      assertTrue(message.contains("foo "), message);

      // Server reflection answers without a token (grpcurl list), behind the same guard.
      int reflection = raw.openGrpc("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", Map.of(), false);
      raw.sendData(reflection, RawHttp2.grpcMessage(false, new byte[] {0x3a, 0x00}), true, Duration.ofSeconds(2));
      RawHttp2.StreamState listed = raw.stream(reflection);
      listed.ended.get(10, TimeUnit.SECONDS);
      String services;
      synchronized (listed.data) {
        services = listed.data.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
      }
      assertEquals("0", listed.headers.get("grpc-status"), listed.headers.toString());
      assertTrue(services.contains("clearing.v1.AccountService") && services.contains("grpc.health.v1.Health"), services);
      audit(node);
    } finally {
      TestNodes.stop(node);
    }
  }

  private static QuietStreams openQuietStreams(Main.Node node, ActorSystem<Void> clients) {
    AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(node, clients), clients);
    call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("alice-1").build());
    call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("alice-1").setAmount("10")
        .setIdempotencyKey("seed").build());
    TestProbe<AccountUpdate> updates = TestProbe.create(clients);
    CompletableFuture<?> account = AccountServiceClient.create(TestNodes.clientSettings(node, clients), clients)
        .streamAccount().addHeader("authorization", Calls.BEARER + ALICE_TOKEN)
        .invoke(StreamAccountRequest.newBuilder().setAccountId("alice-1").build())
        .runForeach(updates.getRef()::tell, clients).toCompletableFuture();
    updates.receiveMessage(Duration.ofSeconds(10));
    // No feeder publishes: no mark ever comes.
    CompletableFuture<?> marks = PriceServiceClient.create(TestNodes.clientSettings(node, clients), clients)
        .streamMarkPrices().addHeader("authorization", Calls.BEARER + ALICE_TOKEN)
        .invoke(StreamMarkPricesRequest.getDefaultInstance()).runForeach(m -> { }, clients).toCompletableFuture();
    // SERVING once, then nothing while nothing changes.
    CompletableFuture<?> watch = HealthClient.create(TestNodes.clientSettings(node, clients), clients)
        .watch(HealthCheckRequest.getDefaultInstance()).runForeach(h -> { }, clients).toCompletableFuture();
    return new QuietStreams(account, marks, watch, updates);
  }

  private static void audit(Main.Node node) {
    LedgerAudit.Report report = await(new LedgerAudit(node.system(), new Accounts(node.system(), Duration.ofSeconds(10)),
        TestNodes.INSTRUMENTS).run());
    assertTrue(report.clean(), "ledger audit: " + report.violations());
  }
}
