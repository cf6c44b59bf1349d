package io.clearinghouse.instrument;

import com.typesafe.config.ConfigException;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.persistence.CborSerializable;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;

/**
 * The units every instrument's events are written in, pinned in the journal. Positions, prices
 * and money are stored as integer counts of lots, ticks and minor units: a tick size, lot size or
 * settlement-asset scale that changed in the configuration would silently rescale every stored
 * figure. So the first node to start with an instrument pins its units, and every node that starts
 * later (a restart or a node joining) checks its configuration against them: a difference stops
 * the node naming the instrument. A pinned instrument left out of the configuration is retired
 * when the journal holds no position in it (asked of the caller, see {@link #check}), and stops
 * the node when it does (its positions would be unreadable); a retired instrument can be listed
 * again, in the units it was pinned in. One entity for the cluster (sharded, so one writer).
 */
public final class PinnedUnits extends EventSourcedBehaviorWithEnforcedReplies<PinnedUnits.Command,
    PinnedUnits.Event, PinnedUnits.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "PinnedUnits");
  private static final String ENTITY_ID = "units";
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PinnedUnits.class);

  /** An instrument's units: its tick and lot sizes (plain decimals) and the settlement asset's scale. */
  public record Units(String tickSize, String lotSize, int assetScale) implements CborSerializable {
    public static Units of(Instrument instrument, int assetScale) {
      return new Units(instrument.tickSize().toPlainString(), instrument.lotSize().toPlainString(), assetScale);
    }

    boolean sameAs(Units other) {
      return new BigDecimal(tickSize).compareTo(new BigDecimal(other.tickSize)) == 0
          && new BigDecimal(lotSize).compareTo(new BigDecimal(other.lotSize)) == 0
          && assetScale == other.assetScale;
    }

    @Override
    public String toString() {
      return "tick-size " + tickSize + ", lot-size " + lotSize + ", settlement-asset scale " + assetScale;
    }
  }

  public sealed interface Command extends CborSerializable {}

  /** The configuration's units, by symbol: pins the new ones when nothing disagrees. */
  public record Check(Map<String, Units> configured, ActorRef<Verdict> replyTo) implements Command {}

  /**
   * Retires {@code symbols} (pinned instruments the journal holds no position in, left out of the
   * configuration): a later check no longer asks for them until they are listed again.
   */
  public record Retire(List<String> symbols, ActorRef<Verdict> replyTo) implements Command {}

  /**
   * {@code problems} is empty when the configuration agrees with every pinned instrument's units;
   * {@code leftOut}: the pinned instruments, not retired, that the configuration leaves out (they
   * may be retired only when the journal holds no position in them).
   */
  public record Verdict(List<String> problems, List<String> leftOut) implements CborSerializable {
    public Verdict {
      problems = List.copyOf(problems);
      leftOut = leftOut == null ? List.of() : List.copyOf(leftOut);
    }

    public Verdict(List<String> problems) {
      this(problems, List.of());
    }
  }

  public sealed interface Event extends CborSerializable {}

  /** Pinned again when a retired instrument is listed again (in the same units). */
  public record UnitsPinned(String symbol, Units units, long epochMillis) implements Event {}

  /** Left out of the configuration with no position in the journal; its units stay pinned. */
  public record InstrumentRetired(String symbol, long epochMillis) implements Event {}

  /** {@code retired}: pinned instruments no longer configured (empty in states written before retiring existed). */
  public record State(Map<String, Units> pinned, Set<String> retired) implements CborSerializable {
    public State {
      pinned = Map.copyOf(pinned);
      retired = retired == null ? Set.of() : Set.copyOf(retired);
    }

    public State(Map<String, Units> pinned) {
      this(pinned, Set.of());
    }

    State with(UnitsPinned e) {
      Map<String, Units> next = new LinkedHashMap<>(pinned);
      next.put(e.symbol(), e.units());
      Set<String> stillRetired = new TreeSet<>(retired);
      stillRetired.remove(e.symbol());
      return new State(next, stillRetired);
    }

    State with(InstrumentRetired e) {
      Set<String> next = new TreeSet<>(retired);
      next.add(e.symbol());
      return new State(pinned, next);
    }

    /** The pinned instruments, not retired, that {@code configured} leaves out. */
    List<String> leftOut(Map<String, Units> configured) {
      return new TreeMap<>(pinned).keySet().stream()
          .filter(symbol -> !configured.containsKey(symbol) && !retired.contains(symbol)).toList();
    }
  }

  /**
   * Every way {@code configured} disagrees with the units of {@code pinned}, one sentence each, by
   * symbol (instruments it leaves out are {@link Verdict#leftOut}, not disagreements).
   */
  public static List<String> disagreements(Map<String, Units> pinned, Map<String, Units> configured) {
    List<String> problems = new ArrayList<>();
    new TreeMap<>(pinned).forEach((symbol, units) -> {
      Units now = configured.get(symbol);
      if (now != null && !units.sameAs(now)) {
        problems.add("clearinghouse.instruments " + symbol + ": the journal is written in " + units
            + ", the configuration says " + now + "; units cannot change once pinned (every stored position and "
            + "price would be rescaled)");
      }
    });
    return problems;
  }

  public static void init(ActorSystem<?> system, Clock clock) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, context -> new PinnedUnits(clock)));
  }

  /** For tests: the behaviour without sharding. */
  public static Behavior<Command> create(Clock clock) {
    return new PinnedUnits(clock);
  }

  /**
   * Checks this node's instruments against the pinned units (pinning new ones); completes
   * exceptionally with a {@link ConfigException} naming every disagreement. Pinned instruments the
   * configuration leaves out are retired when {@code positions} finds none of them in use (it
   * answers, per symbol asked, why the journal still needs it; nothing for an unused one), and
   * stop the node naming them otherwise.
   */
  public static CompletionStage<Void> check(ActorSystem<?> system, Instruments instruments, int assetScale,
      Duration timeout, Function<Set<String>, CompletionStage<Map<String, String>>> positions) {
    Map<String, Units> configured = new LinkedHashMap<>();
    instruments.all().forEach(i -> configured.put(i.symbol(), Units.of(i, assetScale)));
    var pins = ClusterSharding.get(system).entityRefFor(TYPE_KEY, ENTITY_ID);
    return pins.<Verdict>ask(replyTo -> new Check(configured, replyTo), timeout)
        .thenCompose(verdict -> {
          if (!verdict.problems().isEmpty()) {
            throw new ConfigException.BadValue("clearinghouse.instruments", String.join("; ", verdict.problems()));
          }
          if (verdict.leftOut().isEmpty()) {
            return CompletableFuture.completedFuture(null);
          }
          return positions.apply(new TreeSet<>(verdict.leftOut())).thenCompose(used -> {
            List<String> problems = new ArrayList<>();
            new TreeMap<>(used).forEach((symbol, why) -> problems.add("instrument " + symbol + " is pinned but missing "
                + "from clearinghouse.instruments, and the journal still needs it (" + why + "): an instrument "
                + "can be dropped only while no position or order was ever taken in it (its stored figures would be "
                + "unreadable) and every journal reads; list it again, or repair the journals named"));
            if (!problems.isEmpty()) {
              throw new ConfigException.BadValue("clearinghouse.instruments", String.join("; ", problems));
            }
            log.info("Retiring instruments left out of the configuration, with no position in the journal: {}",
                verdict.leftOut());
            return pins.<Verdict>ask(replyTo -> new Retire(verdict.leftOut(), replyTo), timeout)
                .thenApply(retired -> (Void) null);
          });
        });
  }

  private final Clock clock;

  private PinnedUnits(Clock clock) {
    super(PersistenceId.of(TYPE_KEY.name(), ENTITY_ID));
    this.clock = clock;
  }

  @Override
  public State emptyState() {
    return new State(Map.of());
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Check.class, (state, check) -> {
          List<String> problems = disagreements(state.pinned(), check.configured());
          if (!problems.isEmpty()) {
            return Effect().reply(check.replyTo(), new Verdict(problems));
          }
          long now = clock.millis();
          List<Event> pins = new ArrayList<>();
          new TreeMap<>(check.configured()).forEach((symbol, units) -> {
            if (!state.pinned().containsKey(symbol) || state.retired().contains(symbol)) {
              pins.add(new UnitsPinned(symbol, units, now));
            }
          });
          List<String> leftOut = state.leftOut(check.configured());
          return Effect().persist(pins).thenReply(check.replyTo(), s -> new Verdict(List.of(), leftOut));
        })
        .onCommand(Retire.class, (state, retire) -> {
          long now = clock.millis();
          List<Event> retired = new ArrayList<>();
          new TreeSet<>(retire.symbols()).forEach(symbol -> {
            if (state.pinned().containsKey(symbol) && !state.retired().contains(symbol)) {
              retired.add(new InstrumentRetired(symbol, now));
            }
          });
          return Effect().persist(retired).thenReply(retire.replyTo(), s -> new Verdict(List.of()));
        })
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(UnitsPinned.class, State::with)
        .onEvent(InstrumentRetired.class, State::with)
        .build();
  }
}
