package io.clearinghouse.liquidation;

import io.clearinghouse.liquidation.InsuranceFund.Entry;
import io.clearinghouse.liquidation.InsuranceFund.Event;
import io.clearinghouse.liquidation.InsuranceFund.Hold;
import io.clearinghouse.liquidation.InsuranceFund.Kind;
import io.clearinghouse.liquidation.InsuranceFund.State;
import io.clearinghouse.margin.Position;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** How each reserve-ledger event changes its state: pure (no clock, no messages). */
final class FundEvents {
  private FundEvents() {}

  static State apply(State s, Event event, int retained, long keyRetentionMillis) {
    if (event instanceof InsuranceFund.ToppedUp e) {
      return plus(s, new Entry(Kind.TOP_UP, e.key(), null, e.amount(), e.amount(), Math.addExact(s.balance(), e.amount()),
          e.epochMillis()), retained, keyRetentionMillis);
    }
    if (event instanceof InsuranceFund.Withdrawn e) {
      return plus(s, new Entry(Kind.WITHDRAWAL, e.key(), null, e.amount(), e.amount(),
          Math.subtractExact(s.balance(), e.amount()), e.epochMillis()), retained, keyRetentionMillis);
    }
    if (event instanceof InsuranceFund.Received e) {
      return plus(s, new Entry(Kind.PENALTY, e.key(), e.liquidationId(), e.amount(), e.amount(),
          Math.addExact(s.balance(), e.amount()), e.epochMillis()), retained, keyRetentionMillis);
    }
    if (event instanceof InsuranceFund.Paid e) {
      State after = plus(s, new Entry(Kind.DEFICIT_PAID, e.key(), e.liquidationId(), e.requested(), e.amount(),
          Math.subtractExact(s.balance(), e.amount()), e.epochMillis()), retained, keyRetentionMillis);
      return e.instrument() == null ? after : drawn(after, e.instrument(), e.amount(), e.epochMillis());
    }
    if (event instanceof InsuranceFund.MovedOut e) {
      State after = plus(s, new Entry(Kind.MOVED_OUT, e.key(), e.to(), e.amount(), e.amount(),
          Math.subtractExact(s.balance(), e.amount()), e.epochMillis()), retained, keyRetentionMillis);
      List<Entry> outgoing = new ArrayList<>(after.outgoing());
      outgoing.add(after.entry(e.key()).orElseThrow());
      return with(after, after.positions(), after.takeovers(), outgoing, after.holds());
    }
    if (event instanceof InsuranceFund.MoveConfirmed e) {
      return with(s, s.positions(), s.takeovers(), s.outgoing().stream().filter(m -> !m.key().equals(e.key())).toList(),
          s.holds());
    }
    if (event instanceof InsuranceFund.MovedIn e) {
      return plus(s, new Entry(Kind.MOVED_IN, e.key(), e.from(), e.amount(), e.amount(),
          Math.addExact(s.balance(), e.amount()), e.epochMillis()), retained, keyRetentionMillis);
    }
    if (event instanceof InsuranceFund.PositionTaken e) {
      return taken(s, e, retained, keyRetentionMillis);
    }
    if (event instanceof InsuranceFund.FeesReceived e) {
      long amount = Math.absExact(e.amount());
      State after = plus(s, new Entry(e.amount() > 0 ? Kind.FEES : Kind.REBATES,
          io.clearinghouse.account.FeeSweep.key(e.accountId(), e.sweep()), e.accountId(), amount, amount,
          Math.addExact(s.balance(), e.amount()), e.epochMillis()), retained, keyRetentionMillis);
      Map<String, Long> sweeps = new HashMap<>(after.feeSweeps());
      sweeps.put(e.accountId(), e.sweep());
      return new State(after.balance(), after.totalIn(), after.totalOut(), after.entries(), after.recent(), after.open(),
          after.holds(), after.topUps(), after.positions(), after.takeovers(), after.day(), after.drawnToday(),
          after.outgoing(), sweeps);
    }
    if (event instanceof InsuranceFund.Forgotten e) {
      return new State(s.balance(), s.totalIn(), s.totalOut(), s.entries(), s.recent(),
          s.open().stream().filter(x -> !e.liquidationId().equals(x.liquidationId())).toList(),
          s.holds().stream().filter(h -> !h.liquidationId().equals(e.liquidationId())).toList(), s.topUps(),
          s.positions(), s.takeovers().stream().filter(t -> !e.liquidationId().equals(t.liquidationId())).toList(),
          s.day(), s.drawnToday(), s.outgoing(), s.feeSweeps());
    }
    if (event instanceof InsuranceFund.Reserved e) {
      // The liquidation's hold is now this one: any earlier one of it is replaced (none: released).
      List<Hold> after = new ArrayList<>(s.holds().stream().filter(h -> !h.liquidationId().equals(e.liquidationId()))
          .toList());
      if (e.amount() > 0) {
        after.add(new Hold(e.key(), e.liquidationId(), e.amount()));
      }
      return with(s, s.positions(), s.takeovers(), s.outgoing(), after);
    }
    throw new IllegalArgumentException("unknown event " + event);
  }

