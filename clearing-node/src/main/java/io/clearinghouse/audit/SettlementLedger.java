package io.clearinghouse.audit;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.expiry.ExpirySettlement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A dated future's settlement journal as the audit reads it: whether it is closed, and every
 * account's result it recorded. Each recorded result must be the settlement that account's own
 * journal holds, and once the settlement is closed every account that settled the instrument is in
 * the record and the settlement pool is back at zero (every long has its short).
 */
record SettlementLedger(String instrument, boolean closed, long priceTicks, Map<String, AccountEntity.SettlementApplied>
    results, Map<String, AccountEntity.SettledAfterExpiry> lateCloses) {

  SettlementLedger(String instrument, boolean closed, long priceTicks,
      Map<String, AccountEntity.SettlementApplied> results) {
    this(instrument, closed, priceTicks, results, Map.of());
  }
  static final String PREFIX = ExpirySettlement.TYPE_KEY.name() + "|";

  static SettlementLedger replay(String persistenceId, List<Object> events) {
    boolean closed = false;
    long price = 0;
    Map<String, AccountEntity.SettlementApplied> results = new HashMap<>();
    Map<String, AccountEntity.SettledAfterExpiry> late = new HashMap<>();
    for (Object event : events) {
      if (event instanceof ExpirySettlement.PriceFixed p) {
        price = p.priceTicks();
      } else if (event instanceof ExpirySettlement.AccountsSettled s) {
        results.putAll(s.results());
      } else if (event instanceof ExpirySettlement.LateClosesRecorded l && l.own() != null) {
        // An account that held nothing at the expiry and settled itself, reported with its late close.
        results.putIfAbsent(l.accountId(), l.own());
      }
      if (event instanceof ExpirySettlement.LateClosesRecorded l) {
        late.putAll(l.closes());
      } else if (event instanceof ExpirySettlement.SettlementClosed) {
        closed = true;
      }
    }
    return new SettlementLedger(persistenceId.substring(PREFIX.length()), closed, price, results, late);
  }

  /** The findings of this settlement against the accounts' journals and the pool the transfers give. */
  void check(Map<String, AccountLedger> accounts, long pool, List<String> violations) {
    results.forEach((accountId, recorded) -> {
      AccountLedger l = accounts.get(accountId);
      AccountEntity.SettlementApplied applied = l == null ? null : l.settlements.get(instrument);
      if (applied == null || !sameMoney(applied, recorded)) {
        violations.add("settlement of " + instrument + " records " + accountId + " " + describe(recorded)
            + " but the account's journal holds " + (applied == null ? "no settlement" : describe(applied)));
      }
    });
    // Each late close recorded (by account and number) is that account's own, in its journal's order.
    lateCloses.forEach((key, recorded) -> {
      int hash = key.lastIndexOf('#');
      String accountId = hash < 0 ? key : key.substring(0, hash);
      int number = hash < 0 ? -1 : Integer.parseInt(key.substring(hash + 1));
      AccountLedger l = accounts.get(accountId);
      List<AccountEntity.SettledAfterExpiry> own = l == null ? List.of()
          : l.lateCloses.getOrDefault(instrument, List.of());
      if (number < 0 || number >= own.size() || !own.get(number).equals(recorded)) {
        violations.add("settlement of " + instrument + " records late close " + key + " (" + recorded.lots()
            + " lots, value " + recorded.value() + ") that the account's journal does not hold");
      }
    });
    if (closed) {
      accounts.forEach((accountId, l) -> {
        AccountEntity.SettlementApplied applied = l.settlements.get(instrument);
        if (applied != null && !results.containsKey(accountId)) {
          violations.add("settlement of " + instrument + " is closed without " + accountId + ", settled "
              + describe(applied));
        }
        if (applied == null && l.lots.getOrDefault(instrument, 0L) != 0) {
          violations.add("settlement of " + instrument + " is closed but " + accountId + " still holds "
              + l.lots.get(instrument) + " lots");
        }
      });
      if (pool != 0) {
        violations.add("settlement pool " + instrument + " holds " + pool + " after its settlement closed");
      }
    }
  }

  private static boolean sameMoney(AccountEntity.SettlementApplied a, AccountEntity.SettlementApplied b) {
    return a.lots() == b.lots() && a.value() == b.value() && a.cost() == b.cost() && a.fee() == b.fee()
        && a.isolatedReleased() == b.isolatedReleased() && a.priceTicks() == b.priceTicks()
        && a.shortfall() == b.shortfall();
  }

  private static String describe(AccountEntity.SettlementApplied s) {
    return s.lots() + " lots at " + s.priceTicks() + " (value " + s.value() + ", cost " + s.cost() + ", fee " + s.fee()
        + ", isolated " + s.isolatedReleased() + ", shortfall " + s.shortfall() + ")";
  }
}
