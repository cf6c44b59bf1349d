package io.clearinghouse.ops.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationList;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.junit.jupiter.api.Test;

/**
 * The node's one console reader: however many consoles are open, each poll reads the journal at
 * most once and every console gets the same events; a console opening later gets what was already
 * read; no console, no polling. Thin sides and maintenance tightenings alert when they flip, both ways.
 */
class ConsoleFeedTest {
  /** Counts the journal reads; the cascade counts and flags are set by the test. */
  private static class FakeReads implements ConsoleFeed.Reads {
    final AtomicInteger journalReads = new AtomicInteger();
    long started;
    long settled;
    LiquidationList liquidations = LiquidationList.getDefaultInstance();
    Map<String, ConsoleFeed.Flags> flags = new HashMap<>();

    @Override
    public Optional<CompletionStage<ObjectNode>> cascade() {
      return Optional.of(CompletableFuture.completedFuture(ConsoleRoutes.JSON.createObjectNode()
          .put("started", started).put("settled", settled).put("pending", started - settled)));
    }

    @Override
    public CompletionStage<LiquidationList> liquidations(long fromEpochMillis, int limit) {
      journalReads.incrementAndGet();
      return CompletableFuture.completedFuture(liquidations);
    }

    @Override
    public Map<String, ConsoleFeed.Flags> flags() {
      return Map.copyOf(flags);
    }
  }

  /** Ticks by hand; records whether the polling runs. */
  private static final class ManualTicker implements ConsoleFeed.Ticker {
    int started;
    int cancelled;

    @Override
    public Cancellable every(Duration interval, Runnable tick) {
      started++;
      return new Cancellable() {
        private boolean done;

        @Override
        public boolean cancel() {
          cancelled++;
          done = true;
          return true;
        }

        @Override
        public boolean isCancelled() {
          return done;
        }
      };
    }
  }

  private static List<String> types(List<ServerSentEvent> events) {
    return events.stream().map(e -> e.getEventType().orElse("")).toList();
  }

  private static List<String> alerts(List<ServerSentEvent> events) {
    return events.stream().filter(e -> e.getEventType().orElse("").equals("alert")).map(ServerSentEvent::getData)
        .toList();
  }

  private static Liquidation running(String id) {
    return Liquidation.newBuilder().setLiquidationId(id).setAccountId("alice-1").setTradersLoss("10.000000").build();
  }

  /** The journal reads of {@code polls} polls with {@code consoles} consoles open, a liquidation starting and settling between. */
  private static int readsWith(int consoles) {
    FakeReads reads = new FakeReads();
    ConsoleFeed feed = new ConsoleFeed(reads, new ManualTicker());
    List<List<ServerSentEvent>> got = new ArrayList<>();
    for (int i = 0; i < consoles; i++) {
      List<ServerSentEvent> mine = new ArrayList<>();
      got.add(mine);
      feed.subscribe(mine::addAll);
    }
    feed.poll();
    feed.poll();
    reads.started = 1;
    reads.liquidations = LiquidationList.newBuilder().addLiquidations(running("alice-1-1")).build();
    feed.poll();
    feed.poll();
    reads.settled = 1;
    reads.liquidations = LiquidationList.newBuilder().addLiquidations(running("alice-1-1").toBuilder()
        .setOutcome("closed")).build();
    feed.poll();
    for (List<ServerSentEvent> mine : got) {
      assertEquals(got.get(0).stream().map(ServerSentEvent::getData).filter(d -> !d.contains("epochMillis")).toList(),
          mine.stream().map(ServerSentEvent::getData).filter(d -> !d.contains("epochMillis")).toList(),
          "every console gets the same events");
      assertEquals(2, mine.stream().filter(e -> e.getEventType().orElse("").equals("liquidation")).count(),
          types(mine).toString());
      assertEquals(1, alerts(mine).stream().filter(a -> a.contains("finished: closed")).count(), alerts(mine).toString());
    }
    assertEquals(reads.journalReads.get(), feed.journalReads());
    return reads.journalReads.get();
  }

  @Test
  void twoConsolesReadTheJournalNoMoreThanOne() {
    int one = readsWith(1);
    assertEquals(3, one, "the first poll, the start and the settlement");
    assertEquals(one, readsWith(2));
    assertEquals(one, readsWith(10));
  }

