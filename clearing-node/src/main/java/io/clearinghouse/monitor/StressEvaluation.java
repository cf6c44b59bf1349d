package io.clearinghouse.monitor;

import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.instrument.LiquidationTerms;
import io.clearinghouse.liquidation.CloseSizing;
import io.clearinghouse.liquidation.PlatformReserve;
import io.clearinghouse.margin.LiquidationSimulation;
import io.clearinghouse.margin.PenaltySplit;
import io.clearinghouse.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One node's side of a stress test (issue 16 item 7): its margin monitor evaluates every account
 * it watches in place under shocked marks, writing nothing, with {@link LiquidationSimulation}.
 * Accounts whose liquidation needs no cover are added up here; those that would leave a deficit (or
 * ask the fund to hold one first) are returned one by one, each with both of its paths (closes at
 * the backstop price, and all at bankruptcy: what happens when the fund cannot hold the deficit),
 * so that the coordinator can draw on each fund once across the cluster ({@link StressTest}).
 */
public final class StressEvaluation {
  private StressEvaluation() {}

  /** Where a penalty's liquidator share goes: to the provider that took the close (one name for all). */
  public static final String PROVIDERS = "providers";

  /**
   * A scenario as every node evaluates it: each instrument with a usable mark at its (shocked) mark
   * in ticks; {@code maintenanceScales}: per instrument, the volatility-scaled maintenance (ppm) its
   * price feed says the shocked mark would put in force (an instrument not named keeps the
   * maintenance in force now).
   */
  public record Scenario(String name, Map<String, Long> marks, Map<String, Long> maintenanceScales)
      implements CborSerializable {
    public Scenario {
      marks = Map.copyOf(marks);
      maintenanceScales = maintenanceScales == null ? Map.of() : Map.copyOf(maintenanceScales);
    }

    public Scenario(String name, Map<String, Long> marks) {
      this(name, marks, Map.of());
    }
  }

  /**
   * A node's answer: a result per scenario; or, {@code busy}, none: the node was already evaluating
   * a stress test with {@link MarginMonitor#MAX_QUEUED_STRESS} more waiting, and refused this one
   * (one at a time, so that a stress test never waits in line ahead of the monitor's walks, and
   * only a few pile up behind another).
   */
  public record Answer(List<NodeResult> results, boolean busy) implements CborSerializable {
    public Answer {
      results = List.copyOf(results);
    }

    public Answer(List<NodeResult> results) {
      this(results, false);
    }

    public static final Answer BUSY = new Answer(List.of(), true);
  }

  /**
   * One liquidation path's figures: closes, penalties, need and what of it the penalties cover, the
   * largest hold asked of the fund, notional closed per instrument (and of it, priced at bankruptcy:
   * for a fund takeover or auto-deleveraging), and the penalties left after the need by destination
   * (a fund's name, {@code reserve/<name>} or {@link #PROVIDERS}).
   */
  public record Path(long closes, long penalties, long need, long penaltyApplied, long hold, Map<String, Long> notional,
      Map<String, Long> atBankruptcy, Map<String, Long> shares) implements CborSerializable {
    public Path {
      notional = Map.copyOf(notional);
      atBankruptcy = Map.copyOf(atBankruptcy);
      shares = Map.copyOf(shares);
    }

    public long notionalTotal() {
      return notional.values().stream().mapToLong(Long::longValue).reduce(0, Math::addExact);
    }
  }

  /** An account whose liquidation leaves a deficit or asks the fund to hold one. */
  public record DeficitAccount(String accountId, String coverInstrument, Path backstop, Path bankruptcy)
      implements CborSerializable {}

  /** One liquidated account as the report lists it. */
  public record AccountFigures(String accountId, long closes, long notional, long penalties, long need)
      implements CborSerializable {}

  /**
   * A node's result for one scenario. {@code folded} adds up the liquidations that need no cover
   * (and, beyond the cap, deficit accounts on their backstop path: {@code foldedNeed} by cover
   * instrument, their need less their own penalties). {@code truncated}: the liquidated accounts
   * whose simulation stopped at LiquidationSimulation.MAX_CLOSES (their figures are approximate).
   */
  public record NodeResult(String scenario, long accountsEvaluated, long accountsLiquidated, long waiting,
      Path folded, List<DeficitAccount> deficits, long foldedDeficitAccounts, Map<String, Long> foldedNeed,
      List<AccountFigures> largest, long truncated) implements CborSerializable {
    public NodeResult {
      deficits = List.copyOf(deficits);
      foldedNeed = Map.copyOf(foldedNeed);
      largest = List.copyOf(largest);
    }

    public NodeResult(String scenario, long accountsEvaluated, long accountsLiquidated, long waiting, Path folded,
        List<DeficitAccount> deficits, long foldedDeficitAccounts, Map<String, Long> foldedNeed,
        List<AccountFigures> largest) {
      this(scenario, accountsEvaluated, accountsLiquidated, waiting, folded, deficits, foldedDeficitAccounts,
          foldedNeed, largest, 0);
    }
  }

