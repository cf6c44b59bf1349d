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
    CompletionStage<Receptionist.Listing> listing = AskPattern.ask(system.receptionist(),
        replyTo -> Receptionist.find(MarginMonitor.SERVICE_KEY, replyTo), timeout, system.scheduler());
    return listing.thenCompose(found -> {
      Set<ActorRef<MarginMonitor.Command>> monitors = found.getServiceInstances(MarginMonitor.SERVICE_KEY);
      List<CompletableFuture<Answer>> answers = new ArrayList<>();
      for (ActorRef<MarginMonitor.Command> monitor : monitors) {
        CompletionStage<Answer> answer = AskPattern.ask(monitor,
            replyTo -> new MarginMonitor.ClosestQuery(instrument, wanted, replyTo), timeout, system.scheduler());
        answers.add(answer.toCompletableFuture());
      }
      return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(done -> {
        List<Entry> merged = new ArrayList<>();
        answers.forEach(a -> merged.addAll(a.join().entries()));
        merged.sort(NEAREST);
        return List.copyOf(merged.subList(Math.min(offset, merged.size()), Math.min(wanted, merged.size())));
      });
    });
  }

  /** This node's nearest {@code count} holders of the instrument in {@code slot}, at the marks read. */
  static List<Entry> nearest(MarginMonitor.Tracked[] holders, int size, int slot, long[] markTicks, boolean[] usable,
      int count) {
    List<Entry> found = new ArrayList<>();
    if (!usable[slot]) {
      return found;
    }
    for (int i = 0; i < size; i++) {
      MarginMonitor.Tracked t = holders[i];
      if (t.liquidating) {
        continue;
      }
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
        long distance = RiskReview.distancePpm(p.lots(), p.markTicks(), liquidation);
        if (distance == RiskReview.NONE) {
          continue;
        }
        found.add(new Entry(t.accountId, p.lots(), p.markTicks(), liquidation, distance));
        if (found.size() >= 2 * Math.max(1, count)) {
          found.sort(NEAREST);
          found.subList(count, found.size()).clear();
        }
      } catch (ArithmeticException e) {
        // Figures beyond a long: the monitor skips this account too.
      }
    }
    found.sort(NEAREST);
    return found.size() > count ? List.copyOf(found.subList(0, count)) : found;
  }
}
