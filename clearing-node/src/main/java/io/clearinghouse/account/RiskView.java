package io.clearinghouse.account;

import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.AccountRisk;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.LiquidationRule;
import io.clearinghouse.margin.MarginMath;
import io.clearinghouse.margin.PositionMetrics;
import io.clearinghouse.margin.PositionRisk;
import io.clearinghouse.price.MarkPrices;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Values an account at the current marks: which mark each position uses (the published mark,
 * else the account's own last trade price), which leverage applies (the one chosen or the default,
 * capped by the operator's cap and the tier's maximum), and from those the exact margin figures.
 */
final class RiskView {
  private final Instruments instruments;
  private final MarkPrices marks;
  private final int defaultLeverage;

  RiskView(Instruments instruments, MarkPrices marks, int defaultLeverage) {
    this.instruments = instruments;
    this.marks = marks;
    this.defaultLeverage = defaultLeverage;
  }

  /** True when a position's instrument has a stale index: its mark cannot be trusted to release money. */
  boolean anyPositionStale(Account account) {
    for (Map.Entry<String, Holding> entry : account.holdings().entrySet()) {
      if (!entry.getValue().flat() && marks.stale(entry.getKey())) {
        return true;
      }
    }
    return false;
  }

  long markTicks(String instrument, Holding holding) {
    return marks.get(instrument).map(mark -> mark.priceTicks()).orElse(holding.lastPriceTicks());
  }

  /** The leverage that applies to {@code holding} at {@code notional}. */
  int effectiveLeverage(Account account, Instrument instrument, Holding holding, long notional) {
    return Math.min(chosenLeverage(account, holding), instrument.riskTiers().tierFor(notional).maxLeverage());
  }

  /** The leverage the account chose for {@code holding} (or the default), capped by the operator's cap. */
  int chosenLeverage(Account account, Holding holding) {
    int chosen = holding.leverage() > 0 ? holding.leverage() : defaultLeverage;
    return account.leverageCap() > 0 ? Math.min(chosen, account.leverageCap()) : chosen;
  }

  /** The published mark of {@code instrument} in ticks, or 0 when none has been published yet. */
  long publishedMarkTicks(String instrument) {
    return marks.get(instrument).map(mark -> mark.priceTicks()).orElse(0L);
  }

  /** One position of the account, as {@link LiquidationRule} sees it. */
  private record Held(Instrument instrument, int slot, long lots, long cost, boolean isolated, long isolatedMargin)
      implements LiquidationRule.Held {}

  /**
   * The liquidation trigger at the current marks ({@link LiquidationRule}): never on a stale or
   * missing mark, exactly as the node's monitor decides it.
   */
  boolean breached(Account account) {
    List<Held> held = new ArrayList<>();
    List<String> symbols = new ArrayList<>();
    account.holdings().forEach((symbol, holding) -> {
      if (!holding.flat()) {
        held.add(new Held(instruments.require(symbol), held.size(), holding.lots(), holding.cost(),
            holding.mode() == io.clearinghouse.margin.MarginMode.ISOLATED, holding.isolatedMargin()));
        symbols.add(symbol);
      }
    });
    long[] markTicks = new long[held.size()];
    boolean[] usable = new boolean[held.size()];
    for (int i = 0; i < held.size(); i++) {
      var mark = marks.get(symbols.get(i));
      usable[i] = mark.isPresent() && !marks.stale(symbols.get(i));
      markTicks[i] = usable[i] ? mark.get().priceTicks() : 0;
    }
    try {
      return LiquidationRule.breached(account.cash(), held.toArray(new Held[0]), markTicks, usable);
    } catch (ArithmeticException e) {
      // Figures beyond a long can only come from absurd marks: never liquidate on them (the
      // monitor skips such an account too, and counts it).
      return false;
    }
  }

  AccountRisk evaluate(Account account) {
    return evaluate(account, account.holdings());
  }

  /** Evaluates {@code account} as if it held {@code holdings} (for what-if checks). */
  AccountRisk evaluate(Account account, Map<String, Holding> holdings) {
    List<PositionRisk> positions = new ArrayList<>(holdings.size());
    for (Map.Entry<String, Holding> entry : holdings.entrySet()) {
      Holding holding = entry.getValue();
      if (holding.flat()) {
        continue;
      }
      Instrument instrument = instruments.require(entry.getKey());
      long mark = markTicks(entry.getKey(), holding);
      long notional = MarginMath.notional(holding.lots(), mark, instrument.notionalMultiplier());
      positions.add(new PositionRisk(entry.getKey(), holding.lots(), holding.cost(), mark,
          instrument.notionalMultiplier(), instrument.riskTiers(), effectiveLeverage(account, instrument, holding, notional),
          holding.mode(), holding.isolatedMargin()));
    }
    return AccountRisk.evaluate(account.cash(), account.reserved(), positions);
  }

  AccountSummary summary(Account account) {
    AccountRisk risk = evaluate(account);
    List<PositionSummary> positions = new ArrayList<>(risk.positionCount());
    for (int i = 0; i < risk.positionCount(); i++) {
      PositionRisk position = risk.position(i);
      PositionMetrics metrics = risk.metrics(i);
      Instrument instrument = instruments.require(position.instrumentId());
      OptionalLong entry = new io.clearinghouse.margin.Position(position.lots(), position.cost())
          .entryPriceTicks(instrument.notionalMultiplier());
      OptionalLong liquidation = risk.liquidationPriceTicks(i);
      positions.add(new PositionSummary(position.instrumentId(), position.lots(), entry.orElse(0), position.markTicks(),
          metrics.notional(), metrics.unrealizedPnl(), metrics.initialMargin(), metrics.maintenanceMargin(),
          position.leverage(), position.mode(), position.isolatedMargin(), liquidation.orElse(0)));
    }
    OptionalLong ratio = risk.marginRatioPpm();
    return new AccountSummary(account.accountId(), account.cash(), risk.equity(), risk.available(), risk.withdrawable(),
        risk.reservations(), positions.isEmpty() ? AccountSummary.NO_RATIO : ratio.orElse(AccountSummary.INFINITE_RATIO),
        account.leverageCap(), positions, account.liquidating() ? account.liquidation().liquidationId() : null,
        account.debt(), account.stops(), haltedHeld(account), account.owed(), fundingHeld(account),
        account.beginner());
  }

  /** Net funding received per perpetual the account holds now. */
  private static java.util.Map<String, Long> fundingHeld(Account account) {
    java.util.Map<String, Long> held = new java.util.HashMap<>();
    account.funding().byInstrument().forEach((instrument, p) -> {
      if (!account.holding(instrument).flat()) {
        held.put(instrument, p.total());
      }
    });
    return held;
  }

  private List<String> haltedHeld(Account account) {
    List<String> halted = new ArrayList<>();
    account.holdings().forEach((instrument, holding) -> {
      if (!holding.flat() && marks.halted(instrument)) {
        halted.add(instrument);
      }
    });
    halted.sort(null);
    return halted;
  }
}
