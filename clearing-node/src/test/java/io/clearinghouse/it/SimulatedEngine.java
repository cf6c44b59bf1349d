package io.clearinghouse.it;

import io.clearinghouse.protocol.v1.Side;
import io.clearinghouse.protocol.v1.Trade;
import java.math.BigDecimal;
import java.util.List;
import java.util.Random;

/**
 * The matching engine the tests and the benchmarks play: executed trades between random pairs of
 * distinct accounts, with consecutive sequence numbers, a random aggressor, and prices on the
 * instrument's tick (0.1) and quantities on its lot (0.001). Seeded, so a run can be repeated. The
 * integration tests (randomized clearing, node kill) and the benchmarks (clearing throughput) all
 * take their trades from here; how they stream them (windows, resends, failover) is theirs.
 */
public final class SimulatedEngine {
  /** Where prices come from: uniform around a level, or a bounded random walk. */
  public sealed interface Prices {
    long nextTicks(Random random);
  }

  /** Uniform in {@code [lowTicks, lowTicks + widthTicks)}. */
  public record Uniform(long lowTicks, int widthTicks) implements Prices {
    @Override
    public long nextTicks(Random random) {
      return lowTicks + random.nextInt(widthTicks);
    }
  }

  /** Each price within {@code step} ticks of the last, kept in {@code [min, max]}. */
  public static final class Walk implements Prices {
    private final long min;
    private final long max;
    private final int step;
    private long last;

    public Walk(long start, long min, long max, int step) {
      this.last = start;
      this.min = min;
      this.max = max;
      this.step = step;
    }

    @Override
    public long nextTicks(Random random) {
      last = Math.max(min, Math.min(max, last + random.nextInt(2 * step + 1) - step));
      return last;
    }
  }

  /** 49,500.0 to 50,499.9: the benchmarks' and the kill test's market. */
  public static Prices aroundFiftyThousand() {
    return new Uniform(495_000, 10_000);
  }

  private final String instrument;
  private final String idPrefix;
  private final List<String> accounts;
  private final Prices prices;
  private final int maxLots;
  private final Random random;

  /**
   * @param idPrefix trade ids are {@code idPrefix + sequence}
   * @param maxLots  quantities are 1 to {@code maxLots} lots
   */
  public SimulatedEngine(String instrument, String idPrefix, List<String> accounts, Prices prices, int maxLots,
      long seed) {
    if (accounts.size() < 2) {
      throw new IllegalArgumentException("a trade needs two accounts, got " + accounts);
    }
    this.instrument = instrument;
    this.idPrefix = idPrefix;
    this.accounts = List.copyOf(accounts);
    this.prices = prices;
    this.maxLots = maxLots;
    this.random = new Random(seed);
  }

  /** The trade with sequence number {@code sequence} (draws the next random buyer, seller, price, size). */
  public synchronized Trade trade(long sequence) {
    int buyer = random.nextInt(accounts.size());
    int seller = (buyer + 1 + random.nextInt(accounts.size() - 1)) % accounts.size();
    long priceTicks = prices.nextTicks(random);
    long lots = 1 + random.nextInt(maxLots);
    return Trade.newBuilder()
        .setTradeId(idPrefix + sequence)
        .setSequence(sequence)
        .setInstrument(instrument)
        .setPrice(BigDecimal.valueOf(priceTicks, 1).toPlainString())
        .setQuantity(BigDecimal.valueOf(lots, 3).toPlainString())
        .setBuyerAccountId(accounts.get(buyer))
        .setSellerAccountId(accounts.get(seller))
        .setAggressorSide(random.nextBoolean() ? Side.BUY : Side.SELL)
        .build();
  }
}
