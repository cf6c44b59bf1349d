package io.clearinghouse.price;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * One feeder token quoting at the edge of the allowed move, interval after interval, while the
 * other sources never move: the mark must not walk (it did, by 5.26% with two tokens and by
 * 10.25% with a token owning two of three sources, before each token spoke once and an even
 * count took the middle value nearer the last index).
 */
class MarkWalkTest {
  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config()
          .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
          .withFallback(ConfigFactory.load()));
  // The shipped settings: min-sources 2, max-jump 5%, confirm 3 s by 2 tokens, mark interval 250 ms.
  private static final PriceSettings SETTINGS = new PriceSettings(java.util.Set.of("a", "b", "c", "d", "e"), 2,
      Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofMinutes(5), 2_000, 50_000, Duration.ofSeconds(3), 2,
      Duration.ofMillis(250), Duration.ofSeconds(5), Duration.ofMillis(500), Duration.ofHours(1));
  private static final long P = 500_000;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

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

  private long walk(String name, String[][] sourcesAndOwners, int honest) {
    MarkPrices marks = MarkPrices.local(clock, SETTINGS.staleAfter());
    var feed = EventSourcedBehaviorTestKit.<PriceFeed.Command, PriceFeed.Event, PriceFeed.State>create(testKit.system(),
        PriceFeed.create("BTCUSDT-PERP", SETTINGS, marks, clock));
    for (String[] s : sourcesAndOwners) {
      feed.runCommand(new PriceFeed.IndexTick(s[0], P, now.get(), s[1]));
    }
    for (int step = 1; step <= 12; step++) {
      now.addAndGet(300);
      long reference = feed.getState().indexTicks();
      // The attacker quotes just inside the allowed move of the last index; the honest sources stay at P.
      long edge = reference + reference * 50_000 / 1_000_000;
      for (int i = 0; i < sourcesAndOwners.length; i++) {
        feed.runCommand(new PriceFeed.IndexTick(sourcesAndOwners[i][0], i < honest ? P : edge, now.get(),
            sourcesAndOwners[i][1]));
      }
      assertEquals(P, marks.get("BTCUSDT-PERP").orElseThrow().priceTicks(), name + ", step " + step);
    }
    return marks.get("BTCUSDT-PERP").orElseThrow().priceTicks();
  }

  /** Two fresh sources (the demo, or five configured with three down): one token moves the mark ~5%. */
  @Test
  void oneOfTwoFreshTokensWalksTheMark() {
    long mark = walk("2 tokens", new String[][] {{"a", "honest"}, {"b", "attacker"}}, 1);
    assertEquals(P, mark, "one token of two moved the mark");
  }

  /** A token that owns two sources (allowed: 'one or more') decides the median of three. */
  @Test
  void aTokenWithTwoOfThreeSourcesWalksTheMark() {
    long mark = walk("2 of 3 sources", new String[][] {{"a", "honest"}, {"b", "attacker"}, {"c", "attacker"}}, 1);
    assertEquals(P, mark, "one token moved the mark");
  }
}
