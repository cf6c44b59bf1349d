package io.clearinghouse.account;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;

/**
 * What a client, an operator, the matching engine and the price feed may do to a few accounts,
 * as plain records (so a shrunk counterexample reads as a list of steps), and their generators:
 * mostly ordinary values, with a share of the absurd (zero, negative, near 2^63) a careless or
 * hostile caller would send. Accounts are indices into {@link #TRADERS}; instruments into
 * {@link #INSTRUMENTS}.
 */
final class ModelActions {
  static final List<String> INSTRUMENTS = List.of("BTCUSDT-PERP", "BTCUSDT-271231");
  static final int TRADERS = 4;
  static final long USDT = 1_000_000L;

  private ModelActions() {}

  sealed interface Action {}

  record Deposit(int account, long amount) implements Action {}

  /** {@code amount} if not 0, else {@code permille} of the cash (above 1000: more than there is). */
  record Withdraw(int account, int permille, long amount) implements Action {}

  /** A pre-trade check on its own; {@code priceTicks} 0: at the mark. */
  record Reserve(int account, int instrument, long signedLots, long priceTicks) implements Action {}

  /** Releases the {@code which}-th open reservation (modulo their count), or an unknown order if there is none. */
  record Release(int account, int which) implements Action {}

  /**
   * The engine's way: a reservation for each side at the trade price, then both sides applied with
   * those order ids (a side whose reservation was refused is not traded: the other is released).
   */
  record Trade(int buyer, int seller, int instrument, long lots, int priceOffsetPpm, boolean buyerTakes)
      implements Action {}

  /**
   * The engine resends the {@code back}-th latest trade: unchanged, or (conflicting) with the same
   * sequence but the seller replaced by {@code otherSeller} and one lot more.
   */
  record Resend(int back, boolean conflicting, int otherSeller) implements Action {}

  /** The mark moves by {@code ppm}; a liquidation it triggers is covered by the fund up to {@code coverPercent}. */
  record MoveMark(int instrument, int ppm, int coverPercent) implements Action {}

  record SetLeverage(int account, int instrument, int leverage) implements Action {}

  record SetLeverageCap(int account, int cap) implements Action {}

  record SetMarginMode(int account, int instrument, boolean isolated) implements Action {}

  record AdjustIsolatedMargin(int account, int instrument, long amount) implements Action {}

  /** A stop {@code offsetPpm} away from the mark (0: remove the stop). */
  record SetStop(int account, int instrument, int offsetPpm) implements Action {}

  /** The entity is stopped and recovered from its journal. */
  record Restart(int account) implements Action {}

  // --- generators -----------------------------------------------------------------------

  static Arbitrary<List<Action>> scripts(int maxActions) {
    return Arbitraries.frequencyOf(
        Tuple.of(6, deposits()),
        Tuple.of(4, withdrawals()),
        Tuple.of(3, reservations()),
        Tuple.of(2, releases()),
        Tuple.of(16, trades()),
        Tuple.of(2, resends()),
        Tuple.of(8, markMoves()),
        Tuple.of(3, leverages()),
        Tuple.of(1, leverageCaps()),
        Tuple.of(3, marginModes()),
        Tuple.of(3, isolatedAdjustments()),
        Tuple.of(2, stops()),
        Tuple.of(1, restarts()))
        .list().ofMinSize(1).ofMaxSize(maxActions);
  }

  /** Uniform, not jqwik's default bias to small values: a trade of 2 BTC matters as much as one of 2 lots. */
  private static Arbitrary<Long> longs(long min, long max) {
    return Arbitraries.longs().between(min, max).withDistribution(RandomDistribution.uniform());
  }

  private static Arbitrary<Integer> ints(int min, int max) {
    return Arbitraries.integers().between(min, max).withDistribution(RandomDistribution.uniform());
  }

  private static Arbitrary<Integer> account() {
    return ints(0, TRADERS - 1);
  }

  private static Arbitrary<Integer> instrument() {
    return Arbitraries.frequency(Tuple.of(3, 0), Tuple.of(1, 1));
  }

  /** Ordinary amounts (0.000001 to 100,000 USDT) mostly; sometimes zero, negative or near 2^63. */
  private static Arbitrary<Long> amount() {
    return Arbitraries.frequencyOf(
        Tuple.of(8, longs(1, 100_000 * USDT)),
        Tuple.of(1, Arbitraries.of(0L, -1L, Long.MIN_VALUE, -100 * USDT)),
        Tuple.of(1, Arbitraries.of(Long.MAX_VALUE, Long.MAX_VALUE - 1, 1L << 62, (1L << 62) + 1)));
  }