  @Test
  void aConsoleOpeningLaterGetsWhatWasReadWithoutANewRead() {
    FakeReads reads = new FakeReads();
    ConsoleFeed feed = new ConsoleFeed(reads, new ManualTicker());
    feed.subscribe(events -> { });
    reads.started = 1;
    reads.liquidations = LiquidationList.newBuilder().addLiquidations(running("alice-1-1")).build();
    feed.poll();
    assertEquals(1, reads.journalReads.get());
    List<ServerSentEvent> late = new ArrayList<>();
    feed.subscribe(late::addAll);
    assertEquals(List.of("liquidation", "cascade"), types(late));
    assertTrue(late.get(0).getData().contains("alice-1-1"), late.get(0).getData());
    assertTrue(late.get(1).getData().contains("\"running\":1"), late.get(1).getData());
    feed.poll();
    assertEquals(1, reads.journalReads.get(), "nothing started or settled: no new read");
  }

  @Test
  void pollingRunsOnlyWhileAConsoleIsOpen() {
    FakeReads reads = new FakeReads();
    ManualTicker ticker = new ManualTicker();
    ConsoleFeed feed = new ConsoleFeed(reads, ticker);
    feed.poll();
    assertEquals(0, reads.journalReads.get(), "no console: no read");
    Runnable first = feed.subscribe(events -> { });
    Runnable second = feed.subscribe(events -> { });
    assertEquals(1, ticker.started, "one polling for two consoles");
    assertEquals(2, feed.consoles());
    first.run();
    assertEquals(0, ticker.cancelled);
    second.run();
    assertEquals(1, ticker.cancelled, "the last console closed: the polling stops");
    feed.poll();
    assertEquals(0, reads.journalReads.get());
  }

  @Test
  void thinSidesAndTighteningAlertWhenTheyFlipBothWays() {
    FakeReads reads = new FakeReads();
    ConsoleFeed feed = new ConsoleFeed(reads, new ManualTicker());
    List<ServerSentEvent> got = new ArrayList<>();
    feed.subscribe(got::addAll);
    reads.flags.put("BTCUSDT-PERP", ConsoleFeed.Flags.NONE);
    reads.flags.put("ETHUSDT-PERP", new ConsoleFeed.Flags(true, false, false, 0));
    feed.poll();
    assertEquals(List.of(), alerts(got), "the first poll only learns where things stand");

    reads.flags.put("BTCUSDT-PERP", new ConsoleFeed.Flags(true, false, true, 1_500_000));
    feed.poll();
    List<String> raised = alerts(got);
    assertEquals(2, raised.size(), raised.toString());
    assertTrue(raised.get(0).contains("thin market on BTCUSDT-PERP: the bids") && raised.get(0).contains("warning"),
        raised.get(0));
    assertTrue(raised.get(1).contains("maintenance margin on BTCUSDT-PERP announced to tighten to 150.00% of base"),
        raised.get(1));

    got.clear();
    feed.poll();
    assertEquals(List.of(), alerts(got), "nothing flipped: no alert");

    reads.flags.put("BTCUSDT-PERP", new ConsoleFeed.Flags(false, true, false, 0));
    reads.flags.put("ETHUSDT-PERP", ConsoleFeed.Flags.NONE);
    feed.poll();
    List<String> cleared = alerts(got);
    assertEquals(4, cleared.size(), cleared.toString());
    assertTrue(cleared.get(0).contains("BTCUSDT-PERP bids no longer thin") && cleared.get(0).contains("info"),
        cleared.get(0));
    assertTrue(cleared.get(1).contains("thin market on BTCUSDT-PERP: the asks"), cleared.get(1));
    assertTrue(cleared.get(2).contains("no maintenance tightening announced on BTCUSDT-PERP any more"), cleared.get(2));
    assertTrue(cleared.get(3).contains("ETHUSDT-PERP bids no longer thin"), cleared.get(3));
  }

  @Test
  void aFailedReadIsAProblemEventForEveryConsole() {
    FakeReads reads = new FakeReads() {
      @Override
      public CompletionStage<LiquidationList> liquidations(long fromEpochMillis, int limit) {
        journalReads.incrementAndGet();
        return CompletableFuture.failedFuture(new IllegalStateException("journal away"));
      }
    };
    ConsoleFeed feed = new ConsoleFeed(reads, new ManualTicker());
    List<ServerSentEvent> a = new ArrayList<>();
    List<ServerSentEvent> b = new ArrayList<>();
    feed.subscribe(a::addAll);
    feed.subscribe(b::addAll);
    feed.poll();
    assertEquals(List.of("problem"), types(a));
    assertEquals(List.of("problem"), types(b));
    assertEquals(1, reads.journalReads.get());
    reads.journalReads.set(0);
    feed.poll();
    assertEquals(1, reads.journalReads.get(), "the failed read is tried again at the next poll");
  }

  @Test
  void percentIsTwoDecimals() {
    assertEquals("150.00%", ConsoleFeed.percent(1_500_000));
    assertEquals("0.05%", ConsoleFeed.percent(500));
    assertEquals("100.00%", ConsoleFeed.percent(1_000_000));
  }
}
