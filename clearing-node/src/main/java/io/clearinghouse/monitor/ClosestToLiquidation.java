package io.clearinghouse.monitor;

import io.clearinghouse.margin.AccountRisk;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.margin.PositionRisk;
import io.clearinghouse.margin.RiskReview;
import io.clearinghouse.persistence.CborSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The accounts closest to liquidation in one instrument, across the cluster (issue 16 item 6):
 * every node's margin monitor ranks its holders of the instrument by the distance from the mark to
 * the position's liquidation price (ppm of the mark, {@link RiskReview#distancePpm}; the account's
 * other positions held at their marks) and returns its first ones; the merge keeps the order and
 * cuts the page. Accounts being liquidated are left out.
 */
public final class ClosestToLiquidation {
  /** One position: account, signed lots, the mark and liquidation price (ticks), the distance. */
  public record Entry(String accountId, long lots, long markTicks, long liquidationTicks, long distancePpm)
      implements CborSerializable {}

  public record Answer(List<Entry> entries) implements CborSerializable {
    public Answer {
      entries = List.copyOf(entries);
    }
  }

  /** Nearest first; ties by account id, so every node and every page orders them alike. */
  static final Comparator<Entry> NEAREST = Comparator.comparingLong(Entry::distancePpm)
      .thenComparing(Entry::accountId);

  private final ActorSystem<?> system;
  private final Duration timeout;

  public ClosestToLiquidation(ActorSystem<?> system, Duration timeout) {
    this.system = system;
    this.timeout = timeout;
  }

  /** The page {@code [offset, offset + limit)} of the instrument's holders, nearest to liquidation first. */
  public CompletionStage<List<Entry>> page(String instrument, int offset, int limit) {
    int wanted = Math.addExact(offset, limit);
    return this.<Answer>askAll(replyTo -> new MarginMonitor.ClosestQuery(instrument, wanted, replyTo)).thenApply(answers -> {
      List<Entry> merged = new ArrayList<>();
      answers.forEach(a -> merged.addAll(a.entries()));
      merged.sort(NEAREST);
      return List.copyOf(merged.subList(Math.min(offset, merged.size()), Math.min(wanted, merged.size())));
    });
  }

  /**
   * The instrument's holders across the cluster counted by their distance to liquidation (the
   * console's risk histogram): every position, not only the nearest; accounts being liquidated left
   * out, as in {@link #page}.
   */
  public CompletionStage<Counts> histogram(String instrument) {
    return this.<Counts>askAll(replyTo -> new MarginMonitor.HistogramQuery(instrument, replyTo)).thenApply(answers -> {
      long[] buckets = new long[HISTOGRAM_EDGES_PPM.length + 1];
      long without = 0;
      for (Counts c : answers) {
        for (int i = 0; i < buckets.length && i < c.buckets().length; i++) {
          buckets[i] = Math.addExact(buckets[i], c.buckets()[i]);
        }
        without = Math.addExact(without, c.withoutLiquidationPrice());
      }
      return new Counts(buckets, without);
    });
  }

  /** Every node's monitor asked the same query; fails when one does not answer in time. */
  private <A> CompletionStage<List<A>> askAll(
      java.util.function.Function<ActorRef<A>, MarginMonitor.Command> query) {
    CompletionStage<Receptionist.Listing> listing = AskPattern.ask(system.receptionist(),
        replyTo -> Receptionist.find(MarginMonitor.SERVICE_KEY, replyTo), timeout, system.scheduler());
    return listing.thenCompose(found -> {
      Set<ActorRef<MarginMonitor.Command>> monitors = found.getServiceInstances(MarginMonitor.SERVICE_KEY);
      List<CompletableFuture<A>> answers = new ArrayList<>();
      for (ActorRef<MarginMonitor.Command> monitor : monitors) {
        answers.add(AskPattern.<MarginMonitor.Command, A>ask(monitor, query::apply, timeout, system.scheduler())
            .toCompletableFuture());
      }
      return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
          .thenApply(done -> answers.stream().map(CompletableFuture::join).toList());
    });
  }

  /** This node's nearest {@code count} holders of the instrument in {@code slot}, at the marks read. */
  static List<Entry> nearest(MarginMonitor.Tracked[] holders, int size, int slot, long[] markTicks, boolean[] usable,
      int count) {
    List<Entry> found = new ArrayList<>();
    walk(holders, size, slot, markTicks, usable, e -> {
      if (e.distancePpm() == RiskReview.NONE) {
        return;
      }
      found.add(e);
      if (found.size() >= 2 * Math.max(1, count)) {
        found.sort(NEAREST);
        found.subList(count, found.size()).clear();
      }
    });
    found.sort(NEAREST);
    return found.size() > count ? List.copyOf(found.subList(0, count)) : found;
  }

