package io.clearinghouse.audit;

import io.clearinghouse.it.TestNodes;
import java.util.List;

/** Review 6: an account's events replayed as the audit does, its violations returned. */
public final class Review6AuditAccess {
  private Review6AuditAccess() {}

  public static List<String> violations(String accountId, List<Object> events) {
    return AccountLedger.replay(accountId, events, TestNodes.INSTRUMENTS).violations;
  }
}
