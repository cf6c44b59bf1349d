package io.clearinghouse.expiry;

import io.clearinghouse.instrument.InstrumentSpec;
import io.clearinghouse.instrument.Instruments;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What a node says at start about its dated futures (issue 17): one that expired before the start
 * no longer trades; if no configured dated future follows it as its {@code next} and none is still
 * trading, the node lists no dated future at all, which the operator should know (the shipped
 * quarterly, {@code BTCUSDT-271231}, has no next contract: from its expiry on, a node with the
 * shipped configuration trades the perpetual only). Warnings, not refusals: a node must still
 * start to settle and serve an expired future's records.
 */
public final class ExpiryNotices {
  private ExpiryNotices() {}

  public static List<String> atStart(Instruments instruments, long nowMillis) {
    List<String> notices = new ArrayList<>();
    List<InstrumentSpec> futures = instruments.specs().stream().filter(s -> s.expiry() != null)
        .sorted(java.util.Comparator.comparing(InstrumentSpec::symbol)).toList();
    boolean anyTrading = futures.stream().anyMatch(s -> !s.expiry().expired(nowMillis));
    for (InstrumentSpec future : futures) {
      if (!future.expiry().expired(nowMillis)) {
        continue;
      }
      String next = future.expiry().next();
      StringBuilder notice = new StringBuilder(future.symbol()).append(" expired at ").append(future.expiry().expiry())
          .append(", before this start (").append(Instant.ofEpochMilli(nowMillis))
          .append("): it no longer trades (INSTRUMENT_EXPIRED, then INSTRUMENT_SETTLED)");
      if (next != null) {
        notice.append("; its next contract ").append(next).append(" is listed");
      } else if (!anyTrading) {
        notice.append("; no next contract is configured and no dated future is still trading: add the next one to "
            + "clearinghouse.instruments and name it as next (clearinghouse.instrument-overrides.\"")
            .append(future.symbol()).append("\".next)");
      }
      notices.add(notice.toString());
    }
    return notices;
  }
}
