package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clearinghouse.account.Account;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.LiquidationRole;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A debt an earlier liquidation recorded is not assessed again as a new deficit (review finding). */
class SettlementDebtTest {
  private static final String PERP = "BTCUSDT-PERP";

  @Test
  void anEarlierRecordedDebtIsNotANewDeficit() {
    // An earlier liquidation left cash -300, recorded as debt 300. The account kept a healthy
    // isolated position, which is now liquidated with a shortfall of 98 and no cross position.
    var trigger = new Account.Liquidation("alice-1-20", 1, 0, Map.of(PERP, 494_000L), -300, 0, null);
    LiquidationTransfer taken = new LiquidationTransfer("k", "alice-1-20", LiquidationRole.BACKSTOP, "alice-1", PERP,
        1_000, 469_300, 0, 0, 0, 0, 0, 0);
    LiquidationTransfer closed = new LiquidationTransfer("k", "alice-1-20", LiquidationRole.LIQUIDATED, "prov", PERP,
        -1_000, 469_300, -1_098, 0, 0, 0, 98, 0);
    LiquidationSaga.State s = LiquidationSaga.State.empty();
    for (LiquidationSaga.Event e : List.of(new LiquidationSaga.Began("alice-1", trigger),
        new LiquidationSaga.ClosePlanned(0, PERP, -1_000, 494_000, 489_500, true),
        new LiquidationSaga.VenueChosen(0, LiquidationSaga.Venue.BACKSTOP, "prov", 469_300, -1_000, 0),
        new LiquidationSaga.TakenOver(0, taken), new LiquidationSaga.Closed(0, closed))) {
      s = LiquidationSaga.apply(s, e);
    }
    AccountSummary account = new AccountSummary("alice-1", -300, -300, 0, 0, 0, AccountSummary.NO_RATIO, 0,
        List.of(), "alice-1-20", 300, Map.of(), List.of(), 98);
    long need = Math.addExact(Settlement.shortfalls(s), Settlement.crossDeficit(s, account));
    assertEquals(98, need, "only this liquidation's shortfall, not the earlier recorded debt");
  }
}
