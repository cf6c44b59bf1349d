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
  private static final PriceSettings SETTINGS = new PriceSettings(java.util.Set.of("a", "b", "c", "d", "e"), 2,
      Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofMinutes(5), 2_000, 50_000, Duration.ofSeconds(3), 2,
      Duration.ofMillis(250), Duration.ofSeconds(5), Duration.ofMillis(500), Duration.ofHours(1));
  private static final long P = 500_000;

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
    marks = MarkPrices.local(clock, SETTINGS.staleAfter());
    marks.listen(published::add);
    feed = EventSourcedBehaviorTestKit.create(testKit.system(),
        PriceFeed.create("BTCUSDT-PERP", SETTINGS, marks, clock),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  /** A tick from {@code source}, sent by a feeder token of its own. */
  private void tick(String source, long price) {
    feed.runCommand(new PriceFeed.IndexTick(source, price, now.get(), "feeder-" + source));
  }

  /** Moves the clock on (past the mark interval) and lets the feed recompute. */
  private void later(long millis) {
    now.addAndGet(millis);
    feed.runCommand(PriceFeed.Recompute.INSTANCE);
  }

  private Optional<Mark> mark() {
    return marks.get("BTCUSDT-PERP");
  }

  private long markTicks() {
    return mark().orElseThrow().priceTicks();
  }

  @Test
  void theOperatorsNameIsRecordedOnHalts() {
    var halted = feed.<PriceFeed.Status>runCommand(r -> new PriceFeed.SetLiquidationHalt(true, "risk-desk", r));
    assertTrue(halted.reply().liquidationsHalted());
    assertEquals("risk-desk", ((PriceFeed.LiquidationHaltChanged) halted.event()).by());
  }

  @Test
  void eachSourcesPriceAndFreshnessAreListedByName() {
    tick("b", 500_010);
    long bAt = now.get();
    now.addAndGet(SETTINGS.staleAfter().toMillis());
    tick("a", 500_000);
    var fresh = feed.<PriceFeed.Sources>runCommand(PriceFeed.GetSources::new).reply();
    // b is exactly stale-after old: still fresh; one millisecond later it is not.
    assertEquals(new PriceFeed.Sources("BTCUSDT-PERP", List.of(new PriceFeed.SourcePrice("a", 500_000, now.get(), true),
        new PriceFeed.SourcePrice("b", 500_010, bAt, true))), fresh);
    now.incrementAndGet();
    var later = feed.<PriceFeed.Sources>runCommand(PriceFeed.GetSources::new).reply();
    assertEquals(List.of(true, false), later.sources().stream().map(PriceFeed.SourcePrice::fresh).toList());
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
  void twoSourcesOfOneFeederTokenAreOneSource() {
    feed.runCommand(new PriceFeed.IndexTick("a", P, now.get(), "one-feeder"));
    feed.runCommand(new PriceFeed.IndexTick("b", P, now.get(), "one-feeder"));
    assertTrue(mark().isEmpty());
    assertTrue(feed.getState().stale());
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
    // c and a, two of them: the one nearer the last index (500,005), never their midpoint.
    assertEquals(new Mark("BTCUSDT-PERP", 500_020, 2, now.get()), mark().orElseThrow());
  }

  /**
   * The reproduction: two sources fresh, one sends 0.7 P once, the other's ordinary ticks
   * follow. One source against one: nothing is published, and the old mark ages out.
   */
  @Test
  void oneOutlierOfTwoFreshSourcesIsNeverConfirmedByTheOthersTicks() {
    tick("a", P);
    tick("b", P);
    later(300);
    tick("a", 350_000);
    for (int i = 0; i < 12; i++) {
      later(1_000);
      tick("b", P + i);
      feed.runCommand(PriceFeed.Check.INSTANCE);
    }
    assertEquals(new Mark("BTCUSDT-PERP", P, 1, now.get() - 12_000), mark().orElseThrow());
    // Nobody vouched for the mark for more than stale-after: stale on the board, not liquidated on.
    assertTrue(marks.stale("BTCUSDT-PERP"));
    assertTrue(published.stream().anyMatch(e -> e instanceof FeedStatus f && f.stale()), published.toString());
  }

  @Test
  void oneOutlierAmongThreeOrFiveIsLeftOutOfTheMedian() {
    for (String s : List.of("a", "b", "c", "d", "e")) {
      tick(s, P);
    }
    later(300);
    tick("a", 350_000);
    later(300);
    tick("b", P + 100);
    tick("c", P + 200);
    later(300);
    // Median of b..e (500,000 500,000 500,100 500,200): of the two middle values the one nearer
    // the last index, 500,000; the outlier is not in it.
    assertEquals(500_000, markTicks());
    later(5_000);
    assertEquals(500_000, markTicks());
    assertFalse(marks.stale("BTCUSDT-PERP"));
  }

  @Test
  void aRealMoveIsPublishedOnceAMajorityHeldItForTheConfirmationTime() {
    tick("a", P);
    tick("b", P);
    tick("c", P);
    later(300);
    tick("a", 400_000);
    tick("b", 400_100);
    later(1_000);
    feed.runCommand(PriceFeed.Check.INSTANCE);
    assertEquals(P, markTicks());
    later(1_000);
    tick("a", 400_000);
    assertEquals(P, markTicks());
    later(1_000); // 3 s since the majority moved
    assertEquals(new Mark("BTCUSDT-PERP", 400_050, 2, now.get()), mark().orElseThrow());
    // c, still at the old level, is now the outlier and left out.
    later(300);
    tick("a", 400_010);
    later(300);
    // a and b (400,010 and 400,100): the one nearer the last index 400,050.
    assertEquals(400_010, markTicks());
  }

  @Test
  void aJumpWhoseMajorityFallsApartBeforeTheConfirmationTimeIsDropped() {
    tick("a", P);
    tick("b", P);
    tick("c", P);
    later(300);
    tick("a", 400_000);
    tick("b", 400_000);
    later(2_000);
    tick("b", P); // back: the majority is at the old level again
    later(1_500);
    tick("a", 400_000);
    later(1_000);
    assertEquals(P, markTicks());
    assertEquals(1, mark().orElseThrow().sequence());
  }

  @Test
  void atMostOneMarkPerMarkInterval() {
    tick("a", P);
    tick("b", P);
    for (int i = 1; i <= 20; i++) {
      now.addAndGet(10);
      tick("a", P + 10 * i);
      tick("b", P + 10 * i);
    }
    assertEquals(1, mark().orElseThrow().sequence());
    later(250);
    // The latest data, once.
    assertEquals(new Mark("BTCUSDT-PERP", P + 200, 2, now.get()), mark().orElseThrow());
  }

  @Test
  void washTradesMoveTheMarkByTheClampedTimeWeightedBasisOnly() {
    tick("a", P);
    tick("b", P);
    // 100 trades 10% above the index, 100 ms apart: 10 s of a 5 min window, each sample clamped to 0.2%.
    for (int i = 0; i < 100; i++) {
      now.addAndGet(100);
      feed.runCommand(new PriceFeed.LastTrade(550_000, now.get()));
    }
    later(300);
    long moved = markTicks() - P;
    // Basis after 10 s at 1,000 ticks (the band) over 300 s: about 33 ticks (0.007%).
    assertTrue(moved > 0 && moved <= 40, "moved " + moved);
    // However long it goes on, never beyond the band.
    for (int i = 0; i < 2_000; i++) {
      now.addAndGet(500);
      feed.runCommand(new PriceFeed.LastTrade(550_000, now.get()));
      if (i % 10 == 0) {
        tick("a", P);
        tick("b", P);
      }
    }
    later(300);
    assertTrue(markTicks() - P <= 1_000, "mark " + markTicks());
    assertTrue(markTicks() - P > 900, "mark " + markTicks());
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
  void theCheckReannouncesTheMarkWithItsOwnTimeForNodesThatMissedIt() {
    tick("a", 500_000);
    tick("b", 500_000);
    // The same feed recovered on another node, whose board never saw the mark.
    MarkPrices elsewhere = MarkPrices.local(clock, SETTINGS.staleAfter());
    var recovered = EventSourcedBehaviorTestKit.<PriceFeed.Command, PriceFeed.Event, PriceFeed.State>create(
        testKit.system(), PriceFeed.create("BTCUSDT-PERP", SETTINGS, elsewhere, clock),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
    long publishedAt = now.get();
    recovered.initialize(new PriceFeed.StalenessChanged(false, publishedAt),
        new PriceFeed.MarkPublished(1, 500_000, 500_000, publishedAt, 0));
    assertTrue(elsewhere.get("BTCUSDT-PERP").isEmpty());
    now.addAndGet(4_000);
    recovered.runCommand(PriceFeed.Check.INSTANCE);
    // Announced with the time it was published: its age counts on every node.
    assertEquals(new Mark("BTCUSDT-PERP", 500_000, 1, publishedAt), elsewhere.get("BTCUSDT-PERP").orElseThrow());
    // With no source fresh in its memory yet, the recovered feed then reports itself stale.
    assertTrue(elsewhere.stale("BTCUSDT-PERP"));
    // Repeating what a board already has wakes none of its listeners.
    List<PriceEvent> woken = new CopyOnWriteArrayList<>();
    elsewhere.listen(woken::add);
    recovered.runCommand(PriceFeed.Check.INSTANCE);
    assertTrue(woken.isEmpty(), woken.toString());
  }

  @Test
  void aMarkNobodyVouchesForGoesStaleOnTheBoardAndFreshWhenVouchedForAgain() {
    tick("a", P);
    tick("b", P);
    feed.runCommand(PriceFeed.Check.INSTANCE);
    now.addAndGet(10_001); // the feed died: no tick, no check
    marks.sweep();
    assertTrue(marks.stale("BTCUSDT-PERP"));
    assertEquals(new FeedStatus("BTCUSDT-PERP", true, 1, now.get()), published.get(published.size() - 1));
    tick("a", P);
    tick("b", P);
    assertFalse(marks.stale("BTCUSDT-PERP"));
    assertEquals(2, mark().orElseThrow().sequence());
    assertEquals(List.of(new FeedStatus("BTCUSDT-PERP", false, 2, now.get()), mark().orElseThrow()),
        published.subList(published.size() - 2, published.size()));
  }
}