  /** The largest first: by need, then notional, then account id. */
  static final Comparator<AccountFigures> LARGEST = Comparator.comparingLong(AccountFigures::need).reversed()
      .thenComparing(Comparator.comparingLong(AccountFigures::notional).reversed())
      .thenComparing(AccountFigures::accountId);

  /** Sums paths, for the figures that add up. */
  static final class PathSum {
    long closes;
    long penalties;
    long need;
    long penaltyApplied;
    long hold;
    final Map<String, Long> notional = new TreeMap<>();
    final Map<String, Long> atBankruptcy = new TreeMap<>();
    final Map<String, Long> shares = new TreeMap<>();

    void add(Path p) {
      closes = Math.addExact(closes, p.closes());
      penalties = Math.addExact(penalties, p.penalties());
      need = Math.addExact(need, p.need());
      penaltyApplied = Math.addExact(penaltyApplied, p.penaltyApplied());
      hold = Math.max(hold, p.hold());
      p.notional().forEach((k, v) -> notional.merge(k, v, Math::addExact));
      p.atBankruptcy().forEach((k, v) -> atBankruptcy.merge(k, v, Math::addExact));
      p.shares().forEach((k, v) -> shares.merge(k, v, Math::addExact));
    }

    Path path() {
      return new Path(closes, penalties, need, penaltyApplied, hold, notional, atBankruptcy, shares);
    }
  }

  /**
   * Evaluates {@code accounts} (what the monitor watches) under every scenario of {@code query}.
   * {@code symbols} are the monitor's instrument slots.
   */
  static List<NodeResult> evaluate(Collection<MarginMonitor.Tracked> accounts, String[] symbols,
      Instruments instruments, MarginMonitor.StressQuery query) {
    return evaluate(accounts, symbols, instruments, query, CloseSizing.WHOLE);
  }

  /**
   * The same with each simulated close cut by {@code sizing}: the rule this node's liquidation saga
   * cuts its closes with (slices of the market depth), not a copy of it.
   */
  static List<NodeResult> evaluate(Collection<MarginMonitor.Tracked> accounts, String[] symbols,
      Instruments instruments, MarginMonitor.StressQuery query, CloseSizing sizing) {
    int slots = symbols.length;
    LiquidationSimulation.Slicing slicing = (slot, signedLots, markTicks) -> sizing.slice(symbols[slot], signedLots,
        markTicks);
    boolean[] noProvider = new boolean[slots];
    long[] spread = new long[slots];
    boolean[] everyAtBankruptcy = new boolean[slots];
    LiquidationTerms[] terms = new LiquidationTerms[slots];
    // The margins as scaled now (issue 16), as the monitor's trigger reads them.
    io.clearinghouse.margin.RiskTiers[] tiers = new io.clearinghouse.margin.RiskTiers[slots];
    for (int slot = 0; slot < slots; slot++) {
      tiers[slot] = instruments.require(symbols[slot]).riskTiers();
      terms[slot] = instruments.spec(symbols[slot]).liquidation();
      spread[slot] = terms[slot].backstopSpreadPpm();
      noProvider[slot] = !query.providers().contains(symbols[slot]);
      everyAtBankruptcy[slot] = true;
    }
    List<NodeResult> results = new ArrayList<>();
    for (Scenario scenario : query.scenarios()) {
      io.clearinghouse.margin.RiskTiers[] scenarioTiers = tiers;
      if (!scenario.maintenanceScales().isEmpty()) {
        scenarioTiers = tiers.clone();
        for (int slot = 0; slot < slots; slot++) {
          Long maintenance = scenario.maintenanceScales().get(symbols[slot]);
          if (maintenance != null) {
            scenarioTiers[slot] = atMaintenance(instruments, symbols[slot], tiers[slot], maintenance);
          }
        }
      }
      long[] markTicks = new long[slots];
      boolean[] usable = new boolean[slots];
      for (int slot = 0; slot < slots; slot++) {
        Long mark = scenario.marks().get(symbols[slot]);
        usable[slot] = mark != null && mark > 0;
        markTicks[slot] = usable[slot] ? mark : 0;
      }
      long evaluated = 0;
      long liquidated = 0;
      long waiting = 0;
      long foldedDeficits = 0;
      long truncated = 0;
      PathSum folded = new PathSum();
      Map<String, Long> foldedNeed = new TreeMap<>();
      List<DeficitAccount> deficits = new ArrayList<>();
      List<AccountFigures> largest = new ArrayList<>();
      for (MarginMonitor.Tracked t : accounts) {
        if (t.liquidating) {
          continue;
        }
        evaluated++;
        LiquidationSimulation.Outcome outcome;
        try {
          outcome = LiquidationSimulation.simulate(t.cash, t.positions, markTicks, usable, noProvider, spread,
              scenarioTiers, slicing);
        } catch (ArithmeticException e) {
          // Figures beyond a long: the monitor would skip this account too.
          continue;
        }
        if (outcome.waiting()) {
          waiting++;
          continue;
        }
        if (!outcome.liquidated()) {
          continue;
        }
        liquidated++;
        if (outcome.truncated()) {
          truncated++;
        }
        Path backstop = path(outcome, symbols, terms);
        if (outcome.need() > 0 || outcome.hold() > 0) {
          String cover = symbols[outcome.coverSlot()];
          if (deficits.size() < query.maxDeficitAccounts()) {
            LiquidationSimulation.Outcome atBankruptcy = LiquidationSimulation.simulate(t.cash, t.positions, markTicks,
                usable, everyAtBankruptcy, spread, scenarioTiers, slicing);
            deficits.add(new DeficitAccount(t.accountId, cover, backstop, path(atBankruptcy, symbols, terms)));
          } else {
            foldedDeficits++;
            folded.add(backstop);
            foldedNeed.merge(cover, backstop.need() - backstop.penaltyApplied(), Math::addExact);
          }
        } else {
          folded.add(backstop);
        }
        keepLargest(largest, new AccountFigures(t.accountId, backstop.closes(), backstop.notionalTotal(),
            backstop.penalties(), backstop.need()), query.detail());
      }
      largest.sort(LARGEST);
      if (largest.size() > query.detail()) {
        largest.subList(Math.max(0, query.detail()), largest.size()).clear();
      }
      results.add(new NodeResult(scenario.name(), evaluated, liquidated, waiting, folded.path(), deficits,
          foldedDeficits, foldedNeed, largest, truncated));
    }
    return results;
  }

