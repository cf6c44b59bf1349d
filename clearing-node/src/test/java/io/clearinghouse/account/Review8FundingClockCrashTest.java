package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.MutableClock;
import io.clearinghouse.audit.Review8AuditAccess;
import io.clearinghouse.funding.FundingClock;
import io.clearinghouse.funding.FundingEnvironment;
import io.clearinghouse.funding.FundingFanOut;
import io.clearinghouse.funding.FundingSettings;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.monitor.MarginMonitor;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Review 8, finding B: the funding clock's crash between the accounts' payments and its own
 * PaymentsRecorded (a node kill mid-round, or a payment whose answer timed out). One node's cluster
 * with the real pieces of the payment path: sharded account entities, the node's margin monitor
 * behind the receptionist, the cluster fan-out (FundingFanOut.viaMonitors) and the funding clock.
 *
 * <p>The clock relies on a repeat ("a clock that crashes mid-way resumes and resends safely", the
 * fan-out's "a repeat answers with the first payment"), but a repeat is never sent: the monitor
 * names only accounts that have <em>not</em> applied the interval, and an account reports its new
 * funded-up-to the moment it applies. After the restart the round finds nobody and the interval
 * closes without those payments: its history under-counts, and the audit (pool against what the
 * clock recorded) flags a journal the protocol wrote legitimately, for ever.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Review8FundingClockCrashTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long T = Instant.parse("2026-03-02T08:00:00Z").toEpochMilli();
  private final MutableClock clock = new MutableClock(Instant.ofEpochMilli(T - 10_000));
  private ActorTestKit testKit;
  private ClusterSharding sharding;
  private FundingEnvironment environment;

  @BeforeAll
  void start() {
    testKit = io.clearinghouse.TestKits.oneNodeCluster("Review8FundingClock");
    sharding = ClusterSharding.get(testKit.system());
    MarkPrices marks = MarkPrices.local();
    marks.accept(new Mark(PERP, 500_003, 1, 0));
    ActorRef<MarginMonitor.Command> monitor = testKit.spawn(MarginMonitor.create(AccountEntityTest.INSTRUMENTS, marks,
        new Metrics()), "margin-monitor");
    testKit.system().receptionist().tell(Receptionist.register(MarginMonitor.SERVICE_KEY, monitor));
    AccountEntity.init(testKit.system(), new AccountEntity.Environment(AccountEntityTest.SETTINGS,
        AccountEntityTest.INSTRUMENTS, marks, MarginMonitor.registry(monitor), clock,
        AccountEntity.LiquidationStarter.NONE));
    FundingSettings settings = new FundingSettings(true, Duration.ofSeconds(5), Duration.ZERO, 4, 100,
        Duration.ofSeconds(5), 100, 1_000);
    // Mark 50,000.3 over index 50,000.0: the rate is the interest, 0.01%.
    environment = new FundingEnvironment(settings, AccountEntityTest.INSTRUMENTS, clock,
        i -> CompletableFuture.completedFuture(new FundingEnvironment.Prices(500_003, 500_000, true)),
        FundingFanOut.viaMonitors(testKit.system()));
  }

  @AfterAll
  void stop() {
    testKit.shutdownTestKit();
  }

  private AccountEntity.Reply ask(String accountId, Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> c) {
    return sharding.entityRefFor(AccountEntity.TYPE_KEY, accountId).ask(c::apply, Duration.ofSeconds(10))
        .toCompletableFuture().join();
  }

  private void holder(String id, long lots, String counterparty) {
    ask(id, AccountEntity.Open::unattributed);
    ask(id, r -> new AccountEntity.Deposit("d-" + id, 10_000 * USDT, r));
    assertInstanceOf(AccountEntity.TradeSideApplied.class, ask(id, r -> new AccountEntity.ApplyTrade("t-1", 1, PERP,
        lots, 500_000, true, null, counterparty, r, T - 3_600_000)));
  }

  private int payments(String id) {
    return assertInstanceOf(AccountEntity.FundingPayments.class,
        ask(id, r -> new AccountEntity.GetFundingPayments(null, 0, null, 10, r))).newestFirst().size();
  }

  private FundingClock.History history(ActorRef<FundingClock.Command> fundingClock) {
    TestProbe<FundingClock.History> probe = testKit.createTestProbe();
    fundingClock.tell(new FundingClock.GetHistory(0, 10, probe.getRef()));
    return probe.receiveMessage();
  }

  @Test
  void aClockThatCrashedAfterTheAccountsAppliedRecordsTheirPaymentsWhenItResumes() throws Exception {
    holder("long-a", 1, "short-b");
    holder("short-b", -1, "long-a");
    String entityId = PERP + "-review8";
    PersistenceTestKit journal = PersistenceTestKit.create(testKit.system());
    ActorRef<FundingClock.Command> first = testKit.spawn(FundingClock.create(PERP, entityId, environment), "clock-1");
    TestProbe<Object> waits = testKit.createTestProbe();
    waits.awaitAssert(Duration.ofSeconds(10), Duration.ofMillis(100), () -> {
      first.tell(FundingClock.Tick.INSTANCE);
      TestProbe<FundingClock.Quote> q = testKit.createTestProbe();
      first.tell(new FundingClock.GetQuote(q.getRef()));
      assertTrue(q.receiveMessage().samples() >= 1);
      return null;
    });
    // 08:00:01. The clock's PaymentsRecorded write fails (its node dies after the accounts applied).
    clock.advance(Duration.ofSeconds(11));
    journal.failNextNOpsCond((persistenceId, op) -> op instanceof WriteEvents w
        && w.getBatch().stream().anyMatch(e -> e instanceof FundingClock.PaymentsRecorded), 1);
    TestProbe<Object> watcher = testKit.createTestProbe();
    watcher.awaitAssert(Duration.ofSeconds(15), Duration.ofMillis(100), () -> {
      first.tell(FundingClock.Tick.INSTANCE);
      assertEquals(List.of(1, 1), List.of(payments("long-a"), payments("short-b")));
      return null;
    });
    watcher.expectTerminated(first, Duration.ofSeconds(10));

    // The clock starts again (elsewhere) and finishes the interval.
    ActorRef<FundingClock.Command> second = testKit.spawn(FundingClock.create(PERP, entityId, environment),
        "clock-2");
    waits.awaitAssert(Duration.ofSeconds(15), Duration.ofMillis(100), () -> {
      second.tell(FundingClock.Tick.INSTANCE);
      FundingClock.History h = history(second);
      assertTrue(!h.newestFirst().isEmpty() && h.newestFirst().get(0).closedAt() > 0);
      return null;
    });
    FundingClock.IntervalRecord closed = history(second).newestFirst().get(0);
    // 0.001 BTC at 50,000.3 at 0.01%: the long pays 0.005001, the short receives 0.005000; residue 1.
    List<String> violations = Review8AuditAccess.auditViolations(
        Map.of("long-a", journal.persistedInStorage(AccountEntity.persistenceId("long-a").id()),
            "short-b", journal.persistedInStorage(AccountEntity.persistenceId("short-b").id())),
        Map.of(PERP, journal.persistedInStorage(FundingClock.persistenceId(entityId).id())));
    assertEquals(List.of(2L, 5_001L, 5_000L), List.of(closed.accounts(), closed.paid(), closed.received()),
        "the closed interval must count the two payments the accounts applied; audit: " + violations);
    assertEquals(List.of(), violations);
  }
}
