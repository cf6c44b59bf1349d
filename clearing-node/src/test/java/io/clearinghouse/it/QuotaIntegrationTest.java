package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.Calls.refused;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.api.Authenticator;
import io.clearinghouse.api.GrpcErrors;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.protocol.v1.AccountServiceClient;
import io.clearinghouse.protocol.v1.AccountUpdate;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import io.clearinghouse.protocol.v1.StreamAccountRequest;
import io.clearinghouse.protocol.v1.StreamMarkPricesRequest;
import io.clearinghouse.protocol.v1.TransferReceipt;
import io.clearinghouse.protocol.v1.WithdrawRequest;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every per-token quota of one real node, over the network with the generated gRPC clients (and,
 * to hold a unary call open, a raw HTTP/2 connection, {@link RawGrpcCall}): calls a second, unary calls at once, streams
 * per token and StreamAccount streams per account. Each refusal is RESOURCE_EXHAUSTED with its
 * stable reason and changes nothing; other tokens and roles are served meanwhile; a quota frees
 * up again once calls end. Ends with the ledger audit.
 *
 * <p>Client limits here: 1 call a second with a burst of 10, 1 unary call at once, 2 streams,
 * 1 stream per account. Each test uses tokens of its own, so their budgets never mix.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QuotaIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Metadata.Key<String> REASON =
      Metadata.Key.of(GrpcErrors.REASON_TRAILER, Metadata.ASCII_STRING_MARSHALLER);
  private static final List<String> CLIENTS = List.of("rater", "holder", "streamer", "dave", "erin", "bystander");

  private Main.Node node;
  private ActorSystem<Void> clients;
  private AdminServiceClient admin;
  private AccountServiceClient accounts;
  private PriceServiceClient prices;

  private static String token(String name) {
    return "quota-" + name + "-token";
  }

  @BeforeAll
  void startNode() {
    List<String> tokens = new ArrayList<>(List.of(
        "{ name = operator, role = operator, sha256 = \"" + Authenticator.sha256Hex(OPERATOR_TOKEN) + "\" }",
        client("rater", "rater-1"), client("holder", "holder-1"),
        client("streamer", "streamer-1", "streamer-2", "streamer-3"),
        client("dave", "shared-1"), client("erin", "shared-1", "erin-1"), client("bystander", "bystander-1", "bystander-unopened")));
    tokens.addAll(Feeders.tokenEntries());
    node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("quota"), String.join("\n",
        "clearinghouse.quotas.client { requests-per-second = 1, burst = 10, concurrent-calls = 1, streams = 2,",
        "  streams-per-account = 1 }",
        "clearinghouse.auth.tokens = [", String.join("\n", tokens), "]")));
    clients = TestNodes.clientSystem();
    admin = AdminServiceClient.create(TestNodes.clientSettings(node, clients), clients);
    accounts = AccountServiceClient.create(TestNodes.clientSettings(node, clients), clients);
    prices = PriceServiceClient.create(TestNodes.clientSettings(node, clients), clients);
    for (String id : List.of("rater-1", "holder-1", "streamer-1", "streamer-2", "streamer-3", "shared-1", "erin-1",
        "bystander-1")) {
      call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId(id).build());
      call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId(id).setAmount("1000")
          .setIdempotencyKey("seed-" + id).build());
    }
  }

  private static String client(String name, String... owned) {
    return "{ name = " + name + ", role = client, sha256 = \"" + Authenticator.sha256Hex(token(name))
        + "\", accounts = [" + String.join(", ", owned) + "] }";
  }

  @AfterAll
  void auditAndStop() {
    try {
      LedgerAudit.Report report = await(new LedgerAudit(node.system(),
          new Accounts(node.system(), Duration.ofSeconds(10)), TestNodes.INSTRUMENTS).run());
      assertTrue(report.clean(), "ledger audit: " + report.violations());
      assertEquals(report.totalCash(), report.deposits() - report.withdrawals());
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  private static GetAccountRequest get(String account) {
    return GetAccountRequest.newBuilder().setAccountId(account).build();
  }

  @Test
  void aTokenBeyondItsRateIsRefusedWhileOtherTokensAndRolesAreServedAndARefusedWithdrawalMovesNothing() {
    long start = System.nanoTime();
    int served = 0;
    int limited = 0;
    // One after the other: this token may run one call at a time.
    for (int i = 0; i < 30; i++) {
      try {
        call(accounts.getAccount(), token("rater"), get("rater-1"));
        served++;
      } catch (CompletionException e) {
        assertEquals(Rejection.RATE_LIMITED.name(), reason(e.getCause()), String.valueOf(e.getCause()));
        limited++;
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    // A burst of 10, then one a second.
    assertTrue(served >= 10 && served <= 10 + Math.ceil(seconds) + 1, served + " served in " + seconds + " s");
    assertEquals(30, served + limited);
    // Another token of the same role, and an operator, are served at once.
    call(accounts.getAccount(), token("bystander"), get("bystander-1"));
    call(admin.getAccount(), OPERATOR_TOKEN, get("rater-1"));

    // Withdrawals until one is refused for the rate: that one was never applied.
    String cashBefore = call(admin.getAccount(), OPERATOR_TOKEN, get("rater-1")).getCash();
    int applied = 0;
    String refusedKey = null;
    for (int i = 0; refusedKey == null; i++) {
      WithdrawRequest withdraw = WithdrawRequest.newBuilder().setAccountId("rater-1").setAmount("1")
          .setIdempotencyKey("w-" + i).build();
      try {
        call(accounts.withdraw(), token("rater"), withdraw);
        applied++;
      } catch (CompletionException e) {
        assertEquals(Rejection.RATE_LIMITED.name(), reason(e.getCause()), String.valueOf(e.getCause()));
        refusedKey = withdraw.getIdempotencyKey();
      }
    }
    assertEquals(units(cashBefore) - applied * 1_000_000L,
        units(call(admin.getAccount(), OPERATOR_TOKEN, get("rater-1")).getCash()));
    // Once the rate allows it, the refused key is a new withdrawal, not a replay.
    String key = refusedKey;
    TransferReceipt later = eventually(() -> call(accounts.withdraw(), token("rater"), WithdrawRequest.newBuilder()
        .setAccountId("rater-1").setAmount("1").setIdempotencyKey(key).build()));
    assertFalse(later.getReplayed());
    assertEquals(units(cashBefore) - (applied + 1) * 1_000_000L, units(later.getCashAfter()));
  }

  @Test
  void aTokenWithAUnaryCallRunningIsRefusedASecondUntilTheFirstEnds() throws Exception {
    // A GetAccount over a raw HTTP/2 connection whose request body is held back: the call runs
    // until it is sent.
    try (RawGrpcCall held = RawGrpcCall.start("127.0.0.1", node.grpcAddress().getPort(),
        "/clearing.v1.AccountService/GetAccount", Calls.BEARER + token("holder"))) {
      // The held call is counted as soon as its headers arrive; poll until the second is refused
      // (once a second: the token's rate refills as fast, so polling never exhausts it).
      TestProbe<Object> probe = TestProbe.create(clients);
      probe.awaitAssert(WAIT, Duration.ofSeconds(1), () -> {
        refused(accounts.getAccount(), token("holder"), get("holder-1"), Status.Code.RESOURCE_EXHAUSTED,
            Rejection.TOO_MANY_CONCURRENT_CALLS);
        return null;
      });
      // Other tokens are served meanwhile.
      call(accounts.getAccount(), token("bystander"), get("bystander-1"));

      AccountView view = AccountView.parseFrom(held.finish(get("holder-1").toByteArray()));
      assertEquals("holder-1", view.getAccountId());
    }
    // Its slot is free again.
    assertEquals("holder-1", eventually(() -> call(accounts.getAccount(), token("holder"), get("holder-1")))
        .getAccountId());
  }

  @Test
  void aTokenWithItsStreamsOpenIsRefusedAnotherOfAnyKindUntilOneEnds() {
    OpenStream first = openAccountStream("streamer", "streamer-1");
    OpenStream second = openAccountStream("streamer", "streamer-2");
    streamRefused(Calls.streamWithToken(accounts.streamAccount(), token("streamer"))
        .invoke(StreamAccountRequest.newBuilder().setAccountId("streamer-3").build()), Rejection.TOO_MANY_STREAMS);
    // Mark price streams count too.
    streamRefused(Calls.streamWithToken(prices.streamMarkPrices(), token("streamer"))
        .invoke(StreamMarkPricesRequest.getDefaultInstance()), Rejection.TOO_MANY_STREAMS);
    // Another token streams meanwhile.
    openAccountStream("bystander", "bystander-1").close();

    first.close();
    OpenStream third = eventually(() -> openAccountStream("streamer", "streamer-3"));
    second.close();
    third.close();
  }

  @Test
  void aStreamOfAnAccountThatWasNeverOpenedEndsNotFoundAndFreesItsSlots() {
    for (int i = 0; i < 3; i++) {
      CompletionException failure = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
          () -> await(Calls.streamWithToken(accounts.streamAccount(), token("bystander"))
              .invoke(StreamAccountRequest.newBuilder().setAccountId("bystander-unopened").build())
              .runWith(Sink.ignore(), clients)));
      StatusRuntimeException status = (StatusRuntimeException) failure.getCause();
      assertEquals(Status.Code.NOT_FOUND, status.getStatus().getCode(), status.getStatus().toString());
      assertEquals(Rejection.ACCOUNT_NOT_FOUND.name(), status.getTrailers().get(REASON));
    }
  }

  @Test
  void anAccountWithItsStreamOpenIsRefusedAnotherWhicheverTokenAsksUntilItEnds() {
    OpenStream dave = openAccountStream("dave", "shared-1");
    streamRefused(Calls.streamWithToken(accounts.streamAccount(), token("erin"))
        .invoke(StreamAccountRequest.newBuilder().setAccountId("shared-1").build()), Rejection.TOO_MANY_ACCOUNT_STREAMS);
    // The same token's other account is not affected.
    OpenStream erinOwn = openAccountStream("erin", "erin-1");
    dave.close();
    OpenStream erinShared = eventually(() -> openAccountStream("erin", "shared-1"));
    erinShared.close();
    erinOwn.close();
  }

  // --- helpers ----------------------------------------------------------------------------

  /** A running account stream that delivered its first update; closing it cancels the call. */
  private record OpenStream(UniqueKillSwitch killSwitch) implements AutoCloseable {
    @Override
    public void close() {
      killSwitch.shutdown();
    }
  }

  private OpenStream openAccountStream(String client, String account) {
    CompletableFuture<AccountUpdate> first = new CompletableFuture<>();
    Pair<UniqueKillSwitch, CompletionStage<Done>> open = Calls.streamWithToken(accounts.streamAccount(), token(client))
        .invoke(StreamAccountRequest.newBuilder().setAccountId(account).build())
        .viaMat(KillSwitches.single(), Keep.right())
        .toMat(Sink.foreach(first::complete), Keep.both())
        .run(clients);
    open.second().whenComplete((done, failure) -> first.completeExceptionally(
        failure != null ? failure : new IllegalStateException("the stream ended before its first update")));
    await(first);
    return new OpenStream(open.first());
  }

  private void streamRefused(Source<?, ?> stream, Rejection reason) {
    CompletionException failure = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
        () -> await(stream.runWith(Sink.ignore(), clients)));
    assertTrue(failure.getCause() instanceof StatusRuntimeException, String.valueOf(failure.getCause()));
    StatusRuntimeException status = (StatusRuntimeException) failure.getCause();
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getStatus().getCode(), status.getStatus().toString());
    assertEquals(reason.name(), status.getTrailers() == null ? null : status.getTrailers().get(REASON));
  }

  private static String reason(Throwable failure) {
    if (failure instanceof StatusRuntimeException status && status.getTrailers() != null) {
      return status.getTrailers().get(REASON);
    }
    return String.valueOf(failure);
  }

  /** Retries {@code call} every second (the rate's refill) while it is refused for a quota, at most {@link #WAIT}. */
  private static <T> T eventually(java.util.function.Supplier<T> call) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      try {
        return call.get();
      } catch (CompletionException | AssertionError e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
      }
    }
  }

  private static long units(String amount) {
    return new java.math.BigDecimal(amount).movePointRight(6).longValueExact();
  }
}
