package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.ENGINE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.protocol.v1.AccountServiceClient;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.AdminListLiquidationsRequest;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.ClearingServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.FundMovement;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.GetInsuranceFundRequest;
import io.clearinghouse.protocol.v1.IndexPriceTick;
import io.clearinghouse.protocol.v1.InsuranceFundView;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import io.clearinghouse.protocol.v1.PublishSummary;
import io.clearinghouse.protocol.v1.RegisterBackstopProviderRequest;
import io.clearinghouse.protocol.v1.Side;
import io.clearinghouse.protocol.v1.TopUpInsuranceFundRequest;
import io.clearinghouse.protocol.v1.Trade;
import io.clearinghouse.protocol.v1.TradeResult;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * One real node and its gRPC clients, with the steps the liquidation tests repeat: open and fund
 * accounts, trade through the clearing stream, publish index prices through the price service,
 * register providers, top up funds, wait for a liquidation's fund flow, and audit.
 */
final class LiquidationHarness implements AutoCloseable {
  static final String PERP = "BTCUSDT-PERP";
  static final String FUTURE = "BTCUSDT-271231";
  static final Duration WAIT = Duration.ofSeconds(30);

  final Main.Node node;
  /** Every node of the cluster, {@link #node} (where the clients connect) first. */
  final List<Main.Node> nodes;
  final ActorSystem<Void> clients;
  final AdminServiceClient admin;
  final AccountServiceClient accounts;
  final ClearingServiceClient engine;
  final PriceServiceClient prices;
  final TestProbe<Object> probe;
  private final AtomicLong sequence = new AtomicLong();

