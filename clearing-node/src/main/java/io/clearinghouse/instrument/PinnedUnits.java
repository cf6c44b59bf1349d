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
import java.util.TreeMap;
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
 * later (a restart or a node joining) checks its configuration against them: a difference, or a
 * pinned instrument left out of the configuration (its positions would be unreadable), stops the
 * node naming the instrument. One entity for the cluster (sharded, so one writer).
 */
public final class PinnedUnits extends EventSourcedBehaviorWithEnforcedReplies<PinnedUnits.Command,
    PinnedUnits.Event, PinnedUnits.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "PinnedUnits");
  private static final String ENTITY_ID = "units";

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

  /** Empty when the configuration agrees with every pinned instrument. */
  public record Verdict(List<String> problems) implements CborSerializable {
    public Verdict {
      problems = List.copyOf(problems);
    }
  }

  public sealed interface Event extends CborSerializable {}

  public record UnitsPinned(String symbol, Units units, long epochMillis) implements Event {}

  public record State(Map<String, Units> pinned) implements CborSerializable {
    public State {
      pinned = Map.copyOf(pinned);
    }

    State with(UnitsPinned e) {
      Map<String, Units> next = new LinkedHashMap<>(pinned);
      next.put(e.symbol(), e.units());
      return new State(next);
    }
  }

  /** Every way {@code configured} disagrees with {@code pinned}, one sentence each, by symbol. */
  public static List<String> disagreements(Map<String, Units> pinned, Map<String, Units> configured) {
    List<String> problems = new ArrayList<>();
    new TreeMap<>(pinned).forEach((symbol, units) -> {
      Units now = configured.get(symbol);
      if (now == null) {
        problems.add("instrument " + symbol + " is pinned (" + units + ") but missing from clearinghouse.instruments: "
            + "an instrument whose events exist cannot be dropped (its positions would be unreadable)");
      } else if (!units.sameAs(now)) {
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
   * exceptionally with a {@link ConfigException} naming every disagreement.
   */
  public static CompletionStage<Void> check(ActorSystem<?> system, Instruments instruments, int assetScale,
      Duration timeout) {
    Map<String, Units> configured = new LinkedHashMap<>();
    instruments.all().forEach(i -> configured.put(i.symbol(), Units.of(i, assetScale)));
    return ClusterSharding.get(system).entityRefFor(TYPE_KEY, ENTITY_ID)
        .<Verdict>ask(replyTo -> new Check(configured, replyTo), timeout)
        .thenApply(verdict -> {
          if (!verdict.problems().isEmpty()) {
            throw new ConfigException.BadValue("clearinghouse.instruments", String.join("; ", verdict.problems()));
          }
          return null;
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
            if (!state.pinned().containsKey(symbol)) {
              pins.add(new UnitsPinned(symbol, units, now));
            }
          });
          return Effect().persist(pins).thenReply(check.replyTo(), s -> new Verdict(List.of()));
        })
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(UnitsPinned.class, State::with)
        .build();
  }
}
