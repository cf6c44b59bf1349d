package io.clearinghouse;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The classes the journal stores (every persisted entity's events and states, and the records
 * inside them), and the Jackson module that refuses an unknown property in any of them.
 *
 * <p>Jackson ignores properties it does not know (Pekko's default, so that a message from a newer
 * node still reads): a stored event whose field name was damaged would read with that field at
 * 0 or null and change an account silently, while the audit, replaying the same event, balances.
 * For the journal's classes an unknown property is therefore an error: the event does not read,
 * and its entity stops with {@code JOURNAL_UNREADABLE} (account.UnreadableJournals) instead. A
 * field renamed or removed on purpose needs a migration (golden forms, GoldenFormsTest). Messages
 * between nodes that are not stored keep Jackson's leniency. Registered in {@code cluster.conf}
 * ({@code pekko.serialization.jackson.jackson-modules}).
 */
public final class JournalClasses extends SimpleModule {
  /** Every persisted entity: its nested {@code Event} and {@code State} types are stored. */
  public static final List<Class<?>> ENTITIES = List.of(io.clearinghouse.account.AccountEntity.class,
      io.clearinghouse.clearing.TradeRegister.class, io.clearinghouse.price.PriceFeed.class,
      io.clearinghouse.liquidation.InsuranceFund.class, io.clearinghouse.liquidation.LiquidationSaga.class,
      io.clearinghouse.liquidation.FundUnwind.class, io.clearinghouse.liquidation.BackstopProviders.class,
      io.clearinghouse.instrument.PinnedUnits.class, io.clearinghouse.expiry.ExpirySettlement.class,
      io.clearinghouse.funding.FundingClock.class);

  /**
   * Snapshots stored in a form of their own (a snapshot adapter), outside their entity's Event and
   * State types: read as strictly, and kept in golden forms, as those.
   */
  public static final List<Class<?>> SNAPSHOTS = List.of(io.clearinghouse.clearing.TradeRegister.Snapshot.class);

  private static final class Stored {
    static final Set<Class<?>> CLASSES = collect();
  }

  public JournalClasses() {
    super("clearinghouse-journal-classes");
  }

  /** The stored classes: events, states and every record of this project inside them. */
  public static Set<Class<?>> stored() {
    return Stored.CLASSES;
  }

  @Override
  public void setupModule(SetupContext context) {
    super.setupModule(context);
    context.addDeserializationProblemHandler(new DeserializationProblemHandler() {
      @Override
      public boolean handleUnknownProperty(DeserializationContext ctxt, JsonParser p, JsonDeserializer<?> deserializer,
          Object beanOrClass, String propertyName) throws IOException {
        Class<?> type = beanOrClass instanceof Class<?> c ? c : beanOrClass.getClass();
        if (Stored.CLASSES.contains(type)) {
          throw UnrecognizedPropertyException.from(p, beanOrClass, propertyName,
              deserializer == null ? null : deserializer.getKnownPropertyNames());
        }
        return false;
      }
    });
  }

  private static Set<Class<?>> collect() {
    Set<Class<?>> into = new LinkedHashSet<>();
    for (Class<?> entity : ENTITIES) {
      for (Class<?> nested : entity.getDeclaredClasses()) {
        if (nested.getSimpleName().equals("Event") || nested.getSimpleName().equals("State")) {
          collect(nested, into);
        }
      }
    }
    for (Class<?> snapshot : SNAPSHOTS) {
      collect(snapshot, into);
    }
    return Collections.unmodifiableSet(into);
  }

  private static void collect(Type type, Set<Class<?>> into) {
    if (type instanceof ParameterizedType parameterized) {
      collect(parameterized.getRawType(), into);
      for (Type argument : parameterized.getActualTypeArguments()) {
        collect(argument, into);
      }
      return;
    }
    if (!(type instanceof Class<?> c) || !c.getName().startsWith("io.clearinghouse.")) {
      return;
    }
    if (c.isSealed()) {
      for (Class<?> sub : c.getPermittedSubclasses()) {
        collect(sub, into);
      }
    }
    if (c.isRecord() && into.add(c)) {
      for (RecordComponent component : c.getRecordComponents()) {
        collect(component.getGenericType(), into);
      }
    }
  }
}
