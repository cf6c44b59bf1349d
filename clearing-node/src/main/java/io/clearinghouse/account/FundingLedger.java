package io.clearinghouse.account;

import io.clearinghouse.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An account's funding, per instrument: the last funding time applied (the key that makes each
 * (instrument, interval) apply once: a funding clock pays its intervals in order, so anything at
 * or before the last one is a repeat), what that payment was (to answer a repeat with it), and the
 * total received (positive) or paid (negative) in the instrument; plus the account's last
 * payments, newest last, for its funding history. Small on purpose: it is part of every snapshot.
 */
public record FundingLedger(Map<String, Position> byInstrument, List<Payment> recent) implements CborSerializable {
  /** How many payments an account lists (its funding history); older ones are in the journal only. */
  public static final int RETAINED_PAYMENTS = 200;

  public static final FundingLedger EMPTY = new FundingLedger(Map.of(), List.of());

  public record Position(long lastFundingTime, long lastAmount, long total) implements CborSerializable {}

  /**
   * One funding payment: {@code amount} received (positive) or paid (negative) on {@code lots}
   * at {@code markTicks} and {@code rate} (10^-8), for the interval ending at {@code fundingTime}.
   */
  public record Payment(String instrument, long fundingTime, long rate, long markTicks, long lots, long amount,
      long epochMillis) implements CborSerializable {}

  public FundingLedger {
    byInstrument = byInstrument == null ? Map.of() : Map.copyOf(byInstrument);
    recent = recent == null ? List.of() : List.copyOf(recent);
  }

  public Position position(String instrument) {
    return byInstrument.getOrDefault(instrument, new Position(0, 0, 0));
  }

  /** True when the interval ending at {@code fundingTime} of {@code instrument} was already applied. */
  public boolean applied(String instrument, long fundingTime) {
    return position(instrument).lastFundingTime() >= fundingTime;
  }

  FundingLedger with(Payment payment) {
    Position before = position(payment.instrument());
    Map<String, Position> after = new HashMap<>(byInstrument);
    after.put(payment.instrument(), new Position(payment.fundingTime(), payment.amount(),
        Math.addExact(before.total(), payment.amount())));
    List<Payment> payments = new ArrayList<>(recent.size() + 1);
    payments.addAll(recent);
    payments.add(payment);
    return new FundingLedger(after, payments.size() > RETAINED_PAYMENTS
        ? payments.subList(payments.size() - RETAINED_PAYMENTS, payments.size()) : payments);
  }
}
