package io.clearinghouse.ops.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationList;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.junit.jupiter.api.Test;

/**
 * Review rev19 of the node's one console reader ({@link ConsoleFeed}) as a careless environment
 * would treat it: a part of a poll that fails, a console whose sink throws, a read that never
 * answers. Each test says what an open console must still get.
 */
class Rev19ConsoleFeedTest {
  /** Reads that the test steers: the cascade counts, the journal's answer, the flags. */
  private static class Reads implements ConsoleFeed.Reads {
    long started;
    long settled;
    final AtomicInteger journalReads = new AtomicInteger();
    CompletionStage<LiquidationList> next;
    RuntimeException flagsFail;

    @Override
    public Optional<CompletionStage<ObjectNode>> cascade() {
      return Optional.of(CompletableFuture.completedFuture(ConsoleRoutes.JSON.createObjectNode()
          .put("started", started).put("settled", settled)));
    }

    @Override
    public CompletionStage<LiquidationList> liquidations(long fromEpochMillis, int limit) {
      journalReads.incrementAndGet();
      return next;
    }

    @Override
    public Map<String, ConsoleFeed.Flags> flags() {
      if (flagsFail != null) {
        RuntimeException e = flagsFail;
        flagsFail = null;
        throw e;
      }
      return Map.of();
    }
  }

  private static final class Ticker implements ConsoleFeed.Ticker {
    @Override
    public Cancellable every(Duration interval, Runnable tick) {
      return new Cancellable() {
        private boolean cancelled;

        @Override
        public boolean cancel() {
          cancelled = true;
          return true;
        }

        @Override
        public boolean isCancelled() {
          return cancelled;
        }
      };
    }
  }

  private static LiquidationList one(String id) {
    return LiquidationList.newBuilder().addLiquidations(Liquidation.newBuilder().setLiquidationId(id)
        .setAccountId("alice-1").setTradersLoss("10.000000")).build();
  }

  private static long liquidations(List<ServerSentEvent> events, String id) {
    return events.stream().filter(e -> e.getEventType().orElse("").equals("liquidation")
        && e.getData().contains(id)).count();
  }

  /**
   * Finding 1 (low): a poll whose risk-signal read throws after the journal was read loses that
   * read's liquidations for good (the feed already took them as sent); the consoles never see them.
   */
  @Test
  void aFailingFlagsReadDoesNotLoseTheLiquidationsReadInTheSamePoll() {
    Reads reads = new Reads();
    ConsoleFeed feed = new ConsoleFeed(reads, new Ticker());
    List<ServerSentEvent> got = new ArrayList<>();
    feed.subscribe(got::addAll);
    reads.next = CompletableFuture.completedFuture(LiquidationList.getDefaultInstance());
    feed.poll();
    reads.started = 1;
    reads.next = CompletableFuture.completedFuture(one("alice-1-1"));
    reads.flagsFail = new IllegalStateException("signals not wired");
    feed.poll();
    feed.poll();
    feed.poll();
    assertEquals(1, liquidations(got, "alice-1-1"), "the liquidation reaches the open console: " + got);
  }

  /**
   * Finding 2 (low): one console whose sink throws stops the round for every console after it (and
   * the feed takes the events as sent): one broken console must not starve the others.
   */
  @Test
  void aConsoleWhoseSinkThrowsDoesNotStarveTheOthers() {
    Reads reads = new Reads();
    ConsoleFeed feed = new ConsoleFeed(reads, new Ticker());
    Consumer<List<ServerSentEvent>> broken = events -> {
      throw new IllegalStateException("queue gone");
    };
    List<ServerSentEvent> other = new ArrayList<>();
    reads.next = CompletableFuture.completedFuture(LiquidationList.getDefaultInstance());
    feed.subscribe(broken);
    feed.subscribe(other::addAll);
    feed.poll();
    reads.started = 1;
    reads.next = CompletableFuture.completedFuture(one("alice-1-1"));
    feed.poll();
    assertEquals(1, liquidations(other, "alice-1-1"), "the healthy console gets the liquidation: " + other);
  }

  /**
   * Finding 3 (low): a read that never answers wedges the feed for good: every later poll is
   * skipped as "still reading", even after every console closed and a new one opened.
   */
  @Test
  void aReadThatNeverAnswersDoesNotWedgeTheFeedForTheNextConsoles() {
    Reads reads = new Reads();
    ConsoleFeed feed = new ConsoleFeed(reads, new Ticker());
    Runnable first = feed.subscribe(events -> { });
    reads.next = new CompletableFuture<>();
    feed.poll();
    assertEquals(1, reads.journalReads.get());
    first.run();
    List<ServerSentEvent> got = new ArrayList<>();
    feed.subscribe(got::addAll);
    reads.next = CompletableFuture.completedFuture(one("alice-1-2"));
    feed.poll();
    assertTrue(reads.journalReads.get() >= 2, "the new console's poll reads again");
    assertEquals(1, liquidations(got, "alice-1-2"), got.toString());
  }
}
