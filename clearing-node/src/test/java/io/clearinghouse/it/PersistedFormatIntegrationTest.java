package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.Config;
import io.clearinghouse.Main;
import io.clearinghouse.PersistedFormat;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Review of issue 18, finding 2: the journal reader refuses fields it does not know, so nodes of
 * builds that store events in different forms may not share a cluster. A real node of another
 * persisted format (its fingerprint injected) is refused at join and shuts itself down, with a
 * message that says such a release needs the old nodes stopped first; a node of the same format
 * then joins; the ledger audit is clean.
 */
class PersistedFormatIntegrationTest {
  private static final String OTHER_BUILD = "0123456789abcdef";

  @Test
  void aNodeOfAnotherPersistedFormatIsRefusedAtJoinAndOneOfTheSameJoins() throws Exception {
    String keyspace = TestNodes.newKeyspace("format");
    Main.Node first = TestNodes.start(TestNodes.nodeConfig(keyspace, ""));
    assertEquals(PersistedFormat.fingerprint(),
        first.system().settings().config().getString("clearinghouse.persisted-format.fingerprint"));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    root.addAppender(logged);
    Main.Node same = null;
    try {
      AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(first, clients), clients);
      call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("alice-1").build());
      call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("alice-1").setAmount("100")
          .setIdempotencyKey("format-1").build());
      String seeds = "pekko.cluster.seed-nodes = [\"" + first.system().address() + "\"]\n"
          + "clearinghouse.cluster.join-self = false";

      Config otherBuild = PersistedFormat.stampAs(TestNodes.nodeConfig(keyspace, seeds), OTHER_BUILD);
      ActorSystem<Void> stranger = ActorSystem.create(Behaviors.empty(), Main.SYSTEM_NAME, otherBuild);
      try {
        Main.init(stranger);
      } catch (RuntimeException e) {
        stranger.terminate();
      }
      // Refused by the member (and by itself on the member's answer): it shuts itself down.
      stranger.getWhenTerminated().toCompletableFuture().get(90, TimeUnit.SECONDS);
      assertEquals(1, Cluster.get(first.system()).state().members().size());
      List<String> messages;
      synchronized (logged) {
        messages = logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
      }
      assertTrue(messages.stream().anyMatch(m -> m.contains("clearinghouse.persisted-format.fingerprint differs")
          && m.contains(OTHER_BUILD) && m.contains(PersistedFormat.fingerprint())
          && m.contains("needs every node of the old release stopped")), String.join("\n", messages));

      // The same build joins the same cluster.
      same = TestNodes.start(TestNodes.nodeConfig(keyspace, seeds));
      TestProbe<Object> probe = TestProbe.create(first.system());
      probe.awaitAssert(Duration.ofSeconds(30), () -> {
        assertEquals(2, Cluster.get(first.system()).state().members().size());
        return null;
      });
      LedgerAudit.Report report = await(new LedgerAudit(first.system(), new Accounts(first.system(),
          Duration.ofSeconds(10)), TestNodes.INSTRUMENTS).run());
      assertTrue(report.clean(), "ledger audit: " + report.violations());
      assertEquals(100_000_000L, report.totalCash());
    } finally {
      root.detachAppender(logged);
      clients.terminate();
      if (same != null) {
        TestNodes.stop(same);
      }
      TestNodes.stop(first);
    }
  }
}
