package io.clearinghouse.money;

import java.util.Objects;

/**
 * A ledger bucket (DESIGN section 7): where money is. {@code owner} names the account, fund,
 * trade or liquidation the bucket belongs to; {@code instrument} is set for the per-instrument
 * buckets of an account. A position bucket holds the negative of the position's cost basis (what
 * was paid into the position), so that every bucket is money held and all of them sum to zero.
 */
public record Bucket(Kind kind, String owner, String instrument) {

  public enum Kind {
    /** Outside the clearing house: deposits come from it, withdrawals and top-ups go to it. */
    EXTERNAL,
    /** An account's cash. */
    CASH,
    /** The margin allocated to an account's isolated position. */
    ISOLATED_MARGIN,
    /** The negative of an account's position cost in one instrument. */
    POSITION,
    /** Trading fees collected (platform revenue). */
    FEES,
    /** One trade between its two sides: zero once both sides are applied. */
    TRADE,
    /** One liquidation close between its two sides: zero once both sides are applied. */
    CLOSE,
    /** Money of a liquidation between its entities: zero once the liquidation has finished. */
    ESCROW,
    /** An insurance fund. */
    INSURANCE_FUND,
    /**
     * One of the platform's reserves (market-making, platform revenue, investor protection,
     * operator capital): {@code owner} is its name.
     */
    RESERVE,
    /** The negative of an insurance fund's position cost in one instrument (positions it took over). */
    FUND_POSITION,
    /** Money moved out of one reserve and not yet into another: {@code owner} is the move's key. */
    TRANSIT,
    /**
     * What an account owes for isolated positions that lost more than their own margin (held
     * as a negative balance: never taken from the account's cash).
     */
    OWED,
    /**
     * A perpetual's funding pool ({@code owner} is the instrument): payers pay into it, receivers
     * are paid from it, and only the rounding residue (payers round up, receivers down) stays.
     */
    FUNDING_POOL,
    /**
     * A dated future's settlement pool ({@code owner} is the instrument): longs are paid their
     * position's value at the settlement price from it, shorts pay theirs into it; zero once every
     * holder is settled.
     */
    SETTLEMENT_POOL
  }

  public Bucket {
    Objects.requireNonNull(kind, "kind");
  }

  public static final Bucket EXTERNAL = new Bucket(Kind.EXTERNAL, null, null);
  public static final Bucket FEES = new Bucket(Kind.FEES, null, null);

  public static Bucket cash(String accountId) {
    return new Bucket(Kind.CASH, accountId, null);
  }

  public static Bucket isolatedMargin(String accountId, String instrument) {
    return new Bucket(Kind.ISOLATED_MARGIN, accountId, instrument);
  }

  public static Bucket position(String accountId, String instrument) {
    return new Bucket(Kind.POSITION, accountId, instrument);
  }

  /** The trade with engine sequence {@code sequence}. */
  public static Bucket trade(long sequence) {
    return new Bucket(Kind.TRADE, Long.toString(sequence), null);
  }

  /** One close of a liquidation, by the saga's key of that close. */
  public static Bucket close(String key) {
    return new Bucket(Kind.CLOSE, key, null);
  }

  public static Bucket owed(String accountId) {
    return new Bucket(Kind.OWED, accountId, null);
  }

  public static Bucket escrow(String liquidationId) {
    return new Bucket(Kind.ESCROW, liquidationId, null);
  }

  public static Bucket insuranceFund(String fundId) {
    return new Bucket(Kind.INSURANCE_FUND, fundId, null);
  }

  public static Bucket reserve(String name) {
    return new Bucket(Kind.RESERVE, name, null);
  }

  public static Bucket fundPosition(String fundId, String instrument) {
    return new Bucket(Kind.FUND_POSITION, fundId, instrument);
  }

  public static Bucket fundingPool(String instrument) {
    return new Bucket(Kind.FUNDING_POOL, instrument, null);
  }

  public static Bucket settlementPool(String instrument) {
    return new Bucket(Kind.SETTLEMENT_POOL, instrument, null);
  }

  public static Bucket transit(String key) {
    return new Bucket(Kind.TRANSIT, key, null);
  }

  @Override
  public String toString() {
    return kind.name().toLowerCase() + (owner == null ? "" : "(" + owner + (instrument == null ? "" : ", " + instrument)
        + ")");
  }
}
