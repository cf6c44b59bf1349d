package io.clearinghouse.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 18, finding 1: a check of the instruments' units that cannot finish is tried
 * again after a delay that doubles up to a bound (never back to back), and until one passes the
 * node is not ready, with the reason.
 */
class UnitsGateTest {
  private final Deque<CompletionStage<Void>> answers = new ArrayDeque<>();
  private final List<Duration> delays = new ArrayList<>();
  private final Deque<Runnable> scheduled = new ArrayDeque<>();
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final UnitsGate gate = new UnitsGate(answers::removeFirst, (delay, task) -> {
    delays.add(delay);
    scheduled.add(task);
  }, Duration.ofSeconds(1), Duration.ofSeconds(5), () -> stopped.set(true), stopped::get);

  private static CompletionStage<Void> unanswered() {
    return CompletableFuture.failedFuture(new TimeoutException("the journal did not answer"));
  }

  @Test
  void aCheckThatCannotFinishIsRetriedWithAGrowingDelayAndTheNodeIsNotReadyMeanwhile() {
    assertTrue(gate.problem().isPresent());
    for (int i = 0; i < 5; i++) {
      answers.add(unanswered());
    }
    answers.add(CompletableFuture.completedFuture(null));
    gate.first().toCompletableFuture().join();
    assertFalse(gate.agreed());
    assertTrue(gate.problem().orElseThrow().contains("the journal did not answer"), gate.problem().toString());
    while (!scheduled.isEmpty()) {
      assertFalse(gate.agreed());
      assertTrue(gate.problem().isPresent());
      scheduled.removeFirst().run();
    }
    assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(5),
        Duration.ofSeconds(5)), delays);
    assertTrue(gate.agreed());
    assertTrue(gate.problem().isEmpty());
    assertFalse(stopped.get());
  }

  @Test
  void aDisagreementFoundLaterStopsTheNodeAndOneFoundFirstFailsTheStart() {
    answers.add(unanswered());
    answers.add(CompletableFuture.failedFuture(new ConfigException.BadValue("clearinghouse.instruments", "dropped")));
    gate.first().toCompletableFuture().join();
    scheduled.removeFirst().run();
    assertTrue(stopped.get());
    assertFalse(gate.agreed());
    assertTrue(gate.problem().orElseThrow().contains("clearinghouse.instruments"));

    UnitsGate refused = new UnitsGate(() -> CompletableFuture.failedFuture(new ConfigException.BadValue(
        "clearinghouse.instruments", "dropped")), (delay, task) -> delays.add(delay), Duration.ofSeconds(1),
        Duration.ofSeconds(5), () -> { }, () -> false);
    assertTrue(refused.first().toCompletableFuture().isCompletedExceptionally());
  }

  @Test
  void noCheckIsTriedAfterTheNodeStopped() {
    answers.add(unanswered());
    gate.first().toCompletableFuture().join();
    stopped.set(true);
    scheduled.removeFirst().run();
    assertTrue(answers.isEmpty());
    assertEquals(1, delays.size());
  }

  @Test
  void readinessNamesTheCheckUntilTheUnitsAgree() {
    Readiness readiness = new Readiness(List.of(new ReadinessCheck() {
      @Override
      public CompletionStage<java.util.Optional<String>> problem() {
        return CompletableFuture.completedFuture(gate.problem());
      }

      @Override
      public String name() {
        return "instrument units";
      }
    }));
    answers.add(unanswered());
    answers.add(CompletableFuture.completedFuture(null));
    gate.first().toCompletableFuture().join();
    assertTrue(readiness.check().toCompletableFuture().join().orElseThrow().startsWith("instrument units: "));
    scheduled.removeFirst().run();
    assertTrue(readiness.check().toCompletableFuture().join().isEmpty());
  }
}
