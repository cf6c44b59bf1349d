package io.clearinghouse.price;

/**
 * The operator halted ({@code halted}) or resumed new liquidations on an instrument. Carried by
 * the instrument's price feed, which persists it and re-announces it with every heartbeat;
 * {@code sequence} counts the feed's halt changes.
 */
public record LiquidationHalt(String instrument, boolean halted, long sequence, long epochMillis) implements PriceEvent {}
