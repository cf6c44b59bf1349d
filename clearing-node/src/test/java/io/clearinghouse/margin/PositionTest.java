package io.clearinghouse.margin;

import static io.clearinghouse.margin.Fixtures.BTC_MULTIPLIER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PositionTest {
  private static final long M = BTC_MULTIPLIER;

  /** Applies a trade and checks the per-trade identity realized - (cost' - cost) = -value. */
  private static PositionChange trade(Position before, long signedLots, long priceTicks) {
    PositionChange change = before.apply(signedLots, priceTicks, M);
    long costDelta = change.position().cost() - before.cost();
    assertEquals(-(signedLots * priceTicks * M), change.realizedPnl() - costDelta, "cash/cost identity");
    return change;
  }

  @Test
  void longOpensIncreasesReducesWithRoundingThenFlips() {
    // Buy 0.001 BTC at 10,000.1 and 0.002 BTC at 10,000.2 (ticks of 0.1, lots of 0.001, m = 100):
    // cost = 1 * 100,001 * 100 + 2 * 100,002 * 100 = 10,000,100 + 20,000,400 = 30,000,500 minor units.
    PositionChange opened = trade(Position.FLAT, 1, 100_001);
    assertEquals(new PositionChange(new Position(1, 10_000_100), 0), opened);
    PositionChange increased = trade(opened.position(), 2, 100_002);
    assertEquals(new PositionChange(new Position(3, 30_000_500), 0), increased);

    // Sell 1 lot at 10,000.0 (value 10,000,000): cost removed = ceil(30,000,500 / 3) = ceil(10,000,166.67)
    // = 10,000,167; realized = 10,000,000 - 10,000,167 = -167 (exactly -166.67: the payout rounds down).
    PositionChange reduced = trade(increased.position(), -1, 100_000);
    assertEquals(new PositionChange(new Position(2, 20_000_333), -167), reduced);

    // Sell 5 lots at 10,001.0: closing 2 lots receives 2 * 100,010 * 100 = 20,002,000 against the remaining
    // cost 20,000,333, realizing 1,667 (the 0.33 residue of the earlier rounding comes back here); the other
    // 3 lots open a short with cost -3 * 100,010 * 100 = -30,003,000.
    PositionChange flipped = trade(reduced.position(), -5, 100_010);
    assertEquals(new PositionChange(new Position(-3, -30_003_000), 1_667), flipped);

    // Over the closed round trip the realized total is exactly sold value - bought value:
    // (10,000,000 + 20,002,000) - 30,000,500 = 1,500 = -167 + 1,667.
    assertEquals(1_500, reduced.realizedPnl() + flipped.realizedPnl());
  }

  @Test
  void shortOpensReducesWithRoundingThenCloses() {
    // Sell 1 lot at 10,000.1 and 2 lots at 10,000.0: cost = -10,000,100 - 20,000,000 = -30,000,100.
    Position opened = trade(trade(Position.FLAT, -1, 100_001).position(), -2, 100_000).position();
    assertEquals(new Position(-3, -30_000_100), opened);

    // Buy back 1 lot at 9,900.0 (pays 9,900,000): cost removed = ceil(-30,000,100 / 3) = ceil(-10,000,033.33)
    // = -10,000,033; realized = -9,900,000 + 10,000,033 = 100,033 (exactly 100,033.33: rounds down).
    PositionChange reduced = trade(opened, 1, 99_000);
    assertEquals(new PositionChange(new Position(-2, -20_000_067), 100_033), reduced);

    // Buy back the last 2 lots at 9,900.0: the whole remaining cost leaves.
    // realized = -19,800,000 + 20,000,067 = 200,067; total 300,100 = 30,000,100 - 29,700,000.
    PositionChange closed = trade(reduced.position(), 2, 99_000);
    assertEquals(new PositionChange(Position.FLAT, 200_067), closed);
  }

  @Test
  void shortFlipsToLongAtTheTradePrice() {
    Position shortTwo = new Position(-2, -20_000_000);
    // Buy 5 at 9,000.0: closing 2 pays 18,000,000 (realized 2,000,000), 3 open long at cost 27,000,000.
    assertEquals(new PositionChange(new Position(3, 27_000_000), 2_000_000), trade(shortTwo, 5, 90_000));
  }

  @Test
  void payoutRoundsDownForLongsAndShortsAlike() {
    // Cost 10 over 3 lots: the exact share of one lot is 3.33.
    PositionChange longSale = new Position(3, 10).apply(-1, 1, 1);
    // Receives 1, removes ceil(10/3) = 4: realized -3 (exact -2.33).
    assertEquals(new PositionChange(new Position(2, 6), -3), longSale);
    PositionChange shortCover = new Position(-3, -10).apply(1, 1, 1);
    // Pays 1, removes ceil(-10/3) = -3: realized 2 (exact 2.33).
    assertEquals(new PositionChange(new Position(-2, -7), 2), shortCover);
  }

  @Test
  void randomTradesNeverCreateOrDestroyMoney() {
    Random random = new Random(7);
    Position position = Position.FLAT;
    long cash = 0;
    long traded = 0;
    int flats = 0;
    for (int step = 0; step < 200_000; step++) {
      long lots = randomTradeLots(random, position);
      long price = 1 + random.nextInt(2_000_000);
      PositionChange change = position.apply(lots, price, M);
      long value = Math.multiplyExact(Math.multiplyExact(lots, price), M);
      long costDelta = change.position().cost() - position.cost();
      assertEquals(-value, change.realizedPnl() - costDelta, "identity at step " + step);
      assertPayoutRoundsDown(position, lots, value, change);
      if (change.position().lots() == 0) {
        assertEquals(0, change.position().cost(), "flat leaves no cost at step " + step);
        flats++;
      }
      cash += change.realizedPnl();
      traded += value;
      position = change.position();
      // Summed over all trades: cash - cost = -(net value bought).
      assertEquals(-traded, cash - position.cost());
    }
    assertTrue(flats > 1_000, "the loop must actually reach flat often, reached " + flats);
  }

  private static long randomTradeLots(Random random, Position position) {
    int choice = random.nextInt(10);
    if (choice == 0 && position.lots() != 0) {
      return -position.lots();
    }
    if (choice == 1 && position.lots() != 0) {
      return -position.lots() * 2 - Long.signum(position.lots());
    }
    long lots = 1 + random.nextInt(choice < 5 ? 7 : 5_000);
    return random.nextBoolean() ? lots : -lots;
  }

  /** On a partial reduction the realized amount is the exact share rounded down, never more. */
  private static void assertPayoutRoundsDown(Position before, long lots, long value, PositionChange change) {
    long held = Math.abs(before.lots());
    long traded = Math.abs(lots);
    boolean reduces = before.lots() != 0 && Long.signum(before.lots()) != Long.signum(lots) && traded < held;
    if (reduces) {
      // exact realized = -value - cost * traded / held; compare scaled by held to stay in integers.
      long exactScaled = Math.subtractExact(Math.multiplyExact(-value, held), Math.multiplyExact(before.cost(), traded));
      long realizedScaled = Math.multiplyExact(change.realizedPnl(), held);
      assertTrue(realizedScaled <= exactScaled && exactScaled - realizedScaled < held,
          "realized " + change.realizedPnl() + " must be the exact share rounded down");
    }
  }

  @ParameterizedTest(name = "{0} lots, cost {1} -> entry {2} ticks")
  @CsvSource({
      // 20,000,333 / (2 * 100) = 100,001.665 -> 100,002
      "2,  20000333,  100002",
      // 20,000,300 / 200 = 100,001.5 -> half up -> 100,002
      "2,  20000300,  100002",
      "2,  20000299,  100001",
      // -20,000,067 / (-2 * 100) = 100,000.335 -> 100,000
      "-2, -20000067, 100000",
      // -20,000,100 / -200 = 100,000.5 -> half up -> 100,001
      "-2, -20000100, 100001",
      "1000, 50000000000, 500000"
  })
  void entryPriceRoundsHalfUp(long lots, long cost, long expected) {
    assertEquals(OptionalLong.of(expected), new Position(lots, cost).entryPriceTicks(M));
  }

  @Test
  void flatPositionHasNoEntryPrice() {
    assertEquals(OptionalLong.empty(), Position.FLAT.entryPriceTicks(M));
  }

  @Test
  void refusesMeaninglessInput() {
    assertThrows(IllegalArgumentException.class, () -> new Position(0, 1));
    assertThrows(IllegalArgumentException.class, () -> Position.FLAT.apply(0, 1, M));
    assertThrows(IllegalArgumentException.class, () -> Position.FLAT.apply(1, 0, M));
    assertThrows(IllegalArgumentException.class, () -> Position.FLAT.apply(1, 1, 0));
  }

  @Test
  void overflowingTradesThrow() {
    assertThrows(ArithmeticException.class, () -> Position.FLAT.apply(Long.MAX_VALUE / 100, 2, M));
    assertThrows(ArithmeticException.class, () -> new Position(1, Long.MAX_VALUE).apply(1, 1, M));
    assertThrows(ArithmeticException.class, () -> new Position(Long.MIN_VALUE, -1).apply(1, 1, 1));
  }
}
