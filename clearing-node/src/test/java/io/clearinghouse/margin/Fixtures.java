package io.clearinghouse.margin;

/** Instruments and amounts shared by the margin tests. */
final class Fixtures {
  /** Minor units per USDT at scale 6. */
  static final long USDT = 1_000_000L;
  /** BTCUSDT-PERP: 0.1 USDT ticks times 0.001 BTC lots is 0.0001 USDT = 100 minor units. */
  static final long BTC_MULTIPLIER = 100;
  /** Lots in one BTC. */
  static final long ONE_BTC = 1_000;
  /** Ticks in one USDT of price. */
  static final long TICKS_PER_USDT = 10;

  static final RiskTiers BINANCE_TIERS = RiskTiers.binanceBtcUsdtMarch2021(6);

  static final Instrument BTC_PERP = Instrument.define(
      "BTCUSDT-PERP", InstrumentKind.PERPETUAL, null, 6, "0.1", "0.001", 200, 400, 5_000, BINANCE_TIERS);

  private Fixtures() {}

  /** A price in whole USDT as ticks of BTCUSDT-PERP. */
  static long priceTicks(long usdt) {
    return usdt * TICKS_PER_USDT;
  }
}