  /** A node with marks that never go stale during a test and no last-trade input to the mark. */
  LiquidationHarness(String keyspacePrefix, String extraConfig) {
    this(List.of(TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace(keyspacePrefix), config(extraConfig)))));
  }

  /** Clients of the first of {@code nodes}; closing stops them all. */
  LiquidationHarness(List<Main.Node> nodes) {
    this.nodes = List.copyOf(nodes);
    node = nodes.get(0);
    clients = TestNodes.clientSystem();
    var settings = TestNodes.clientSettings(node, clients);
    admin = AdminServiceClient.create(settings, clients);
    accounts = AccountServiceClient.create(settings, clients);
    engine = ClearingServiceClient.create(settings, clients);
    prices = PriceServiceClient.create(settings, clients);
    probe = TestProbe.create(clients);
  }

  /** The settings every liquidation test node runs with, then {@code extraConfig}. */
  static String config(String extraConfig) {
    return String.join("\n",
        "clearinghouse.price-feed.stale-after = 10m",
        // The mark is then exactly the index: no trade price reaches the feed during a test.
        "clearinghouse.price-feed.last-trade-interval = 1h",
        "clearinghouse.liquidation.retry-interval = 200ms",
        "clearinghouse.alerts.refresh = 200ms",
        "pekko.cluster.sharding.entity-restart-backoff = 100ms",
        // The tests' traders take positions on little margin (the engine's trades are taken as
        // executed, as where the exchange's risk engine is trusted): the monitor liquidates them.
        "clearinghouse.account.check-unreserved-fills = off",
        // Exact reserve amounts: no fee sweep reaches platform revenue during a test unless it asks.
        "clearinghouse.account.fee-sweep-interval = 1h",
        extraConfig);
  }

  void open(String accountId, String deposit) {
    call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId(accountId).build());
    call(admin.deposit(), OPERATOR_TOKEN, DepositRequest.newBuilder().setAccountId(accountId).setAmount(deposit)
        .setIdempotencyKey("seed").build());
  }

  /** A trade in which {@code buyer} is the taker (pays 0.05%) and {@code seller} the maker (0.02%). */
  void buy(String buyer, String seller, String instrument, String quantity, String price) {
    List<TradeResult> results = await(engine.submitTrades().addHeader("authorization", Calls.BEARER + ENGINE_TOKEN)
        .invoke(Source.single(Trade.newBuilder().setTradeId("t-" + sequence.incrementAndGet())
            .setSequence(sequence.get()).setInstrument(instrument).setPrice(price).setQuantity(quantity)
            .setBuyerAccountId(buyer).setSellerAccountId(seller).setAggressorSide(Side.BUY).build()))
        .runWith(Sink.seq(), clients));
    assertTrue(results.get(0).hasAck(), results.toString());
  }

  /**
   * Two sources at {@code price}: the index and, without trades reported, the mark. The ticks are
   * taken in order, so between the two the index is the midpoint of the new and the old price
   * (a mark the tests keep harmless).
   */
  /** Publishes {@code price} from two sources and waits until every node's mark is that price. */
  void mark(String instrument, String price) {
    long now = System.currentTimeMillis();
    for (PublishSummary summary : Feeders.publish(prices, tick("binance", instrument, price, now),
        tick("okx", instrument, price, now))) {
      assertEquals(1, summary.getAccepted(), summary.toString());
    }
    // Accepted ticks become the mark a moment later (at most one mark per interval): wait for it,
    // so that what the test does next happens at this mark.
    for (Main.Node n : nodes) {
      var marks = io.clearinghouse.ops.NodeContext.get(n.system()).marks();
      var spec = io.clearinghouse.instrument.Instruments.fromConfig(n.system().settings().config(), 6)
          .require(instrument);
      long ticks = spec.parsePriceTicks(price);
      probe.awaitAssert(java.time.Duration.ofSeconds(10), () -> {
        assertEquals(ticks, marks.get(instrument).map(io.clearinghouse.price.Mark::priceTicks).orElse(-1L),
            "the mark of " + instrument + " on " + n.grpcAddress());
        return null;
      });
    }
  }

  private static IndexPriceTick tick(String source, String instrument, String price, long now) {
    return IndexPriceTick.newBuilder().setSource(source).setInstrument(instrument).setPrice(price).setTimestampMs(now)
        .build();
  }

  void provider(String accountId, String maxNotional, String... instruments) {
    call(admin.registerBackstopProvider(), OPERATOR_TOKEN, RegisterBackstopProviderRequest.newBuilder()
        .setAccountId(accountId).addAllInstruments(List.of(instruments)).setMaxNotional(maxNotional).build());
  }

  InsuranceFundView topUp(String fund, String amount, String key) {
    return call(admin.topUpInsuranceFund(), OPERATOR_TOKEN, TopUpInsuranceFundRequest.newBuilder().setFund(fund)
        .setAmount(amount).setIdempotencyKey(key).build());
  }

  InsuranceFundView fund(String fund) {
    return call(admin.getInsuranceFund(), OPERATOR_TOKEN, GetInsuranceFundRequest.newBuilder().setFund(fund)
        .setLimit(100).build());
  }

  AccountView view(String accountId) {
    return call(admin.getAccount(), OPERATOR_TOKEN, GetAccountRequest.newBuilder().setAccountId(accountId).build());
  }

  /** The account's liquidations once {@code count} of them have finished, newest first. */
  List<Liquidation> finished(String accountId, int count) {
    return probe.awaitAssert(WAIT, Duration.ofMillis(100), () -> {
      List<Liquidation> all = call(admin.listLiquidations(), OPERATOR_TOKEN,
          AdminListLiquidationsRequest.newBuilder().setAccountId(accountId).build()).getLiquidationsList();
      assertEquals(count, all.stream().filter(l -> !l.getOutcome().isEmpty()).count(), all.toString());
      // The account has left the liquidation too (its end is the saga's last step).
      assertEquals("", view(accountId).getLiquidationId());
      return all;
    });
  }

  Liquidation onlyLiquidation(String accountId) {
    return finished(accountId, 1).get(0);
  }

  /** Every fund-flow record's movements sum to zero, and nothing is left in escrow. */
  static void balanced(Liquidation liquidation) {
    BigDecimal sum = BigDecimal.ZERO;
    for (FundMovement m : liquidation.getMovementsList()) {
      sum = sum.add(new BigDecimal(m.getAmount()));
    }
    assertEquals(0, sum.signum(), "movements of " + liquidation.getLiquidationId() + " sum to " + sum + ": "
        + liquidation.getMovementsList());
    assertEquals("0.000000", liquidation.getEscrow());
    assertFalse(liquidation.getOutcome().isEmpty());
  }

  void auditClean() {
    AuditReport audit = call(admin.audit(), OPERATOR_TOKEN, AuditRequest.getDefaultInstance());
    assertTrue(audit.getClean(), audit.getViolationsList().toString());
    assertEquals("0.000000", audit.getSagaEscrow());
  }

  @Override
  public void close() {
    clients.terminate();
    for (int i = nodes.size() - 1; i >= 0; i--) {
      TestNodes.stop(nodes.get(i));
    }
  }
}
