package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.api.Authenticator;
import io.clearinghouse.api.GrpcErrors;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.protocol.v1.AccountServiceClient;
import io.clearinghouse.protocol.v1.AccountUpdate;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.StreamAccountRequest;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 18, finding 4: an account stream opened with a token that expires ends when the
 * token does, with UNAUTHENTICATED TOKEN_EXPIRED, over real gRPC against a real node (it used to
 * go on serving the account after the token was refused everywhere else).
 */
class TokenExpiryStreamIntegrationTest {
  private static final String EXPIRING = "expiring-client-token";

  @Test
  void anAccountStreamEndsUnauthenticatedWhenItsTokenExpires() throws Exception {
    // Long enough for the node to start on a loaded machine; the stream is opened right after.
    Instant expires = Instant.now().plusSeconds(150).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    String tokens = "clearinghouse.auth.tokens = [{ name = operator, role = operator, sha256 = \""
        + Authenticator.sha256Hex(OPERATOR_TOKEN) + "\" }, { name = carol, role = client, sha256 = \""
        + Authenticator.sha256Hex(EXPIRING) + "\", accounts = [carol-1], expires = \"" + expires + "\" }]";
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("expirystream"), tokens));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(node, clients), clients);
      AccountServiceClient accounts = AccountServiceClient.create(TestNodes.clientSettings(node, clients), clients);
      call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("carol-1").build());
      assertTrue(Instant.now().isBefore(expires.minusSeconds(5)), "the node took too long to start for this test");
      TestProbe<AccountUpdate> updates = TestProbe.create(clients);
      CompletionStage<Done> done = accounts.streamAccount().addHeader("authorization", Calls.BEARER + EXPIRING)
          .invoke(StreamAccountRequest.newBuilder().setAccountId("carol-1").build())
          .runWith(Sink.foreach(updates.getRef()::tell), clients);
      assertEquals("carol-1", updates.receiveMessage(Duration.ofSeconds(30)).getAccount().getAccountId());
      long waitSeconds = Duration.between(Instant.now(), expires).getSeconds() + 30;
      ExecutionException ended = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> done.toCompletableFuture().get(waitSeconds, TimeUnit.SECONDS));
      assertTrue(!Instant.now().isBefore(expires), "ended before the token expired");
      StatusRuntimeException status = (StatusRuntimeException) ended.getCause();
      assertEquals(Status.Code.UNAUTHENTICATED, status.getStatus().getCode(), status.toString());
      assertEquals("TOKEN_EXPIRED", status.getTrailers().get(Metadata.Key.of(GrpcErrors.REASON_TRAILER,
          Metadata.ASCII_STRING_MARSHALLER)));
      LedgerAudit.Report report = Calls.await(new LedgerAudit(node.system(), new Accounts(node.system(),
          Duration.ofSeconds(10)), TestNodes.INSTRUMENTS).run());
      assertTrue(report.clean(), "ledger audit: " + report.violations());
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }
}
