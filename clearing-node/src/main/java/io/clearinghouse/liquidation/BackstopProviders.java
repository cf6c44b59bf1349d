package io.clearinghouse.liquidation;

import io.clearinghouse.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.List;
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
 * The backstop liquidity providers registered for one instrument, in registration order: the
 * order in which a liquidation saga offers them a position. Registering an account again
 * replaces its limit; a limit of 0 withdraws it.
 */
public final class BackstopProviders extends EventSourcedBehaviorWithEnforcedReplies<BackstopProviders.Command,
    BackstopProviders.Event, BackstopProviders.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "BackstopProviders");

  public sealed interface Command extends CborSerializable {}

  /** Registers {@code accountId} with a limit on the notional of its position in the instrument (0: withdraw). */
  /** {@code by}: the name of the operator token that asked (recorded on the event). */
  public record Register(String accountId, long maxNotional, String by, ActorRef<Providers> replyTo) implements Command {
    public Register(String accountId, long maxNotional, ActorRef<Providers> replyTo) {
      this(accountId, maxNotional, "", replyTo);
    }
  }

  public record ListProviders(ActorRef<Providers> replyTo) implements Command {}

  public record Provider(String accountId, long maxNotional) implements CborSerializable {}

  public record Providers(String instrument, List<Provider> providers) implements CborSerializable {}

  public sealed interface Event extends CborSerializable {}

  /** {@code by}: the operator token's name ("" in events written before it was recorded). */
  public record ProviderRegistered(String accountId, long maxNotional, String by) implements Event {
    public ProviderRegistered {
      by = by == null ? "" : by;
    }

    public ProviderRegistered(String accountId, long maxNotional) {
      this(accountId, maxNotional, "");
    }
  }

  public record State(List<Provider> providers) implements CborSerializable {
    public State {
      providers = List.copyOf(providers);
    }

    State with(ProviderRegistered e) {
      List<Provider> after = new ArrayList<>(providers.size() + 1);
      boolean replaced = false;
      for (Provider p : providers) {
        if (p.accountId().equals(e.accountId())) {
          replaced = true;
          if (e.maxNotional() > 0) {
            after.add(new Provider(e.accountId(), e.maxNotional()));
          }
        } else {
          after.add(p);
        }
      }
      if (!replaced && e.maxNotional() > 0) {
        after.add(new Provider(e.accountId(), e.maxNotional()));
      }
      return new State(after);
    }
  }

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, context -> new BackstopProviders(context.getEntityId())));
  }

  /** For tests: the behaviour without sharding. */
  public static Behavior<Command> create(String instrument) {
    return new BackstopProviders(instrument);
  }

  private final String instrument;

  private BackstopProviders(String instrument) {
    super(PersistenceId.of(TYPE_KEY.name(), instrument));
    this.instrument = instrument;
  }

  @Override
  public State emptyState() {
    return new State(List.of());
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Register.class, (state, cmd) -> Effect().persist(new ProviderRegistered(cmd.accountId(), cmd.maxNotional(), cmd.by()))
            .thenReply(cmd.replyTo(), s -> new Providers(instrument, s.providers())))
        .onCommand(ListProviders.class, (state, cmd) -> Effect().reply(cmd.replyTo(), new Providers(instrument, state.providers())))
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(ProviderRegistered.class, State::with)
        .build();
  }
}
