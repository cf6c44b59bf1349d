package io.clearinghouse.api;

import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.margin.InstrumentInputException;
import io.clearinghouse.margin.MarginMode;
import io.clearinghouse.protocol.v1.Side;

/** Prices, quantities and enums of requests, turned into ticks, lots and domain values or refused. */
final class TradeInput {
  private TradeInput() {}

  static long priceTicks(Instrument instrument, String text) {
    try {
      return instrument.parsePriceTicks(text);
    } catch (InstrumentInputException e) {
      Rejection reason = switch (e.problem()) {
        case MALFORMED -> Rejection.MALFORMED_PRICE;
        case NOT_POSITIVE -> Rejection.PRICE_NOT_POSITIVE;
        case OFF_TICK, OFF_LOT -> Rejection.PRICE_OFF_TICK;
        case OVERFLOW -> Rejection.NOTIONAL_OVERFLOW;
      };
      throw new RejectedException(reason, e.getMessage());
    }
  }

  static long quantityLots(Instrument instrument, String text) {
    try {
      return instrument.parseQuantityLots(text);
    } catch (InstrumentInputException e) {
      Rejection reason = switch (e.problem()) {
        case MALFORMED -> Rejection.MALFORMED_QUANTITY;
        case NOT_POSITIVE -> Rejection.QUANTITY_NOT_POSITIVE;
        case OFF_TICK, OFF_LOT -> Rejection.QUANTITY_OFF_LOT;
        case OVERFLOW -> Rejection.NOTIONAL_OVERFLOW;
      };
      throw new RejectedException(reason, e.getMessage());
    }
  }

  /** +1 for a buy, -1 for a sell. */
  static long direction(Side side) {
    return switch (side) {
      case BUY -> 1;
      case SELL -> -1;
      default -> throw new RejectedException(Rejection.INVALID_SIDE, "side must be BUY or SELL");
    };
  }

  static MarginMode marginMode(io.clearinghouse.protocol.v1.MarginMode mode) {
    return switch (mode) {
      case CROSS -> MarginMode.CROSS;
      case ISOLATED -> MarginMode.ISOLATED;
      default -> throw new RejectedException(Rejection.INVALID_MARGIN_MODE, "margin mode must be CROSS or ISOLATED");
    };
  }

  static int leverage(int leverage) {
    if (leverage < 1) {
      throw new RejectedException(Rejection.INVALID_LEVERAGE, "leverage must be at least 1, was " + leverage);
    }
    return leverage;
  }
}
