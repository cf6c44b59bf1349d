package io.clearinghouse.monitor;

import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.monitor.StressEvaluation.Scenario;
import io.clearinghouse.monitor.StressTest.ScenarioReport;
import io.clearinghouse.monitor.StressTest.ShockedMark;
import io.clearinghouse.price.PriceFeed;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The stress test's volatility-scaled maintenance (issue 16 items 2 and 7): publishing a shocked
 * mark moves the instrument's volatility index and can put another maintenance in force (a
 * tightening whose warning period has passed, or a loosening). Each shocked instrument's price
 * feed, which computes the scales with its marks, says which the shocked mark would put in force
 * if it were its next mark ({@link PriceFeed.ScalesAt}); the scenario then carries it to the
 * monitors. A feed that does not answer in time leaves the maintenance in force now, and the
 * scenario's report is approximate.
 */
final class StressScales {
  /**
   * Asks an instrument's price feed which volatility scales a mark at {@code priceTicks} would put
   * in force; the answer's scales are null when the instrument has none. A failed stage: no answer.
   */
  @FunctionalInterface
  public interface Query {
    CompletionStage<PriceFeed.ScalesAnswer> at(String instrument, long priceTicks, Duration timeout);
  }

  private final Instruments instruments;
  private final Query feeds;
  private final Duration timeout;

  /** {@code feeds} null: none to ask (every scaled instrument's scenario is then approximate). */
  StressScales(Instruments instruments, Query feeds, Duration timeout) {
    this.instruments = instruments;
    this.feeds = feeds;
    this.timeout = timeout;
  }

  /** The cluster's price feeds, through sharding. */
  static Query sharded(ActorSystem<?> system) {
    ClusterSharding sharding = ClusterSharding.get(system);
    return (instrument, priceTicks, timeout) -> sharding.entityRefFor(PriceFeed.TYPE_KEY, instrument)
        .ask(replyTo -> new PriceFeed.ScalesAt(priceTicks, replyTo), timeout);
  }

  /** The scenarios with the maintenance scales their shocked marks would put in force; {@code approximate}: some feed did not say. */
  record Scaled(List<Scenario> scenarios, Set<String> approximate) {}

  /**
   * Asks the price feed of every shocked instrument with volatility-scaled margin, all at once,
   * which maintenance scale its shocked mark would put in force.
   */
  CompletionStage<Scaled> scaled(List<Scenario> scenarios, Map<String, List<ShockedMark>> shocked) {
    Map<String, Map<String, CompletableFuture<PriceFeed.ScalesAnswer>>> asked = new LinkedHashMap<>();
    List<CompletableFuture<PriceFeed.ScalesAnswer>> all = new ArrayList<>();
    for (Scenario scenario : scenarios) {
      Map<String, CompletableFuture<PriceFeed.ScalesAnswer>> byInstrument = new TreeMap<>();
      for (ShockedMark moved : shocked.get(scenario.name())) {
        if (!instruments.spec(moved.instrument()).volatilityMargin().on()) {
          continue;
        }
        CompletableFuture<PriceFeed.ScalesAnswer> answer;
        try {
          answer = feeds == null ? CompletableFuture.failedFuture(new IllegalStateException("no price feeds"))
              : feeds.at(moved.instrument(), moved.afterTicks(), timeout).toCompletableFuture().copy()
                  .orTimeout(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
          answer = CompletableFuture.failedFuture(e);
        }
        answer = answer.exceptionally(failure -> null);
        byInstrument.put(moved.instrument(), answer);
        all.add(answer);
      }
      asked.put(scenario.name(), byInstrument);
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(done -> {
      List<Scenario> out = new ArrayList<>();
      Set<String> approximate = new java.util.TreeSet<>();
      for (Scenario scenario : scenarios) {
        Map<String, Long> maintenance = new TreeMap<>();
        asked.get(scenario.name()).forEach((instrument, answer) -> {
          PriceFeed.ScalesAnswer a = answer.join();
          if (a == null || a.priceTicks() != scenario.marks().get(instrument)) {
            approximate.add(scenario.name());
          } else if (a.scales() != null) {
            maintenance.put(instrument, a.scales().maintenancePpm());
          }
        });
        out.add(new Scenario(scenario.name(), scenario.marks(), maintenance));
      }
      return new Scaled(out, approximate);
    });
  }

  static ScenarioReport approximate(ScenarioReport r) {
    return new ScenarioReport(r.name(), r.marks(), r.accountsEvaluated(), r.accountsLiquidated(), r.waiting(),
        r.closes(), r.notional(), r.penalties(), r.deficits(), r.funds(), r.takeoverNotional(), r.adlNotional(),
        r.debt(), r.cover2(), r.accounts(), true);
  }
}
