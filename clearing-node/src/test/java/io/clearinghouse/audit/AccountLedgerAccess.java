package io.clearinghouse.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clearinghouse.it.TestNodes;
import java.util.List;

/** For tests outside the package: replays an account's events as the audit does. */
public final class AccountLedgerAccess {
  private AccountLedgerAccess() {}

  public static void assertClean(String accountId, List<Object> events) {
    assertEquals(List.of(), violations(accountId, events));
  }

  public static List<String> violations(String accountId, List<Object> events) {
    return AccountLedger.replay(accountId, events, TestNodes.INSTRUMENTS).violations;
  }
}
