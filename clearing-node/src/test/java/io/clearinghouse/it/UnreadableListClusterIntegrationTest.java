package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.account.UnreadableJournals;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 18, finding 4: a node's list of accounts whose journal does not read must not
 * go stale once the journal is repaired and the account runs on another node. Two real nodes; the
 * second holds an entry for an account the first hosts (as after a repair); a call through the
 * second is refused at most until the account has answered the read the refusal sends, and then
 * answers.
 */
class UnreadableListClusterIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void anEntryForAnAccountThatAnswersElsewhereLeavesTheList() throws Exception {
    String keyspace = TestNodes.newKeyspace("stalelist");
    Main.Node first = TestNodes.start(TestNodes.nodeConfig(keyspace, ""));
    Main.Node second = TestNodes.start(TestNodes.nodeConfig(keyspace,
        "pekko.cluster.seed-nodes = [\"" + first.system().address() + "\"]"));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    TestProbe<Object> probe = TestProbe.create(clients);
    try {
      probe.awaitAssert(WAIT, () -> {
        TestProbe<ShardRegion.ClusterShardingStats> stats = TestProbe.create(first.system());
        ClusterSharding.get(first.system()).shardState().tell(new GetClusterShardingStats(AccountEntity.TYPE_KEY,
            Duration.ofSeconds(3), stats.getRef()));
        assertEquals(2, stats.receiveMessage(Duration.ofSeconds(5)).getRegions().size());
        return null;
      });
      AdminServiceClient viaFirst = AdminServiceClient.create(TestNodes.clientSettings(first, clients), clients);
      AdminServiceClient viaSecond = AdminServiceClient.create(TestNodes.clientSettings(second, clients), clients);
      for (int i = 0; i < 12; i++) {
        call(viaFirst.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("stale-" + i).build());
      }
      Set<String> onFirst = hostedBy(first);
      assertTrue(!onFirst.isEmpty(), "no account on the first node");
      String account = onFirst.iterator().next();

      // The second node lists it as unreadable (as it would have before the journal was repaired).
      var failed = UnreadableJournals.class.getDeclaredMethod("failed", String.class, Throwable.class);
      failed.setAccessible(true);
      failed.invoke(UnreadableJournals.get(second.system()), account,
          new com.fasterxml.jackson.core.JsonParseException(null, "damaged before the repair"));
      assertTrue(UnreadableJournals.get(second.system()).cause(account).isPresent());

      probe.awaitAssert(WAIT, Duration.ofMillis(500), () -> {
        assertEquals(account, call(viaSecond.getAccount(), OPERATOR_TOKEN, GetAccountRequest.newBuilder()
            .setAccountId(account).build()).getAccountId());
        return null;
      });
      assertTrue(UnreadableJournals.get(second.system()).cause(account).isEmpty());
      assertTrue(hostedBy(first).contains(account), "the account moved: the test proves nothing");
      LedgerAudit.Report report = Calls.await(new LedgerAudit(first.system(), new Accounts(first.system(),
          Duration.ofSeconds(10)), TestNodes.INSTRUMENTS).run());
      assertTrue(report.clean(), "ledger audit: " + report.violations());

      // Review finding 4 too: a cluster change through management names the operator who asked.
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      String leave = first.managementUri().replaceAll("/$", "") + "/cluster/leave?address="
          + java.net.URLEncoder.encode(second.system().address().toString(), java.nio.charset.StandardCharsets.UTF_8);
      var answer = ManagementHttp.post(http, leave, OPERATOR_TOKEN);
      assertEquals(200, answer.statusCode(), answer.body());
      assertEquals("leaving: " + second.system().address() + " (asked by operator 'operator')", answer.body());
      second.system().getWhenTerminated().toCompletableFuture().get(60, java.util.concurrent.TimeUnit.SECONDS);
    } finally {
      clients.terminate();
      TestNodes.stop(second);
      TestNodes.stop(first);
    }
  }

  private static Set<String> hostedBy(Main.Node node) {
    TestProbe<ShardRegion.CurrentShardRegionState> replies = TestProbe.create(node.system());
    ClusterSharding.get(node.system()).shardState().tell(new GetShardRegionState(AccountEntity.TYPE_KEY,
        replies.getRef()));
    Set<String> ids = new TreeSet<>();
    replies.receiveMessage(Duration.ofSeconds(10)).getShards().forEach(shard -> ids.addAll(shard.getEntityIds()));
    return ids;
  }
}
