package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The quota arithmetic on a clock of the test's own: boundaries exactly, one more refused. */
class QuotasTest {
  private static final Principal ALICE = new Principal("alice", Role.CLIENT, Set.of("alice-1"));
  private static final Principal BOB = new Principal("bob", Role.CLIENT, Set.of("bob-1"));
  private static final Principal OPS = new Principal("ops", Role.OPERATOR, Set.of());
  private static final long SECOND = 1_000_000_000L;

  private final AtomicLong now = new AtomicLong(42 * SECOND);

  private Quotas quotas(Quotas.Limits client, int perAccount) {
    return new Quotas(Map.of(Role.CLIENT, client), perAccount, now::get);
  }

  private static Rejection refusal(Runnable call) {
    return assertThrows(RejectedException.class, call::run).reason();
  }

  @Test
  void aBurstPassesAtOnceThenOneCallPerInterval() {
    Quotas quotas = quotas(new Quotas.Limits(4, 3, 0, 0), 0);
    for (int i = 0; i < 3; i++) {
      quotas.begin(ALICE, false).release();
    }
    assertEquals(Rejection.RATE_LIMITED, refusal(() -> quotas.begin(ALICE, false)));
    // 4 a second: one more each 250 ms, not before.
    now.addAndGet(SECOND / 4 - 1);
    assertEquals(Rejection.RATE_LIMITED, refusal(() -> quotas.begin(ALICE, true)));
    now.addAndGet(1);
    quotas.begin(ALICE, false).release();
    assertEquals(Rejection.RATE_LIMITED, refusal(() -> quotas.begin(ALICE, false)));
    // A quiet spell refills the burst, never beyond it.
    now.addAndGet(60 * SECOND);
    for (int i = 0; i < 3; i++) {
      quotas.begin(ALICE, false).release();
    }
    assertEquals(Rejection.RATE_LIMITED, refusal(() -> quotas.begin(ALICE, false)));
  }

  @Test
  void eachTokenHasItsOwnRateAndOtherRolesTheirOwnLimits() {
    Quotas quotas = quotas(new Quotas.Limits(1, 1, 0, 0), 0);
    quotas.begin(ALICE, false).release();
    assertEquals(Rejection.RATE_LIMITED, refusal(() -> quotas.begin(ALICE, false)));
    quotas.begin(BOB, false).release();
    // No operator limits configured: unlimited.
    for (int i = 0; i < 1_000; i++) {
      quotas.begin(OPS, false).release();
    }
  }

  @Test
  void concurrentCallsAreHeldUntilReleasedAndAReleaseCountsOnce() {
    Quotas quotas = quotas(new Quotas.Limits(0, 0, 2, 1), 0);
    Quotas.Permit first = quotas.begin(ALICE, false);
    Quotas.Permit second = quotas.begin(ALICE, false);
    assertEquals(Rejection.TOO_MANY_CONCURRENT_CALLS, refusal(() -> quotas.begin(ALICE, false)));
    // Streams are counted apart from unary calls.
    Quotas.Permit stream = quotas.begin(ALICE, true);
    assertEquals(Rejection.TOO_MANY_STREAMS, refusal(() -> quotas.begin(ALICE, true)));
    first.release();
    first.release();
    Quotas.Permit third = quotas.begin(ALICE, false);
    assertEquals(Rejection.TOO_MANY_CONCURRENT_CALLS, refusal(() -> quotas.begin(ALICE, false)));
    stream.release();
    quotas.begin(ALICE, true).release();
    second.release();
    third.release();
    quotas.begin(BOB, false).release();
  }

  @Test
  void accountStreamsAreCountedPerAccountAndForgottenWhenNoneIsOpen() {
    Quotas quotas = quotas(Quotas.Limits.NONE, 2);
    Quotas.Permit a = quotas.openAccountStream("alice-1");
    Quotas.Permit b = quotas.openAccountStream("alice-1");
    assertEquals(Rejection.TOO_MANY_ACCOUNT_STREAMS, refusal(() -> quotas.openAccountStream("alice-1")));
    Quotas.Permit other = quotas.openAccountStream("alice-2");
    a.release();
    a.release();
    assertEquals(1, quotas.openAccountStreams("alice-1"));
    Quotas.Permit c = quotas.openAccountStream("alice-1");
    b.release();
    c.release();
    other.release();
    assertEquals(0, quotas.openAccountStreams("alice-1"));
  }

  @Test
  void theShippedConfigurationLoadsAndABadValueNamesItsKey() {
    Quotas shipped = Quotas.fromConfig(ConfigFactory.load());
    assertTrue(shipped.limits(Role.CLIENT).requestsPerSecond() > 0);
    assertTrue(shipped.limits(Role.ENGINE).requestsPerSecond() > shipped.limits(Role.CLIENT).requestsPerSecond());
    // A monitor (Prometheus) scrapes a few times a minute: the smallest quota of all.
    assertEquals(new Quotas.Limits(10, 20, 4, 4), shipped.limits(Role.MONITOR));
    ConfigException monitor = assertThrows(ConfigException.class, () -> Quotas.fromConfig(ConfigFactory
        .parseString("clearinghouse.quotas.monitor.concurrent-calls = -1").withFallback(ConfigFactory.load()).resolve()));
    assertTrue(monitor.getMessage().contains("clearinghouse.quotas.monitor.concurrent-calls"), monitor.getMessage());
    ConfigException negative = assertThrows(ConfigException.class, () -> Quotas.fromConfig(ConfigFactory
        .parseString("clearinghouse.quotas.feeder.streams = -1").withFallback(ConfigFactory.load()).resolve()));
    assertTrue(negative.getMessage().contains("clearinghouse.quotas.feeder.streams"), negative.getMessage());
    ConfigException noBurst = assertThrows(ConfigException.class, () -> Quotas.fromConfig(ConfigFactory
        .parseString("clearinghouse.quotas.client.burst = 0").withFallback(ConfigFactory.load()).resolve()));
    assertTrue(noBurst.getMessage().contains("clearinghouse.quotas.client.burst"), noBurst.getMessage());
  }
}
