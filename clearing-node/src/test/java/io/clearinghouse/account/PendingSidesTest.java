package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.clearinghouse.account.AccountEntity.TradeCleared;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** What a held side adds to the account's view, and when it stops holding. */
class PendingSidesTest {
  private final AtomicLong now = new AtomicLong(1_000);
  private final PendingSides pending = new PendingSides(Duration.ofSeconds(10), now::get);
  private final Account account = Account.opened("a", 100, 0);

  private static TradeCleared side(long sequence, long lots) {
    return new TradeCleared("t-" + sequence, sequence, "BTCUSDT-PERP", lots, 500_000, 0, 0,
        Math.multiplyExact(lots, 500_000), 0, null, 0, "b", true, null);
  }

  @Test
  void heldSidesAreInTheViewInSequenceOrderUntilAppliedReleasedOrExpired() {
    assertSame(account, pending.view(account, PendingSides.NONE), "nothing held: the account itself");
    pending.hold(side(2, 5));
    pending.hold(side(1, 3));
    assertEquals(8, pending.view(account, PendingSides.NONE).holding("BTCUSDT-PERP").lots());
    assertEquals(3, pending.view(account, 2).holding("BTCUSDT-PERP").lots(), "the side being decided is left out");
    // Applied for real: no longer counted on top.
    Account applied = account.apply(side(1, 3));
    assertEquals(8, pending.view(applied, PendingSides.NONE).holding("BTCUSDT-PERP").lots());
    assertEquals(1, pending.size());
    pending.release(2);
    assertSame(applied, pending.view(applied, PendingSides.NONE));
    pending.hold(side(3, 7));
    now.addAndGet(Duration.ofSeconds(10).toNanos());
    assertEquals(7, pending.view(account, PendingSides.NONE).holding("BTCUSDT-PERP").lots(), "held for 10 s");
    now.incrementAndGet();
    assertEquals(0, pending.view(account, PendingSides.NONE).holding("BTCUSDT-PERP").lots(), "expired after");
    assertEquals(0, pending.size());
  }
}
