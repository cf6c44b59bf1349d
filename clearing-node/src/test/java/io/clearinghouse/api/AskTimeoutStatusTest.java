package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.NodeSettings;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.liquidation.BackstopProviders;
import io.clearinghouse.liquidation.InsuranceFund;
import io.clearinghouse.liquidation.Liquidations;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.price.PriceFeed;
import io.clearinghouse.protocol.v1.GetInsuranceFundRequest;
import io.clearinghouse.protocol.v1.SetLiquidationHaltRequest;
import io.clearinghouse.protocol.v1.TopUpInsuranceFundRequest;
import io.grpc.Status;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.grpc.javadsl.MetadataBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The operator's liquidation calls (halt switch, fund top-up and view) against a one-node cluster
 * whose price feeds and insurance funds never answer: each call ends UNAVAILABLE with the TIMEOUT
 * reason, as the account calls do, and never INTERNAL.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AskTimeoutStatusTest {
  private static final String OPERATOR = "operator-token";
  private static final String PERP = "BTCUSDT-PERP";

  private ActorTestKit testKit;
  private AdminGrpcService admin;
  private final Metadata operator = new MetadataBuilder().addText("authorization", "Bearer " + OPERATOR).build();

  @BeforeAll
  void start() {
    Config config = ConfigFactory.parseString(String.join("\n",
            "pekko.actor.provider = cluster",
            // A cluster member leaves before it stops: more than the default 10 s on a loaded machine.
            "pekko.actor.testkit.typed.system-shutdown-default = 30s",
            "pekko.remote.artery.canonical.port = 0",
            "pekko.cluster.sharding.remember-entities = off",
            "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on",
            // The fund-flow reader opens a Cassandra session it never uses here: point it nowhere.
            "datastax-java-driver.basic.contact-points = [\"127.0.0.1:1\"]",
            "datastax-java-driver.advanced.reconnect-on-init = false"))
        .withFallback(ConfigFactory.load()).resolve();
    testKit = ActorTestKit.create("AskTimeouts", config);
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    ClusterSharding sharding = ClusterSharding.get(testKit.system());
    // Entities that take every message and answer none (and stop when sharding hands them off).
    sharding.init(Entity.of(PriceFeed.TYPE_KEY, ctx -> Behaviors.receiveMessage(message -> Behaviors.same())));
    sharding.init(Entity.of(InsuranceFund.TYPE_KEY, ctx -> Behaviors.receiveMessage(message -> Behaviors.same())));
    sharding.init(Entity.of(BackstopProviders.TYPE_KEY, ctx -> Behaviors.receiveMessage(message -> Behaviors.same())));
    NodeSettings settings = NodeSettings.fromConfig(config);
    Duration timeout = Duration.ofMillis(300);
    Accounts accounts = new Accounts(testKit.system(), timeout);
    Liquidations liquidations = new Liquidations(testKit.system(), settings.liquidation(), settings.instruments(),
        accounts, timeout, Duration.ofSeconds(5));
    Authenticator auth = new Authenticator(Map.of(Authenticator.sha256Hex(OPERATOR),
        new Principal("operator", Role.OPERATOR, Set.of())));
    admin = new AdminGrpcService(accounts, auth, settings.asset(), settings.instruments(), null, liquidations,
        new Metrics());
  }

  @AfterAll
  void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void theHaltSwitchTimesOutAsUnavailable() {
    assertTimeout(admin.setLiquidationHalt(SetLiquidationHaltRequest.newBuilder().setInstrument(PERP).setHalted(true)
        .build(), operator));
  }

  @Test
  void aFundTopUpTimesOutAsUnavailable() {
    assertTimeout(admin.topUpInsuranceFund(TopUpInsuranceFundRequest.newBuilder().setFund(PERP).setAmount("10")
        .setIdempotencyKey("top-up-1").build(), operator));
  }

  @Test
  void aFundViewTimesOutAsUnavailable() {
    assertTimeout(admin.getInsuranceFund(GetInsuranceFundRequest.newBuilder().setFund(PERP).build(), operator));
  }

  private static void assertTimeout(CompletionStage<?> call) {
    try {
      call.toCompletableFuture().get(10, TimeUnit.SECONDS);
      throw new AssertionError("expected the call to fail");
    } catch (ExecutionException e) {
      Status status = assertInstanceOf(GrpcServiceException.class, e.getCause()).getStatus();
      assertEquals(Status.Code.UNAVAILABLE, status.getCode(), status.toString());
      assertTrue(status.getDescription().startsWith("TIMEOUT: "), status.getDescription());
      assertEquals(Optional.of("TIMEOUT"), ((GrpcServiceException) e.getCause()).getMetadata()
          .getText(GrpcErrors.REASON_TRAILER));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
