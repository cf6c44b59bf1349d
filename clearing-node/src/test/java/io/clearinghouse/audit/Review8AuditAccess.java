package io.clearinghouse.audit;

import io.clearinghouse.it.TestNodes;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Review 8: accounts' and funding clocks' journals summarized as the whole audit does (its private
 * {@code summarize}, reached without a Cassandra journal), the violations returned.
 */
public final class Review8AuditAccess {
  private Review8AuditAccess() {}

  /** {@code clocks}: each funding clock's events by instrument. */
  public static List<String> auditViolations(Map<String, List<Object>> accounts, Map<String, List<Object>> clocks)
      throws Exception {
    List<AccountLedger> a = new ArrayList<>();
    accounts.forEach((id, events) -> a.add(AccountLedger.replay(id, events, TestNodes.INSTRUMENTS)));
    List<FundingClockLedger> c = new ArrayList<>();
    clocks.forEach((instrument, events) -> c.add(FundingClockLedger.replay(FundingClockLedger.PREFIX + instrument,
        events)));
    Field f = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
    f.setAccessible(true);
    Object unsafe = f.get(null);
    Object audit = unsafe.getClass().getMethod("allocateInstance", Class.class).invoke(unsafe, LedgerAudit.class);
    Method summarize = LedgerAudit.class.getDeclaredMethod("summarize", List.class, List.class, List.class, List.class);
    summarize.setAccessible(true);
    LedgerAudit.Report report = (LedgerAudit.Report) summarize.invoke(audit, a, List.of(), List.of(), c);
    return report.violations();
  }
}
