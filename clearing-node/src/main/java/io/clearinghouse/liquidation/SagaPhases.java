package io.clearinghouse.liquidation;

import io.clearinghouse.account.Account;
import io.clearinghouse.liquidation.LiquidationSaga.Began;
import io.clearinghouse.liquidation.LiquidationSaga.CapitalPaid;
import io.clearinghouse.liquidation.LiquidationSaga.Close;
import io.clearinghouse.liquidation.LiquidationSaga.ClosePlanned;
import io.clearinghouse.liquidation.LiquidationSaga.Closed;
import io.clearinghouse.liquidation.LiquidationSaga.ClosingFinished;
import io.clearinghouse.liquidation.LiquidationSaga.CoverDelivered;
import io.clearinghouse.liquidation.LiquidationSaga.DebtLeft;
import io.clearinghouse.liquidation.LiquidationSaga.Event;
import io.clearinghouse.liquidation.LiquidationSaga.Finished;
import io.clearinghouse.liquidation.LiquidationSaga.FundPaid;
import io.clearinghouse.liquidation.LiquidationSaga.PenaltyApplied;
import io.clearinghouse.liquidation.LiquidationSaga.PenaltyDelivered;
import io.clearinghouse.liquidation.LiquidationSaga.SettlementAssessed;
import io.clearinghouse.liquidation.LiquidationSaga.State;
import io.clearinghouse.liquidation.LiquidationSaga.TakenOver;
import io.clearinghouse.liquidation.LiquidationSaga.Undone;
import io.clearinghouse.liquidation.LiquidationSaga.VenueChosen;
import io.clearinghouse.liquidation.LiquidationSaga.VenueDeclined;
import io.clearinghouse.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The phases of a liquidation, in order: not begun, closing, assessing (the closes are done, the
 * account not yet valued), covering (the deficit's waterfall), distributing (the penalty's shares
 * on their way) and ended (its keys being forgotten). Each phase holds only what it needs and
 * takes only the events that belong to it: an event out of its phase is a broken journal and fails
 * the recovery, naming both. Pure: no Pekko, no clock. Never snapshotted (the saga recovers from
 * its events), so these forms are in no journal.
 */
public final class SagaPhases {
  private SagaPhases() {}

  /** The saga's state after {@code event}. */
  static State apply(State state, Event event) {
    if (state instanceof NotBegun && event instanceof Began e) {
      return new Closing(e.accountId(), e.trigger(), List.of());
    }
    if (state instanceof Closing closing) {
      return closing.on(event);
    }
    if (state instanceof Assessing assessing && event instanceof SettlementAssessed e) {
      return new Covering(assessing.closing(), assessing.closingNote(),
          new Assessment(e.fund(), e.need(), e.cash(), e.shortfall()), Payments.NONE);
    }
    if (state instanceof Covering covering) {
      return covering.on(event);
    }
    if (state instanceof Distributing distributing) {
      return distributing.on(event);
    }
    throw outOfPhase(state, event);
  }

  /** The phase the state's one-record form (before issue 12) describes; see {@link State#fromOneRecordForm}. */
  static State fromOneRecordForm(String accountId, Account.Liquidation trigger, List<Close> closes,
      boolean closingDone, String closingNote, Map<String, Long> penaltiesDelivered, Assessment assessment,
      Payments payments, String outcome, long finishedMillis) {
    if (accountId == null) {
      return NotBegun.INSTANCE;
    }
    Closing closing = new Closing(accountId, trigger, closes);
    if (!closingDone) {
      return closing;
    }
    if (assessment == null) {
      return new Assessing(closing, closingNote);
    }
    if (outcome != null) {
      return new Ended(closing, closingNote, assessment, payments, penaltiesDelivered, outcome, finishedMillis);
    }
    if (penaltiesDelivered == null || penaltiesDelivered.isEmpty()) {
      return new Covering(closing, closingNote, assessment, payments);
    }
    return new Distributing(closing, closingNote, assessment, payments, penaltiesDelivered);
  }

