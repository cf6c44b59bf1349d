package io.clearinghouse.liquidation;

import io.clearinghouse.money.Bucket;
import io.clearinghouse.money.Transfer;
import java.util.ArrayList;
import java.util.List;

/** The transfers each insurance fund event makes; holds ({@code Reserved}) move no money. */
public final class FundTransfers {
  private FundTransfers() {}

  public static List<Transfer> of(String fundId, InsuranceFund.Event event) {
    List<Transfer> t = new ArrayList<>(1);
    Bucket fund = Bucket.insuranceFund(fundId);
    if (event instanceof InsuranceFund.ToppedUp e) {
      Transfer.add(t, Bucket.EXTERNAL, fund, e.amount());
    } else if (event instanceof InsuranceFund.Received e) {
      Transfer.add(t, Bucket.escrow(e.liquidationId()), fund, e.amount());
    } else if (event instanceof InsuranceFund.Paid e) {
      Transfer.add(t, fund, Bucket.escrow(e.liquidationId()), e.amount());
    }
    return t;
  }
}
