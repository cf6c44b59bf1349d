package io.clearinghouse.audit;

import io.clearinghouse.it.TestNodes;
import io.clearinghouse.liquidation.InsuranceFund;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Review 7: accounts' and reserves' journals summarized as the whole audit does (its private
 * {@code summarize}, reached without a Cassandra journal), the violations returned.
 */
public final class Review7AuditAccess {
  private Review7AuditAccess() {}

  public static List<String> accountViolations(String accountId, List<Object> events) {
    return AccountLedger.replay(accountId, events, TestNodes.INSTRUMENTS).violations;
  }

  public static List<String> reserveViolations(String reserveId, List<Object> events) {
    return ReserveLedger.replay(InsuranceFund.RESERVE_TYPE_KEY.name() + "|" + reserveId, events,
        TestNodes.INSTRUMENTS).violations;
  }

  /** The whole audit's violations over these account journals and reserve journals (by reserve id). */
  public static List<String> auditViolations(Map<String, List<Object>> accounts, Map<String, List<Object>> reserves)
      throws Exception {
    List<AccountLedger> a = new ArrayList<>();
    accounts.forEach((id, events) -> a.add(AccountLedger.replay(id, events, TestNodes.INSTRUMENTS)));
    List<ReserveLedger> r = new ArrayList<>();
    reserves.forEach((id, events) -> r.add(ReserveLedger.replay(InsuranceFund.RESERVE_TYPE_KEY.name() + "|" + id,
        events, TestNodes.INSTRUMENTS)));
    Field f = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
    f.setAccessible(true);
    Object unsafe = f.get(null);
    Object audit = unsafe.getClass().getMethod("allocateInstance", Class.class).invoke(unsafe, LedgerAudit.class);
    Method summarize = LedgerAudit.class.getDeclaredMethod("summarize", List.class, List.class, List.class, List.class);
    summarize.setAccessible(true);
    LedgerAudit.Report report = (LedgerAudit.Report) summarize.invoke(audit, a, r, List.of(), List.of());
    return report.violations();
  }
}
