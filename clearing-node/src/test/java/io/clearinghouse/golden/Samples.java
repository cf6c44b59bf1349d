package io.clearinghouse.golden;

import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * One sample of a persisted class, made from its shape alone: every field gets a value that is
 * not its type's default (a number derived from the field's name, its name as text, one-element
 * collections, the first subtype of a sealed type), so that a field that no longer reads back
 * (renamed, retyped) shows as a difference instead of passing as a default. Deterministic.
 *
 * <p>A field added to a record that other persisted classes nest (so that one new form of the
 * record alone would not do; for a top-level class see {@code GoldenFormsTest.ADDED_FIELDS}) is
 * listed in {@link #ADDED}: its sample is its type's default (0, false, null), which is what the
 * old forms read as, so the test shows that journals written before it still read (the added
 * field itself is not checked). Once the classes that nest the record have a form with the field,
 * it leaves {@link #ADDED} and the older forms are checked without it through
 * {@code GoldenFormsTest.ADDED_FIELDS}, which then names it by record and component.
 */
final class Samples {
  private static final int MAX_DEPTH = 6;

  /** Fields added after the golden forms were written: "record class name.component". */
  static final Set<String> ADDED = Set.of(
      // Review 8: a liquidation transfer carries the perpetual's funding interval.
      "io.clearinghouse.account.AccountEntity$LiquidationTransfer.fundingInterval",
      // Review 11: a funding payment keeps what redoing it moved beside the first amount.
      "io.clearinghouse.account.FundingLedger$Payment.adjusted",
      // Review 12: an expiry settlement's isolated shortfall (nested in Account and ExpirySettlement).
      "io.clearinghouse.account.AccountEntity$SettlementApplied.shortfall");

  private Samples() {}

  static Object of(Class<?> type) {
    return of(type, Set.of());
  }

  /**
   * The sample of {@code type} as a form written before the nested fields {@code absent}
   * ("record class name.component") existed reads: each of them at its type's default.
   */
  static Object of(Class<?> type, Set<String> absent) {
    return value(type, type, "root", 0, absent);
  }

  private static Object value(Type generic, Class<?> type, String name, int depth, Set<String> absent) {
    long n = 1 + Math.floorMod(name.hashCode(), 97);
    if (type == long.class || type == Long.class) {
      return n;
    }
    if (type == int.class || type == Integer.class) {
      return (int) n;
    }
    if (type == short.class || type == Short.class) {
      return (short) n;
    }
    if (type == double.class || type == Double.class) {
      return (double) n;
    }
    if (type == boolean.class || type == Boolean.class) {
      return true;
    }
    if (type == String.class) {
      return name;
    }
    if (type == BigDecimal.class) {
      return BigDecimal.valueOf(n, 1);
    }
    if (type.isEnum()) {
      Object[] constants = type.getEnumConstants();
      // Always the first constant: a sample must not change when an enum gains a constant.
      return constants[0];
    }
    if (depth > MAX_DEPTH) {
      return emptyOf(type);
    }
    if (type == Optional.class) {
      return Optional.ofNullable(value(argument(generic, 0), raw(argument(generic, 0)), name, depth + 1, absent));
    }
    if (type == OptionalLong.class) {
      return OptionalLong.of(n);
    }
    if (List.class.isAssignableFrom(type)) {
      List<Object> list = new ArrayList<>();
      list.add(value(argument(generic, 0), raw(argument(generic, 0)), name + "[0]", depth + 1, absent));
      return list;
    }
    if (Set.class.isAssignableFrom(type)) {
      Set<Object> set = new LinkedHashSet<>();
      set.add(value(argument(generic, 0), raw(argument(generic, 0)), name + "[0]", depth + 1, absent));
      return set;
    }
    if (Map.class.isAssignableFrom(type)) {
      Map<Object, Object> map = new LinkedHashMap<>();
      map.put(value(argument(generic, 0), raw(argument(generic, 0)), name + ".key", depth + 1, absent),
          value(argument(generic, 1), raw(argument(generic, 1)), name + ".value", depth + 1, absent));
      return map;
    }
    if (type.isRecord()) {
      return record(type, name, depth, absent);
    }
    if (type.isSealed()) {
      return value(type.getPermittedSubclasses()[0], type.getPermittedSubclasses()[0], name, depth + 1, absent);
    }
    return null;
  }

  private static Object record(Class<?> type, String name, int depth, Set<String> absent) {
    RecordComponent[] components = type.getRecordComponents();
    Class<?>[] types = new Class<?>[components.length];
    Object[] values = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      types[i] = components[i].getType();
      String field = type.getName() + "." + components[i].getName();
      values[i] = ADDED.contains(field) || absent.contains(field) ? defaultOf(types[i])
          : value(components[i].getGenericType(), types[i], components[i].getName(), depth + 1, absent);
    }
    try {
      Constructor<?> canonical = type.getDeclaredConstructor(types);
      canonical.setAccessible(true);
      return canonical.newInstance(values);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("no sample of " + type.getName() + " (" + name + "): " + e.getCause(), e);
    }
  }

  private static Object defaultOf(Class<?> type) {
    if (type == long.class) {
      return 0L;
    }
    if (type == int.class) {
      return 0;
    }
    if (type == short.class) {
      return (short) 0;
    }
    if (type == double.class) {
      return 0.0;
    }
    if (type == boolean.class) {
      return false;
    }
    return null;
  }

  private static Object emptyOf(Class<?> type) {
    if (List.class.isAssignableFrom(type)) {
      return List.of();
    }
    if (Set.class.isAssignableFrom(type)) {
      return Set.of();
    }
    if (Map.class.isAssignableFrom(type)) {
      return Map.of();
    }
    if (type == Optional.class) {
      return Optional.empty();
    }
    return null;
  }

  private static Type argument(Type generic, int index) {
    return generic instanceof ParameterizedType p ? p.getActualTypeArguments()[index] : Object.class;
  }

  private static Class<?> raw(Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    if (type instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    return Object.class;
  }
}
