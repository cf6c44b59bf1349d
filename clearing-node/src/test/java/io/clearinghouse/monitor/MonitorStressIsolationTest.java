package io.clearinghouse.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.Exposure;
import io.clearinghouse.account.RiskRegistry;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.liquidation.CloseSizing;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A stress test never holds up liquidations (issue 16 item 7): the monitor evaluates it outside
 * its own walk, one at a time. While a stress evaluation is stuck (its close sizing waits on a
 * latch here), a mark that breaches an account still triggers its liquidation at once; the next
 * {@link MarginMonitor#MAX_QUEUED_STRESS} stress queries wait their turn (two requests do not refuse
 * each other), one more is answered at once, refused as busy; once the first ends the queued ones run.
 */
class MonitorStressIsolationTest {
  private static final ActorTestKit testKit = ActorTestKit.create(
      ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static MarginMonitor.StressQuery query(long markTicks, ActorRef<StressEvaluation.Answer> replyTo) {
    return new MarginMonitor.StressQuery(List.of(new StressEvaluation.Scenario("down", Map.of(PERP, markTicks))),
        List.of(PERP), 10, 10, replyTo);
  }

  @Test
  void aStuckStressTestDelaysNoLiquidationQueuesTwoAndRefusesTheNextAtOnce() throws Exception {
    MarkPrices marks = MarkPrices.local(Clock.systemUTC(), Duration.ofMinutes(1));
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CloseSizing stuck = (instrument, signedLots, markTicks) -> {
      entered.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return signedLots;
    };
    ActorRef<MarginMonitor.Command> monitor = testKit.spawn(MarginMonitor.create(INSTRUMENTS, marks, new Metrics(),
        null, stuck));
    MarginMonitor.evaluateOnEveryMark(marks, monitor);
    RiskRegistry registry = MarginMonitor.registry(monitor);
    TestProbe<AccountEntity.Command> thin = testKit.createTestProbe();
    // 1 BTC long entered at 50,000 on 1,000 of cash: liquidated at 40,000.0, safe at 50,000.0.
    registry.track("thin", new Exposure(1_000 * USDT, false, List.of(new Exposure.Position(PERP, 1_000,
        1_000L * 500_000 * 100, MarginMode.CROSS, 0))), thin.getRef());
    marks.accept(new Mark(PERP, 500_000, 1, System.currentTimeMillis()));

    TestProbe<StressEvaluation.Answer> first = testKit.createTestProbe();
    List<TestProbe<StressEvaluation.Answer>> waiting = new java.util.ArrayList<>();
    monitor.tell(query(400_000, first.getRef()));
    assertTrue(entered.await(10, TimeUnit.SECONDS), "the stress evaluation started");
    try {
      marks.accept(new Mark(PERP, 400_000, 2, System.currentTimeMillis()));
      thin.expectMessage(Duration.ofSeconds(5), new AccountEntity.StartLiquidation(2));
      for (int i = 0; i < MarginMonitor.MAX_QUEUED_STRESS; i++) {
        TestProbe<StressEvaluation.Answer> queued = testKit.createTestProbe();
        monitor.tell(query(400_000, queued.getRef()));
        waiting.add(queued);
      }
      TestProbe<StressEvaluation.Answer> beyond = testKit.createTestProbe();
      monitor.tell(query(400_000, beyond.getRef()));
      StressEvaluation.Answer refused = beyond.expectMessageClass(StressEvaluation.Answer.class, Duration.ofSeconds(5));
      assertTrue(refused.busy(), refused.toString());
      assertEquals(List.of(), refused.results());
      // The queued ones wait (they are answered once it ends, below), not refused.
      waiting.get(0).expectNoMessage(Duration.ofMillis(200));
    } finally {
      release.countDown();
    }
    StressEvaluation.Answer answered = first.expectMessageClass(StressEvaluation.Answer.class, Duration.ofSeconds(10));
    assertEquals(1, answered.results().get(0).accountsLiquidated());
    for (TestProbe<StressEvaluation.Answer> queued : waiting) {
      StressEvaluation.Answer later = queued.expectMessageClass(StressEvaluation.Answer.class, Duration.ofSeconds(10));
      assertTrue(!later.busy(), later.toString());
      assertEquals(1, later.results().get(0).accountsLiquidated());
    }
    // Done: the next query runs (the account, now told to liquidate, is still evaluated as reported).
    TestProbe<StressEvaluation.Answer> third = testKit.createTestProbe();
    third.awaitAssert(Duration.ofSeconds(10), () -> {
      monitor.tell(query(400_000, third.getRef()));
      StressEvaluation.Answer next = third.expectMessageClass(StressEvaluation.Answer.class, Duration.ofSeconds(5));
      assertTrue(!next.busy(), next.toString());
      assertEquals(1, next.results().get(0).accountsLiquidated());
      return null;
    });
  }
}
