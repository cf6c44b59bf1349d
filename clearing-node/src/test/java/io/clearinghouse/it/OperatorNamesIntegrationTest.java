package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.liquidation.BackstopProviders;
import io.clearinghouse.liquidation.InsuranceFund;
import io.clearinghouse.price.PriceFeed;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.RegisterBackstopProviderRequest;
import io.clearinghouse.protocol.v1.ReserveTransferRequest;
import io.clearinghouse.protocol.v1.SetLeverageCapRequest;
import io.clearinghouse.protocol.v1.SetLiquidationHaltRequest;
import io.clearinghouse.protocol.v1.TopUpInsuranceFundRequest;
import java.lang.reflect.RecordComponent;
import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;

/**
 * Every operator action that persists something records the operator token's name (issue 18,
 * item 5): each is made once over the real API (gRPC, and the management port's halt), then
 * every event in the journal that has a {@code by} field is read back, and each names the
 * operator.
 */
class OperatorNamesIntegrationTest {
  private static final String PERP = "BTCUSDT-PERP";

  private static ReserveTransferRequest reserve(String reserve, String amount, String key) {
    return ReserveTransferRequest.newBuilder().setReserve(reserve).setAmount(amount).setIdempotencyKey(key).build();
  }

  @Test
  void everyOperatorEventNamesTheOperator() throws Exception {
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("names"), ""));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    try {
      AdminServiceClient admin = AdminServiceClient.create(TestNodes.clientSettings(node, clients), clients);
      call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("lp-1").build());
      call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId("lp-1").setAmount("1000")
          .setIdempotencyKey("d-1").build());
      call(admin.setLeverageCap(), OPERATOR_TOKEN, SetLeverageCapRequest.newBuilder().setAccountId("lp-1")
          .setMaxLeverage(5).build());
      call(admin.topUpInsuranceFund(), OPERATOR_TOKEN, TopUpInsuranceFundRequest.newBuilder().setFund(PERP)
          .setAmount("100").setIdempotencyKey("f-1").build());
      call(admin.topUpReserve(), OPERATOR_TOKEN, reserve("operator-capital", "50", "c-1"));
      call(admin.withdrawReserve(), OPERATOR_TOKEN, reserve("operator-capital", "20", "c-2"));
      call(admin.registerBackstopProvider(), OPERATOR_TOKEN, RegisterBackstopProviderRequest.newBuilder()
          .setAccountId("lp-1").addInstruments(PERP).setMaxNotional("10000").build());
      call(admin.setLiquidationHalt(), OPERATOR_TOKEN, SetLiquidationHaltRequest.newBuilder().setInstrument(PERP)
          .setHalted(true).build());
      String resume = node.managementUri().replaceAll("/$", "") + "/liquidations/resume?instrument=" + PERP;
      assertEquals(200, ManagementHttp.post(HttpClient.newHttpClient(), resume, OPERATOR_TOKEN).statusCode());

      CassandraReadJournal journal = PersistenceQuery.get(node.system())
          .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
      List<String> ids = Calls.await(journal.currentPersistenceIds().runWith(Sink.seq(), node.system()));
      Map<String, Set<String>> namesByEvent = new TreeMap<>();
      for (String id : ids) {
        List<Object> events = new ArrayList<>(Calls.await(journal.currentEventsByPersistenceId(id, 0L, Long.MAX_VALUE)
            .map(EventEnvelope::event).runWith(Sink.seq(), node.system())));
        for (Object event : events) {
          if (!event.getClass().isRecord()) {
            continue;
          }
          for (RecordComponent component : event.getClass().getRecordComponents()) {
            if (component.getName().equals("by")) {
              namesByEvent.computeIfAbsent(event.getClass().getSimpleName(), k -> new TreeSet<>())
                  .add((String) component.getAccessor().invoke(event));
            }
          }
        }
      }
      // Every operator event was written, and each one names the operator token ("operator").
      Set<String> expected = new TreeSet<>(List.of(AccountEntity.AccountOpened.class.getSimpleName(),
          AccountEntity.Deposited.class.getSimpleName(), AccountEntity.LeverageCapSet.class.getSimpleName(),
          InsuranceFund.ToppedUp.class.getSimpleName(), InsuranceFund.Withdrawn.class.getSimpleName(),
          BackstopProviders.ProviderRegistered.class.getSimpleName(),
          PriceFeed.LiquidationHaltChanged.class.getSimpleName()));
      assertEquals(expected, namesByEvent.keySet(), namesByEvent.toString());
      namesByEvent.forEach((event, names) -> assertEquals(Set.of("operator"), names, event));
      assertTrue(call(admin.audit(), OPERATOR_TOKEN, AuditRequest.getDefaultInstance()).getViolationsList().isEmpty());
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }
}
