package io.clearinghouse.account;

import io.clearinghouse.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An account's funding, per instrument: the last funding time applied, the intervals before it
 * that the account held a position at and was never paid for ({@code missed}), what the last
 * payment was (to answer a repeat with it), and the total received (positive) or paid (negative)
 * in the instrument; plus the account's last payments, newest last, for its funding history. Small
 * on purpose: it is part of every snapshot.
 *
 * <p>Each (instrument, interval) applies once: an interval at or before the last one applied is a
 * repeat unless it is missed. A funding clock pays its intervals in order, but an account can miss
 * one (its node was down past the clock's settle window): when it then applies a later interval,
 * every interval it skipped and held a position at is remembered as missed, with the lots held
 * then, and is paid when asked for later (the clock offers its recent intervals with every payment,
 * see {@link FundingHandlers}). Missed intervals more than {@link #MAX_RECORDED} intervals old are
 * dropped, never charged (as the clock never charges intervals it skipped); a position change
 * arriving late with a cut time before a missed interval changes the lots remembered for it.
 *
 * <p>Funding is paid on the position held <em>at the funding time</em>, not when the clock's
 * message arrives, so that both sides of every trade count on the same side of the cut and the
 * payments of an interval sum to the rounding residue alone. Each position change carries its
 * cut time (a trade: the time its register recorded it, the same for both sides); the first
 * change at or after an unpaid funding time records the lots held at that time
 * ({@code lotsAt}), and a change from before it that arrives later (trades can arrive out of
 * order) is added to that record. A funding time with no record and after the last change is paid
 * on the lots held now; one before the account's first change is paid on nothing.
 */
public record FundingLedger(Map<String, Position> byInstrument, List<Payment> recent) implements CborSerializable {
  /** How many payments an account lists (its funding history); older ones are in the journal only. */
  public static final int RETAINED_PAYMENTS = 200;

  public static final FundingLedger EMPTY = new FundingLedger(Map.of(), List.of());

  /**
   * {@code interval}: the instrument's funding interval as of the last change (ms; 0: not known);
   * {@code lastCut}: the latest cut time of a position change (0: none); {@code lotsAt}: the lots
   * held at each funding time after {@code lastFundingTime} that a change has passed.
   */
  public record Position(long lastFundingTime, long lastAmount, long total, long interval, long lastCut,
      Map<Long, Long> lotsAt, Map<Long, Long> missed) implements CborSerializable {
    public Position {
      lotsAt = lotsAt == null ? Map.of() : Map.copyOf(lotsAt);
      missed = missed == null ? Map.of() : Map.copyOf(missed);
    }

    public Position(long lastFundingTime, long lastAmount, long total) {
      this(lastFundingTime, lastAmount, total, 0, 0, Map.of(), Map.of());
    }

    /** The lots to fund for the interval ending at {@code fundingTime}, given the lots held now. */
    public long lotsAtFundingTime(long fundingTime, long lotsNow) {
      Long recorded = lotsAt.get(fundingTime);
      if (recorded != null) {
        return recorded;
      }
      // A change at or after the funding time would have recorded it: none did, so either
      // nothing changed since (the lots now), or the first change came after it (nothing held).
      return lastCut >= fundingTime ? 0 : lotsNow;
    }
  }

  /** At most this many funding times' lots are kept per instrument (the clock pays them within a minute). */
  static final int MAX_RECORDED = 8;

  /** How many of its last closed intervals a funding clock offers with a payment, for an account that missed them. */
  public static final int LATE_INTERVALS = MAX_RECORDED;

  /** A closed interval's terms, offered with a later payment to an account that missed it. */
  public record Interval(long fundingTime, long rate, long markTicks) implements CborSerializable {}

  /**
   * One funding payment: {@code amount} received (positive) or paid (negative) on {@code lots}
   * at {@code markTicks} and {@code rate} (10^-8), for the interval ending at {@code fundingTime}.
   */
  public record Payment(String instrument, long fundingTime, long rate, long markTicks, long lots, long amount,
      long epochMillis, long adjusted) implements CborSerializable {
    /** A payment not redone since ({@code adjusted} 0). */
    public Payment(String instrument, long fundingTime, long rate, long markTicks, long lots, long amount,
        long epochMillis) {
      this(instrument, fundingTime, rate, markTicks, lots, amount, epochMillis, 0);
    }

    /**
     * What the funding time moved in all: the first payment ({@code amount}, what a repeat of it is
     * answered with and its clock recorded) and what redoing it after late changes added
     * ({@code adjusted}; FundingAdjusted).
     */
    public long paid() {
      return Math.addExact(amount, adjusted);
    }
  }

  public FundingLedger {
    byInstrument = byInstrument == null ? Map.of() : Map.copyOf(byInstrument);
    recent = recent == null ? List.of() : List.copyOf(recent);
  }

  public Position position(String instrument) {
    return byInstrument.getOrDefault(instrument, new Position(0, 0, 0));
  }

  /**
   * A position change of {@code delta} lots in {@code instrument} at cut time {@code cut}, the
   * account holding {@code lotsBefore} before it; {@code interval} the instrument's funding
   * interval (0: not a perpetual, or not known: the last known one is used).
   */
  FundingLedger changed(String instrument, long lotsBefore, long delta, long cut, long interval) {
    Position p = position(instrument);
    long every = interval > 0 ? interval : p.interval();
    if (every <= 0 || cut <= 0 || delta == 0) {
      return this;
    }
    Map<Long, Long> lotsAt = new java.util.TreeMap<>(p.lotsAt());
    // A change from before a recorded funding time, arriving after the record: it was held then.
    lotsAt.replaceAll((time, lots) -> time > cut ? Math.addExact(lots, delta) : lots);
    long newest = Math.floorDiv(cut, every) * every;
    {
      // Every unpaid funding time this change passes first: the lots before it were held then (a
      // position from before cut times were kept: the last few funding times only; an account's
      // first change: nothing was held, and a side cut earlier that arrives later adds to it).
      long from = Math.max(p.lastFundingTime(), p.lastCut() > 0 ? Math.floorDiv(p.lastCut(), every) * every
          : newest - MAX_RECORDED * every);
      for (long time = newest; time > from && lotsAt.size() < MAX_RECORDED * 2; time -= every) {
        lotsAt.putIfAbsent(time, lotsBefore);
      }
    }
    while (lotsAt.size() > MAX_RECORDED) {
      lotsAt.remove(((java.util.TreeMap<Long, Long>) lotsAt).firstKey());
    }
    // Likewise for a missed interval not paid yet (one paid late is redone like any payment).
    Map<Long, Long> missed = new java.util.TreeMap<>(p.missed());
    missed.replaceAll((time, lots) -> time > cut ? Math.addExact(lots, delta) : lots);
    Map<String, Position> after = new HashMap<>(byInstrument);
    after.put(instrument, new Position(p.lastFundingTime(), p.lastAmount(), p.total(), every,
        Math.max(p.lastCut(), cut), lotsAt, missed));
    return new FundingLedger(after, recent);
  }

  /**
   * True when the interval ending at {@code fundingTime} of {@code instrument} was already applied
   * (or was skipped holding nothing): at or before the last one applied, and not missed.
   */
  public boolean applied(String instrument, long fundingTime) {
    Position p = position(instrument);
    return p.lastFundingTime() >= fundingTime && !p.missed().containsKey(fundingTime);
  }

  /** The payment recorded for the interval ending at {@code fundingTime}, if still retained. */
  public java.util.Optional<Payment> payment(String instrument, long fundingTime) {
    for (int i = recent.size() - 1; i >= 0; i--) {
      Payment p = recent.get(i);
      if (p.fundingTime() == fundingTime && p.instrument().equals(instrument)) {
        return java.util.Optional.of(p);
      }
    }
    return java.util.Optional.empty();
  }

  /** The retained payments of {@code instrument} for funding times after {@code cut}, oldest first. */
  List<Payment> paidAfter(String instrument, long cut) {
    List<Payment> after = new ArrayList<>();
    for (Payment p : recent) {
      if (p.instrument().equals(instrument) && p.fundingTime() > cut) {
        after.add(p);
      }
    }
    after.sort(java.util.Comparator.comparingLong(Payment::fundingTime));
    return after;
  }

  /** The payment for {@code fundingTime} redone on {@code lots}: {@code difference} more received (negative: paid). */
  FundingLedger adjusted(String instrument, long fundingTime, long lots, long difference) {
    Position p = position(instrument);
    Map<String, Position> after = new HashMap<>(byInstrument);
    // The first payment stays what it was (a repeat is answered with it, as its clock recorded it,
    // review 11); what redoing it moved is kept beside it.
    after.put(instrument, new Position(p.lastFundingTime(), p.lastAmount(), Math.addExact(p.total(), difference),
        p.interval(), p.lastCut(), p.lotsAt(), p.missed()));
    List<Payment> payments = new ArrayList<>(recent.size());
    for (Payment r : recent) {
      payments.add(r.instrument().equals(instrument) && r.fundingTime() == fundingTime
          ? new Payment(instrument, fundingTime, r.rate(), r.markTicks(), lots, r.amount(), r.epochMillis(),
              Math.addExact(r.adjusted(), difference))
          : r);
    }
    return new FundingLedger(after, payments);
  }

  /**
   * A payment applied, the account holding {@code lotsNow} of the instrument: a missed interval
   * paid late is no longer missed; a later interval becomes the last, and every interval it skips
   * that the account held a position at is remembered as missed.
   */
  FundingLedger with(Payment payment, long lotsNow) {
    Position before = position(payment.instrument());
    Map<String, Position> after = new HashMap<>(byInstrument);
    Map<Long, Long> lotsAt = new java.util.TreeMap<>(before.lotsAt());
    Map<Long, Long> missed = new java.util.TreeMap<>(before.missed());
    long last = before.lastFundingTime();
    long lastAmount = before.lastAmount();
    if (payment.fundingTime() < last) {
      missed.remove(payment.fundingTime());
    } else {
      long every = before.interval();
      if (every > 0) {
        long oldest = payment.fundingTime() - MAX_RECORDED * every;
        for (long time = payment.fundingTime() - every; time > last && time > oldest; time -= every) {
          long lots = before.lotsAtFundingTime(time, lotsNow);
          if (lots != 0) {
            missed.put(time, lots);
          }
        }
        missed.keySet().removeIf(time -> time <= oldest);
      }
      lotsAt.keySet().removeIf(time -> time <= payment.fundingTime());
      last = payment.fundingTime();
      lastAmount = payment.amount();
    }
    after.put(payment.instrument(), new Position(last, lastAmount,
        Math.addExact(before.total(), payment.amount()), before.interval(), before.lastCut(), lotsAt, missed));
    List<Payment> payments = new ArrayList<>(recent.size() + 1);
    payments.addAll(recent);
    payments.add(payment);
    return new FundingLedger(after, payments.size() > RETAINED_PAYMENTS
        ? payments.subList(payments.size() - RETAINED_PAYMENTS, payments.size()) : payments);
  }
}
