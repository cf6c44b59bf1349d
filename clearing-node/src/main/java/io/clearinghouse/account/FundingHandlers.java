package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.ApplyFunding;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.FundingAdjusted;
import io.clearinghouse.account.AccountEntity.FundingApplied;
import io.clearinghouse.account.AccountEntity.FundingPaid;
import io.clearinghouse.account.AccountEntity.FundingPayments;
import io.clearinghouse.account.AccountEntity.GetFundingPayments;
import io.clearinghouse.account.AccountEntity.Notice;
import io.clearinghouse.account.AccountEntity.NoticeKind;
import io.clearinghouse.account.AccountEntity.Rejected;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.InstrumentSpec;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.FundingMath;
import io.clearinghouse.margin.Instrument;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * Funding payments (DESIGN section 5): the account applies its own payment, computed from the
 * position it holds when the clock's message arrives, in one event against the instrument's
 * funding pool, so its money is never half-moved. Each (instrument, funding time) applies once:
 * a repeat (the clock resending after a crash or a lost answer) gets the first payment back.
 *
 * <p>An interval the account missed (it was never asked before a later one applied, see
 * {@link FundingLedger}) is paid late: the clock offers its last closed intervals with every
 * payment ({@code earlier}), and the account pays those it missed and held a position at, in
 * order, in the same batch of events as the payment asked for, answering with them ({@code late}),
 * and with them again on a repeat. Asked for a missed interval on its own, it pays it then.
 *
 * <p>An account being liquidated is paid like any other, at once (funding is a cash movement that
 * the liquidation's exact re-checks see; waiting would let the saga close the position first and
 * the interval go unpaid). A position already closed when the message arrives pays nothing, but
 * the interval is still marked applied, so reopening within it never pays it.
 */
final class FundingHandlers {
  private final EffectFactories<Event, State> effect;
  private final Instruments instruments;
  private final Clock clock;
  private final Consumer<State> changed;
  private final Consumer<Notice> notify;
  private final java.util.function.LongSupplier lastSequenceNumber;

  FundingHandlers(EffectFactories<Event, State> effect, Instruments instruments, Clock clock, Consumer<State> changed,
      Consumer<Notice> notify, java.util.function.LongSupplier lastSequenceNumber) {
    this.lastSequenceNumber = lastSequenceNumber;
    this.effect = effect;
    this.instruments = instruments;
    this.clock = clock;
    this.changed = changed;
    this.notify = notify;
  }

