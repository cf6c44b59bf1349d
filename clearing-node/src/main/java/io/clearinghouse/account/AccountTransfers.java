package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.Deposited;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.IsolatedMarginAdjusted;
import io.clearinghouse.account.AccountEntity.LiquidationCredited;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.AccountEntity.TradeCleared;
import io.clearinghouse.account.AccountEntity.TradeSideReversed;
import io.clearinghouse.account.AccountEntity.Withdrawn;
import io.clearinghouse.money.Bucket;
import io.clearinghouse.money.Transfer;
import java.util.ArrayList;
import java.util.List;

/**
 * The transfers each account event makes (DESIGN section 7), read by the account's event
 * handler, the ledger audit and the fund-flow record alike. Events that move no money make none.
 *
 * <p>A trade side moves its value between the account's position and the trade's own bucket,
 * and its realized PnL from that bucket into the cash: once both sides are applied the trade's
 * bucket is back at zero, so a trade applied to one side only is a non-zero trade bucket. A
 * liquidation close does the same through the close's bucket.
 */
public final class AccountTransfers {
  private AccountTransfers() {}

  public static List<Transfer> of(String accountId, Event event) {
    List<Transfer> t = new ArrayList<>(4);
    Bucket cash = Bucket.cash(accountId);
    if (event instanceof Deposited d) {
      // A deposit repays what isolated positions owe first.
      Transfer.add(t, Bucket.EXTERNAL, Bucket.owed(accountId), d.owedRepaid());
      Transfer.add(t, Bucket.EXTERNAL, cash, Math.subtractExact(d.amount(), d.owedRepaid()));
    } else if (event instanceof Withdrawn w) {
      Transfer.add(t, cash, Bucket.EXTERNAL, w.amount());
    } else if (event instanceof TradeCleared e) {
      Bucket trade = Bucket.trade(e.sequence());
      Transfer.add(t, Bucket.position(accountId, e.instrument()), trade, e.costDelta());
      Transfer.add(t, trade, cash, e.realizedPnl());
      Transfer.add(t, cash, Bucket.FEES, e.fee());
      Transfer.add(t, cash, Bucket.isolatedMargin(accountId, e.instrument()), e.isolatedMarginDelta());
    } else if (event instanceof TradeSideReversed e && e.instrument() != null) {
      // The exact negation of the side's TradeCleared (its fields are already negated).
      Bucket trade = Bucket.trade(e.sequence());
      Transfer.add(t, Bucket.position(accountId, e.instrument()), trade, e.costDelta());
      Transfer.add(t, trade, cash, e.realizedPnl());
      Transfer.add(t, Bucket.FEES, cash, e.feeRefund());
      Transfer.add(t, cash, Bucket.isolatedMargin(accountId, e.instrument()), e.isolatedMarginDelta());
    } else if (event instanceof AccountEntity.FeesSwept f) {
      // On their way to the platform-revenue reserve, which takes them in under the same key.
      Transfer.add(t, Bucket.FEES, Bucket.transit(f.key()), f.amount());
    } else if (event instanceof AccountEntity.FeesSweepVoided v) {
      // The sweep refused for good: what left for it comes back.
      Transfer.add(t, Bucket.transit(v.key()), Bucket.FEES, v.amount());
    } else if (event instanceof IsolatedMarginAdjusted a) {
      Transfer.add(t, cash, Bucket.isolatedMargin(accountId, a.instrument()), a.amount());
    } else if (event instanceof LiquidationTransfer e) {
      Bucket close = Bucket.close(closeKey(e.key()));
      Transfer.add(t, Bucket.position(accountId, e.instrument()), close, e.costDelta());
      Transfer.add(t, close, cash, e.realizedPnl());
      Transfer.add(t, cash, Bucket.escrow(e.liquidationId()), e.penalty());
      Transfer.add(t, cash, Bucket.isolatedMargin(accountId, e.instrument()), e.isolatedMarginDelta());
      // An isolated loss beyond the position's margin is owed, never taken from the cash.
      Transfer.add(t, Bucket.owed(accountId), cash, e.shortfall());
    } else if (event instanceof AccountEntity.FundingApplied f) {
      // Received from the instrument's funding pool (positive) or paid into it (negative).
      Transfer.add(t, Bucket.fundingPool(f.instrument()), cash, f.amount());
    } else if (event instanceof AccountEntity.FundingAdjusted f) {
      Transfer.add(t, Bucket.fundingPool(f.instrument()), cash, f.amount());
    } else if (event instanceof AccountEntity.SettlementApplied e) {
      // Like a trade side with the settlement pool as the counterparty: the cost leaves the
      // position, the value at the settlement price comes from (or, short, goes to) the pool.
      Bucket pool = Bucket.settlementPool(e.instrument());
      Transfer.add(t, Bucket.position(accountId, e.instrument()), pool, Math.negateExact(e.cost()));
      Transfer.add(t, pool, cash, e.pnl());
      Transfer.add(t, cash, Bucket.FEES, e.fee());
      Transfer.add(t, Bucket.isolatedMargin(accountId, e.instrument()), cash, e.isolatedReleased());
      Transfer.add(t, Bucket.owed(accountId), cash, e.shortfall());
    } else if (event instanceof AccountEntity.SettledAfterExpiry e) {
      // The settlement's movements (without a fee) for what a late side left in the future.
      Bucket pool = Bucket.settlementPool(e.instrument());
      Transfer.add(t, Bucket.position(accountId, e.instrument()), pool, Math.negateExact(e.cost()));
      Transfer.add(t, pool, cash, e.pnl());
      Transfer.add(t, Bucket.isolatedMargin(accountId, e.instrument()), cash, e.isolatedReleased());
      Transfer.add(t, Bucket.owed(accountId), cash, e.shortfall());
    } else if (event instanceof LiquidationCredited c) {
      Transfer.add(t, Bucket.escrow(c.liquidationId()), Bucket.owed(accountId), c.shortfallCovered());
      Transfer.add(t, Bucket.escrow(c.liquidationId()), cash, Math.subtractExact(c.amount(), c.shortfallCovered()));
    }
    return t;
  }

  /** A give-back ({@code <key>/undo}) settles within the close it undoes. */
  static String closeKey(String key) {
    return key.endsWith("/undo") ? key.substring(0, key.length() - "/undo".length()) : key;
  }
}
