package io.clearinghouse.price;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.MarginMath;
import io.clearinghouse.margin.MarginScaling;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 16 review (finding 9): the price feed computes the volatility-scaled margins with each
 * mark, persists them with it and sends them with it, so a restarted feed goes on from them at
 * once, and a node that only receives marks applies the feed's figures (its own volatility index
 * has never settled). Every event round-trips through CBOR; the journal is in memory.
 */
class PriceFeedScalesTest {
  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config()
          .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
          .withFallback(ConfigFactory.load()));
  private static final PriceSettings SETTINGS = new PriceSettings(java.util.Set.of("a", "b", "c"), 2,
      Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofMinutes(5), 2_000, 50_000, Duration.ofSeconds(3), 2,
      Duration.ofMillis(250), Duration.ofSeconds(5), Duration.ofMillis(500), Duration.ofHours(1));
  /** A 10 s short window, 60 s long one, judged from 3 steps. */
  private static final VolatilityBoard.Settings VOLATILITY = new VolatilityBoard.Settings(Duration.ofSeconds(10),
      Duration.ofSeconds(60), 3_000_000, 3);
  /** Reference 80%, sensitivity 100%, cap 300%, hysteresis 10%, warning 5 s. */
  private static final MarginScaling.VolatilityTerms TERMS = new MarginScaling.VolatilityTerms(800_000, 1_000_000,
      3_000_000, 100_000, 5_000);
  private static final String PERP = "BTCUSDT-PERP";

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
        PriceFeed.create(PERP, SETTINGS, marks, clock, TERMS, VOLATILITY),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  /** One second later, both sources at {@code price} in one batch: a mark at it. */
  private Mark markAt(long price) {
    now.addAndGet(1_000);
    feed.<org.apache.pekko.Done>runCommand(replyTo -> new PriceFeed.IndexTicks(List.of(
        new PriceFeed.IndexTick("a", price, now.get(), "feeder-a"),
        new PriceFeed.IndexTick("b", price, now.get(), "feeder-b")), replyTo));
    Mark mark = marks.get(PERP).orElseThrow();
    assertEquals(price, mark.priceTicks());
    assertEquals(now.get(), mark.epochMillis());
    return mark;
  }

  /** Marks alternating by 0.02% every second (about 112% a year: initial 1.4x); maintenance follows after 5 s. */
  private Mark volatileMarks(int count) {
    Mark last = null;
    for (int i = 0; i < count; i++) {
      long held = marks.get(PERP).map(Mark::priceTicks).orElse(0L);
      last = markAt(held == 500_000 ? 500_100 : 500_000);
    }
    return last;
  }

  @Test
  void theFeedSendsAndPersistsTheScalesItsMarksPutInForce() {
    Mark first = markAt(500_000);
    assertEquals(MarkScales.NONE, first.scales(), "as configured until the index is judged");
    Mark last = volatileMarks(12);
    assertTrue(last.scales().initialPpm() > 1_300_000, last.toString());
    assertTrue(last.scales().maintenancePpm() > MarginMath.PPM, "maintenance tightened after the warning: " + last);
    assertEquals(last.scales(), feed.getState().scales());
  }

  @Test
  void aRestartedFeedPublishesTheSameScalesAtOnce() {
    MarkScales before = volatileMarks(12).scales();
    assertTrue(before.maintenancePpm() > MarginMath.PPM, before.toString());
    feed.restart();
    assertEquals(before, feed.getState().scales(), "recovered from the journal");
    // The feed's re-announcement carries them, before any new mark.
    now.addAndGet(100);
    feed.runCommand(PriceFeed.Check.INSTANCE);
    assertEquals(before, marks.get(PERP).orElseThrow().scales());
    // Its index starts again empty: the first marks after the restart keep the persisted scales.
    published.clear();
    Mark next = markAt(500_000);
    assertEquals(before, next.scales());
    assertEquals(List.of(next), published.stream().filter(e -> e instanceof Mark).toList());
  }

  @Test
  void aNodeThatOnlyReceivesMarksAppliesTheFeedsScales() {
    Instruments instruments = Instruments.fromConfig(ConfigFactory.parseString("""
        clearinghouse.instrument-defaults {
          volatility-margin-reference = "80%"
          volatility-margin-sensitivity = "100%"
          volatility-margin-cap = "300%"
          volatility-margin-hysteresis = "10%"
          volatility-margin-warning = 5s
        }
        """).withFallback(ConfigFactory.load()).resolve(), 6);
    MarkScales feedScales = volatileMarks(12).scales();
    // Another node: it joins now and receives only the feed's re-announcement and its next mark.
    MarkPrices node = MarkPrices.local(clock, SETTINGS.staleAfter());
    VolatilityBoard board = VolatilityBoard.listening(node, VolatilityBoard.Settings.DEFAULT);
    node.accept(marks.get(PERP).orElseThrow());
    MarginScales scales = MarginScales.listening(instruments, node, board, symbol -> 0L);
    assertEquals(new MarginScales.Scale(feedScales.initialPpm(), feedScales.maintenancePpm(), 0,
        feedScales.pendingPpm() > 0, feedScales.pendingPpm()), scales.scale(PERP), "a mark held before it listened");
    assertTrue(!board.settled(PERP), "its own index could not have judged");
    Mark next = volatileMarks(1);
    node.accept(next);
    assertEquals(next.scales().maintenancePpm(), scales.scale(PERP).maintenancePpm());
    assertEquals(next.scales().initialPpm(), scales.scale(PERP).initialPpm());
    assertTrue(instruments.require(PERP).riskTiers().tiers().get(0).maintenanceMarginRatePpm()
        > instruments.spec(PERP).contract().riskTiers().tiers().get(0).maintenanceMarginRatePpm(),
        "positions are valued at the feed's maintenance");
    // An older mark (a late re-announcement) does not put older scales back.
    node.accept(new Mark(PERP, 500_000, next.sequence() - 1, next.epochMillis() + 1, MarkScales.NONE));
    scales.accept(new Mark(PERP, 500_000, next.sequence() - 1, next.epochMillis() + 1, MarkScales.NONE));
    assertEquals(next.scales().maintenancePpm(), scales.scale(PERP).maintenancePpm());
    // Scales no feed makes (out of range) are not applied.
    scales.accept(new Mark(PERP, 500_000, next.sequence() + 1, next.epochMillis() + 1, new MarkScales(0, 999_999, 0, 0)));
    assertEquals(next.scales().maintenancePpm(), scales.scale(PERP).maintenancePpm());
    assertTrue(!new MarkScales(1_000_000, 1_000_000, 999_999, 0).valid());
    assertTrue(!new MarkScales(100_000_001, 1_000_000, 0, 0).valid());
    assertTrue(new MarkScales(100_000_000, 1_000_000, 1_000_000, 0).valid());
  }

  @Test
  void scalesAtAnswersWhatTheNextMarkPutsInForceAndChangesNothing() {
    volatileMarks(6);
    MarkScales held = feed.getState().scales();
    now.addAndGet(1_000);
    PriceFeed.ScalesAnswer answer = feed.<PriceFeed.ScalesAnswer>runCommand(
        replyTo -> new PriceFeed.ScalesAt(499_000, replyTo)).reply();
    assertEquals(new PriceFeed.ScalesAnswer(PERP, 499_000, answer.scales()), answer);
    assertEquals(held, feed.getState().scales(), "asking persisted nothing");
    assertTrue(answer.scales().initialPpm() > held.initialPpm(), "a 0.2% move raises the index: " + answer);
    now.addAndGet(-1_000);
    // The same mark, published at the time it was asked for.
    Mark shocked = markAt(499_000);
    assertEquals(answer.scales(), shocked.scales());
  }

  @Test
  void aJumpIsAskedAtTheTimeItsConfirmationWouldPublishIt() {
    markAt(500_000);
    MarkScales warned = null;
    for (int i = 0; i < 12 && warned == null; i++) {
      MarkScales latest = volatileMarks(1).scales();
      warned = latest.pendingPpm() > 0 ? latest : null;
    }
    assertTrue(warned != null, "a tightening is announced");
    // 2.5 s after the warning (5 s period): a mark within the band could come now, before the period
    // ends; a 20% jump only after the 3 s confirmation, once it has ended.
    now.set(warned.warnedAtMillis() + 2_500);
    long held = marks.get(PERP).orElseThrow().priceTicks();
    MarkScales inBand = feed.<PriceFeed.ScalesAnswer>runCommand(
        replyTo -> new PriceFeed.ScalesAt(held == 500_000 ? 500_100 : 500_000, replyTo)).reply().scales();
    assertEquals(warned.maintenancePpm(), inBand.maintenancePpm(), inBand.toString());
    MarkScales jump = feed.<PriceFeed.ScalesAnswer>runCommand(
        replyTo -> new PriceFeed.ScalesAt(400_000, replyTo)).reply().scales();
    assertTrue(jump.maintenancePpm() > warned.maintenancePpm(), jump.toString());
  }

  @Test
  void aFeedWithoutVolatilityMarginSendsNoScales() {
    feed = EventSourcedBehaviorTestKit.create(testKit.system(), PriceFeed.create("ETHUSDT-PERP", SETTINGS, marks, clock),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
    now.addAndGet(1_000);
    feed.runCommand(new PriceFeed.IndexTick("a", 30_000, now.get(), "feeder-a"));
    feed.runCommand(new PriceFeed.IndexTick("b", 30_000, now.get(), "feeder-b"));
    assertNull(marks.get("ETHUSDT-PERP").orElseThrow().scales());
    assertNull(feed.<PriceFeed.ScalesAnswer>runCommand(replyTo -> new PriceFeed.ScalesAt(20_000, replyTo)).reply()
        .scales());
  }

  @Test
  void eventsAndSnapshotsWrittenBeforeTheScalesReadWithout() throws Exception {
    ObjectMapper cbor = JacksonObjectMapperProvider.get(testKit.system()).getOrCreate("jackson-cbor", Optional.empty());
    Map<String, Object> older = new LinkedHashMap<>();
    older.put("sequence", 7L);
    older.put("markTicks", 500_000L);
    older.put("indexTicks", 499_990L);
    older.put("epochMillis", 1_000L);
    older.put("emaBasisTicks", 10L);
    older.put("emaBasisMicros", 10_000_000L);
    PriceFeed.MarkPublished event = cbor.readValue(cbor.writeValueAsBytes(older), PriceFeed.MarkPublished.class);
    assertEquals(new PriceFeed.MarkPublished(7, 500_000, 499_990, 1_000, 10, 10_000_000), event);
    assertNull(event.scales());
    Map<String, Object> state = new LinkedHashMap<>(Map.of("sequence", 7L, "markTicks", 500_000L, "emaBasisTicks", 10L,
        "stale", false, "halted", false, "haltVersion", 0L, "indexTicks", 499_990L, "markEpochMillis", 1_000L,
        "emaBasisMicros", 10_000_000L));
    assertNull(cbor.readValue(cbor.writeValueAsBytes(state), PriceFeed.State.class).scales());
    Map<String, Object> mark = Map.of("instrument", PERP, "priceTicks", 500_000L, "sequence", 7L, "epochMillis",
        1_000L);
    assertEquals(new Mark(PERP, 500_000, 7, 1_000), cbor.readValue(cbor.writeValueAsBytes(mark), Mark.class));
    // A feed recovering from such a journal starts from the scales as configured.
    FeedScales restored = new FeedScales(PERP, TERMS, VOLATILITY);
    restored.restore(null);
    assertEquals(MarkScales.NONE, restored.current());
  }
}
