package io.clearinghouse.liquidation;

import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.instrument.LiquidationTerms;
import io.clearinghouse.margin.PenaltySplit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import io.clearinghouse.liquidation.LiquidationSaga.Close;
import io.clearinghouse.liquidation.LiquidationSaga.State;

/**
 * What a liquidation leaves to settle (DESIGN section 6, step 5), from the saga's state and the
 * account after its closes: each amount counted once. Pure: no Pekko, no clock.
 */
final class Settlement {
  private Settlement() {}

  /** What the closes of isolated positions lost beyond their own margins (owed, never in the cash). */
  static long shortfalls(State state) {
    long shortfalls = 0;
    for (Close c : state.closes()) {
      if (c.closed() != null) {
        shortfalls = Math.addExact(shortfalls, c.closed().shortfall());
      }
    }
    return shortfalls;
  }

  /**
   * What isolated positions closed before this liquidation owe that no debt records (an expiry
   * settlement's isolated shortfall, which starts a liquidation with nothing to close): settled with
   * this liquidation's own shortfalls. A liquidation records or covers what its closes left owed, so
   * otherwise this is 0. Recorded debt stands for what is owed first (as in crossDeficit).
   */
  static long unrecordedOwed(State state, AccountSummary account) {
    long owedBefore = Math.max(0, Math.subtractExact(account.owed(), shortfalls(state)));
    return Math.max(0, Math.subtractExact(owedBefore, account.debt()));
  }

  /**
   * A margin liquidation: the negative cross equity (cash below zero that open positions still
   * carry is not a deficit). A stop settles only what it closed: at most the loss its cross closes
   * realized, at most what the cash is short, and nothing while the account's equity is not
   * negative; never the losses of positions it did not close (if those sink the account, the
   * monitor liquidates it, with penalty, once the stop has ended).
   */
  static long crossDeficit(State state, AccountSummary account) {
    // What an earlier liquidation already recorded as debt of the cash is not a new deficit: it
    // stays the account's debt (debt = what the cash is short + what isolated positions owe, and
    // what they owe now includes this liquidation's shortfalls).
    long owedBefore = Math.max(0, Math.subtractExact(account.owed(), shortfalls(state)));
    long recordedCashDebt = Math.max(0, Math.subtractExact(account.debt(), owedBefore));
    long equityDeficit = Math.max(0, Math.subtractExact(Math.max(0, -account.equity()), recordedCashDebt));
    if (!state.trigger().stop()) {
      return equityDeficit;
    }
    long realized = 0;
    for (Close c : state.closes()) {
      if (c.closed() != null && !c.isolated()) {
        realized = Math.addExact(realized, c.closed().realizedPnl());
      }
    }
    return Math.min(equityDeficit, Math.min(Math.max(0, -realized), Math.max(0, -account.cash())));
  }

  /** What neither the penalties, the fund nor the operator's capital covered: the debt to record. */
  static long uncovered(State state) {
    long need = state.need() == null ? 0 : state.need();
    return Math.max(0, need - state.cover());
  }

  /** What the fund is asked for: the need less the penalties applied to it. */
  static long afterPenalty(State state) {
    long need = state.need() == null ? 0 : state.need();
    return Math.max(0, need - (state.payments().penaltyApplied() == null ? 0 : state.payments().penaltyApplied()));
  }

  /** What the operator's capital is asked for: the need less the penalties applied and the fund's payment. */
  static long afterFund(State state) {
    return Math.max(0, afterPenalty(state) - (state.payments().fundPaid() == null ? 0 : state.payments().fundPaid()));
  }

  /** Destinations of penalty shares: a platform reserve, a provider's reward (else an insurance fund's name). */
  static final String RESERVE = "reserve/";
  static final String PROVIDER = "provider/";

  /**
   * Where the penalties go (DESIGN section 6, step 4): each close's penalty, less what covered the
   * liquidation's deficit (taken from the first closes' penalties), split by its instrument's
   * policy; the liquidator's share to the provider that took the close (to the fund when none did).
   * By destination, in a stable order; they sum to the penalties less what was applied.
   */
  static Map<String, Long> penaltyShares(State state, Function<String, LiquidationTerms> terms) {
    List<Close> closed = new ArrayList<>();
    for (Close c : state.closes()) {
      if (c.closed() != null && c.closed().penalty() != 0) {
        closed.add(c);
      }
    }
    long[] penalties = new long[closed.size()];
    for (int i = 0; i < penalties.length; i++) {
      penalties[i] = closed.get(i).closed().penalty();
    }
    long[] left = io.clearinghouse.margin.ReserveRules.penaltiesLeft(penalties,
        state.payments().penaltyApplied() == null ? 0 : state.payments().penaltyApplied());
    Map<String, Long> shares = new LinkedHashMap<>();
    for (int i = 0; i < left.length; i++) {
      Close c = closed.get(i);
      long rest = left[i];
      if (rest == 0) {
        continue;
      }
      LiquidationTerms t = terms.apply(c.instrument());
      PenaltySplit.Shares split = t.penaltySplit().split(rest, c.venue() == LiquidationSaga.Venue.BACKSTOP);
      add(shares, t.insuranceFund(), split.insuranceFund());
      add(shares, RESERVE + PlatformReserve.MARKET_MAKING.id(), split.marketMaking());
      add(shares, RESERVE + PlatformReserve.PLATFORM_REVENUE.id(), split.platformRevenue());
      add(shares, RESERVE + PlatformReserve.INVESTOR_PROTECTION.id(), split.investorProtection());
      add(shares, PROVIDER + c.counterparty(), split.liquidator());
    }
    return shares;
  }

  /** The shares no delivery has reached yet (each destination gets one delivery). */
  static Map<String, Long> pendingShares(State state, Function<String, LiquidationTerms> terms) {
    Map<String, Long> pending = penaltyShares(state, terms);
    state.penaltiesDelivered().keySet().forEach(pending::remove);
    return pending;
  }

  private static void add(Map<String, Long> shares, String destination, long amount) {
    if (amount > 0) {
      shares.merge(destination, amount, Math::addExact);
    }
  }
}
