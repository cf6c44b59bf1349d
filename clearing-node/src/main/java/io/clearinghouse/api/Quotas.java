package io.clearinghouse.api;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Per-token quotas on this node ({@code clearinghouse.quotas}), by the token's role: calls a
 * second (with a burst), unary calls at once, streams open at once, and for clients open
 * {@code StreamAccount} streams per account. A refusal is a {@link RejectedException} with a
 * RESOURCE_EXHAUSTED reason and changes nothing. Limits are per node: a token spreading its calls
 * over n nodes gets n times them. A limit of 0 is off.
 *
 * <p>The rate is a generic cell rate algorithm on the nanosecond clock, in integers: each call
 * moves the token's theoretical arrival time one emission interval (1 s / rate) ahead; a call that
 * would put it more than {@code burst} intervals ahead of now is refused.
 */
public final class Quotas {
  /** One role's limits; 0 switches a limit off. */
  public record Limits(long requestsPerSecond, long burst, int concurrentCalls, int streams) {
    public static final Limits NONE = new Limits(0, 0, 0, 0);
  }

  /** Something held (a call, a stream) until released; releasing twice releases once. */
  public interface Permit {
    Permit NONE = () -> {};

    void release();
  }

  private final Map<Role, Limits> limits;
  private final int streamsPerAccount;
  private final LongSupplier nanoClock;
  private final Map<Principal, TokenState> tokens = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> accountStreams = new ConcurrentHashMap<>();

  public Quotas(Map<Role, Limits> limits, int streamsPerAccount, LongSupplier nanoClock) {
    this.limits = Map.copyOf(limits);
    this.streamsPerAccount = streamsPerAccount;
    this.nanoClock = nanoClock;
  }

  /** No quota at all. */
  public static Quotas unlimited() {
    return new Quotas(Map.of(), 0, System::nanoTime);
  }

  /** Reads {@code clearinghouse.quotas}; a bad value stops the node with the key named. */
  public static Quotas fromConfig(Config config) {
    Map<Role, Limits> limits = new EnumMap<>(Role.class);
    for (Role role : Role.values()) {
      String path = "clearinghouse.quotas." + role.name().toLowerCase(Locale.ROOT);
      limits.put(role, new Limits(nonNegative(config, path + ".requests-per-second", 1_000_000_000L),
          nonNegative(config, path + ".burst", 1_000_000L),
          (int) nonNegative(config, path + ".concurrent-calls", 1_000_000L),
          (int) nonNegative(config, path + ".streams", 1_000_000L)));
      Limits l = limits.get(role);
      if (l.requestsPerSecond() > 0 && l.burst() < 1) {
        throw new ConfigException.BadValue(path + ".burst", "must be at least 1 when requests-per-second is set");
      }
    }
    int perAccount = (int) nonNegative(config, "clearinghouse.quotas.client.streams-per-account", 1_000_000L);
    return new Quotas(limits, perAccount, System::nanoTime);
  }

  private static long nonNegative(Config config, String path, long max) {
    long value = config.getLong(path);
    if (value < 0 || value > max) {
      throw new ConfigException.BadValue(path, "must be from 0 (off) to " + max + ", was " + value);
    }
    return value;
  }

  public Limits limits(Role role) {
    return limits.getOrDefault(role, Limits.NONE);
  }

  /**
   * A call of {@code caller} begins: counted against its rate, and against its concurrent calls
   * (a unary call) or its open streams (a streaming call) until the permit is released. Throws
   * RATE_LIMITED, TOO_MANY_CONCURRENT_CALLS or TOO_MANY_STREAMS.
   */
  public Permit begin(Principal caller, boolean stream) {
    Limits l = limits(caller.role());
    TokenState token = tokens.computeIfAbsent(caller, p -> new TokenState(nanoClock.getAsLong()));
    if (l.requestsPerSecond() > 0 && !token.admit(nanoClock.getAsLong(), l)) {
      throw new RejectedException(Rejection.RATE_LIMITED, "more than " + l.requestsPerSecond()
          + " calls a second (burst " + l.burst() + ") for a " + roleName(caller) + " token on this node: retry later");
    }
    if (stream) {
      return hold(token.streams, l.streams(), Rejection.TOO_MANY_STREAMS,
          "open streams for a " + roleName(caller) + " token on this node");
    }
    return hold(token.calls, l.concurrentCalls(), Rejection.TOO_MANY_CONCURRENT_CALLS,
        "calls at once for a " + roleName(caller) + " token on this node");
  }

  /** An account stream opens: at most {@code client.streams-per-account} at once per account. */
  public Permit openAccountStream(String accountId) {
    AtomicInteger open = accountStreams.computeIfAbsent(accountId, a -> new AtomicInteger());
    Permit held = hold(open, streamsPerAccount, Rejection.TOO_MANY_ACCOUNT_STREAMS,
        "open streams of account " + accountId + " on this node");
    return once(() -> {
      held.release();
      // Forget idle accounts, so that the map holds only accounts with an open stream.
      accountStreams.computeIfPresent(accountId, (a, count) -> count.get() == 0 ? null : count);
    });
  }

  /** Open account streams of {@code accountId} on this node, for tests. */
  int openAccountStreams(String accountId) {
    AtomicInteger open = accountStreams.get(accountId);
    return open == null ? 0 : open.get();
  }

  private static Permit hold(AtomicInteger counter, int limit, Rejection reason, String what) {
    if (counter.incrementAndGet() > limit && limit > 0) {
      counter.decrementAndGet();
      throw new RejectedException(reason, "more than " + limit + " " + what + ": retry when one has ended");
    }
    return once(counter::decrementAndGet);
  }

  private static Permit once(Runnable release) {
    AtomicBoolean released = new AtomicBoolean();
    return () -> {
      if (released.compareAndSet(false, true)) {
        release.run();
      }
    };
  }

  private static String roleName(Principal caller) {
    return caller.role().name().toLowerCase(Locale.ROOT);
  }

  /** One token's counters on this node. */
  private static final class TokenState {
    /** The theoretical arrival time of the next call, on the nanosecond clock. */
    final AtomicLong nextArrival;
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger streams = new AtomicInteger();

    TokenState(long now) {
      this.nextArrival = new AtomicLong(now);
    }

    boolean admit(long now, Limits l) {
      long interval = Math.max(1, TimeUnit.SECONDS.toNanos(1) / l.requestsPerSecond());
      long tolerance = Math.multiplyExact(interval, l.burst() - 1);
      while (true) {
        long arrival = nextArrival.get();
        long from = arrival - now > 0 ? arrival : now;
        if (from - now > tolerance) {
          return false;
        }
        if (nextArrival.compareAndSet(arrival, from + interval)) {
          return true;
        }
      }
    }
  }
}
