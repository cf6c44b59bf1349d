package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.Calls.refused;
import static io.clearinghouse.it.LiquidationHarness.PERP;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.common.Rejection;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.GetReservesRequest;
import io.clearinghouse.protocol.v1.InsuranceFundEntry;
import io.clearinghouse.protocol.v1.InsuranceFundView;
import io.clearinghouse.protocol.v1.ListReserveMovementsRequest;
import io.clearinghouse.protocol.v1.ReserveTransferRequest;
import io.grpc.Status.Code;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reserves as ledgers over gRPC on a real node (issue 14, item 1): every reserve listed,
 * operator top-ups and withdrawals with idempotency keys, never below zero, bad input refused
 * with its reason and nothing changed, pages of movements, and the audit clean with them.
 */
class ReservesIntegrationTest {

  private static ReserveTransferRequest transfer(String reserve, String amount, String key) {
    return ReserveTransferRequest.newBuilder().setReserve(reserve).setAmount(amount).setIdempotencyKey(key).build();
  }

  @Test
  void operatorsMoveMoneyInAndOutOfEveryReserveOnceAndNeverBelowZero() {
    try (LiquidationHarness h = new LiquidationHarness("reserves", "")) {
      List<InsuranceFundView> reserves = call(h.admin.getReserves(), OPERATOR_TOKEN,
          GetReservesRequest.getDefaultInstance()).getReservesList();
      assertEquals(List.of("insurance-fund:BTCUSDT-271231", "insurance-fund:BTCUSDT-PERP", "market-making",
          "platform-revenue", "investor-protection", "operator-capital"),
          reserves.stream().map(InsuranceFundView::getFund).toList());
      assertTrue(reserves.stream().allMatch(r -> r.getBalance().equals("0.000000")), reserves.toString());

      InsuranceFundView capital = call(h.admin.topUpReserve(), OPERATOR_TOKEN, transfer("operator-capital", "1000",
          "capital-1"));
      assertEquals(List.of("1000.000000", "TOP_UP"), List.of(capital.getBalance(), capital.getHistory(0).getKind()));
      assertFalse(capital.getReplayed());
      // The retry moves nothing; the key with another amount is refused.
      assertTrue(call(h.admin.topUpReserve(), OPERATOR_TOKEN, transfer("operator-capital", "1000", "capital-1"))
          .getReplayed());
      refused(h.admin.topUpReserve(), OPERATOR_TOKEN, transfer("operator-capital", "999", "capital-1"),
          Code.ALREADY_EXISTS, Rejection.IDEMPOTENCY_KEY_REUSED);
      // Never below zero, never a bad amount, never an unknown reserve, never another role.
      refused(h.admin.withdrawReserve(), OPERATOR_TOKEN, transfer("operator-capital", "1000.000001", "out-1"),
          Code.FAILED_PRECONDITION, Rejection.INSUFFICIENT_RESERVE);
      refused(h.admin.withdrawReserve(), OPERATOR_TOKEN, transfer("operator-capital", "-1", "out-1"),
          Code.INVALID_ARGUMENT, Rejection.AMOUNT_NOT_POSITIVE);
      refused(h.admin.withdrawReserve(), OPERATOR_TOKEN, transfer("operator-capital", "0.0000001", "out-1"),
          Code.INVALID_ARGUMENT, Rejection.AMOUNT_TOO_PRECISE);
      refused(h.admin.withdrawReserve(), OPERATOR_TOKEN, transfer("fees", "1", "out-1"),
          Code.NOT_FOUND, Rejection.UNKNOWN_RESERVE);
      refused(h.admin.topUpReserve(), OPERATOR_TOKEN, transfer("insurance-fund:NOPE", "1", "in-9"),
          Code.NOT_FOUND, Rejection.UNKNOWN_RESERVE);
      refused(h.admin.withdrawReserve(), OPERATOR_TOKEN, transfer("operator-capital", "1", "bad key"),
          Code.INVALID_ARGUMENT, Rejection.INVALID_IDEMPOTENCY_KEY);
      refused(h.admin.withdrawReserve(), ALICE_TOKEN, transfer("operator-capital", "1", "out-1"),
          Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);
      refused(h.admin.getReserves(), ALICE_TOKEN, GetReservesRequest.getDefaultInstance(),
          Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);
      InsuranceFundView after = call(h.admin.withdrawReserve(), OPERATOR_TOKEN, transfer("operator-capital", "400.5",
          "out-1"));
      assertEquals("599.500000", after.getBalance());
      assertTrue(call(h.admin.withdrawReserve(), OPERATOR_TOKEN, transfer("operator-capital", "400.5", "out-1"))
          .getReplayed());
      // An insurance fund is a reserve too: the same calls, the same fund as GetInsuranceFund's.
      call(h.admin.topUpReserve(), OPERATOR_TOKEN, transfer("insurance-fund:" + PERP, "250", "fund-1"));
      call(h.admin.withdrawReserve(), OPERATOR_TOKEN, transfer("insurance-fund:" + PERP, "50", "fund-out-1"));
      assertEquals("200.000000", h.fund(PERP).getBalance());
      call(h.admin.topUpReserve(), OPERATOR_TOKEN, transfer("investor-protection", "7", "ip-1"));

      // Pages of movements, newest first.
      InsuranceFundView page = call(h.admin.listReserveMovements(), OPERATOR_TOKEN,
          ListReserveMovementsRequest.newBuilder().setReserve("operator-capital").setOffset(0).setLimit(1).build());
      assertEquals(2, page.getEntries());
      assertEquals(List.of("WITHDRAWAL 400.500000 599.500000"), page.getHistoryList().stream()
          .map(ReservesIntegrationTest::line).toList());
      InsuranceFundView older = call(h.admin.listReserveMovements(), OPERATOR_TOKEN,
          ListReserveMovementsRequest.newBuilder().setReserve("operator-capital").setOffset(1).setLimit(5).build());
      assertEquals(List.of("TOP_UP 1000.000000 1000.000000"), older.getHistoryList().stream()
          .map(ReservesIntegrationTest::line).toList());
      refused(h.admin.listReserveMovements(), OPERATOR_TOKEN, ListReserveMovementsRequest.newBuilder()
          .setReserve("").build(), Code.NOT_FOUND, Rejection.UNKNOWN_RESERVE);

      AuditReport audit = call(h.admin.audit(), OPERATOR_TOKEN, AuditRequest.getDefaultInstance());
      assertTrue(audit.getClean(), audit.getViolationsList().toString());
      assertEquals(List.of("606.500000", "200.000000", "1257.000000", "450.500000"), List.of(audit.getReserves(),
          audit.getInsuranceFunds(), audit.getFundTopUps(), audit.getReserveWithdrawals()));
    }
  }

  private static String line(InsuranceFundEntry e) {
    return e.getKind() + " " + e.getAmount() + " " + e.getBalanceAfter();
  }
}
