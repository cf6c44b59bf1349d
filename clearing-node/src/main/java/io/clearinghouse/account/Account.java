package io.clearinghouse.account;

// Over 450 lines: the account state and its event handlers, one per event (copies go through AccountEdit).

import io.clearinghouse.account.AccountEntity.Deposited;
import io.clearinghouse.account.AccountEntity.IsolatedMarginAdjusted;
import io.clearinghouse.account.AccountEntity.LeverageCapSet;
import io.clearinghouse.account.AccountEntity.LeverageSet;
import io.clearinghouse.account.AccountEntity.MarginModeSet;
import io.clearinghouse.account.AccountEntity.MarginReserved;
import io.clearinghouse.account.AccountEntity.ReservationReleased;
import io.clearinghouse.account.AccountEntity.TradeCleared;
import io.clearinghouse.account.AccountEntity.Withdrawn;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An open account's state, in minor units of the settlement asset: its cash, its holdings per
 * instrument, margin reserved for open orders, the operator's leverage cap (0: none), and what it
 * needs to answer retries exactly once: the receipts of its deposits and withdrawals of the last
 * {@code idempotency-key-retention} (oldest first; operator and client keys apart, see
 * {@link KeyOwner}) and its recent trades (at most {@code retainedTrades}).
 *
 * <p>{@code owed}: what closed isolated positions lost beyond their own margin and neither the
 * insurance fund nor a deposit has paid yet. It is never taken from the cash (an isolated loss
 * never touches the rest of the account); it is its own ledger bucket, counted against the
 * account, and once the liquidation is over it is part of the recorded {@code debt}.
 * Immutable; the event handlers below are the only way it changes.
 */