  ReplyEffect<Event, State> apply(Account account, ApplyFunding cmd) {
    InstrumentSpec spec;
    try {
      spec = instruments.spec(cmd.instrument());
    } catch (RuntimeException e) {
      return effect.reply(cmd.replyTo(), new Rejected(Rejection.UNKNOWN_INSTRUMENT, "no instrument " + cmd.instrument()));
    }
    if (spec.funding() == null) {
      return effect.reply(cmd.replyTo(), new Rejected(Rejection.NOT_PERPETUAL, cmd.instrument() + " is not a perpetual"));
    }
    FundingLedger ledger = account.funding();
    FundingLedger.Position position = ledger.position(cmd.instrument());
    if (ledger.applied(cmd.instrument(), cmd.fundingTime())) {
      return effect.reply(cmd.replyTo(), repeat(ledger, cmd));
    }
    if (cmd.markTicks() <= 0) {
      return effect.reply(cmd.replyTo(), new Rejected(Rejection.PRICE_NOT_POSITIVE, "funding mark must be positive"));
    }
    Instrument contract = spec.contract();
    long lotsNow = account.holding(cmd.instrument()).lots();
    long now = clock.millis();
    List<Event> events = new ArrayList<>();
    Map<Long, Long> late = new TreeMap<>();
    long lots;
    long amount;
    try {
      long total = 0;
      if (cmd.fundingTime() < position.lastFundingTime()) {
        // A missed interval asked for on its own: paid on the lots remembered for it.
        lots = position.missed().get(cmd.fundingTime());
      } else {
        // Intervals the clock offers that this account missed (or skips now) and held a position at: paid
        // first, in order, each on the lots held at its own funding time (see FundingLedger).
        List<FundingLedger.Interval> earlier = new ArrayList<>(cmd.earlier());
        earlier.sort(java.util.Comparator.comparingLong(FundingLedger.Interval::fundingTime));
        for (FundingLedger.Interval e : earlier) {
          long time = e.fundingTime();
          if (time >= cmd.fundingTime() || e.markTicks() <= 0 || late.containsKey(time)) {
            continue;
          }
          Long missedLots = position.missed().get(time);
          long held = missedLots != null ? missedLots
              : time > position.lastFundingTime() ? position.lotsAtFundingTime(time, lotsNow) : 0;
          if (held == 0) {
            continue;
          }
          long paid = FundingMath.payment(held, e.markTicks(), contract.notionalMultiplier(), e.rate());
          total = Math.addExact(total, paid);
          late.put(time, paid);
          events.add(new FundingApplied(cmd.instrument(), time, e.rate(), e.markTicks(), held, paid, now));
        }
        // The position held at the funding time, not now (see FundingLedger).
        lots = position.lotsAtFundingTime(cmd.fundingTime(), lotsNow);
      }
      amount = FundingMath.payment(lots, cmd.markTicks(), contract.notionalMultiplier(), cmd.rate());
      Math.addExact(account.cash(), Math.addExact(total, amount));
    } catch (ArithmeticException e) {
      return effect.reply(cmd.replyTo(), new Rejected(Rejection.BALANCE_OVERFLOW, "funding payment overflows"));
    }
    events.add(new FundingApplied(cmd.instrument(), cmd.fundingTime(), cmd.rate(), cmd.markTicks(), lots, amount, now));
    long moved = late.values().stream().mapToLong(Long::longValue).reduce(amount, Math::addExact);
    events.addAll(deficitSettled(account, events, cmd.instrument(), cmd.markTicks(), lastSequenceNumber.getAsLong(),
        now));
    return effect.persist(events)
        .thenRun(changed::accept)
        .thenRun(state -> {
          if (moved != 0) {
            notify.accept(new Notice(NoticeKind.FUNDING, "", (moved < 0 ? "paid " : "received ")
                + Math.abs(moved) + " funding on " + cmd.instrument() + " (interval ending " + cmd.fundingTime()
                + ", rate " + cmd.rate() + "e-8" + (late.isEmpty() ? "" : ", with " + late.size()
                + " earlier interval(s) missed") + ")"));
          }
        })
        .thenReply(cmd.replyTo(), state -> new FundingPaid(amount, lots, false, late));
  }

  /**
   * The answer to a repeat: the first payment, and the missed intervals paid with it (the earlier
   * intervals offered that were applied in the same event batch, so at the same time).
   */
  private static FundingPaid repeat(FundingLedger ledger, ApplyFunding cmd) {
    var first = ledger.payment(cmd.instrument(), cmd.fundingTime());
    FundingLedger.Position position = ledger.position(cmd.instrument());
    long amount = first.map(FundingLedger.Payment::amount)
        .orElse(position.lastFundingTime() == cmd.fundingTime() ? position.lastAmount() : 0);
    Map<Long, Long> late = new TreeMap<>();
    first.ifPresent(p -> {
      for (FundingLedger.Interval e : cmd.earlier()) {
        ledger.payment(cmd.instrument(), e.fundingTime())
            .filter(q -> q.fundingTime() < p.fundingTime() && q.epochMillis() == p.epochMillis())
            .ifPresent(q -> late.put(q.fundingTime(), q.amount()));
      }
    });
    return new FundingPaid(amount, first.map(FundingLedger.Payment::lots).orElse(0L), true, late);
  }

  /**
   * Funding (a payment, or one redone after a late change) that leaves an account with no position
   * and its cash below zero: the position it was paid on is closed (a liquidation that ended
   * before the payment came, a side reversed after it), so no monitor sees the account. The
   * deficit is settled at once as a liquidation with nothing to close, its fund the instrument's
   * (the trigger values {@code instrument} at {@code markTicks}): the fund covers it, or it is
   * recorded as debt, never left uncovered. {@code events}: what the command persists before
   * these; {@code lastSequenceNumber}: the account's journal's last before them.
   */
  static List<Event> deficitSettled(Account account, List<Event> events, String instrument, long markTicks,
      long lastSequenceNumber, long now) {
    if (account.liquidating() || events.stream().noneMatch(e -> (e instanceof FundingApplied f && f.amount() < 0)
        || (e instanceof FundingAdjusted a && a.amount() < 0))) {
      return List.of();
    }
    Account after = account;
    for (Event e : events) {
      after = after.apply(e, Long.MAX_VALUE);
    }
    return unsettledDeficit(after, Map.of(instrument, markTicks), lastSequenceNumber + events.size() + 1, now);
  }