  /**
   * The histogram's bucket edges, distance to liquidation in ppm of the mark: bucket 0 holds the
   * positions at or past their liquidation price (distance 0 or less), bucket {@code i} (1 to
   * {@code length - 1}) those from {@code edge[i - 1]} up to {@code edge[i]}, the last those from
   * the last edge on (0%, 5%, 10%, 20%, 30%, 50%, 75%, 100%).
   */
  public static final long[] HISTOGRAM_EDGES_PPM = {0, 50_000, 100_000, 200_000, 300_000, 500_000, 750_000,
      1_000_000};

  /** Positions per bucket of {@link #HISTOGRAM_EDGES_PPM}, and those with no liquidation price. */
  public record Counts(long[] buckets, long withoutLiquidationPrice) implements CborSerializable {
    public Counts {
      buckets = buckets.clone();
    }

    @Override
    public long[] buckets() {
      return buckets.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Counts c && java.util.Arrays.equals(buckets, c.buckets)
          && withoutLiquidationPrice == c.withoutLiquidationPrice;
    }

    @Override
    public int hashCode() {
      return 31 * java.util.Arrays.hashCode(buckets) + Long.hashCode(withoutLiquidationPrice);
    }

    @Override
    public String toString() {
      return "Counts" + java.util.Arrays.toString(buckets) + " without " + withoutLiquidationPrice;
    }
  }

  /** The bucket of a distance (ppm of the mark) in {@link #HISTOGRAM_EDGES_PPM}. */
  static int bucket(long distancePpm) {
    if (distancePpm <= 0) {
      return 0;
    }
    int i = 1;
    while (i < HISTOGRAM_EDGES_PPM.length && distancePpm >= HISTOGRAM_EDGES_PPM[i]) {
      i++;
    }
    return i;
  }

  /** This node's holders of the instrument in {@code slot} counted by distance, at the marks read. */
  static Counts histogram(MarginMonitor.Tracked[] holders, int size, int slot, long[] markTicks, boolean[] usable) {
    long[] buckets = new long[HISTOGRAM_EDGES_PPM.length + 1];
    long[] without = new long[1];
    walk(holders, size, slot, markTicks, usable, e -> {
      if (e.distancePpm() == RiskReview.NONE) {
        without[0]++;
      } else {
        buckets[bucket(e.distancePpm())]++;
      }
    });
    return new Counts(buckets, without[0]);
  }

  /**
   * Each holder of the instrument in {@code slot} not being liquidated, valued at the marks read
   * (the account's other positions at theirs); its distance {@link RiskReview#NONE} without a
   * liquidation price. Nothing when the instrument's mark is not usable; an account whose figures
   * go beyond a long is skipped, as the monitor skips it.
   */
  private static void walk(MarginMonitor.Tracked[] holders, int size, int slot, long[] markTicks, boolean[] usable,
      java.util.function.Consumer<Entry> visit) {
    if (!usable[slot]) {
      return;
    }
    for (int i = 0; i < size; i++) {
      MarginMonitor.Tracked t = holders[i];
      if (t.liquidating) {
        continue;
      }
      Entry entry;
      try {
        List<PositionRisk> risks = new ArrayList<>(t.positions.length);
        int at = -1;
        for (MarginMonitor.Held h : t.positions) {
          if (!usable[h.slot()] || h.lots() == 0) {
            continue;
          }
          Instrument instrument = h.instrument();
          if (h.slot() == slot) {
            at = risks.size();
          }
          risks.add(new PositionRisk(instrument.symbol(), h.lots(), h.cost(), markTicks[h.slot()],
              instrument.notionalMultiplier(), instrument.riskTiers(), 1,
              h.isolated() ? MarginMode.ISOLATED : MarginMode.CROSS, h.isolated() ? h.isolatedMargin() : 0));
        }
        if (at < 0) {
          continue;
        }
        AccountRisk risk = AccountRisk.evaluate(t.cash, 0, risks);
        PositionRisk p = risk.position(at);
        long liquidation = risk.liquidationPriceTicks(at).orElse(0);
        entry = new Entry(t.accountId, p.lots(), p.markTicks(), liquidation,
            RiskReview.distancePpm(p.lots(), p.markTicks(), liquidation));
      } catch (ArithmeticException e) {
        continue;
      }
      visit.accept(entry);
    }
  }
}
