package io.clearinghouse.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountTransfers;
import io.clearinghouse.it.TestNodes;
import io.clearinghouse.money.Bucket;
import io.clearinghouse.money.Ledger;
import io.clearinghouse.money.Transfer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The transfer half of the audit on journals written by hand: what it accepts and what it names. */
class TransferAuditIntegrationTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;

  private static AccountLedger ledger(String accountId, Object... events) {
    List<Object> all = new ArrayList<>();
    all.add(new AccountEntity.AccountOpened(accountId));
    all.addAll(List.of(events));
    return AccountLedger.replay(accountId, all, TestNodes.INSTRUMENTS);
  }

  private static List<String> audit(AccountLedger... ledgers) {
    TransferAudit audit = new TransferAudit();
    Map<String, AccountLedger> byAccount = new TreeMap<>();
    long fees = 0;
    long deposits = 0;
    long withdrawals = 0;
    for (AccountLedger l : ledgers) {
      byAccount.put(l.accountId, l);
      audit.add(l.transfers);
      fees += l.fees;
      deposits += l.deposits;
      withdrawals += l.withdrawals;
    }
    List<String> violations = new ArrayList<>();
    audit.check(byAccount, List.of(), fees, deposits, withdrawals, 0, violations);
    return violations;
  }

  // Buy 1 BTC at 50,000 (cost 50,000, taker fee 25) against a sell of the same (maker fee 10).
  private static final AccountEntity.TradeCleared BUY = new AccountEntity.TradeCleared("t-1", 1, PERP, 1_000, 500_000,
      25 * USDT, 0, 50_000 * USDT, 0, null, 0, "b", true, null);
  private static final AccountEntity.TradeCleared SELL = new AccountEntity.TradeCleared("t-1", 1, PERP, -1_000, 500_000,
      10 * USDT, 0, -50_000 * USDT, 0, null, 0, "a", false, null);

  @Test
  void aTradeAppliedToBothSidesLeavesItsBucketAtZero() {
    List<String> violations = audit(ledger("a", new AccountEntity.Deposited("d", 1_000 * USDT, 0, 0), BUY),
        ledger("b", new AccountEntity.Deposited("d", 1_000 * USDT, 0, 0), SELL));
    assertEquals(List.of(), violations);
  }

  @Test
  void aTradeAppliedToOneSideOnlyIsNamedByItsBucket() {
    List<String> violations = audit(ledger("a", new AccountEntity.Deposited("d", 1_000 * USDT, 0, 0), BUY),
        ledger("b", new AccountEntity.Deposited("d", 1_000 * USDT, 0, 0)));
    assertTrue(violations.stream().anyMatch(v -> v.startsWith("trade sequence 1:") && v.contains("50000000000")),
        violations.toString());
  }

  @Test
  void twoSidesOfOneSequenceAtDifferentPricesAreNamed() {
    var cheaperSell = new AccountEntity.TradeCleared("t-1", 1, PERP, -1_000, 490_000, 10 * USDT, 0, -49_000 * USDT, 0,
        null, 0, "a", false, null);
    List<String> violations = audit(ledger("a", BUY), ledger("b", cheaperSell));
    assertTrue(violations.stream().anyMatch(v -> v.startsWith("trade sequence 1:") && v.contains("1000000000")),
        violations.toString());
  }

  @Test
  void everyAccountEventsTransfersAgreeWithItsFieldsAndSumToZero() {
    var reduce = new AccountEntity.TradeCleared("t-2", 2, PERP, -400, 510_000, 8 * USDT, 400 * USDT, -20_000 * USDT,
        0, null, 0, "b", false, null);
    List<Transfer> transfers = AccountTransfers.of("a", reduce);
    Ledger ledger = new Ledger();
    ledger.applyAll(transfers);
    // Cash: + realized 400 - fee 8; position value: + the cost removed (20,000); fees + 8.
    assertEquals(392 * USDT, ledger.balance(Bucket.cash("a")));
    assertEquals(20_000 * USDT, ledger.balance(Bucket.position("a", PERP)));
    assertEquals(8 * USDT, ledger.balance(Bucket.FEES));
    // The trade's bucket holds what the other side must bring: the sale's value 20,400.
    assertEquals(-20_400 * USDT, ledger.balance(Bucket.trade(2)));
    assertEquals(0, ledger.total());
  }

  @Test
  void aKeyUsedAgainAfterItsRetentionIsANewRequestNotADoubleCredit() {
    long day = 86_400_000L;
    long retention = 8 * day;
    List<Object> events = List.of(new AccountEntity.AccountOpened("k"),
        new AccountEntity.Deposited("custody-1", 5 * USDT, 0, 0),
        new AccountEntity.Deposited("custody-1", 5 * USDT, 9 * day, 0));
    assertEquals(List.of(), AccountLedger.replay("k", events, TestNodes.INSTRUMENTS, retention).violations);
    List<Object> tooSoon = List.of(new AccountEntity.AccountOpened("k"),
        new AccountEntity.Deposited("custody-1", 5 * USDT, 0, 0),
        new AccountEntity.Deposited("custody-1", 5 * USDT, day, 0));
    assertEquals(List.of("k: idempotency key operator custody-1 moved money twice"),
        AccountLedger.replay("k", tooSoon, TestNodes.INSTRUMENTS, retention).violations);
  }
}
