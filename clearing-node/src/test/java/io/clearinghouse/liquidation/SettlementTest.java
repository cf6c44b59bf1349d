package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clearinghouse.account.Account;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.account.LiquidationRole;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What a liquidation settles, on the saga's state replayed from its events: a margin liquidation
 * its negative cross equity, a stop only what its own close lost beyond the cash, an isolated
 * shortfall on top of either, each once. Amounts in whole units (the rule has no rounding).
 */
class SettlementTest {
  private static final String PERP = "BTCUSDT-PERP";

  @ParameterizedTest(name = "stop={0} isolated={1} realized={2} shortfall={3} cash={4} equity={5} -> {6}")
  @CsvSource({
      // margin liquidation: the negative equity, whatever the close realized
      "false, false, -3070,  0,   -20, -2020, 2020",
      "false, false, -3070,  0,   -20,    15,    0",
      // a stop: only what its close took below zero; never the other positions' losses
      "true,  false, -3070,  0,   -20, -2020,   20",
      // ... nothing when the close made money, whatever the rest of the account lost
      "true,  false,    10,  0,   -90,   -50,    0",
      // ... nothing when open positions still carry the negative cash
      "true,  false,  -500,  0,  -200,   100,    0",
      // ... at most the equity deficit
      "true,  false,  -500,  0,  -200,   -50,   50",
      // an isolated stop owes its shortfall, and nothing of the cross account
      "true,  true,  -1098, 98,  1975, -1000,   98",
      // an isolated margin liquidation: the shortfall plus any cross deficit, each once
      "false, true,  -1098, 98,  1975,  1975,   98",
      "false, true,  -1098, 98,  -100,  -300,  398"
  })
  void settlesEachLayerOnce(boolean stop, boolean isolated, long realized, long shortfall, long cash, long equity,
      long need) {
    LiquidationSaga.State state = closedOnce(stop, isolated, realized, shortfall);
    AccountSummary account = new AccountSummary("alice-1", cash, equity, 0, 0, 0, AccountSummary.NO_RATIO, 0, List.of(),
        "alice-1-9");
    assertEquals(shortfall, Settlement.shortfalls(state));
    assertEquals(need, Math.addExact(Settlement.shortfalls(state), Settlement.crossDeficit(state, account)));
  }

  private static LiquidationSaga.State closedOnce(boolean stop, boolean isolated, long realized, long shortfall) {
    var trigger = new Account.Liquidation("alice-1-9", 1, 0, Map.of(PERP, 494_000L), 450, 390, stop ? PERP : null);
    LiquidationTransfer taken = new LiquidationTransfer("k", "alice-1-9", LiquidationRole.BACKSTOP, "alice-1", PERP,
        1_000, 469_300, 0, 0, 0, 0, 0, 0);
    LiquidationTransfer closed = new LiquidationTransfer("k", "alice-1-9",
        stop ? LiquidationRole.STOPPED : LiquidationRole.LIQUIDATED, "prov", PERP, -1_000, 469_300, realized, 0, 0, 0,
        shortfall, 0);
    LiquidationSaga.State s = LiquidationSaga.State.empty();
    for (LiquidationSaga.Event e : List.of(new LiquidationSaga.Began("alice-1", trigger),
        new LiquidationSaga.ClosePlanned(0, PERP, -1_000, 494_000, 489_500, isolated),
        new LiquidationSaga.VenueChosen(0, LiquidationSaga.Venue.BACKSTOP, "prov", 469_300, -1_000, 0),
        new LiquidationSaga.TakenOver(0, taken), new LiquidationSaga.Closed(0, closed))) {
      s = LiquidationSaga.apply(s, e);
    }
    return s;
  }
}
