package io.clearinghouse.money;

import java.util.List;
import java.util.Objects;

/**
 * One movement of money: {@code amount} minor units from one bucket to another. The amount is
 * never negative ({@link #of} turns a negative movement around), so a transfer always says which
 * way the money went; a zero movement is no transfer at all.
 */
public record Transfer(Bucket from, Bucket to, long amount) {
  public Transfer {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    if (amount <= 0) {
      throw new IllegalArgumentException("a transfer moves a positive amount, was " + amount);
    }
    if (from.equals(to)) {
      throw new IllegalArgumentException("a transfer moves money between two buckets, not within " + from);
    }
  }

  /** Adds to {@code into} the transfer of a signed {@code amount} (negative: the other way); nothing for zero. */
  public static void add(List<Transfer> into, Bucket from, Bucket to, long amount) {
    if (amount > 0) {
      into.add(new Transfer(from, to, amount));
    } else if (amount < 0) {
      into.add(new Transfer(to, from, Math.negateExact(amount)));
    }
  }

  /** What {@code transfers} together move into {@code bucket} (negative: out of it). */
  public static long netInto(List<Transfer> transfers, Bucket bucket) {
    long net = 0;
    for (Transfer t : transfers) {
      if (t.to.equals(bucket)) {
        net = Math.addExact(net, t.amount);
      }
      if (t.from.equals(bucket)) {
        net = Math.subtractExact(net, t.amount);
      }
    }
    return net;
  }

  /** The same transfers, each the other way: what undoes them exactly. */
  public static List<Transfer> reversed(List<Transfer> transfers) {
    return transfers.stream().map(t -> new Transfer(t.to, t.from, t.amount)).toList();
  }
}
