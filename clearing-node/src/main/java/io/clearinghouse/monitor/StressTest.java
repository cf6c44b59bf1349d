package io.clearinghouse.monitor;

// Over 450 lines: the cluster-wide run (read the marks, shock them, ask every monitor, merge the
// answers and draw the deficits on the funds once) is one sequence; the per-node evaluation is in
// StressEvaluation, the feeds' question in StressScales, the slice arithmetic in the margin package.

import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.instrument.LiquidationTerms;
import io.clearinghouse.liquidation.InsuranceFund;
import io.clearinghouse.liquidation.Liquidations;
import io.clearinghouse.liquidation.PlatformReserve;
import io.clearinghouse.margin.LiquidationSimulation;
import io.clearinghouse.margin.MarginMath;
import io.clearinghouse.margin.Position;
import io.clearinghouse.margin.ReserveRules;
import io.clearinghouse.monitor.StressEvaluation.AccountFigures;
import io.clearinghouse.monitor.StressEvaluation.DeficitAccount;
import io.clearinghouse.monitor.StressEvaluation.NodeResult;
import io.clearinghouse.monitor.StressEvaluation.Path;
import io.clearinghouse.monitor.StressEvaluation.PathSum;
import io.clearinghouse.monitor.StressEvaluation.Scenario;
import io.clearinghouse.price.MarkPrices;
import io.clearinghouse.price.PriceFeed;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The stress test (issue 16 item 7, DESIGN section 8): "what if BTC falls 20% now". The marks
 * are read once here and shocked; every node's margin monitor evaluates its own accounts under
 * them in place ({@link StressEvaluation}); the answers are merged, and the deficits drawn on each
 * insurance fund's free balance once across the cluster, in account order: under the ADL policy an
 * account whose deficit the fund (and the operator's capital) cannot hold is counted on its
 * bankruptcy path instead (a fund takeover within the fund's takeover limit, else deleveraging),
 * as the saga would close it; what no layer covers is debt. Cover-2: the two largest losses
 * against the funds and the operator's capital.
 *
 * <p>What the merge does not model: penalties paid into a fund during the cascade are not counted
 * on by later deficits (the report is conservative there), the operator capital's payments earlier
 * the same day are not known (its whole daily amount is counted), protective stops are not
 * triggered, and the closes do not move the price (no cascade). Closes are cut into the saga's
 * slices of the market depth, read once when the test runs; an account is counted on one path (every
 * slice at the backstop price or every one at bankruptcy) where the saga may mix them, slice by
 * slice. A node that does not answer in time is left out and the report says how many answered; a
 * node already evaluating another stress test queues this one ({@link MarginMonitor#MAX_QUEUED_STRESS}
 * deep), beyond that it refuses, and so does the run.
 *
 * <p>Positions are valued at the volatility-scaled maintenance the shocked mark itself would put
 * in force, as each price feed says ({@link StressScales}; a feed that does not answer: approximate).
 */
public final class StressTest {
  /**
   * One scenario to run: a name and shocks in ppm by instrument. {@code required}: an instrument
   * without a fresh mark refuses the run (MARK_STALE); otherwise (a configured scenario) it is left
   * out of the scenario and the report's marks.
   */
  public record Shocks(String name, Map<String, Long> shocks, boolean required) {
    public Shocks {
      shocks = Map.copyOf(shocks);
    }

    public Shocks(String name, Map<String, Long> shocks) {
      this(name, shocks, true);
    }
  }

  /** An instrument's mark before and under the scenario, in ticks. */
  public record ShockedMark(String instrument, long beforeTicks, long afterTicks) {}

  /**
   * One fund's figures: its free balance before, the penalty shares it would receive, the deficits
   * settled in its instruments, what their own penalties cover, what it pays, what the operator's
   * capital pays, debt, notional at bankruptcy it takes over (within its capacity) and the rest
   * deleveraged, how many accounts it could not hold a deficit for (closed at bankruptcy instead),
   * and {@code loss}: what the liquidations settled in its instruments lose beyond the traders'
   * margins at the backstop prices, after their own penalties (whoever then bears it: the fund, the
   * capital, debt, or the deleveraged accounts): what the scheduled stress tests hold against it.
   */
  public record FundFigures(String fund, long freeBalance, long penaltyIn, long deficit, long penaltyApplied,
      long fundDraw, long capitalDraw, long debt, long takeoverNotional, long takeoverCapacity, long adlNotional,
      long holdsRefused, long loss) {}

  /** The two largest losses (needs before any cover) against the funds' and the operator capital's free balances. */
  public record Cover2(List<AccountFigures> accounts, long losses, long resources, boolean covered) {}

  public record ScenarioReport(String name, List<ShockedMark> marks, long accountsEvaluated, long accountsLiquidated,
      long waiting, long closes, Map<String, Long> notional, long penalties, long deficits, List<FundFigures> funds,
      long takeoverNotional, long adlNotional, long debt, Cover2 cover2, List<AccountFigures> accounts,
      boolean approximate) {}

  public record Report(List<ScenarioReport> scenarios, int nodes, int nodesAnswered) {}

  /** Accounts listed per request, over all its scenarios (each gets its share). */
  static final int MAX_LISTED = 1_000;

  private final ActorSystem<?> system;
  private final Instruments instruments;
  private final MarkPrices marks;
  private final Liquidations liquidations;
  private final StressSettings settings;
  private final StressScales scales;

  public StressTest(ActorSystem<?> system, Instruments instruments, MarkPrices marks, Liquidations liquidations,
      StressSettings settings) {
    this(system, instruments, marks, liquidations, settings, system == null ? null : StressScales.sharded(system));
  }

  /** The same, asking the price feeds through {@code feeds} (tests). */
  StressTest(ActorSystem<?> system, Instruments instruments, MarkPrices marks, Liquidations liquidations,
      StressSettings settings, StressScales.Query feeds) {
    this.system = system;
    this.instruments = instruments;
    this.marks = marks;
    this.liquidations = liquidations;
    this.settings = settings;
    this.scales = new StressScales(instruments, feeds, settings.scalesTimeout());
  }


  public StressSettings settings() {
    return settings;
  }

  /** The configured scenario {@code name}; NOT_FOUND (UNKNOWN_SCENARIO) otherwise. */
  public Shocks scenario(String name) {
    Map<String, Long> shocks = settings.scenarios().get(name == null ? "" : name.trim());
    if (shocks == null) {
      throw new RejectedException(Rejection.UNKNOWN_SCENARIO, "no stress scenario named " + name + " is configured ("
          + String.join(", ", settings.scenarios().keySet()) + ")");
    }
    return new Shocks(name.trim(), shocks, false);
  }

  /** The ladder of {@code instrument}: one scenario per configured step. */
  public List<Shocks> ladder(String instrument) {
    String symbol = instruments.require(instrument).symbol();
    List<Shocks> steps = new ArrayList<>();
    for (long step : settings.ladderPpm()) {
      steps.add(new Shocks(symbol + " " + io.clearinghouse.common.Ppm.format(step), Map.of(symbol, step)));
    }
    return steps;
  }

  /** A shock as an operator types it ("-20%", "-20"): INVALID_SHOCK beyond ±99%, at 0 or malformed. */
  public static long parseShock(String text) {
    String t = text == null ? "" : text.trim();
    if (!t.endsWith("%")) {
      t = t + "%";
    }
    try {
      return StressSettings.shock(t, "shock");
    } catch (com.typesafe.config.ConfigException e) {
      throw new RejectedException(Rejection.INVALID_SHOCK, "a shock must be a percentage within -99% and +99%, not 0, "
          + "such as -20%; was " + text);
    }
  }

  /** Runs {@code scenarios}, listing at most {@code detail} accounts each, largest first. */
  public CompletionStage<Report> run(List<Shocks> scenarios, int detail) {
    if (scenarios.isEmpty()) {
      throw new RejectedException(Rejection.INVALID_SHOCK, "name at least one shock, scenario or ladder");
    }
    Map<String, Long> current = new TreeMap<>();
    for (var instrument : instruments.all()) {
      marks.get(instrument.symbol()).filter(m -> !marks.stale(instrument.symbol()))
          .ifPresent(m -> current.put(instrument.symbol(), m.priceTicks()));
    }
    List<Scenario> evaluated = new ArrayList<>();
    Map<String, List<ShockedMark>> shocked = new LinkedHashMap<>();
    for (Shocks s : scenarios) {
      if (s.shocks().isEmpty()) {
        throw new RejectedException(Rejection.INVALID_SHOCK, "scenario " + s.name() + " has no shock");
      }
      // Each name once: the report tells scenarios apart by name, and a request is then bounded by
      // the configuration (one shock, one ladder, each configured scenario once), however long.
      if (shocked.containsKey(s.name())) {
        throw new RejectedException(Rejection.INVALID_SHOCK, "scenario " + s.name() + " is named twice");
      }
      shocked.put(s.name(), List.of());
      Map<String, Long> at = new TreeMap<>(current);
      List<ShockedMark> moved = new ArrayList<>();
      for (Map.Entry<String, Long> shock : new TreeMap<>(s.shocks()).entrySet()) {
        String symbol = instruments.require(shock.getKey()).symbol();
        Long before = current.get(symbol);
        if (before == null && !s.required()) {
          continue;
        }
        if (before == null) {
          throw new RejectedException(Rejection.MARK_STALE, symbol + " has no fresh mark to shock: retry when its "
              + "index is fresh");
        }
        long after = LiquidationSimulation.shockedMarkTicks(before, shock.getValue());
        at.put(symbol, after);
        moved.add(new ShockedMark(symbol, before, after));
      }
      if (moved.isEmpty()) {
        // A named scenario whose every instrument lacks a fresh mark would be evaluated unshocked
        // and report nothing at risk: a feed outage must not read as "BTC -46% harms no one".
        throw new RejectedException(Rejection.MARK_STALE, "scenario " + s.name() + " has nothing to shock: none of "
            + String.join(", ", new TreeMap<>(s.shocks()).keySet()) + " has a fresh mark; retry when their index is"
            + " fresh");
      }
      evaluated.add(new Scenario(s.name(), at));
      shocked.put(s.name(), moved);
    }
    int details = Math.max(0, detail);
    CompletionStage<StressScales.Scaled> scaled = scales.scaled(evaluated, shocked);
    CompletionStage<List<String>> providers = liquidations.instrumentsWithProviders();
    return scaled.thenCompose(withScales -> providers.thenCompose(withProviders -> liquidations.views()
        .thenCompose(views -> monitors()
        .thenCompose(monitors -> ask(monitors, new ArrayList<>(withScales.scenarios()), withProviders, details)
            .thenApply(answers -> {
              List<ScenarioReport> reports = new ArrayList<>();
              for (int i = 0; i < withScales.scenarios().size(); i++) {
                List<NodeResult> results = new ArrayList<>();
                for (StressEvaluation.Answer answer : answers) {
                  results.add(answer.results().get(i));
                }
                Scenario scenario = withScales.scenarios().get(i);
                ScenarioReport report = merge(scenario, shocked.get(scenario.name()), results, views, details);
                reports.add(withScales.approximate().contains(scenario.name()) ? StressScales.approximate(report) : report);
              }
              return new Report(reports, monitors.size(), answers.size());
            })))));
  }


  private CompletionStage<Set<ActorRef<MarginMonitor.Command>>> monitors() {
    CompletionStage<Receptionist.Listing> listing = AskPattern.ask(system.receptionist(),
        replyTo -> Receptionist.find(MarginMonitor.SERVICE_KEY, replyTo), settings.timeout(), system.scheduler());
    return listing.thenApply(found -> found.getServiceInstances(MarginMonitor.SERVICE_KEY));
  }

  /** Every monitor's answer that came in time (a node that does not answer is left out and counted). */
  private CompletionStage<List<StressEvaluation.Answer>> ask(Set<ActorRef<MarginMonitor.Command>> monitors,
      List<Scenario> scenarios, List<String> providers, int detail) {
    List<CompletableFuture<StressEvaluation.Answer>> answers = new ArrayList<>();
    // A remote node's answer must fit one remote message (256 KiB by default): the accounts it
    // returns one by one are shared by the query's scenarios.
    int deficitsPerScenario = Math.max(1, settings.maxDeficitAccountsPerNode() / scenarios.size());
    int detailPerScenario = Math.min(detail, Math.max(1, MAX_LISTED / scenarios.size()));
    for (ActorRef<MarginMonitor.Command> monitor : monitors) {
      CompletionStage<StressEvaluation.Answer> answer = AskPattern.ask(monitor,
          replyTo -> new MarginMonitor.StressQuery(scenarios, providers, detailPerScenario, deficitsPerScenario,
              replyTo), settings.timeout(), system.scheduler());
      answers.add(answer.<StressEvaluation.Answer>thenApply(a -> a).exceptionally(failure -> null)
          .toCompletableFuture());
    }
    return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(done -> {
      List<StressEvaluation.Answer> answered = new ArrayList<>();
      answers.forEach(a -> {
        if (a.join() != null) {
          answered.add(a.join());
        }
      });
      if (answered.isEmpty()) {
        throw new RejectedException(Rejection.TIMEOUT, "no margin monitor answered the stress test within "
            + settings.timeout().toMillis() + " ms");
      }
      long busy = answered.stream().filter(StressEvaluation.Answer::busy).count();
      if (busy > 0) {
        // A node with a stress test running and others queued refused this one: a report without its accounts would mislead.
        throw new RejectedException(Rejection.TOO_MANY_CONCURRENT_CALLS, "stress tests are already running and queued"
            + " on " + busy + " of " + answered.size() + " nodes: retry when they end");
      }
      return answered;
    });
  }

  /** One fund's running figures while the deficits are drawn on it. */
  private static final class FundAccount {
    final String fund;
    final long freeBefore;
    long free;
    long deficit;
    long penaltyApplied;
    long draw;
    long capital;
    long debt;
    long takeover;
    long capacity;
    long adl;
    long refused;
    long loss;

    FundAccount(String fund, long free) {
      this.fund = fund;
      this.freeBefore = free;
      this.free = free;
    }
  }

  /** Merges the nodes' results of one scenario; pure but for the configuration. */
  ScenarioReport merge(Scenario scenario, List<ShockedMark> moved, List<NodeResult> results,
      List<InsuranceFund.View> views, int detail) {
    Map<String, FundAccount> funds = new TreeMap<>();
    long capitalFree = 0;
    Map<String, Position> fundPositions = new TreeMap<>();
    for (InsuranceFund.View view : views) {
      long free = Math.max(0, view.balance() - view.reserved());
      if (view.insuranceFund()) {
        funds.put(view.fundId(), new FundAccount(view.fundId(), free));
        view.positions().forEach((symbol, position) -> fundPositions.put(view.fundId() + "/" + symbol, position));
      } else if (view.fundId().equals(PlatformReserve.OPERATOR_CAPITAL.id())) {
        capitalFree = free;
      }
    }
    for (String fund : instruments.funds()) {
      funds.computeIfAbsent(fund, f -> new FundAccount(f, 0));
    }
    long resources = capitalFree;
    for (FundAccount f : funds.values()) {
      resources = Math.addExact(resources, f.freeBefore);
    }
    PathSum total = new PathSum();
    long evaluated = 0;
    long liquidated = 0;
    long waiting = 0;
    boolean approximate = false;
    List<DeficitAccount> deficits = new ArrayList<>();
    List<AccountFigures> largest = new ArrayList<>();
    Map<String, Long> capitalDrawn = new TreeMap<>();
    long[] capitalLeft = {capitalFree};
    for (NodeResult r : results) {
      evaluated += r.accountsEvaluated();
      liquidated += r.accountsLiquidated();
      waiting += r.waiting();
      total.add(r.folded());
      deficits.addAll(r.deficits());
      largest.addAll(r.largest());
      if (r.truncated() > 0) {
        // A simulation stopped at LiquidationSimulation.MAX_CLOSES: that account's figures are half a liquidation.
        approximate = true;
      }
      if (r.foldedDeficitAccounts() > 0) {
        approximate = true;
        r.foldedNeed().forEach((symbol, amount) -> {
          FundAccount fund = funds.get(instruments.spec(symbol).liquidation().insuranceFund());
          fund.deficit = Math.addExact(fund.deficit, amount);
          fund.loss = Math.addExact(fund.loss, amount);
          cover(symbol, amount, funds, capitalDrawn, capitalLeft);
        });
      }
    }
    deficits.sort(Comparator.comparing(DeficitAccount::accountId));
    // The accounts listed show the path each is counted on (the nodes listed the backstop path).
    Map<String, AccountFigures> chosenFigures = new TreeMap<>();
    for (DeficitAccount d : deficits) {
      LiquidationTerms terms = instruments.spec(d.coverInstrument()).liquidation();
      FundAccount fund = funds.get(terms.insuranceFund());
      Path chosen = d.backstop();
      fund.loss = Math.addExact(fund.loss, d.backstop().need() - d.backstop().penaltyApplied());
      if (terms.policy() == LiquidationTerms.NegativeBalancePolicy.ADL && d.backstop().hold() > 0) {
        long capitalRoom = terms.operatorCapitalPerDay() > 0 ? Math.min(capitalLeft[0], ReserveRules.withinDailyLimit(
            Long.MAX_VALUE, terms.operatorCapitalPerDay(), capitalDrawn.getOrDefault(d.coverInstrument(), 0L))) : 0;
        if (d.backstop().hold() > Math.addExact(fund.free, capitalRoom)) {
          // The fund cannot hold this deficit: the saga closes at bankruptcy (a takeover or ADL) instead.
          chosen = d.bankruptcy();
          fund.refused++;
        }
      }
      total.add(chosen);
      chosenFigures.put(d.accountId(), new AccountFigures(d.accountId(), chosen.closes(), chosen.notionalTotal(),
          chosen.penalties(), chosen.need()));
      fund.deficit = Math.addExact(fund.deficit, chosen.need());
      fund.penaltyApplied = Math.addExact(fund.penaltyApplied, chosen.penaltyApplied());
      cover(d.coverInstrument(), chosen.need() - chosen.penaltyApplied(), funds, capitalDrawn, capitalLeft);
    }
    Path merged = total.path();
    long takeoverTotal = 0;
    long adlTotal = 0;
    for (Map.Entry<String, Long> atBankruptcy : merged.atBankruptcy().entrySet()) {
      String symbol = atBankruptcy.getKey();
      LiquidationTerms terms = instruments.spec(symbol).liquidation();
      FundAccount f = funds.get(terms.insuranceFund());
      long capacity = 0;
      if (terms.fundTakeoverLimit() > 0) {
        Position held = fundPositions.getOrDefault(f.fund + "/" + symbol, Position.FLAT);
        long markTicks = scenario.marks().getOrDefault(symbol, 0L);
        long heldNotional = held.lots() == 0 || markTicks == 0 ? 0
            : MarginMath.notional(held.lots(), markTicks, instruments.require(symbol).notionalMultiplier());
        capacity = Math.max(0, terms.fundTakeoverLimit() - heldNotional);
      }
      long takeover = Math.min(atBankruptcy.getValue(), capacity);
      f.capacity = Math.addExact(f.capacity, capacity);
      f.takeover = Math.addExact(f.takeover, takeover);
      f.adl = Math.addExact(f.adl, atBankruptcy.getValue() - takeover);
      takeoverTotal = Math.addExact(takeoverTotal, takeover);
      adlTotal = Math.addExact(adlTotal, atBankruptcy.getValue() - takeover);
    }
    List<FundFigures> fundFigures = new ArrayList<>();
    long debt = 0;
    for (FundAccount f : funds.values()) {
      debt = Math.addExact(debt, f.debt);
      fundFigures.add(new FundFigures(f.fund, f.freeBefore, merged.shares().getOrDefault(f.fund, 0L), f.deficit,
          f.penaltyApplied, f.draw, f.capital, f.debt, f.takeover, f.capacity, f.adl, f.refused, f.loss));
    }
    largest.removeIf(a -> chosenFigures.containsKey(a.accountId()));
    largest.addAll(chosenFigures.values());
    largest.sort(StressEvaluation.LARGEST);
    List<AccountFigures> listed = largest.subList(0, Math.min(detail, largest.size()));
    // Cover-2: the two largest needs on the backstop path (before any cover).
    List<AccountFigures> losses = new ArrayList<>();
    for (DeficitAccount d : deficits) {
      losses.add(new AccountFigures(d.accountId(), d.backstop().closes(), d.backstop().notionalTotal(),
          d.backstop().penalties(), d.backstop().need()));
    }
    losses.sort(StressEvaluation.LARGEST);
    List<AccountFigures> two = List.copyOf(losses.subList(0, Math.min(2, losses.size())));
    long twoLosses = 0;
    for (AccountFigures a : two) {
      twoLosses = Math.addExact(twoLosses, a.need());
    }
    return new ScenarioReport(scenario.name(), moved, evaluated, liquidated, waiting, merged.closes(),
        merged.notional(), merged.penalties(), merged.need(), fundFigures, takeoverTotal, adlTotal, debt,
        new Cover2(two, twoLosses, resources, twoLosses <= resources), List.copyOf(listed), approximate);
  }

  /**
   * The deficit's layers after its own penalties ({@code amount}): the fund of its instrument, the
   * operator's capital within its daily amount, then debt (as the saga records what is uncovered).
   */
  private void cover(String symbol, long amount, Map<String, FundAccount> funds, Map<String, Long> capitalDrawn,
      long[] capitalLeft) {
    if (amount <= 0) {
      return;
    }
    LiquidationTerms terms = instruments.spec(symbol).liquidation();
    FundAccount fund = funds.get(terms.insuranceFund());
    long fromFund = Math.min(fund.free, amount);
    fund.free -= fromFund;
    fund.draw = Math.addExact(fund.draw, fromFund);
    long rest = amount - fromFund;
    if (rest > 0 && terms.operatorCapitalPerDay() > 0) {
      long fromCapital = Math.min(capitalLeft[0], ReserveRules.withinDailyLimit(rest, terms.operatorCapitalPerDay(),
          capitalDrawn.getOrDefault(symbol, 0L)));
      capitalLeft[0] -= fromCapital;
      capitalDrawn.merge(symbol, fromCapital, Math::addExact);
      fund.capital = Math.addExact(fund.capital, fromCapital);
      rest -= fromCapital;
    }
    fund.debt = Math.addExact(fund.debt, rest);
  }
}
