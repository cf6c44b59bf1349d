package io.clearinghouse.price;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The feed of one instrument, on a clock the test moves, with every event round-tripped through CBOR. */
class PriceFeedTest {
  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config()
          .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
          .withFallback(ConfigFactory.load()));
  private static final PriceSettings SETTINGS = new PriceSettings(java.util.Set.of("a", "b", "c"), 2,
      Duration.ofSeconds(10), Duration.ofSeconds(2), 3, 50_000, Duration.ofMillis(500), Duration.ofHours(1));

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final Clock clock = new Clock() {
    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(now.get());
    }
  };
  private final List<PriceEvent> published = new CopyOnWriteArrayList<>();
  private EventSourcedBehaviorTestKit<PriceFeed.Command, PriceFeed.Event, PriceFeed.State> feed;
  private MarkPrices marks;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newFeed() {
    marks = MarkPrices.local();
    marks.listen(published::add);
    feed = EventSourcedBehaviorTestKit.create(testKit.system(),
        PriceFeed.create("BTCUSDT-PERP", SETTINGS, marks, clock),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  private void tick(String source, long price) {
    feed.runCommand(new PriceFeed.IndexTick(source, price, now.get()));
  }

  private Optional<Mark> mark() {
    return marks.get("BTCUSDT-PERP");
  }

  @Test
  void oneSourceIsStaleTwoPublishAMarkWithSequenceOne() {
    tick("a", 500_000);
    assertTrue(mark().isEmpty());
    assertTrue(feed.getState().stale());
    tick("b", 500_010);
    assertEquals(new Mark("BTCUSDT-PERP", 500_005, 1, now.get()), mark().orElseThrow());
    assertFalse(marks.stale("BTCUSDT-PERP"));
    // Fresh is announced before the mark it comes with.
    assertEquals(List.of(new FeedStatus("BTCUSDT-PERP", false, 1, now.get()), mark().orElseThrow()), published);
  }

  @Test
  void sourcesGoingQuietMakeTheFeedStaleAndNoMarkIsPublishedUntilFresh() {
    tick("a", 500_000);
    tick("b", 500_010);
    now.addAndGet(10_001);
    tick("c", 500_020); // a and b are too old now: one fresh source
    assertTrue(marks.stale("BTCUSDT-PERP"));
    assertEquals(1, mark().orElseThrow().sequence());
    tick("a", 500_030);
    assertFalse(marks.stale("BTCUSDT-PERP"));
    assertEquals(new Mark("BTCUSDT-PERP", 500_025, 2, now.get()), mark().orElseThrow());
  }

  @Test
  void aJumpIsHeldUntilTheNextComputationConfirmsIt() {
    tick("a", 500_000);
    tick("b", 500_000);
    tick("a", 600_000);
    tick("b", 600_000); // index 600,000: 20% away from 500,000, held
    assertEquals(500_000, mark().orElseThrow().priceTicks());
    tick("c", 600_100); // median 600,000 again, near the held one: confirmed
    assertEquals(new Mark("BTCUSDT-PERP", 600_000, 2, now.get()), mark().orElseThrow());
  }

  @Test
  void aJumpThatIsNotConfirmedIsDropped() {
    tick("a", 500_000);
    tick("b", 500_000);
    tick("a", 400_000);
    tick("b", 400_000); // held
    tick("a", 500_000);
    tick("b", 500_000); // back: nothing to publish, the mark never moved
    assertEquals(1, mark().orElseThrow().sequence());
    assertEquals(500_000, mark().orElseThrow().priceTicks());
  }

  @Test
  void lastTradesMoveTheMarkThroughTheEmaBasis() {
    tick("a", 500_000);
    tick("b", 500_000);
    feed.runCommand(new PriceFeed.LastTrade(500_100, now.get()));
    // basis EMA: 0 + (100 - 0) * 2 / 4 = 50; mark = median(500,000, 500,050, 500,100)
    assertEquals(500_050, mark().orElseThrow().priceTicks());
  }

  @Test
  void theSequenceContinuesAfterARestart() {
    tick("a", 500_000);
    tick("b", 500_010);
    feed.restart();
    assertEquals(1, feed.getState().sequence());
    // Sources are in memory only: after a restart two fresh ones are needed again.
    tick("a", 500_100);
    tick("b", 500_100);
    assertEquals(new Mark("BTCUSDT-PERP", 500_100, 2, now.get()), mark().orElseThrow());
  }

  @Test
  void thePeriodicCheckNeverConfirmsAHeldJump() {
    tick("a", 500_000);
    tick("b", 500_000);
    tick("a", 600_000); // index 550,000: 10% away, held
    feed.runCommand(PriceFeed.Check.INSTANCE); // same data again: not a confirmation
    feed.runCommand(PriceFeed.Check.INSTANCE);
    assertEquals(500_000, mark().orElseThrow().priceTicks());
    assertEquals(1, mark().orElseThrow().sequence());
  }

  @Test
  void theCheckReannouncesTheMarkForNodesThatMissedIt() {
    tick("a", 500_000);
    tick("b", 500_000);
    // The same feed recovered on another node, whose board never saw the mark.
    MarkPrices elsewhere = MarkPrices.local();
    var recovered = EventSourcedBehaviorTestKit.<PriceFeed.Command, PriceFeed.Event, PriceFeed.State>create(
        testKit.system(), PriceFeed.create("BTCUSDT-PERP", SETTINGS, elsewhere, clock),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
    recovered.initialize(new PriceFeed.StalenessChanged(false, now.get()),
        new PriceFeed.MarkPublished(1, 500_000, 500_000, now.get(), 0));
    assertTrue(elsewhere.get("BTCUSDT-PERP").isEmpty());
    recovered.runCommand(PriceFeed.Check.INSTANCE);
    assertEquals(new Mark("BTCUSDT-PERP", 500_000, 1, now.get()), elsewhere.get("BTCUSDT-PERP").orElseThrow());
    // With no source fresh in its memory yet, the recovered feed then reports itself stale.
    assertTrue(elsewhere.stale("BTCUSDT-PERP"));
    // Repeating what a board already has wakes none of its listeners.
    List<PriceEvent> woken = new CopyOnWriteArrayList<>();
    elsewhere.listen(woken::add);
    recovered.runCommand(PriceFeed.Check.INSTANCE);
    assertTrue(woken.isEmpty(), woken.toString());
  }
}
