package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.SettledAfterExpiry;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What an account learns of the dated futures' settlements from its node (issue 17, expiry known
 * limits): the settlement price once it is fixed, so that an account that held nothing at the
 * expiry and is forced into the future afterwards settles itself at that price, and where it
 * reports the late closes ({@link SettledAfterExpiry}) that the settlement's record must count.
 */
public interface SettlementPrices {
  /** No settlements known (tests of other parts, nodes without expiry). */
  SettlementPrices NONE = new SettlementPrices() {
    @Override
    public long priceTicks(String instrument) {
      return 0;
    }
  };

  /** The settlement price of {@code instrument} as this node last heard it, once fixed; 0: not known. */
  long priceTicks(String instrument);

  /**
   * Records {@code closes}, this account's late closes of {@code instrument} numbered from {@code from}
   * (0: its first), at the instrument's settlement, with the account's own settlement {@code own}
   * (recorded there too if it has none for the account); completes once they are recorded. Each
   * is recorded once by (account, number), so sending again is harmless. Without a settlement to
   * report to (NONE) it never completes: the account keeps them and reports them again later.
   */
  default CompletionStage<Void> reportLate(String instrument, String accountId, AccountEntity.SettlementApplied own,
      int from, List<SettledAfterExpiry> closes) {
    return new CompletableFuture<>();
  }
}