  /**
   * A liquidation with nothing to close for the deficit of {@code after} (the account once the
   * events before these apply) when it is not liquidating and either holds no position and its cash
   * below zero plus what its isolated positions owe is more than its recorded debt, or what its
   * isolated positions owe (an expiry's isolated shortfall) is alone more than it, whatever it holds (what an earlier liquidation recorded stays debt; the saga settles only the
   * rest, see Settlement.crossDeficit and Settlement.unrecordedOwed). {@code marks}: what the trigger
   * values, whose first instrument names the fund; {@code sequenceNumber}: the journal position
   * the LiquidationStarted will have (its id, unique and stable). Empty when there is nothing to settle.
   */
  static List<Event> unsettledDeficit(Account after, Map<String, Long> marks, long sequenceNumber, long now) {
    // Short: the cash below zero plus what isolated positions owe; recorded debt stands for both.
    long shortOf = Math.addExact(Math.max(0, Math.negateExact(after.cash())), after.owed());
    boolean flat = after.holdings().values().stream().allMatch(Holding::flat);
    // Owed beyond the debt is settled whatever the account still holds (an isolated loss is never
    // the cross cash's); cash below zero only when nothing is held (otherwise the monitor judges it).
    boolean unsettled = flat ? shortOf > after.debt() : after.owed() > after.debt();
    if (!unsettled || after.liquidating() || marks.isEmpty()) {
      return List.of();
    }
    List<Event> settled = new ArrayList<>();
    settled.add(new AccountEntity.LiquidationStarted(after.accountId() + "-" + sequenceNumber, 0, Map.copyOf(marks),
        after.cash(), 0, now, null));
    after.reservations().forEach((orderId, reservation) ->
        settled.add(new AccountEntity.ReservationReleased(orderId, reservation.amount())));
    return settled;
  }

  /**
   * A change of {@code delta} lots cut at {@code cut} that arrives after the account was paid for
   * funding times after the cut: each such payment redone on the lots held then (see
   * {@link FundingAdjusted}). Payments no longer retained (older than the last
   * {@link FundingLedger#RETAINED_PAYMENTS}) are not redone.
   */
  static List<Event> lateAdjustments(Account account, Instruments instruments, String instrument, long delta, long cut,
      long now) {
    if (delta == 0 || cut <= 0) {
      return List.of();
    }
    InstrumentSpec spec = instruments.spec(instrument);
    if (spec.funding() == null) {
      return List.of();
    }
    List<Event> adjustments = new ArrayList<>();
    for (FundingLedger.Payment p : account.funding().paidAfter(instrument, cut)) {
      long lots = Math.addExact(p.lots(), delta);
      long redone = FundingMath.payment(lots, p.markTicks(), spec.contract().notionalMultiplier(), p.rate());
      adjustments.add(new FundingAdjusted(instrument, p.fundingTime(), p.rate(), p.markTicks(), lots,
          Math.subtractExact(redone, p.paid()), now));
    }
    return adjustments;
  }

  /** Newest first: by funding time, then instrument, both descending (a total order: one payment per pair). */
  static final java.util.Comparator<FundingLedger.Payment> NEWEST_FIRST = java.util.Comparator
      .comparingLong(FundingLedger.Payment::fundingTime).thenComparing(FundingLedger.Payment::instrument).reversed();

  ReplyEffect<Event, State> list(Account account, GetFundingPayments cmd) {
    List<FundingLedger.Payment> sorted = new ArrayList<>(account.funding().recent());
    sorted.sort(NEWEST_FIRST);
    List<FundingLedger.Payment> page = new ArrayList<>();
    boolean more = false;
    for (FundingLedger.Payment p : sorted) {
      if (cmd.instrument() != null && !cmd.instrument().equals(p.instrument())) {
        continue;
      }
      if (cmd.beforeFundingTime() > 0 && (p.fundingTime() > cmd.beforeFundingTime()
          || (p.fundingTime() == cmd.beforeFundingTime() && p.instrument().compareTo(cmd.beforeInstrument()) >= 0))) {
        continue;
      }
      if (page.size() == cmd.limit()) {
        more = true;
        break;
      }
      page.add(p);
    }
    return effect.reply(cmd.replyTo(), new FundingPayments(page, more));
  }
}