  /** The fund's position changes; what it realized moves in or out of the balance (a loss uses up its hold). */
  private static State taken(State s, InsuranceFund.PositionTaken e, int retained, long keyRetentionMillis) {
    Position before = s.position(e.instrument());
    long lots = Math.addExact(before.lots(), e.signedLots());
    Map<String, Position> positions = new HashMap<>(s.positions());
    if (lots == 0) {
      positions.remove(e.instrument());
    } else {
      positions.put(e.instrument(), new Position(lots, Math.addExact(before.cost(), e.costDelta())));
    }
    List<InsuranceFund.PositionTaken> takeovers = new ArrayList<>(s.takeovers());
    takeovers.add(e);
    State after = with(s, positions, takeovers, s.outgoing(), s.holds());
    if (e.realizedPnl() == 0) {
      return after;
    }
    boolean gain = e.realizedPnl() > 0;
    long amount = Math.absExact(e.realizedPnl());
    after = plus(after, new Entry(gain ? Kind.POSITION_GAIN : Kind.POSITION_LOSS, e.key(), e.liquidationId(), amount,
        amount, Math.addExact(after.balance(), e.realizedPnl()), e.epochMillis()), retained, keyRetentionMillis);
    return gain ? after : with(after, after.positions(), after.takeovers(), after.outgoing(),
        after.holds().stream().filter(h -> !h.liquidationId().equals(e.liquidationId())).toList());
  }

  private static State drawn(State s, String instrument, long amount, long epochMillis) {
    // The day never goes back: a payment stamped on an earlier day than the tally's (a clock behind
    // the one before it, around midnight) counts against the tally's day, never resets it.
    long day = Math.max(Math.floorDiv(epochMillis, 86_400_000L), s.day());
    Map<String, Long> drawn = day == s.day() ? new HashMap<>(s.drawnToday()) : new HashMap<>();
    drawn.merge(instrument, amount, Math::addExact);
    return new State(s.balance(), s.totalIn(), s.totalOut(), s.entries(), s.recent(), s.open(), s.holds(), s.topUps(),
        s.positions(), s.takeovers(), day, drawn, s.outgoing(), s.feeSweeps());
  }

  private static State with(State s, Map<String, Position> positions, List<InsuranceFund.PositionTaken> takeovers,
      List<Entry> outgoing, List<Hold> holds) {
    return new State(s.balance(), s.totalIn(), s.totalOut(), s.entries(), s.recent(), s.open(), holds, s.topUps(),
        positions, takeovers, s.day(), s.drawnToday(), outgoing, s.feeSweeps());
  }

  /** The state after one movement: balance, totals, bounded history, open keys, holds, operator keys. */
  private static State plus(State s, Entry entry, int retained, long keyRetentionMillis) {
    List<Entry> kept = new ArrayList<>(Math.min(s.recent().size() + 1, retained));
    kept.addAll(s.recent().subList(Math.max(0, s.recent().size() + 1 - retained), s.recent().size()));
    kept.add(entry);
    boolean keyed = entry.kind() == Kind.TOP_UP || entry.kind() == Kind.WITHDRAWAL || entry.kind() == Kind.MOVED_OUT
        || entry.kind() == Kind.MOVED_IN;
    List<Entry> stillOpen = s.open();
    if (!keyed && entry.liquidationId() != null && entry.kind() != Kind.POSITION_GAIN
        && entry.kind() != Kind.POSITION_LOSS) {
      stillOpen = new ArrayList<>(s.open());
      stillOpen.add(entry);
    }
    // A payment uses up what was held for its liquidation.
    List<Hold> holdsAfter = entry.kind() == Kind.DEFICIT_PAID
        ? s.holds().stream().filter(h -> !h.liquidationId().equals(entry.liquidationId())).toList() : s.holds();
    List<Entry> keysAfter = s.topUps();
    if (keyed) {
      // Older than the retention at this entry's time: no longer recognised as a retry.
      keysAfter = new ArrayList<>(s.topUps().stream()
          .filter(t -> entry.epochMillis() - t.epochMillis() < keyRetentionMillis).toList());
      keysAfter.add(entry);
    }
    boolean in = entry.kind().in();
    return new State(entry.balanceAfter(), in ? Math.addExact(s.totalIn(), entry.amount()) : s.totalIn(),
        in ? s.totalOut() : Math.addExact(s.totalOut(), entry.amount()), s.entries() + 1, kept, stillOpen, holdsAfter,
        keysAfter, s.positions(), s.takeovers(), s.day(), s.drawnToday(), s.outgoing(), s.feeSweeps());
  }
}
