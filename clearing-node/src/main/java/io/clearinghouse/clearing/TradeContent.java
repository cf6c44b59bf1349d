package io.clearinghouse.clearing;

import io.clearinghouse.persistence.CborSerializable;

/**
 * Everything the engine said about one trade, checked and in domain units. Two submissions of the
 * same sequence are the same trade only if every field is equal (record equality); order ids are
 * null when the engine sent none.
 */
public record TradeContent(long sequence, String tradeId, String instrument, String buyer, String seller,
    long priceTicks, long lots, boolean buyerAggressor, String buyerOrderId, String sellerOrderId)
    implements CborSerializable {

  /** The fields in which {@code other} differs from this trade, for the refusal's message. */
  String differences(TradeContent other) {
    StringBuilder b = new StringBuilder();
    differ(b, "trade id", tradeId, other.tradeId);
    differ(b, "instrument", instrument, other.instrument);
    differ(b, "buyer", buyer, other.buyer);
    differ(b, "seller", seller, other.seller);
    differ(b, "price ticks", priceTicks, other.priceTicks);
    differ(b, "lots", lots, other.lots);
    differ(b, "aggressor", buyerAggressor ? "buyer" : "seller", other.buyerAggressor ? "buyer" : "seller");
    differ(b, "buyer order", buyerOrderId, other.buyerOrderId);
    differ(b, "seller order", sellerOrderId, other.sellerOrderId);
    return b.toString();
  }

  private static void differ(StringBuilder b, String field, Object first, Object now) {
    if (!java.util.Objects.equals(first, now)) {
      b.append(b.length() == 0 ? "" : ", ").append(field).append(' ').append(now).append(" (first: ").append(first)
          .append(')');
    }
  }
}
