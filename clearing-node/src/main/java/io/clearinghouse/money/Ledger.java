package io.clearinghouse.money;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Balances of buckets built from transfers alone. Every transfer takes from one bucket what it
 * gives to another, so the balances always sum to zero; what the ledger tells is where the money
 * is, for the audit to hold against what each entity derived on its own.
 */
public final class Ledger {
  private final Map<Bucket, Long> balances = new HashMap<>();

  public void apply(Transfer transfer) {
    balances.merge(transfer.from(), -transfer.amount(), Math::addExact);
    balances.merge(transfer.to(), transfer.amount(), Math::addExact);
  }

  public void applyAll(List<Transfer> transfers) {
    transfers.forEach(this::apply);
  }

  public long balance(Bucket bucket) {
    return balances.getOrDefault(bucket, 0L);
  }

  /** Buckets of {@code kind} (matching {@code filter}) that do not hold zero. */
  public Map<Bucket, Long> nonZero(Bucket.Kind kind, Predicate<Bucket> filter) {
    Map<Bucket, Long> found = new HashMap<>();
    balances.forEach((bucket, balance) -> {
      if (bucket.kind() == kind && balance != 0 && filter.test(bucket)) {
        found.put(bucket, balance);
      }
    });
    return found;
  }

  /** The sum of every balance: zero, unless a transfer was lost on the way. */
  public long total() {
    return balances.values().stream().reduce(0L, Math::addExact);
  }

  /** The sum over buckets of {@code kind}. */
  public long total(Bucket.Kind kind) {
    return balances.entrySet().stream().filter(e -> e.getKey().kind() == kind).map(Map.Entry::getValue)
        .reduce(0L, Math::addExact);
  }
}