  private static Arbitrary<Long> signedAmount() {
    return Arbitraries.frequencyOf(
        Tuple.of(8, longs(-10_000 * USDT, 10_000 * USDT)),
        Tuple.of(1, Arbitraries.of(Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1, 1L << 62, -(1L << 62))));
  }

  private static Arbitrary<Action> deposits() {
    return Combinators.combine(account(), amount()).as(Deposit::new);
  }

  private static Arbitrary<Action> withdrawals() {
    return Combinators.combine(account(), ints(1, 1_200),
        Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(0L)), Tuple.of(1, amount()))).as(Withdraw::new);
  }

  private static Arbitrary<Long> lots() {
    return Arbitraries.frequencyOf(
        Tuple.of(12, longs(1, 3_000)),
        Tuple.of(1, longs(3_000, 1_000_000)),
        Tuple.of(1, Arbitraries.of(Long.MAX_VALUE, Long.MAX_VALUE / 100, 1L << 40)));
  }

  private static Arbitrary<Action> reservations() {
    Arbitrary<Long> signed = Combinators.combine(lots(), Arbitraries.of(1L, -1L)).as((l, s) -> s * l);
    Arbitrary<Long> price = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(0L)),
        Tuple.of(1, Arbitraries.of(1L, Long.MAX_VALUE, Long.MAX_VALUE / 100, 400_000L)));
    return Combinators.combine(account(), instrument(), signed, price).as(Reserve::new);
  }

  private static Arbitrary<Action> releases() {
    return Combinators.combine(account(), ints(-1, 5)).as(Release::new);
  }

  private static Arbitrary<Action> trades() {
    Arbitrary<Integer> offset = Arbitraries.frequencyOf(
        Tuple.of(6, ints(-5_000, 5_000)),
        Tuple.of(1, ints(-300_000, 300_000)));
    return Combinators.combine(account(), ints(1, TRADERS - 1), instrument(), lots(), offset,
        Arbitraries.of(true, false))
        .as((buyer, shift, instrument, lots, ppm, taker) ->
            new Trade(buyer, (buyer + shift) % TRADERS, instrument, lots, ppm, taker));
  }

  private static Arbitrary<Action> resends() {
    return Combinators.combine(ints(0, 8), Arbitraries.of(false, true), account())
        .as(Resend::new);
  }

  private static Arbitrary<Action> markMoves() {
    Arbitrary<Integer> ppm = Arbitraries.frequencyOf(
        Tuple.of(6, ints(-30_000, 30_000)),
        Tuple.of(2, ints(-400_000, 400_000)),
        Tuple.of(1, Arbitraries.of(-999_999, 9_000_000)));
    return Combinators.combine(instrument(), ppm, Arbitraries.of(100, 50, 0)).as(MoveMark::new);
  }

  private static Arbitrary<Action> leverages() {
    Arbitrary<Integer> leverage = Arbitraries.frequencyOf(
        Tuple.of(6, ints(1, 125)),
        Tuple.of(1, Arbitraries.of(0, -1, 126, Integer.MAX_VALUE, Integer.MIN_VALUE)));
    return Combinators.combine(account(), instrument(), leverage).as(SetLeverage::new);
  }

  private static Arbitrary<Action> leverageCaps() {
    return Combinators.combine(account(), Arbitraries.of(0, 3, 5, 20, -1)).as(SetLeverageCap::new);
  }

  private static Arbitrary<Action> marginModes() {
    return Combinators.combine(account(), instrument(), Arbitraries.of(true, false)).as(SetMarginMode::new);
  }

  private static Arbitrary<Action> isolatedAdjustments() {
    return Combinators.combine(account(), instrument(), signedAmount()).as(AdjustIsolatedMargin::new);
  }

  private static Arbitrary<Action> stops() {
    return Combinators.combine(account(), instrument(),
        Arbitraries.frequencyOf(Tuple.of(4, ints(-100_000, 100_000)),
            Tuple.of(1, Arbitraries.of(0, -1_000_000, 5_000_000))))
        .as(SetStop::new);
  }

  private static Arbitrary<Action> restarts() {
    return account().map(Restart::new);
  }
}
