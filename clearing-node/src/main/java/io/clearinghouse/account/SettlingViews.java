package io.clearinghouse.account;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.ToLongFunction;

/**
 * The views of an account in which what a fill, an order, a withdrawal or a move of margin takes
 * must still be there, whichever of the sides still settling end reversed and whichever settle
 * (review rev10h, findings 1 and 5). Each register decides on its own, so "every side reversed" is
 * not the worst outcome: a side whose reversal gives the account money back (it realized a loss,
 * paid a fee, consumed margin) may settle while another, whose reversal takes money (it realized a
 * profit, freed an isolated position's margin), is reversed.
 *
 * <p>The sides are grouped by instrument: sides in different instruments move independent
 * holdings, so their effects add up; sides in one instrument interact through the holding and are
 * taken together (all reversed or none: a simplification; a mix within one instrument, some of its
 * sides reversed and others settled, is not judged on its own).
 * For each measure (free cash, cash, available margin) the worst view reverses exactly the
 * groups whose reversal alone lowers that measure. The group of the instrument a fill or order is
 * in is tried both reversed and kept, since the fill is judged against each view's own holding
 * there. The view with every side reversed is one of the views too.
 */
final class SettlingViews {
  /** Up to how many settling sides each is also judged on its own (see {@link #of}). */
  static final int SIDE_BY_SIDE = 64;

  private SettlingViews() {}

  /**
   * The views of {@code base} with some of {@code settling} (sequence to instrument, the account's
   * own unconfirmed sides) reversed, by {@code asIfReversed}: every side reversed, and for each of
   * {@code measures} the worst one, with the group of {@code instrument} (null: none) both ways.
   * Never {@code base} itself; empty when nothing settles. Throws ArithmeticException when a
   * reversal would not fit a long.
   */
  static List<Account> of(Account base, Map<Long, String> settling, String instrument,
      List<ToLongFunction<Account>> measures, BiFunction<Account, List<Long>, Account> asIfReversed) {
    if (settling.isEmpty()) {
      return List.of();
    }
    Map<String, List<Long>> groups = new LinkedHashMap<>();
    settling.forEach((sequence, in) -> groups.computeIfAbsent(in, i -> new ArrayList<>()).add(sequence));
    List<Long> own = groups.getOrDefault(instrument, List.of());
    // What reversing each other group alone does to each measure.
    List<Set<Long>> chosen = new ArrayList<>();
    chosen.add(new TreeSet<>(settling.keySet()));
    List<Long> baseValues = new ArrayList<>(measures.size());
    for (ToLongFunction<Account> measure : measures) {
      baseValues.add(measure.applyAsLong(base));
    }
    List<Set<Long>> worst = new ArrayList<>();
    for (int m = 0; m < measures.size(); m++) {
      worst.add(new TreeSet<>());
    }
    for (Map.Entry<String, List<Long>> group : groups.entrySet()) {
      if (group.getKey().equals(instrument)) {
        continue;
      }
      Account alone = asIfReversed.apply(base, sorted(group.getValue()));
      for (int m = 0; m < measures.size(); m++) {
        if (measures.get(m).applyAsLong(alone) < baseValues.get(m)) {
          worst.get(m).addAll(group.getValue());
        }
      }
    }
    // Side by side too (review rev10j, finding 1: two sides of one instrument, one settled and
    // the other reversed, were never judged): the sides whose reversal alone lowers a measure,
    // each on its own. Effects within one instrument do not quite add up, so these views come in
    // addition to the groups' (more views only refuse more). Bounded in count: each costs one
    // reversal of the account, and more than SIDE_BY_SIDE sides settling at once is already a
    // register or a node away.
    if (settling.size() <= SIDE_BY_SIDE) {
      List<Set<Long>> worstBySide = new ArrayList<>();
      for (int m = 0; m < measures.size(); m++) {
        worstBySide.add(new TreeSet<>());
      }
      for (Long sequence : settling.keySet()) {
        // Each side reversed alone is a view too: effects within an instrument do not add up, so
        // the union of the sides that each lower a measure may give back more than one alone
        // (review rev10j, finding 1: t-3 and t-4 each lower cash, both together raise it).
        chosen.add(new TreeSet<>(List.of(sequence)));
        Account alone = asIfReversed.apply(base, List.of(sequence));
        for (int m = 0; m < measures.size(); m++) {
          if (measures.get(m).applyAsLong(alone) < baseValues.get(m)) {
            worstBySide.get(m).add(sequence);
          }
        }
      }
      worst.addAll(worstBySide);
    }
    for (Set<Long> reversed : List.copyOf(worst)) {
      chosen.add(reversed);
      if (!own.isEmpty()) {
        Set<Long> withOwn = new TreeSet<>(reversed);
        withOwn.addAll(own);
        chosen.add(withOwn);
      }
    }
    List<Account> views = new ArrayList<>(chosen.size());
    Set<Set<Long>> seen = new HashSet<>();
    for (Set<Long> reversed : chosen) {
      if (!reversed.isEmpty() && seen.add(reversed)) {
        views.add(asIfReversed.apply(base, new ArrayList<>(reversed)));
      }
    }
    return views;
  }

  private static List<Long> sorted(List<Long> sequences) {
    return new ArrayList<>(new TreeSet<>(sequences));
  }
}
