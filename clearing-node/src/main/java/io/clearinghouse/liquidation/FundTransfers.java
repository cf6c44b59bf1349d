package io.clearinghouse.liquidation;

import io.clearinghouse.money.Bucket;
import io.clearinghouse.money.Transfer;
import java.util.ArrayList;
import java.util.List;

/**
 * The transfers each reserve-ledger event makes (an insurance fund's or a platform reserve's);
 * holds ({@code Reserved}), forgetting and confirmations move no money.
 */
public final class FundTransfers {
  private FundTransfers() {}

  /** An insurance fund's event. */
  public static List<Transfer> of(String fundId, InsuranceFund.Event event) {
    return of(Bucket.insuranceFund(fundId), event);
  }

  /** The event of the ledger whose bucket is {@code ledger}. */
  public static List<Transfer> of(Bucket ledger, InsuranceFund.Event event) {
    List<Transfer> t = new ArrayList<>(2);
    if (event instanceof InsuranceFund.ToppedUp e) {
      Transfer.add(t, Bucket.EXTERNAL, ledger, e.amount());
    } else if (event instanceof InsuranceFund.Withdrawn e) {
      Transfer.add(t, ledger, Bucket.EXTERNAL, e.amount());
    } else if (event instanceof InsuranceFund.Received e) {
      Transfer.add(t, Bucket.escrow(e.liquidationId()), ledger, e.amount());
    } else if (event instanceof InsuranceFund.Paid e) {
      Transfer.add(t, ledger, Bucket.escrow(e.liquidationId()), e.amount());
    } else if (event instanceof InsuranceFund.MovedOut e) {
      Transfer.add(t, ledger, Bucket.transit(e.key()), e.amount());
    } else if (event instanceof InsuranceFund.MovedIn e) {
      Transfer.add(t, Bucket.transit(e.key()), ledger, e.amount());
    } else if (event instanceof InsuranceFund.FeesReceived e) {
      Transfer.add(t, Bucket.transit(io.clearinghouse.account.FeeSweep.key(e.accountId(), e.sweep())), ledger,
          e.amount());
    } else if (event instanceof InsuranceFund.PositionTaken e) {
      // Like an account's side of a close: the position's value through the close's own bucket,
      // what it realized between that bucket and the fund's balance.
      Bucket close = Bucket.close(closeKey(e.key()));
      Transfer.add(t, Bucket.fundPosition(ledger.owner(), e.instrument()), close, e.costDelta());
      Transfer.add(t, close, ledger, e.realizedPnl());
    }
    return t;
  }

  /** A give-back ({@code <key>/undo}) settles within the close it undoes. */
  static String closeKey(String key) {
    return key.endsWith("/undo") ? key.substring(0, key.length() - "/undo".length()) : key;
  }
}
