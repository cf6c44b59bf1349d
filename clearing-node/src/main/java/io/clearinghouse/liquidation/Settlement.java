package io.clearinghouse.liquidation;

import io.clearinghouse.account.AccountSummary;
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

  /** What neither the account nor the fund covered: the debt to record. */
  static long uncovered(State state) {
    long need = state.need() == null ? 0 : state.need();
    long paid = state.fundPaid() == null ? 0 : state.fundPaid();
    return Math.max(0, need - paid);
  }
}
