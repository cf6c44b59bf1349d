package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review rev18, finding 3 (medium): private views. A client whose position was auto-deleveraged
 * against another account's liquidation was told, on its account stream, the liquidated
 * account's liquidation id, which is {@code <account id>-<sequence>}: the DELEVERAGED alert
 * carried {@code liquidation_id = "alice-1-7"} and the message "... by auto-deleveraging against
 * liquidation alice-1-7", naming its counterparty (issue 18 item 8: a client sees no
 * counterparties' ids). The client cannot read that liquidation anyway (NOT_FOUND, not its own),
 * so the notice now says what closed, at what price, and that a liquidation did it, and names no
 * other account.
 */
class Rev18DeleveragedNoticeTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void theDeleveragedAccountIsNotToldWhoseLiquidationItWas() {
    MarkPrices marks = MarkPrices.local();
    EventSourcedBehaviorTestKit<Command, Event, State> bob = AccountEntityTest.openedAccount(testKit, "bob-1", marks);
    bob.<Reply>runCommand(r -> new AccountEntity.Deposit("d-1", 1_000 * USDT, r));
    bob.<Reply>runCommand(r -> new AccountEntity.SetLeverage(PERP, 100, r));
    bob.<Reply>runCommand(r -> new AccountEntity.ApplyTrade("t-1", 1, PERP, 1_000, 500_000, true, null, "other", r));
    TestProbe<Reply> stream = testKit.createTestProbe();
    bob.runCommand(new AccountEntity.Subscribe(stream.ref()));

    String liquidated = "alice-1";
    String liquidationId = liquidated + "-7";
    var reduced = bob.<Reply>runCommand(r -> new AccountEntity.ApplyLiquidationTransfer(liquidationId + "/close-0",
        liquidationId, LiquidationRole.DELEVERAGED, liquidated, PERP, -1_000, 490_250, 0,
        AccountEntity.TransferMode.REDUCE_CLIPPED, r));
    assertEquals(-1_000, ((AccountEntity.TransferApplied) reduced.reply()).transfer().signedLots());

    var notices = stream.fishForMessage(Duration.ofSeconds(5), reply -> reply instanceof AccountEntity.Notice n
        && n.kind() == AccountEntity.NoticeKind.DELEVERAGED ? FishingOutcomes.complete()
        : FishingOutcomes.continueAndIgnore());
    AccountEntity.Notice notice = (AccountEntity.Notice) notices.get(notices.size() - 1);
    assertTrue(notice.message().contains("auto-deleveraging"), notice.message());
    assertFalse(notice.liquidationId().contains(liquidated), "the counterparty's id: " + notice.liquidationId());
    assertFalse(notice.message().contains(liquidated), "the counterparty's id: " + notice.message());
  }
}