  static long penalties(State state) {
    long taken = 0;
    for (Close c : state.closes()) {
      if (c.closed() != null) {
        taken = Math.addExact(taken, c.closed().penalty());
      }
    }
    return taken;
  }

  static long undeliveredPenalties(State state) {
    long held = penalties(state);
    for (long delivered : state.penaltiesDelivered().values()) {
      held = Math.subtractExact(held, delivered);
    }
    return held;
  }

  static long escrow(State state) {
    long held = undeliveredPenalties(state);
    held = Math.addExact(Math.addExact(held, state.payments().fundPaid() == null ? 0 : state.payments().fundPaid()),
        state.payments().capitalPaid() == null ? 0 : state.payments().capitalPaid());
    return state.payments().coverDelivered() ? Math.subtractExact(held, state.cover()) : held;
  }

  static Set<String> counterparties(State state) {
    Set<String> parties = new TreeSet<>();
    state.closes().forEach(c -> {
      // A fund that took a close over is told as a fund.
      if (c.taken() != null && c.venue() != LiquidationSaga.Venue.FUND) {
        parties.add(c.counterparty());
      }
    });
    return parties;
  }

  private static IllegalStateException outOfPhase(State state, Event event) {
    return new IllegalStateException("liquidation event " + event.getClass().getSimpleName() + " does not apply in "
        + state.getClass().getSimpleName());
  }

  /** Before {@link Began}: nothing to drive. */
  public record NotBegun() implements State {
    static final NotBegun INSTANCE = new NotBegun();

    @Override
    public String accountId() {
      return null;
    }

    @Override
    public Account.Liquidation trigger() {
      return null;
    }

    @Override
    public List<Close> closes() {
      return List.of();
    }
  }

  /** Planning and applying closes, one after the other, until the account is healthy or flat. */
  public record Closing(String accountId, Account.Liquidation trigger, List<Close> closes) implements State {
    public Closing {
      closes = closes == null ? List.of() : List.copyOf(closes);
    }

    /** The close in progress (or the last one done); null before the first plan. */
    Close last() {
      return closes.isEmpty() ? null : closes.get(closes.size() - 1);
    }

    private Closing withLast(Close close) {
      List<Close> after = new ArrayList<>(closes);
      if (!after.isEmpty() && after.get(after.size() - 1).step() == close.step()) {
        after.set(after.size() - 1, close);
      } else {
        after.add(close);
      }
      return new Closing(accountId, trigger, after);
    }

    private State on(Event event) {
      if (event instanceof ClosePlanned e) {
        return withLast(Close.planned(e));
      }
      if (event instanceof ClosingFinished e) {
        return new Assessing(this, e.note());
      }
      Close c = last();
      if (c == null) {
        throw outOfPhase(this, event);
      }
      if (event instanceof VenueChosen e) {
        return withLast(c.with(e));
      }
      if (event instanceof VenueDeclined e) {
        return withLast(c.declinedBy(e.counterparty()));
      }
      if (event instanceof TakenOver e) {
        return withLast(c.withSides(e.transfer(), null, null));
      }
      if (event instanceof Closed e) {
        return withLast(c.closedWith(e.transfer(), e.fullPenalty()));
      }
      if (event instanceof Undone e) {
        return withLast(c.withSides(c.taken(), c.closed(), e.transfer()));
      }
      throw outOfPhase(this, event);
    }
  }

  /** The closes are done ({@code closingNote}: why a stop found no taker); the account is valued next. */
  public record Assessing(Closing closing, String closingNote) implements State {
    @Override
    public String accountId() {
      return closing.accountId();
    }

    @Override
    public Account.Liquidation trigger() {
      return closing.trigger();
    }

    @Override
    public List<Close> closes() {
      return closing.closes();
    }
  }

  /** What the account needs covered (see {@link SettlementAssessed}): in the fund {@code fund}. */
  public record Assessment(String fund, long need, long cash, long shortfall) implements CborSerializable {}

