package io.clearinghouse.monitor;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The margin monitor's accounts holding one instrument, in an array (no hashing per account on a
 * walk); a removal moves the last one into the hole.
 */
final class Holders {
  private final Map<String, Integer> index = new HashMap<>();
  MarginMonitor.Tracked[] tracked = new MarginMonitor.Tracked[16];
  int size;

  void add(MarginMonitor.Tracked t) {
    if (size == tracked.length) {
      tracked = Arrays.copyOf(tracked, size * 2);
    }
    index.put(t.accountId, size);
    tracked[size++] = t;
  }

  void remove(String accountId) {
    Integer at = index.remove(accountId);
    if (at == null) {
      return;
    }
    MarginMonitor.Tracked last = tracked[--size];
    tracked[size] = null;
    if (at != size) {
      tracked[at] = last;
      index.put(last.accountId, at);
    }
  }
}