  /**
   * The instrument's tiers with maintenance scaled by {@code maintenancePpm} (the initial scale and
   * open-interest blend as in force now, in {@code now}): what the shocked mark would put in force.
   */
  static io.clearinghouse.margin.RiskTiers atMaintenance(Instruments instruments, String symbol,
      io.clearinghouse.margin.RiskTiers now, long maintenancePpm) {
    return io.clearinghouse.margin.MarginScaling.scaled(instruments.spec(symbol).contract().riskTiers(),
        maintenancePpm, now.initialScalePpm(), now.initialBlendPpm());
  }

  /** Keeps at most {@code limit} figures, the largest (sorted and cut when twice as many). */
  static void keepLargest(List<AccountFigures> largest, AccountFigures figures, int limit) {
    if (limit <= 0) {
      return;
    }
    largest.add(figures);
    if (largest.size() >= 2 * limit) {
      largest.sort(LARGEST);
      largest.subList(limit, largest.size()).clear();
    }
  }

  /** An outcome's figures, its penalties left after the need split by each close's instrument's policy. */
  static Path path(LiquidationSimulation.Outcome outcome, String[] symbols, LiquidationTerms[] terms) {
    Map<String, Long> notional = new TreeMap<>();
    Map<String, Long> atBankruptcy = new TreeMap<>();
    Map<String, Long> shares = new TreeMap<>();
    long[] left = outcome.penaltiesLeft();
    for (int i = 0; i < outcome.closes().size(); i++) {
      LiquidationSimulation.Close c = outcome.closes().get(i);
      String symbol = symbols[c.slot()];
      notional.merge(symbol, c.notional(), Math::addExact);
      if (!c.backstop()) {
        atBankruptcy.merge(symbol, c.notional(), Math::addExact);
      }
      if (left[i] > 0) {
        LiquidationTerms t = terms[c.slot()];
        PenaltySplit.Shares split = t.penaltySplit().split(left[i], c.backstop());
        add(shares, t.insuranceFund(), split.insuranceFund());
        add(shares, "reserve/" + PlatformReserve.MARKET_MAKING.id(), split.marketMaking());
        add(shares, "reserve/" + PlatformReserve.PLATFORM_REVENUE.id(), split.platformRevenue());
        add(shares, "reserve/" + PlatformReserve.INVESTOR_PROTECTION.id(), split.investorProtection());
        add(shares, PROVIDERS, split.liquidator());
      }
    }
    return new Path(outcome.closes().size(), outcome.penalties(), outcome.need(), outcome.penaltyApplied(),
        outcome.hold(), notional, atBankruptcy, shares);
  }

  private static void add(Map<String, Long> shares, String destination, long amount) {
    if (amount > 0) {
      shares.merge(destination, amount, Math::addExact);
    }
  }
}
