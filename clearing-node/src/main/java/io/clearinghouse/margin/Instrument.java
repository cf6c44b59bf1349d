package io.clearinghouse.margin;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Objects;

/**
 * A tradable contract and its units: prices are {@code long} ticks, quantities {@code long} lots
 * and money {@code long} minor units of the settlement asset, so that
 * {@code notional = priceTicks * lots * notionalMultiplier} exactly. The tick and lot sizes are
 * kept as decimals only to parse and format strings at the edges.
 *
 * <p>Fees are in ppm of notional. A negative maker fee is a rebate, allowed as long as the taker
 * fee covers it, so that no trade costs the house money.
 *
 * <p>Build from config strings with {@link #define}; the canonical constructor re-derives the
 * multiplier and refuses any other value, so a stored instrument cannot carry a wrong one.
 */
public record Instrument(
    String symbol,
    InstrumentKind kind,
    Instant expiry,
    int settlementScale,
    BigDecimal tickSize,
    BigDecimal lotSize,
    long notionalMultiplier,
    long makerFeePpm,
    long takerFeePpm,
    long liquidationFeePpm,
    RiskTiers riskTiers) {

  public Instrument {
    requireSymbol(symbol);
    Objects.requireNonNull(kind, symbol + ": kind is missing");
    if ((kind == InstrumentKind.DATED_FUTURE) != (expiry != null)) {
      throw new IllegalArgumentException(symbol + ": a dated future needs an expiry and a perpetual must not have one");
    }
    tickSize = DecimalSteps.normalize(tickSize, "tick size", symbol);
    lotSize = DecimalSteps.normalize(lotSize, "lot size", symbol);
    long derived = deriveMultiplier(symbol, tickSize, lotSize, settlementScale);
    if (notionalMultiplier != derived) {
      throw new IllegalArgumentException(symbol + ": notional multiplier must be " + derived + ", was " + notionalMultiplier);
    }
    requireRate(symbol, "taker fee", takerFeePpm, 0);
    requireRate(symbol, "maker fee", makerFeePpm, -takerFeePpm);
    requireRate(symbol, "liquidation fee", liquidationFeePpm, 0);
    Objects.requireNonNull(riskTiers, symbol + ": risk tiers are missing");
  }

  /** Defines an instrument from its config strings, deriving the notional multiplier. */
  public static Instrument define(String symbol, InstrumentKind kind, Instant expiry, int settlementScale,
      String tickSize, String lotSize, long makerFeePpm, long takerFeePpm, long liquidationFeePpm,
      RiskTiers riskTiers) {
    requireSymbol(symbol);
    BigDecimal tick = DecimalSteps.parseStep(tickSize, "tick size", symbol);
    BigDecimal lot = DecimalSteps.parseStep(lotSize, "lot size", symbol);
    return new Instrument(symbol, kind, expiry, settlementScale, tick, lot,
        deriveMultiplier(symbol, tick, lot, settlementScale), makerFeePpm, takerFeePpm, liquidationFeePpm, riskTiers);
  }

  /** A positive price such as "50000.1" as a whole number of ticks; see {@link ParseProblem}. */
  public long parsePriceTicks(String text) {
    return DecimalSteps.parsePositive(text, tickSize, ParseProblem.OFF_TICK, "price", symbol);
  }

  /** A positive quantity such as "0.015" as a whole number of lots; see {@link ParseProblem}. */
  public long parseQuantityLots(String text) {
    return DecimalSteps.parsePositive(text, lotSize, ParseProblem.OFF_LOT, "quantity", symbol);
  }

  /** A price in ticks as a decimal with the tick's number of decimals. */
  public String formatPrice(long ticks) {
    return DecimalSteps.format(ticks, tickSize);
  }

  /** A signed quantity in lots as a decimal with the lot's number of decimals. */
  public String formatQuantity(long lots) {
    return DecimalSteps.format(lots, lotSize);
  }

  /** {@code priceTicks * |lots| * notionalMultiplier} in minor units; overflow throws. */
  public long notional(long priceTicks, long lots) {
    return MarginMath.notional(lots, priceTicks, notionalMultiplier);
  }

  private static long deriveMultiplier(String symbol, BigDecimal tick, BigDecimal lot, int scale) {
    if (scale < 0 || scale > 18) {
      throw new IllegalArgumentException(symbol + ": settlement scale must be between 0 and 18, was " + scale);
    }
    BigDecimal multiplier = tick.multiply(lot).scaleByPowerOfTen(scale).stripTrailingZeros();
    if (multiplier.scale() > 0) {
      throw new IllegalArgumentException(symbol + ": tick size " + tick.toPlainString() + " times lot size "
          + lot.toPlainString() + " is " + multiplier.toPlainString()
          + " minor units, not a whole number, so notionals would not be exact");
    }
    try {
      return multiplier.longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(symbol + ": notional multiplier " + multiplier.toPlainString() + " does not fit a long");
    }
  }

  private static void requireSymbol(String symbol) {
    if (symbol == null || symbol.isBlank()) {
      throw new IllegalArgumentException("instrument symbol is empty");
    }
  }

  private static void requireRate(String symbol, String what, long ppm, long min) {
    if (ppm < min || ppm > MarginMath.PPM) {
      throw new IllegalArgumentException(symbol + ": " + what + " must be between " + min + " and "
          + MarginMath.PPM + " ppm, was " + ppm);
    }
  }
}
