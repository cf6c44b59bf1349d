package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.Calls.refused;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.BOB_TOKEN;
import static io.clearinghouse.it.TestNodes.ENGINE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.protocol.v1.AccountServiceClient;
import io.clearinghouse.protocol.v1.AccountUpdate;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.ClearingServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.FundingInterval;
import io.clearinghouse.protocol.v1.FundingIntervalList;
import io.clearinghouse.protocol.v1.FundingPayment;
import io.clearinghouse.protocol.v1.FundingPaymentList;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.ListFundingIntervalsRequest;
import io.clearinghouse.protocol.v1.ListFundingPaymentsRequest;
import io.clearinghouse.protocol.v1.MarginAlert;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.PositionView;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import io.clearinghouse.protocol.v1.Side;
import io.clearinghouse.protocol.v1.StreamAccountRequest;
import io.clearinghouse.protocol.v1.Trade;
import io.clearinghouse.protocol.v1.TradeResult;
import io.grpc.Status;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;

/**
 * Perpetual funding on a real node over real gRPC (issue 17): a 15 s interval at an interest of
 * 0.72% per 8 h (0.000375% per interval; the mark equals the index, so the premium is 0 and the
 * rate is the interest), the index and every trade at 50,000.3 (so the mark stays there). Each interval the long of 1 BTC pays 0.187502
 * (50,000.3 * 0.00000375 = 0.187501125, rounded up) and its short receives 0.187501; the long of
 * 0.001 BTC pays 0.000188 (0.000187501125 up) and its short receives 0.000187: 2 units of residue
 * per interval in the funding pool. Then the positions are closed, an interval passes with nobody to pay, and the
 * audit is clean with the pools holding exactly the intervals' residues.
 */
class FundingIntegrationTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final Duration WAIT = Duration.ofSeconds(90);

  @Test
  void everyHolderPaysOrReceivesOncePerIntervalAndTheAuditCountsThePool() throws Exception {
    String keyspace = TestNodes.newKeyspace("funding");
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(keyspace, String.join("\n",
        "clearinghouse.funding { enabled = on, sample-every = 500ms, settle-window = 1s }",
        "clearinghouse.instrument-overrides { \"" + PERP + "\" { funding-interval = 15s, "
            + "funding-interest = \"0.72%\" } }")));
    ActorSystem<Void> clients = TestNodes.clientSystem();
    TestProbe<Object> probe = TestProbe.create(clients);
    ScheduledExecutorService feeder = Executors.newSingleThreadScheduledExecutor();
    try {
      var settings = TestNodes.clientSettings(node, clients);
      AdminServiceClient admin = AdminServiceClient.create(settings, clients);
      AccountServiceClient accounts = AccountServiceClient.create(settings, clients);
      ClearingServiceClient engine = ClearingServiceClient.create(settings, clients);
      PriceServiceClient prices = PriceServiceClient.create(settings, clients);
      // The feeders keep the index fresh (a funding time with no fresh mark waits).
      feeder.scheduleWithFixedDelay(() -> {
        try {
          long now = System.currentTimeMillis();
          Feeders.publish(prices, Feeders.tick("binance", PERP, "50000.3", now), Feeders.tick("okx", PERP, "50000.3",
              now));
        } catch (RuntimeException e) {
          // The next one will do.
        }
      }, 0, 1, TimeUnit.SECONDS);
      for (String id : List.of("alice-1", "bob-1", "alice-2", "dee")) {
        call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId(id).build());
        call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId(id).setAmount("100000")
            .setIdempotencyKey("seed").build());
      }
      List<AccountUpdate> updates = new CopyOnWriteArrayList<>();
      accounts.streamAccount().addHeader("authorization", Calls.BEARER + ALICE_TOKEN)
          .invoke(StreamAccountRequest.newBuilder().setAccountId("alice-2").build())
          .runWith(Sink.foreach(updates::add), clients);
      trade(engine, clients, 1, "open-1", "1", "alice-1", "bob-1");
      trade(engine, clients, 2, "open-2", "0.001", "alice-2", "dee");
      // Funding is on the position held at the funding time: intervals ending before this paid nothing.
      long openedAt = System.currentTimeMillis();

      // An interval that found all four: exact amounts, and the residue in the pool.
      FundingInterval full = probe.awaitAssert(WAIT, Duration.ofMillis(500), () -> {
        FundingInterval found = intervals(admin, 500, "").getIntervalsList().stream()
            .filter(i -> !i.getOpen() && i.getAccounts() == 4 && i.getFundingTime() > openedAt).findFirst()
            .orElse(null);
        assertTrue(found != null, "no interval has paid all four yet");
        return found;
      });
      assertEquals("0.00000375", full.getRate());
      assertEquals("50000.3", full.getMarkPrice());
      assertEquals("0.187690", full.getPaid());
      assertEquals("0.187688", full.getReceived());
      assertEquals("0.000002", full.getResidue());

      FundingPaymentList alicePayments = call(accounts.listFundingPayments(), ALICE_TOKEN,
          ListFundingPaymentsRequest.newBuilder().setAccountId("alice-1").setPageSize(500).build());
      FundingPayment paid = alicePayments.getPaymentsList().stream()
          .filter(p -> p.getFundingTime() == full.getFundingTime()).findFirst().orElseThrow();
      assertEquals("-0.187502", paid.getAmount());
      assertEquals("1.000", paid.getSize());
      // Every interval that ended while the position was held pays the same (one ending while the
      // trades were being cleared may have found it not yet open).
      alicePayments.getPaymentsList().forEach(p -> assertPaid("-0.187502", p, openedAt));
      FundingPaymentList bobPayments = call(accounts.listFundingPayments(), BOB_TOKEN,
          ListFundingPaymentsRequest.newBuilder().setAccountId("bob-1").setInstrument(PERP).build());
      bobPayments.getPaymentsList().forEach(p -> assertPaid("0.187501", p, openedAt));
      FundingPaymentList small = call(accounts.listFundingPayments(), ALICE_TOKEN,
          ListFundingPaymentsRequest.newBuilder().setAccountId("alice-2").build());
      small.getPaymentsList().forEach(p -> assertPaid("-0.000188", p, openedAt));

      // GetAccount: the funding paid so far on the position, the predicted rate and the next funding time.
      PositionView position = call(accounts.getAccount(), ALICE_TOKEN,
          GetAccountRequest.newBuilder().setAccountId("alice-1").build()).getPositions(0);
      assertTrue(new BigDecimal(position.getFundingPaid()).compareTo(new BigDecimal("0.187502")) >= 0,
          position.toString());
      assertEquals("0.00000375", position.getPredictedFundingRate());
      assertTrue(position.getNextFundingTime() > System.currentTimeMillis() - 15_000, position.toString());
      // The stream told alice-2 of its payment.
      probe.awaitAssert(WAIT, () -> {
        assertTrue(updates.stream().anyMatch(u -> u.getAlertsList().stream()
            .anyMatch(a -> a.getKind() == MarginAlert.Kind.FUNDING)), updates.toString());
        return null;
      });

      // Pages: one at a time, then the next by its token; bad sizes and tokens are refused.
      FundingPaymentList first = call(accounts.listFundingPayments(), ALICE_TOKEN,
          ListFundingPaymentsRequest.newBuilder().setAccountId("alice-1").setPageSize(1).build());
      if (alicePayments.getPaymentsCount() > 1) {
        assertFalse(first.getNextPageToken().isEmpty());
        FundingPaymentList second = call(accounts.listFundingPayments(), ALICE_TOKEN,
            ListFundingPaymentsRequest.newBuilder().setAccountId("alice-1").setPageSize(1)
                .setPageToken(first.getNextPageToken()).build());
        assertTrue(second.getPayments(0).getFundingTime() < first.getPayments(0).getFundingTime());
      }
      refused(accounts.listFundingPayments(), ALICE_TOKEN, ListFundingPaymentsRequest.newBuilder()
          .setAccountId("alice-1").setPageSize(501).build(), Status.Code.INVALID_ARGUMENT, Rejection.INVALID_PAGE);
      refused(accounts.listFundingPayments(), ALICE_TOKEN, ListFundingPaymentsRequest.newBuilder()
          .setAccountId("alice-1").setPageSize(-1).build(), Status.Code.INVALID_ARGUMENT, Rejection.INVALID_PAGE);
      refused(accounts.listFundingPayments(), ALICE_TOKEN, ListFundingPaymentsRequest.newBuilder()
          .setAccountId("alice-1").setPageToken("12:NOPE").build(), Status.Code.INVALID_ARGUMENT, Rejection.INVALID_PAGE);
      refused(accounts.listFundingPayments(), ALICE_TOKEN, ListFundingPaymentsRequest.newBuilder()
          .setAccountId("alice-1").setPageToken("-5:" + PERP).build(), Status.Code.INVALID_ARGUMENT,
          Rejection.INVALID_PAGE);
      refused(accounts.listFundingPayments(), ALICE_TOKEN, ListFundingPaymentsRequest.newBuilder()
          .setAccountId("alice-1").setInstrument("BTCUSDT-271231").build(), Status.Code.INVALID_ARGUMENT,
          Rejection.NOT_PERPETUAL);
      refused(accounts.listFundingPayments(), ALICE_TOKEN, ListFundingPaymentsRequest.newBuilder()
          .setAccountId("bob-1").build(), Status.Code.PERMISSION_DENIED, Rejection.NOT_ACCOUNT_OWNER);
      refused(admin.listFundingIntervals(), OPERATOR_TOKEN, ListFundingIntervalsRequest.newBuilder()
          .setInstrument(PERP).setPageToken("soon").build(), Status.Code.INVALID_ARGUMENT, Rejection.INVALID_PAGE);
      refused(admin.listFundingIntervals(), OPERATOR_TOKEN, ListFundingIntervalsRequest.newBuilder()
          .setInstrument("ETHUSDT-PERP").build(), Status.Code.INVALID_ARGUMENT, Rejection.UNKNOWN_INSTRUMENT);
      refused(admin.listFundingIntervals(), ALICE_TOKEN, ListFundingIntervalsRequest.newBuilder()
          .setInstrument(PERP).build(), Status.Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);

      // Close everything; once an interval has passed with nobody to pay, the ledger is at rest.
      trade(engine, clients, 3, "close-1", "1", "bob-1", "alice-1");
      trade(engine, clients, 4, "close-2", "0.001", "dee", "alice-2");
      long closedAt = System.currentTimeMillis();
      probe.awaitAssert(WAIT, Duration.ofMillis(500), () -> {
        assertTrue(intervals(admin, 500, "").getIntervalsList().stream()
            .anyMatch(i -> !i.getOpen() && i.getAccounts() == 0 && i.getFixedAt() > closedAt), "no empty interval yet");
        return null;
      });
      FundingIntervalList all = intervals(admin, 500, "");
      long residues = all.getIntervalsList().stream().mapToLong(i -> units(i.getResidue())).sum();
      assertTrue(all.getIntervalsList().stream().allMatch(i -> units(i.getResidue()) >= 0), all.toString());
      AuditReport audit = call(admin.audit(), OPERATOR_TOKEN, AuditRequest.getDefaultInstance());
      assertTrue(audit.getClean(), audit.getViolationsList().toString());
      assertEquals(residues, units(audit.getFundingPools()), "the pool holds exactly the intervals' residues");
      assertTrue(residues >= 2, "at least one interval's residue: " + residues);
    } finally {
      feeder.shutdownNow();
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  private static FundingIntervalList intervals(AdminServiceClient admin, int size, String token) {
    return call(admin.listFundingIntervals(), OPERATOR_TOKEN, ListFundingIntervalsRequest.newBuilder()
        .setInstrument(PERP).setPageSize(size).setPageToken(token).build());
  }

  /** {@code amount} for an interval that ended after the positions were open; before, that or nothing. */
  private static void assertPaid(String amount, FundingPayment p, long openedAt) {
    if (p.getFundingTime() > openedAt) {
      assertEquals(amount, p.getAmount(), p.toString());
    } else {
      assertTrue(p.getAmount().equals(amount) || p.getAmount().equals("0.000000"), p.toString());
    }
  }

  private static long units(String amount) {
    return new BigDecimal(amount).movePointRight(6).longValueExact();
  }

  private static void trade(ClearingServiceClient engine, ActorSystem<Void> clients, long sequence, String id,
      String quantity, String buyer, String seller) {
    List<TradeResult> results = await(engine.submitTrades().addHeader("authorization", Calls.BEARER + ENGINE_TOKEN)
        .invoke(Source.single(Trade.newBuilder().setTradeId(id).setSequence(sequence).setInstrument(PERP)
            .setPrice("50000.3").setQuantity(quantity).setBuyerAccountId(buyer).setSellerAccountId(seller)
            .setAggressorSide(Side.BUY).build())).runWith(Sink.seq(), clients));
    assertTrue(results.get(0).hasAck(), results.toString());
  }
}
