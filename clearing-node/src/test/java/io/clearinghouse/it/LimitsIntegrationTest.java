package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.Calls.refused;
import static io.clearinghouse.it.LiquidationHarness.PERP;
import static io.clearinghouse.it.TestNodes.ENGINE_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clearinghouse.common.Rejection;
import io.clearinghouse.ops.NodeContext;
import io.clearinghouse.protocol.v1.ReserveMarginRequest;
import io.clearinghouse.protocol.v1.Side;
import io.grpc.Status;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Concentration and open-interest limits on a real node over gRPC (issue 16 item 4): the
 * pre-trade check refuses an order beyond the account's position cap, beyond the instrument's
 * open interest cap (the cluster's, from the margin monitors) or above the account's share of it,
 * each exactly at its boundary; a refusal reserves nothing. Ends with the audit.
 */
class LimitsIntegrationTest {

  private static ReserveMarginRequest reserve(String account, String orderId, String quantity) {
    return ReserveMarginRequest.newBuilder().setAccountId(account).setOrderId(orderId).setInstrument(PERP)
        .setSide(Side.BUY).setQuantity(quantity).setLimitPrice("50000").build();
  }

  @Test
  void positionOpenInterestAndShareLimits() {
    try (LiquidationHarness h = new LiquidationHarness("limits", String.join("\n",
        "clearinghouse.open-interest-refresh = 200ms",
        "clearinghouse.instrument-overrides { \"" + PERP + "\" { max-account-position = \"200000\", "
            + "max-open-interest = \"250000\", max-account-share = \"60%\", account-share-from = \"100000\" } }"))) {
      h.open("maker", "10000000");
      h.open("alice-1", "100000");
      h.open("bob-1", "100000");
      h.open("carol", "100000");
      h.mark(PERP, "50000");
      // Alice holds 2 BTC (100,000): the open interest, once every node's monitor has reported it.
      h.buy("alice-1", "maker", PERP, "2", "50000");
      h.probe.awaitAssert(Duration.ofSeconds(15), () -> {
        assertEquals(2_000L, NodeContext.get(h.node.system()).openInterestLots(PERP));
        return null;
      });
      // The account's cap: 4 BTC (200,000) at most: 2.001 more is beyond it.
      refused(h.engine.reserveMargin(), ENGINE_TOKEN, reserve("alice-1", "a-1", "2.001"),
          Status.Code.FAILED_PRECONDITION, Rejection.ACCOUNT_POSITION_LIMIT);
      // The share: 0.5 more would be all of 2.5 BTC of open interest (125,000 >= 100,000): above 60%.
      refused(h.engine.reserveMargin(), ENGINE_TOKEN, reserve("alice-1", "a-2", "0.5"),
          Status.Code.FAILED_PRECONDITION, Rejection.CONCENTRATION_LIMIT);
      // The open interest cap: carol's 3 BTC make 5 BTC (250,000, and 60% hers): at both limits.
      // 3.001 would be beyond the open interest cap.
      refused(h.engine.reserveMargin(), ENGINE_TOKEN, reserve("carol", "c-1", "3.001"),
          Status.Code.FAILED_PRECONDITION, Rejection.OPEN_INTEREST_LIMIT);
      call(h.engine.reserveMargin(), ENGINE_TOKEN, reserve("carol", "c-2", "3"));
      // Refusals reserved nothing; carol's order holds its margin.
      assertEquals("0.000000", h.view("alice-1").getReserved());
      assertEquals(false, h.view("carol").getReserved().equals("0.000000"));
      // Selling (reducing) always passes.
      call(h.engine.reserveMargin(), ENGINE_TOKEN, reserve("alice-1", "a-3", "1").toBuilder().setSide(Side.SELL)
          .build());
      h.auditClean();
    }
  }
}
