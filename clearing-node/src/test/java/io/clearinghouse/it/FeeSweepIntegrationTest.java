package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.InsuranceFundEntry;
import io.clearinghouse.protocol.v1.InsuranceFundView;
import io.clearinghouse.protocol.v1.ListReserveMovementsRequest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Trading fees reach the platform-revenue reserve (issue 14, item 1): each account sweeps what it
 * collected, the reserve's movements name each sweep, and the audit balances with the fees
 * wherever they are (still in an account's fee revenue, in transit, or in the reserve).
 */
class FeeSweepIntegrationTest {
  private static final String PERP = "BTCUSDT-PERP";

  private static InsuranceFundView revenue(LiquidationHarness h) {
    return call(h.admin.listReserveMovements(), OPERATOR_TOKEN, ListReserveMovementsRequest.newBuilder()
        .setReserve("platform-revenue").setLimit(50).build());
  }

  @Test
  void everyAccountsFeesArriveInPlatformRevenueOnceAndTheAuditBalances() {
    try (LiquidationHarness h = new LiquidationHarness("fee_sweep", "clearinghouse.account.fee-sweep-interval = 1s")) {
      h.mark(PERP, "50000");
      h.open("taker", "100000");
      h.open("maker", "100000");
      // Taker 0.05%, maker 0.02% of 50,000: 25 and 10; then of 50,500 on 0.5 BTC: 12.625 and 5.05.
      h.buy("taker", "maker", PERP, "1", "50000");
      h.buy("maker", "taker", PERP, "0.5", "50500");
      h.probe.awaitAssert(Duration.ofSeconds(20), () -> {
        assertEquals("52.675000", revenue(h).getBalance());
        return null;
      });
      List<InsuranceFundEntry> sweeps = revenue(h).getHistoryList();
      assertEquals(List.of("FEES"), sweeps.stream().map(InsuranceFundEntry::getKind).distinct().toList());
      long total = sweeps.stream().mapToLong(e -> new java.math.BigDecimal(e.getAmount()).movePointRight(6)
          .longValueExact()).sum();
      assertEquals(52_675_000L, total, "each fee swept once: " + sweeps);
      AuditReport audit = call(h.admin.audit(), OPERATOR_TOKEN, AuditRequest.getDefaultInstance());
      assertEquals(List.of(), audit.getViolationsList());
      // The fees are out of the accounts' fee revenue: the reserve holds them all, none in transit.
      assertEquals(List.of("0.000000", "0.000000"), List.of(audit.getFeeRevenue(), audit.getInTransit()));
      h.auditClean();
    }
  }

  @Test
  void aMakersNetRebateIsPaidOutOfPlatformRevenueOnceItHoldsEnough() {
    try (LiquidationHarness h = new LiquidationHarness("fee_rebate", String.join("\n",
        "clearinghouse.account.fee-sweep-interval = 1s",
        "clearinghouse.instrument-overrides { \"" + PERP + "\" { maker-fee = \"-0.01%\" } }"))) {
      h.mark(PERP, "50000");
      h.open("taker", "100000");
      h.open("maker", "100000");
      // Taker 0.05% of 50,000 twice: 50 swept in; the maker's rebates of 0.01%: 10 claimed out (a
      // claim that comes first finds nothing to pay it from and is made again).
      h.buy("taker", "maker", PERP, "1", "50000");
      h.buy("taker", "maker", PERP, "1", "50000");
      h.probe.awaitAssert(Duration.ofSeconds(30), () -> {
        assertEquals("40.000000", revenue(h).getBalance());
        AuditReport audit = call(h.admin.audit(), OPERATOR_TOKEN, AuditRequest.getDefaultInstance());
        assertEquals(List.of("0.000000", "0.000000"), List.of(audit.getFeeRevenue(), audit.getInTransit()));
        return null;
      });
      List<String> kinds = revenue(h).getHistoryList().stream().map(InsuranceFundEntry::getKind).sorted().toList();
      assertEquals(List.of("FEES", "REBATES"), kinds.stream().distinct().toList(), kinds.toString());
      h.auditClean();
    }
  }
}
