package io.clearinghouse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Review rev18: the persisted-format fingerprint describes records, sealed types and enums. A
 * record component whose type is one of the project's own classes but none of those (a plain
 * class, or an interface that is not sealed) would be left without a shape: a field added to it
 * would change what nodes store or send without changing the fingerprint. Every project type that
 * a described record names must itself be described.
 */
class Rev18FingerprintCoverageTest {
  @Test
  void everyProjectTypeADescribedRecordNamesIsDescribed() throws Exception {
    Set<String> described = PersistedFormat.shape().stream().map(line -> line.substring(0, line.indexOf(' ')))
        .collect(Collectors.toSet());
    Set<String> undescribed = new TreeSet<>();
    int records = 0;
    for (String name : described) {
      Class<?> c = Class.forName(name, false, getClass().getClassLoader());
      if (!c.isRecord()) {
        continue;
      }
      records++;
      for (RecordComponent component : c.getRecordComponents()) {
        List<Class<?>> named = new ArrayList<>();
        collect(component.getGenericType(), named);
        for (Class<?> type : named) {
          if (type.getName().startsWith("io.clearinghouse.") && !described.contains(type.getName())) {
            undescribed.add(type.getName() + " (" + c.getName() + "." + component.getName() + ")");
          }
        }
      }
    }
    assertTrue(records > 100, "only " + records + " records described");
    assertEquals(Set.of(), undescribed, "project types inside stored or sent records with no shape in the fingerprint");
  }

  private static void collect(Type type, List<Class<?>> out) {
    if (type instanceof ParameterizedType p) {
      collect(p.getRawType(), out);
      for (Type argument : p.getActualTypeArguments()) {
        collect(argument, out);
      }
    } else if (type instanceof WildcardType w) {
      for (Type bound : w.getUpperBounds()) {
        collect(bound, out);
      }
    } else if (type instanceof Class<?> c) {
      out.add(c.isArray() ? c.getComponentType() : c);
    }
  }
}