  /**
   * The deficit's waterfall as far as it got, one layer after the other: each null until its step
   * ran (a layer with nothing to do never runs).
   */
  public record Payments(Long penaltyApplied, Long fundPaid, Long capitalPaid, boolean coverDelivered, Long debt)
      implements CborSerializable {
    static final Payments NONE = new Payments(null, null, null, false, null);

    private Payments on(Event event) {
      if (event instanceof PenaltyApplied e) {
        return new Payments(e.amount(), fundPaid, capitalPaid, coverDelivered, debt);
      }
      if (event instanceof FundPaid e) {
        return new Payments(penaltyApplied, e.amount(), capitalPaid, coverDelivered, debt);
      }
      if (event instanceof CapitalPaid e) {
        return new Payments(penaltyApplied, fundPaid, e.amount(), coverDelivered, debt);
      }
      if (event instanceof CoverDelivered) {
        return new Payments(penaltyApplied, fundPaid, capitalPaid, true, debt);
      }
      if (event instanceof DebtLeft e) {
        return new Payments(penaltyApplied, fundPaid, capitalPaid, coverDelivered, e.amount());
      }
      return null;
    }
  }

  /** The deficit's waterfall: the penalties in escrow, the fund, the operator's capital, the cover, the debt. */
  public record Covering(Closing closing, String closingNote, Assessment assessment, Payments payments)
      implements State {
    @Override
    public String accountId() {
      return closing.accountId();
    }

    @Override
    public Account.Liquidation trigger() {
      return closing.trigger();
    }

    @Override
    public List<Close> closes() {
      return closing.closes();
    }

    private State on(Event event) {
      Payments after = payments.on(event);
      if (after != null) {
        return new Covering(closing, closingNote, assessment, after);
      }
      Distributing distributing = new Distributing(closing, closingNote, assessment, payments, Map.of());
      if (event instanceof PenaltyDelivered || event instanceof Finished) {
        return distributing.on(event);
      }
      throw outOfPhase(this, event);
    }
  }

  /** The deficit settled: the penalty's shares delivered from escrow, one destination at a time. */
  public record Distributing(Closing closing, String closingNote, Assessment assessment, Payments payments,
      Map<String, Long> penaltiesDelivered) implements State {
    public Distributing {
      penaltiesDelivered = penaltiesDelivered == null ? Map.of() : Map.copyOf(penaltiesDelivered);
    }

    @Override
    public String accountId() {
      return closing.accountId();
    }

    @Override
    public Account.Liquidation trigger() {
      return closing.trigger();
    }

    @Override
    public List<Close> closes() {
      return closing.closes();
    }

    private State on(Event event) {
      if (event instanceof PenaltyDelivered e) {
        Map<String, Long> delivered = new LinkedHashMap<>(penaltiesDelivered);
        delivered.merge(e.fund(), e.amount(), Math::addExact);
        return new Distributing(closing, closingNote, assessment, payments, delivered);
      }
      if (event instanceof Finished e) {
        return new Ended(closing, closingNote, assessment, payments, penaltiesDelivered, e.outcome(), e.epochMillis());
      }
      throw outOfPhase(this, event);
    }
  }

  /**
   * Finished with {@code outcome} (an {@link Outcome}'s wire value): remembered until every
   * counterparty and fund has forgotten its keys. Takes no more events.
   */
  public record Ended(Closing closing, String closingNote, Assessment assessment, Payments payments,
      Map<String, Long> penaltiesDelivered, String outcome, long finishedMillis) implements State {
    public Ended {
      penaltiesDelivered = penaltiesDelivered == null ? Map.of() : Map.copyOf(penaltiesDelivered);
    }

    @Override
    public String accountId() {
      return closing.accountId();
    }

    @Override
    public Account.Liquidation trigger() {
      return closing.trigger();
    }

    @Override
    public List<Close> closes() {
      return closing.closes();
    }
  }
}