public record Account(
    String accountId,
    long cash,
    int leverageCap,
    Map<String, Holding> holdings,
    Map<String, Reservation> reservations,
    List<Receipt> recentTransfers,
    int retainedTrades,
    List<TradeRef> recentTrades,
    long tradesForgottenUpTo,
    Liquidation liquidation,
    long debt,
    List<AccountEntity.LiquidationStep> liquidationSteps,
    Map<String, Long> stops,
    long owed,
    List<String> liquidationIds,
    FeeSweep fees,
    FundingLedger funding,
    boolean beginner,
    Map<String, AccountEntity.SettlementApplied> settlements,
    Map<String, LateCloses> lateCloses) implements AccountEntity.State {

  /**
   * This account's late closes of one dated future ({@link AccountEntity.SettledAfterExpiry}) not
   * yet recorded by its settlement: {@code reported} are recorded there (numbered from 0), and
   * {@code unreported} are numbered on from {@code reported}; reported again until recorded.
   */
  public record LateCloses(int reported, List<AccountEntity.SettledAfterExpiry> unreported)
      implements io.clearinghouse.persistence.CborSerializable {
    public LateCloses {
      unreported = unreported == null ? List.of() : List.copyOf(unreported);
    }
  }

  /**
   * The account's own liquidations (and stop closes) are listed from {@code liquidationIds}, the
   * newest last, at most this many (the largest page a client may ask for): listing them never
   * scans other accounts or the journal.
   */
  public static final int RETAINED_LIQUIDATION_IDS = 1_000;

  /** A liquidation in progress: the account is reduce-only until it ends. */
  public record Liquidation(String liquidationId, long markSequence, long epochMillis, Map<String, Long> marks,
      long equity, long maintenanceMargin, String stopInstrument) implements io.clearinghouse.persistence.CborSerializable {
    /** A protective stop's close (no penalty, one instrument) rather than a margin liquidation. */
    public boolean stop() {
      return stopInstrument != null;
    }

    public Liquidation {
      marks = marks == null ? Map.of() : Map.copyOf(marks);
    }
  }

  public Account {
    holdings = Map.copyOf(holdings);
    reservations = Map.copyOf(reservations);
    recentTransfers = List.copyOf(recentTransfers);
    recentTrades = List.copyOf(recentTrades);
    liquidationSteps = liquidationSteps == null ? List.of() : List.copyOf(liquidationSteps);
    stops = stops == null ? Map.of() : Map.copyOf(stops);
    // Snapshots written before the list existed have none: those accounts list what they start from now on.
    liquidationIds = liquidationIds == null ? List.of() : List.copyOf(liquidationIds);
    // No released snapshot lacks it (fee sweeps predate every release); one that did would leave the
    // fees before it unswept, and the audit would report them.
    fees = fees == null ? FeeSweep.NONE : fees;
    // Snapshots written before funding existed have none.
    funding = funding == null ? FundingLedger.EMPTY : funding;
    // Snapshots written before expiry existed have none: no dated future was settled then.
    settlements = settlements == null ? Map.of() : Map.copyOf(settlements);
    // Snapshots written before late closes were reported have none: their late closes stay unreported.
    lateCloses = lateCloses == null ? Map.of() : Map.copyOf(lateCloses);
  }

  /** The instruments whose settlement has not recorded every late close of this account yet. */
  java.util.Set<String> lateUnreported() {
    java.util.Set<String> out = new java.util.TreeSet<>();
    lateCloses.forEach((instrument, l) -> {
      if (!l.unreported().isEmpty()) {
        out.add(instrument);
      }
    });
    return out;
  }

  /** The settlement recorded this account's late closes of {@code e.instrument()} up to (not including) {@code e.upTo()}. */
  Account apply(AccountEntity.LateClosesReported e) {
    LateCloses l = lateCloses.get(e.instrument());
    if (l == null || e.upTo() <= l.reported()) {
      return this;
    }
    int drop = Math.min(e.upTo() - l.reported(), l.unreported().size());
    Map<String, LateCloses> after = new HashMap<>(lateCloses);
    after.put(e.instrument(), new LateCloses(l.reported() + drop,
        l.unreported().subList(drop, l.unreported().size())));
    return edit().lateCloses(after).build();
  }

  /** Any event applied to an open account: each kind by its own handler below (the frequent ones first). */
  Account apply(AccountEntity.Event event, long keyRetentionMillis) {
    if (event instanceof AccountEntity.TradeCleared e) {
      return apply(e);
    } else if (event instanceof AccountEntity.MarginReserved e) {
      return apply(e);
    } else if (event instanceof AccountEntity.ReservationReleased e) {
      return apply(e);
    } else if (event instanceof AccountEntity.FundingApplied e) {
      return apply(e);
    } else if (event instanceof AccountEntity.FundingAdjusted e) {
      return apply(e);
    } else if (event instanceof AccountEntity.SettlementApplied e) {
      return apply(e);
    } else if (event instanceof AccountEntity.SettledAfterExpiry e) {
      return apply(e);
    } else if (event instanceof AccountEntity.LateClosesReported e) {
      return apply(e);
    } else if (event instanceof AccountEntity.Deposited e) {
      return apply(e, keyRetentionMillis);
    } else if (event instanceof AccountEntity.Withdrawn e) {
      return apply(e, keyRetentionMillis);
    } else if (event instanceof AccountEntity.TradeSideReversed e) {
      return apply(e);
    } else if (event instanceof AccountEntity.FeesSwept e) {
      return apply(e);
    } else if (event instanceof AccountEntity.FeesCollected e) {
      return apply(e);
    } else if (event instanceof AccountEntity.FeesSweepVoided e) {
      return apply(e);
    } else if (event instanceof AccountEntity.LeverageSet e) {
      return apply(e);
    } else if (event instanceof AccountEntity.LeverageCapSet e) {
      return apply(e);
    } else if (event instanceof AccountEntity.MarginModeSet e) {
      return apply(e);
    } else if (event instanceof AccountEntity.IsolatedMarginAdjusted e) {
      return apply(e);
    } else if (event instanceof AccountEntity.StopSet e) {
      return apply(e);
    } else if (event instanceof AccountEntity.LiquidationStarted e) {
      return apply(e);
    } else if (event instanceof AccountEntity.LiquidationTransfer e) {
      return apply(e);
    } else if (event instanceof AccountEntity.LiquidationCredited e) {
      return apply(e);
    } else if (event instanceof AccountEntity.DebtRecorded e) {
      return apply(e);
    } else if (event instanceof AccountEntity.LiquidationEnded e) {
      return apply(e);
    } else if (event instanceof AccountEntity.LiquidationForgotten e) {
      return apply(e);
    }
    throw new IllegalStateException("no handler for " + event.getClass().getName() + " on an open account");
  }

  /** The ids of the account's last liquidations, newest first, at most {@code limit}. */
  public List<String> recentLiquidationIds(int limit) {
    List<String> newestFirst = new ArrayList<>(Math.min(limit, liquidationIds.size()));
    for (int i = liquidationIds.size() - 1; i >= 0 && newestFirst.size() < limit; i--) {
      newestFirst.add(liquidationIds.get(i));
    }
    return newestFirst;
  }

  private List<String> withLiquidationId(String liquidationId) {
    List<String> ids = new ArrayList<>(liquidationIds);
    ids.add(liquidationId);
    return ids.size() > RETAINED_LIQUIDATION_IDS ? ids.subList(ids.size() - RETAINED_LIQUIDATION_IDS, ids.size()) : ids;
  }

  /**
   * A new account; {@code beginnerLeverage} above 0 opens it under the beginner profile, capped at
   * that leverage until an operator sets its cap (issue 16 item 5).
   */
  static Account opened(String accountId, int retainedTrades, int beginnerLeverage) {
    return new Account(accountId, 0, Math.max(0, beginnerLeverage), Map.of(), Map.of(), List.of(), retainedTrades,
        List.of(), 0, null, 0, List.of(), Map.of(), 0, List.of(), FeeSweep.NONE, FundingLedger.EMPTY,
        beginnerLeverage > 0, Map.of(), Map.of());
  }

  Holding holding(String instrument) {
    return holdings.getOrDefault(instrument, Holding.NONE);
  }

  long reserved() {
    long total = 0;
    for (Reservation reservation : reservations.values()) {
      total = Math.addExact(total, reservation.amount());
    }
    return total;
  }

  /** The receipt of {@code owner}'s key, if still retained: another owner's equal key is another key. */
  Optional<Receipt> receipt(KeyOwner owner, String idempotencyKey) {
    // Newest first: a retry usually follows its original closely.
    for (int i = recentTransfers.size() - 1; i >= 0; i--) {
      Receipt receipt = recentTransfers.get(i);
      if (receipt.kind().keyOwner() == owner && receipt.idempotencyKey().equals(idempotencyKey)) {
        return Optional.of(receipt);
      }
    }
    return Optional.empty();
  }

  /** How many of {@code owner}'s keys are retained at {@code nowMillis} (younger than {@code retentionMillis}). */
  int retainedKeys(KeyOwner owner, long nowMillis, long retentionMillis) {
    int count = 0;
    for (Receipt receipt : recentTransfers) {
      if (receipt.kind().keyOwner() == owner && !receipt.expired(nowMillis, retentionMillis)) {
        count++;
      }
    }
    return count;
  }

  Optional<TradeRef> trade(long sequence) {
    for (int i = recentTrades.size() - 1; i >= 0; i--) {
      if (recentTrades.get(i).sequence() == sequence) {
        return Optional.of(recentTrades.get(i));
      }
    }
    return Optional.empty();
  }

  /**
   * True when {@code sequence} (not remembered) is at or below the highest sequence the account
   * has forgotten: it cannot be told apart from a trade already applied, so it is refused, never
   * applied.
   */
  boolean tooOldToVerify(long sequence) {
    return sequence <= tradesForgottenUpTo;
  }

  boolean canCredit(long amount) {
    return cash <= Long.MAX_VALUE - amount;
  }

  // --- event handlers -------------------------------------------------------------------

  /**
   * What a money event moves into this account's buckets, read from the event's own transfers
   * ({@link AccountTransfers}), the same ones the ledger audit replays: the change of the cash, of
   * the isolated margin and of the position cost in {@code instrument}, and of what isolated
   * positions owe.
   */
  private record Moved(long cash, long isolatedMargin, long cost, long owed) {}

  private Moved moved(AccountEntity.Event event, String instrument) {
    List<io.clearinghouse.money.Transfer> t = AccountTransfers.of(accountId, event);
    return new Moved(io.clearinghouse.money.Transfer.netInto(t, io.clearinghouse.money.Bucket.cash(accountId)),
        instrument == null ? 0
            : io.clearinghouse.money.Transfer.netInto(t, io.clearinghouse.money.Bucket.isolatedMargin(accountId, instrument)),
        instrument == null ? 0
            : Math.negateExact(io.clearinghouse.money.Transfer.netInto(t,
                io.clearinghouse.money.Bucket.position(accountId, instrument))),
        Math.negateExact(io.clearinghouse.money.Transfer.netInto(t, io.clearinghouse.money.Bucket.owed(accountId))));
  }

  /**
   * A deposit repays recorded debt first: {@code owedRepaid} of it pays what isolated positions
   * still owe (it never reaches the cash), the rest goes to the cash; what is still recorded as
   * debt is what the cash is still short plus what is still owed.
   */
  Account apply(Deposited event, long retentionMillis) {
    Moved m = moved(event, null);
    long owedAfter = Math.addExact(owed, m.owed());
    long after = Math.addExact(cash, m.cash());
    Account credited = withTransfer(after, new Receipt(event.idempotencyKey(), TransferKind.DEPOSIT, event.amount(), after,
        event.epochMillis()), event.epochMillis(), retentionMillis);
    long debtAfter = Math.min(Math.subtractExact(debt, event.owedRepaid()), Math.addExact(Math.max(0, -after), owedAfter));
    return edit()
        .cash(credited.cash)
        .recentTransfers(credited.recentTransfers)
        .debt(Math.max(0, debtAfter))
        .owed(owedAfter)
        .build();
  }

  Account apply(Withdrawn event, long retentionMillis) {
    long after = Math.addExact(cash, moved(event, null).cash());
    return withTransfer(after, new Receipt(event.idempotencyKey(), TransferKind.WITHDRAWAL, event.amount(), after,
        event.epochMillis()), event.epochMillis(), retentionMillis);
  }

  Account apply(TradeCleared event) {
    Moved m = moved(event, event.instrument());
    long cashAfter = Math.addExact(cash, m.cash());
    Holding h = holding(event.instrument());
    Holding updated = new Holding(Math.addExact(h.lots(), event.signedLots()), Math.addExact(h.cost(), m.cost()),
        h.leverage(), h.mode(), Math.addExact(h.isolatedMargin(), m.isolatedMargin()), event.priceTicks());
    Map<String, Reservation> reservationsAfter = reservations;
    Reservation reservation = event.orderId() == null ? null : reservations.get(event.orderId());
    Reservation consumed = null;
    if (reservation != null) {
      reservationsAfter = new HashMap<>(reservations);
      long filled = Math.min(Math.abs(event.signedLots()), Math.abs(reservation.remainingLots()));
      consumed = new Reservation(reservation.orderId(), reservation.instrument(),
          Long.signum(reservation.remainingLots()) * filled, reservation.priceTicks(), event.reservationReleased());
      long remaining = reservation.remainingLots() - Long.signum(reservation.remainingLots()) * filled;
      if (remaining == 0) {
        reservationsAfter.remove(event.orderId());
      } else {
        reservationsAfter.put(event.orderId(), new Reservation(reservation.orderId(), reservation.instrument(), remaining,
            reservation.priceTicks(), reservation.amount() - event.reservationReleased()));
      }
    }
    List<TradeRef> trades = new ArrayList<>(recentTrades.size() + 1);
    trades.addAll(recentTrades);
    trades.add(TradeRef.of(event, h.lastPriceTicks(), updated, consumed, stops.getOrDefault(event.instrument(), 0L)));
    long forgottenUpTo = forgetOldest(trades);
    return edit()
        .cash(cashAfter)
        .holdings(withHolding(event.instrument(), updated))
        .reservations(reservationsAfter)
        .recentTrades(trades)
        .tradesForgottenUpTo(forgottenUpTo)
        .stops(stopsAfter(event.instrument(), h.lots(), updated.lots()))
        .fees(fees.charged(event.fee()))
        .funding(funding.changed(event.instrument(), h.lots(), event.signedLots(), event.cutMillis(), event.fundingInterval()))
        .build();
  }

  /**
   * Keeps at most {@code retainedTrades} applied sides and as many reversed ones, apart (reversals
   * are rare, and a repeated ask to reverse one must find it done, never undo it twice). Applied
   * sides beyond it: the lowest sequences go (trades can arrive out of order, and everything at or
   * below the highest forgotten sequence is refused as too old to verify). Reversed sides beyond
   * it: the one reversed longest ago goes (they are kept in the order they were reversed), never
   * the one just reversed. Returns the new forgotten-up-to mark.
   */
  private long forgetOldest(List<TradeRef> trades) {
    long forgottenUpTo = tradesForgottenUpTo;
    while (true) {
      int reversed = 0;
      for (TradeRef t : trades) {
        if (t.reversed()) {
          reversed++;
        }
      }
      boolean dropApplied = trades.size() - reversed > retainedTrades;
      if (!dropApplied && reversed <= retainedTrades) {
        return forgottenUpTo;
      }
      int drop = -1;
      for (int i = 0; i < trades.size(); i++) {
        TradeRef t = trades.get(i);
        if (dropApplied ? !t.reversed() && (drop < 0 || t.sequence() < trades.get(drop).sequence())
            : t.reversed() && drop < 0) {
          drop = i;
        }
      }
      forgottenUpTo = Math.max(forgottenUpTo, trades.remove(drop).sequence());
    }
  }

  /**
   * A trade side undone: every movement of its TradeCleared back the other way (the fee from fee
   * revenue into the cash), and the side remembered as reversed. With no instrument, nothing
   * moves: the side was never applied and is only marked so that it never will be.
   */
  Account apply(AccountEntity.TradeSideReversed event) {
    List<TradeRef> trades = new ArrayList<>(recentTrades.size() + 1);
    TradeRef reversedRef = null;
    for (TradeRef ref : recentTrades) {
      if (ref.sequence() == event.sequence()) {
        reversedRef = ref.asReversed();
      } else {
        trades.add(ref);
      }
    }
    // Last: the reversed sides are kept in the order they were reversed.
    trades.add(reversedRef != null ? reversedRef : TradeRef.neverApplied(event.sequence(), event.tradeId()));
    long forgottenUpTo = forgetOldest(trades);
    if (event.instrument() == null) {
      return edit().recentTrades(trades).tradesForgottenUpTo(forgottenUpTo).build();
    }
    Moved m = moved(event, event.instrument());
    long cashAfter = Math.addExact(cash, m.cash());
    Holding h = holding(event.instrument());
    Holding updated = new Holding(Math.addExact(h.lots(), event.signedLots()), Math.addExact(h.cost(), m.cost()),
        h.leverage(), h.mode(), Math.addExact(h.isolatedMargin(), m.isolatedMargin()), event.lastPriceTicks());
    return edit()
        .cash(cashAfter)
        .holdings(withHolding(event.instrument(), updated))
        .recentTrades(trades)
        .tradesForgottenUpTo(forgottenUpTo)
        .stops(stopsAfter(event.instrument(), h.lots(), updated.lots()))
        .fees(fees.charged(Math.negateExact(event.feeRefund())))
        .funding(funding.changed(event.instrument(), h.lots(), event.signedLots(),
            reversedCut(event.sequence(), trades), 0))
        .build();
  }

  /** A reversed side counts for funding where its trade did: at the trade's cut (its ref's), else the last cut. */
  private long reversedCut(long sequence, List<TradeRef> trades) {
    for (TradeRef ref : trades) {
      if (ref.sequence() == sequence && ref.cutMillis() > 0) {
        return ref.cutMillis();
      }
    }
    return 0;
  }

  Account apply(MarginReserved event) {
    Map<String, Reservation> after = new HashMap<>(reservations);
    after.put(event.orderId(), new Reservation(event.orderId(), event.instrument(), event.signedLots(),
        event.priceTicks(), event.amount()));
    return withReservations(after);
  }

  Account apply(ReservationReleased event) {
    Map<String, Reservation> after = new HashMap<>(reservations);
    after.remove(event.orderId());
    return withReservations(after);
  }

  Account apply(LeverageSet event) {
    Holding h = holding(event.instrument());
    return withHoldings(withHolding(event.instrument(),
        new Holding(h.lots(), h.cost(), event.leverage(), h.mode(), h.isolatedMargin(), h.lastPriceTicks())));
  }

  Account apply(MarginModeSet event) {
    Holding h = holding(event.instrument());
    return withHoldings(withHolding(event.instrument(),
        new Holding(h.lots(), h.cost(), h.leverage(), event.mode(), h.isolatedMargin(), h.lastPriceTicks())));
  }

  Account apply(IsolatedMarginAdjusted event) {
    Moved m = moved(event, event.instrument());
    Holding h = holding(event.instrument());
    Map<String, Holding> after = withHolding(event.instrument(), new Holding(h.lots(), h.cost(), h.leverage(), h.mode(),
        Math.addExact(h.isolatedMargin(), m.isolatedMargin()), h.lastPriceTicks()));
    return edit().cash(Math.addExact(cash, m.cash())).holdings(after).build();
  }

  Account apply(AccountEntity.LiquidationStarted event) {
    Map<String, Long> stopsAfter = stops;
    if (event.stopInstrument() != null) {
      stopsAfter = new HashMap<>(stops);
      stopsAfter.remove(event.stopInstrument());
    }
    return edit()
        .liquidation(new Liquidation(event.liquidationId(), event.markSequence(), event.epochMillis(), event.marks(),
            event.equity(), event.maintenanceMargin(), event.stopInstrument()))
        .stops(stopsAfter)
        .liquidationIds(withLiquidationId(event.liquidationId()))
        .build();
  }

  Account apply(AccountEntity.StopSet e) {
    Map<String, Long> after = new HashMap<>(stops);
    if (e.stopTicks() == 0) {
      after.remove(e.instrument());
    } else {
      after.put(e.instrument(), e.stopTicks());
    }
    return edit().stops(after).build();
  }

  /** A stop protects one position: it goes when the position closes or turns to the other side. */
  private Map<String, Long> stopsAfter(String instrument, long lotsBefore, long lotsAfter) {
    if (!stops.containsKey(instrument) || (lotsAfter != 0 && Long.signum(lotsAfter) == Long.signum(lotsBefore))) {
      return stops;
    }
    Map<String, Long> after = new HashMap<>(stops);
    after.remove(instrument);
    return after;
  }

  /**
   * Applied liquidation steps are remembered, to answer a saga's retries with the first result,
   * until the liquidation ends (its own account) or its saga says to forget them (counterparties):
   * never dropped by count, so a retry can never apply a step twice.
   */
  private static <T> List<T> appended(List<T> list, T added) {
    List<T> after = new ArrayList<>(list.size() + 1);
    after.addAll(list);
    after.add(added);
    return after;
  }

  Optional<AccountEntity.LiquidationStep> liquidationStep(String key) {
    for (int i = liquidationSteps.size() - 1; i >= 0; i--) {
      if (liquidationSteps.get(i).key().equals(key)) {
        return Optional.of(liquidationSteps.get(i));
      }
    }
    return Optional.empty();
  }

  /**
   * A position moving in a liquidation (closed by the liquidated account, taken over by a
   * backstop provider or a deleveraged account): like a trade side without a trading fee, plus
   * the liquidation penalty leaving the cash for the saga's escrow.
   */
  Account apply(AccountEntity.LiquidationTransfer e) {
    // An isolated position's loss beyond its own margin (shortfall) is owed, not taken from the cash.
    Moved m = moved(e, e.instrument());
    long cashAfter = Math.addExact(cash, m.cash());
    Holding h = holding(e.instrument());
    Holding updated = new Holding(Math.addExact(h.lots(), e.signedLots()), Math.addExact(h.cost(), m.cost()),
        h.leverage(), h.mode(), Math.addExact(h.isolatedMargin(), m.isolatedMargin()), e.priceTicks());
    return edit()
        .cash(cashAfter)
        .holdings(withHolding(e.instrument(), updated))
        .liquidationSteps(appended(liquidationSteps, new AccountEntity.LiquidationStep(e.key(), e, 0)))
        .stops(stopsAfter(e.instrument(), h.lots(), updated.lots()))
        .owed(Math.addExact(owed, m.owed()))
        .funding(funding.changed(e.instrument(), h.lots(), e.signedLots(), e.epochMillis(), e.fundingInterval()))
        .build();
  }

  /**
   * Money from the saga's escrow (the insurance fund's cover of a deficit): {@code shortfallCovered}
   * of it pays what isolated positions owe, the rest goes into the cash.
   */
  Account apply(AccountEntity.LiquidationCredited e) {
    Moved m = moved(e, null);
    return edit()
        .cash(Math.addExact(cash, m.cash()))
        .liquidationSteps(appended(liquidationSteps, new AccountEntity.LiquidationStep(e.key(), null, e.amount())))
        .owed(Math.addExact(owed, m.owed()))
        .build();
  }

  /**
   * A deficit nobody covered, recorded as the account's debt: it stays where it is (negative cash
   * for a cross deficit, {@code owed} for an isolated shortfall); nothing moves.
   */
  Account apply(AccountEntity.DebtRecorded e) {
    return edit()
        .debt(Math.addExact(debt, e.amount()))
        .liquidationSteps(appended(liquidationSteps, new AccountEntity.LiquidationStep(e.key(), null, e.amount())))
        .build();
  }

  /** The liquidation is over; its own steps need no remembering any more (its saga sends none after the end). */
  Account apply(AccountEntity.LiquidationEnded e) {
    return edit().liquidation(null).liquidationSteps(withoutSteps(e.liquidationId())).build();
  }

  Account apply(AccountEntity.LiquidationForgotten e) {
    return edit().liquidationSteps(withoutSteps(e.liquidationId())).build();
  }

  private List<AccountEntity.LiquidationStep> withoutSteps(String liquidationId) {
    String prefix = liquidationId + "/";
    return liquidationSteps.stream().filter(step -> !step.key().startsWith(prefix)).toList();
  }

  boolean inDebt() {
    return debt > 0;
  }

  boolean liquidating() {
    return liquidation != null;
  }

  /** What the margin monitor watches. */
  io.clearinghouse.account.Exposure exposure() {
    List<io.clearinghouse.account.Exposure.Position> positions = new ArrayList<>(holdings.size());
    holdings.forEach((instrument, h) -> {
      if (!h.flat()) {
        positions.add(new io.clearinghouse.account.Exposure.Position(instrument, h.lots(), h.cost(), h.mode(),
            h.isolatedMargin(), stops.getOrDefault(instrument, 0L), funding.position(instrument).lastFundingTime()));
      }
    });
    Map<String, Long> fundingDue = new HashMap<>();
    funding.byInstrument().forEach((instrument, p) -> {
      if (holding(instrument).flat() && (p.lotsAt().values().stream().anyMatch(lots -> lots != 0)
          || !p.missed().isEmpty())) {
        fundingDue.put(instrument, p.lastFundingTime());
      }
    });
    return new io.clearinghouse.account.Exposure(cash, liquidating(), positions, fundingDue);
  }

  /**
   * A funding payment: received from or paid into the instrument's funding pool, in one event
   * (the cash and the pool move together or not at all); the interval is remembered as applied.
   */
  /** A late position change's payment redone: the difference moves, the payment record holds the new lots. */
  Account apply(AccountEntity.FundingAdjusted e) {
    Moved m = moved(e, null);
    return edit()
        .cash(Math.addExact(cash, m.cash()))
        .funding(funding.adjusted(e.instrument(), e.fundingTime(), e.lots(), e.amount()))
        .build();
  }

  Account apply(AccountEntity.FundingApplied e) {
    Moved m = moved(e, null);
    return edit()
        .cash(Math.addExact(cash, m.cash()))
        .funding(funding.with(new FundingLedger.Payment(e.instrument(), e.fundingTime(), e.rate(), e.markTicks(),
            e.lots(), e.amount(), e.epochMillis()), holding(e.instrument()).lots()))
        .build();
  }

  /**
   * A dated future settled: the position closed at the settlement price (its money moved by the
   * event's own transfers), its reservations and stop dropped, the settlement remembered.
   */
  Account apply(AccountEntity.SettlementApplied e) {
    Moved m = moved(e, e.instrument());
    Holding h = holding(e.instrument());
    Holding closed = new Holding(Math.subtractExact(h.lots(), e.lots()), Math.addExact(h.cost(), m.cost()), h.leverage(),
        h.mode(), Math.addExact(h.isolatedMargin(), m.isolatedMargin()), e.priceTicks());
    Map<String, Reservation> reservationsAfter = new HashMap<>(reservations);
    reservationsAfter.values().removeIf(r -> r.instrument().equals(e.instrument()));
    Map<String, Long> stopsAfter = new HashMap<>(stops);
    stopsAfter.remove(e.instrument());
    Map<String, AccountEntity.SettlementApplied> settled = new HashMap<>(settlements);
    settled.put(e.instrument(), e);
    return edit()
        .cash(Math.addExact(cash, m.cash()))
        .holdings(withHolding(e.instrument(), closed))
        .reservations(reservationsAfter)
        .stops(stopsAfter)
        .fees(fees.charged(e.fee()))
        .settlements(settled)
        .owed(Math.addExact(owed, m.owed()))
        .build();
  }

  /** What a late side left in a settled future, closed at its settlement price (the settlement stays as recorded). */
  Account apply(AccountEntity.SettledAfterExpiry e) {
    Moved m = moved(e, e.instrument());
    Holding h = holding(e.instrument());
    Holding closed = new Holding(Math.subtractExact(h.lots(), e.lots()), Math.addExact(h.cost(), m.cost()), h.leverage(),
        h.mode(), Math.addExact(h.isolatedMargin(), m.isolatedMargin()), e.priceTicks());
    Map<String, Long> stopsAfter = new HashMap<>(stops);
    stopsAfter.remove(e.instrument());
    LateCloses late = lateCloses.getOrDefault(e.instrument(), new LateCloses(0, List.of()));
    List<AccountEntity.SettledAfterExpiry> unreported = new ArrayList<>(late.unreported());
    unreported.add(e);
    Map<String, LateCloses> lateAfter = new HashMap<>(lateCloses);
    lateAfter.put(e.instrument(), new LateCloses(late.reported(), unreported));
    return edit()
        .cash(Math.addExact(cash, m.cash()))
        .holdings(withHolding(e.instrument(), closed))
        .stops(stopsAfter)
        .owed(Math.addExact(owed, m.owed()))
        .lateCloses(lateAfter)
        .build();
  }

  /** Fees swept out of fee revenue into transit, on their way to the platform-revenue reserve. */
  Account apply(AccountEntity.FeesSwept event) {
    return edit().fees(fees.swept(event.key(), event.amount())).build();
  }

  /** The reserve refused the sweep for good: its amount is back in fee revenue, swept again later. */
  Account apply(AccountEntity.FeesSweepVoided event) {
    return edit().fees(fees.voided(event.key())).build();
  }

  /** The reserve holds the sweep: nothing is in transit any more. */
  Account apply(AccountEntity.FeesCollected event) {
    return edit().fees(fees.collected(event.key())).build();
  }

  Account apply(LeverageCapSet event) {
    return edit().leverageCap(event.maxLeverage()).beginner(false).build();
  }

  // --- helpers --------------------------------------------------------------------------

  private Map<String, Holding> withHolding(String instrument, Holding holding) {
    Map<String, Holding> after = new HashMap<>(holdings);
    if (holding.empty()) {
      after.remove(instrument);
    } else {
      after.put(instrument, holding);
    }
    return after;
  }

  private Account withHoldings(Map<String, Holding> after) {
    return edit().holdings(after).build();
  }

  private Account withReservations(Map<String, Reservation> after) {
    return edit().reservations(after).build();
  }

  /** With {@code receipt}, without the receipts older than the retention at {@code nowMillis}. */
  private Account withTransfer(long cashAfter, Receipt receipt, long nowMillis, long retentionMillis) {
    List<Receipt> retained = new ArrayList<>(recentTransfers.size() + 1);
    for (Receipt r : recentTransfers) {
      if (!r.expired(nowMillis, retentionMillis)) {
        retained.add(r);
      }
    }
    retained.add(receipt);
    return edit().cash(cashAfter).recentTransfers(retained).build();
  }
  /** A copy of this account to change field by field: {@code edit().cash(c).holdings(h).build()}. */
  AccountEdit edit() {
    return new AccountEdit(this);
  }
}
