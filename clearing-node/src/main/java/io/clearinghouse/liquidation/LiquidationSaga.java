package io.clearinghouse.liquidation;

// Over 400 lines: the saga's commands, its events and their wire forms (every event a persisted class) live with the entity that journals them; the steps, venues and phases are already apart (SagaDriver, SagaSteps, VenueSearch, SagaPhases).
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.clearinghouse.account.Account;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.liquidation.SagaPhases.Assessment;
import io.clearinghouse.liquidation.SagaPhases.Payments;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.persistence.CborSerializable;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One liquidation, driven through the waterfall of DESIGN section 6 across the cluster:
 * plan -> close (backstop providers, else auto-deleveraging) -> repeat until the account is
 * healthy or flat -> penalties to the insurance fund -> cover of any deficit by the fund -> what
 * the fund could not cover as debt -> end. Sharded by liquidation id, event-sourced and
 * remembered until it finishes.
 *
 * <p>Every step is an ask to another entity carrying the key {@code liquidationId/step}; the
 * answer is persisted before the next step is sent. After a crash the saga recovers its journal
 * and re-sends the step it was at with the same key, which the entity answers with its first
 * result: the saga ends exactly as it would have without the crash. Money between two entities
 * (penalties on their way to the fund, the fund's cover on its way to the account) is held in the
 * saga's escrow, which the ledger audit counts.
 *
 * <p>Its state is one of the phases of {@link SagaPhases}; each event applies in its own phase
 * only, and {@link SagaDriver} chooses the next step by the phase's type.
 */
public final class LiquidationSaga
    extends EventSourcedBehavior<LiquidationSaga.Command, LiquidationSaga.Event, LiquidationSaga.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "LiquidationSaga");

  // --- protocol -------------------------------------------------------------------------

  public sealed interface Command extends CborSerializable {}

  /** From the liquidated account, after LiquidationStarted and again periodically until it ends. */
  public record Begin(String accountId, Account.Liquidation trigger) implements Command {}

  /** The fund-flow record so far (final once {@code outcome} is set); empty if never begun. */
  public record Get(ActorRef<Optional<FundFlow>> replyTo) implements Command {}

  record Answer(long attempt, StepAnswer reply) implements Command {}

  record Failed(long attempt, String why) implements Command {}

  record Retry(long attempt) implements Command {}

  /** Every counterparty and fund has dropped this finished liquidation's keys and holds (or not). */
  record Forgot(long attempt, String failure) implements Command {}

  /** Names are stored in journals: never rename. FUND: the insurance fund took the close over at the bankruptcy price. */
  public enum Venue { BACKSTOP, ADL, FUND }

  // --- events ---------------------------------------------------------------------------

  public sealed interface Event extends CborSerializable {}

  public record Began(String accountId, Account.Liquidation trigger) implements Event {}

  /** What to close next (a new step, or the same step planned again at a fresher mark). */
  public record ClosePlanned(int step, String instrument, long signedLots, long markTicks, long bankruptcyTicks,
      boolean isolated) implements Event {}

  /**
   * The counterparty asked to take (at most) {@code signedLots} of the close, at {@code priceTicks};
   * a provider within its registered notional limit {@code providerLimit}.
   */
  public record VenueChosen(int step, Venue venue, String counterparty, long priceTicks, long signedLots,
      long providerLimit) implements Event {}

  /** The counterparty took none of it (a provider's margin or limit, no opposite position left). */
  public record VenueDeclined(int step, String counterparty, String reason) implements Event {}

  /** The counterparty's side, applied first: a provider's takeover or a deleveraged reduction. */
  public record TakenOver(int step, LiquidationTransfer transfer) implements Event {}

  /**
   * The liquidated account's side, as it applied it (at most what was taken over; penalty into
   * escrow). {@code fullPenalty}: what the penalty rate charges on the close's notional, before it
   * was cut to what the trader had above bankruptcy.
   */
  public record Closed(int step, LiquidationTransfer transfer, long fullPenalty) implements Event {
    public Closed(int step, LiquidationTransfer transfer) {
      this(step, transfer, 0);
    }
  }

  /** The counterparty gives back what the liquidated account no longer held to close. */
  public record Undone(int step, LiquidationTransfer transfer) implements Event {}

  /** No more closes: the account is healthy or flat ({@code note} says when a stop found no taker). */
  public record ClosingFinished(long epochMillis, String note) implements Event {}

  /**
   * A share of the penalties held in escrow delivered to {@code fund}: a fund's name,
   * {@code reserve/<name>} (a platform reserve) or {@code provider/<account>} (a liquidator's reward).
   */
  public record PenaltyDelivered(String fund, long amount) implements Event {}

  /** Of the penalties held in escrow, {@code amount} covers this liquidation's own deficit before any reserve pays. */
  public record PenaltyApplied(long amount) implements Event {}

  /** The operator's capital paid {@code amount} of {@code requested} into escrow (after the fund, within its daily amount). */
  public record CapitalPaid(long requested, long amount) implements Event {}

  /**
   * What the account needs covered, and its cash then: {@code shortfall} owed by closed isolated
   * positions (never charged to the cash) plus the cross deficit ({@code need - shortfall}).
   */
  public record SettlementAssessed(String fund, long need, long cash, long shortfall) implements Event {}

  /** The fund paid {@code amount} of {@code requested} into escrow. */
  public record FundPaid(String fund, long requested, long amount) implements Event {}

  /** The cover (penalty applied, the fund's and the operator capital's payments) delivered from escrow to the account. */
  public record CoverDelivered(long amount) implements Event {}

  /** What nobody covered, recorded as the account's debt. */
  public record DebtLeft(long amount) implements Event {}

  /** {@code outcome}: an {@link Outcome}'s wire value (a string in the journal, as it always was). */
  public record Finished(String outcome, long epochMillis) implements Event {}


  // --- state ----------------------------------------------------------------------------

  /**
   * One close of the liquidation as far as it got: planned, the venue asked (after the ones that
   * declined), the counterparty's side, the liquidated account's side, and a give-back when the
   * liquidated account held less than the counterparty took.
   */
  public record Close(int step, String instrument, long plannedLots, long markTicks, long bankruptcyTicks,
      boolean isolated, List<String> declined, Venue venue, String counterparty, long priceTicks, long venueLots,
      long providerLimit, LiquidationTransfer taken, LiquidationTransfer closed, LiquidationTransfer undone,
      long fullPenalty) implements CborSerializable {
    public Close {
      declined = declined == null ? List.of() : List.copyOf(declined);
    }

    public Close(int step, String instrument, long plannedLots, long markTicks, long bankruptcyTicks, boolean isolated,
        List<String> declined, Venue venue, String counterparty, long priceTicks, long venueLots, long providerLimit,
        LiquidationTransfer taken, LiquidationTransfer closed, LiquidationTransfer undone) {
      this(step, instrument, plannedLots, markTicks, bankruptcyTicks, isolated, declined, venue, counterparty,
          priceTicks, venueLots, providerLimit, taken, closed, undone, 0);
    }

    static Close planned(ClosePlanned e) {
      return new Close(e.step(), e.instrument(), e.signedLots(), e.markTicks(), e.bankruptcyTicks(), e.isolated(),
          List.of(), null, null, 0, 0, 0, null, null, null);
    }

    Close with(VenueChosen e) {
      return new Close(step, instrument, plannedLots, markTicks, bankruptcyTicks, isolated, declined, e.venue(),
          e.counterparty(), e.priceTicks(), e.signedLots(), e.providerLimit(), null, null, null);
    }

    Close declinedBy(String counterparty) {
      List<String> after = new ArrayList<>(declined);
      after.add(counterparty);
      return new Close(step, instrument, plannedLots, markTicks, bankruptcyTicks, isolated, after, null, null, 0, 0, 0,
          null, null, null);
    }

    Close withSides(LiquidationTransfer taken, LiquidationTransfer closed, LiquidationTransfer undone) {
      return new Close(step, instrument, plannedLots, markTicks, bankruptcyTicks, isolated, declined, venue,
          counterparty, priceTicks, venueLots, providerLimit, taken, closed, undone, fullPenalty);
    }

    Close closedWith(LiquidationTransfer closed, long fullPenalty) {
      return new Close(step, instrument, plannedLots, markTicks, bankruptcyTicks, isolated, declined, venue,
          counterparty, priceTicks, venueLots, providerLimit, taken, closed, null, fullPenalty);
    }

    /** What the penalty rate would have charged beyond the penalty taken. */
    public long penaltyCut() {
      return closed == null ? 0 : Math.max(0, fullPenalty - closed.penalty());
    }

    /** What the counterparty still holds of the close once both sides and any give-back are in. */
    long unmatchedLots() {
      long lots = taken.signedLots() + closed.signedLots();
      return undone == null ? lots : lots + undone.signedLots();
    }

    boolean done() {
      return closed != null && unmatchedLots() == 0;
    }
  }

  /**
   * Where the liquidation is: one of the phases of {@link SagaPhases}, each holding what it needs.
   * The views below are what the fund-flow record, the settlement and the forgetting read whatever
   * the phase: empty (null, zero, none) before the phase that fills them.
   */
  public sealed interface State extends CborSerializable permits SagaPhases.NotBegun, SagaPhases.Closing,
      SagaPhases.Assessing, SagaPhases.Covering, SagaPhases.Distributing, SagaPhases.Ended {

    static State empty() {
      return SagaPhases.NotBegun.INSTANCE;
    }

    /** The liquidated account (null before it began). */
    String accountId();

    Account.Liquidation trigger();

    /** The closes so far, in order. */
    List<Close> closes();

    /** Why the closes ended early (a stop that found no taker), or null. */
    default String closingNote() {
      return null;
    }

    /** What the account needs covered; null before it was assessed. */
    default Assessment assessment() {
      return null;
    }

    default Payments payments() {
      return Payments.NONE;
    }

    default Map<String, Long> penaltiesDelivered() {
      return Map.of();
    }

    /** An {@link Outcome}'s wire value once finished, else null. */
    default String outcome() {
      return null;
    }

    default long finishedMillis() {
      return 0;
    }

    default String coverFund() {
      return assessment() == null ? null : assessment().fund();
    }

    default Long need() {
      return assessment() == null ? null : assessment().need();
    }

    default long cashAtSettlement() {
      return assessment() == null ? 0 : assessment().cash();
    }

    default long shortfall() {
      return assessment() == null ? 0 : assessment().shortfall();
    }

    /** The deficit's cover, layer by layer: the penalty applied, the fund's and the operator capital's payments. */
    default long cover() {
      Payments paid = payments();
      return Math.addExact(Math.addExact(paid.penaltyApplied() == null ? 0 : paid.penaltyApplied(),
          paid.fundPaid() == null ? 0 : paid.fundPaid()), paid.capitalPaid() == null ? 0 : paid.capitalPaid());
    }

    /** Of the cover, what goes to the isolated shortfalls (first) rather than the cash. */
    default long shortfallCovered() {
      return Math.min(cover(), shortfall());
    }

    /** Every penalty the closes took. */
    default long penalties() {
      return SagaPhases.penalties(this);
    }

    /** Penalties taken and not yet delivered to a fund, reserve or provider (some may be applied to the deficit). */
    default long undeliveredPenalties() {
      return SagaPhases.undeliveredPenalties(this);
    }

    /** Money held by the saga: penalties not yet delivered, payments not yet with the account. */
    default long escrow() {
      return SagaPhases.escrow(this);
    }

    /** Every account that took a side of a close, and every fund the saga touched: told to forget its keys. */
    default Set<String> counterparties() {
      return SagaPhases.counterparties(this);
    }

    /**
     * The one-record form the state had before its phases (issue 12), as its golden form holds it:
     * read into the phase it describes. The saga is never snapshotted, so no journal holds it.
     */
    @JsonCreator
    static State fromOneRecordForm(@JsonProperty("accountId") String accountId,
        @JsonProperty("trigger") Account.Liquidation trigger, @JsonProperty("closes") List<Close> closes,
        @JsonProperty("closingDone") boolean closingDone, @JsonProperty("closingNote") String closingNote,
        @JsonProperty("penaltiesDelivered") Map<String, Long> penaltiesDelivered,
        @JsonProperty("coverFund") String coverFund, @JsonProperty("need") Long need,
        @JsonProperty("fundPaid") Long fundPaid, @JsonProperty("coverDelivered") boolean coverDelivered,
        @JsonProperty("debt") Long debt, @JsonProperty("outcome") String outcome,
        @JsonProperty("finishedMillis") long finishedMillis, @JsonProperty("cashAtSettlement") long cash,
        @JsonProperty("shortfall") long shortfall, @JsonProperty("penaltyApplied") Long penaltyApplied,
        @JsonProperty("capitalPaid") Long capitalPaid) {
      return SagaPhases.fromOneRecordForm(accountId, trigger, closes, closingDone, closingNote, penaltiesDelivered,
          need == null ? null : new Assessment(coverFund, need, cash, shortfall),
          new Payments(penaltyApplied, fundPaid, capitalPaid, coverDelivered, debt), outcome, finishedMillis);
    }
  }

  // --- wiring ---------------------------------------------------------------------------

  /**
   * What a saga needs from its node; {@code sizing} cuts each planned close to the market depth
   * (issue 16 item 3).
   */
  public record Environment(LiquidationSettings settings, Instruments instruments, AdlCandidates adl, Metrics metrics,
      Clock clock, CloseSizing sizing) {
    /** Closes as planned, whatever the depth. */
    public Environment(LiquidationSettings settings, Instruments instruments, AdlCandidates adl, Metrics metrics,
        Clock clock) {
      this(settings, instruments, adl, metrics, clock, CloseSizing.WHOLE);
    }
  }

  public static void init(ActorSystem<?> system, Environment environment) {
    ClusterSharding sharding = ClusterSharding.get(system);
    sharding.init(Entity.of(TYPE_KEY, context -> Behaviors.<Command>setup(ctx -> Behaviors.withTimers(timers ->
        new LiquidationSaga(new SagaSteps(context.getEntityId(), environment, sharding), ctx, timers,
            () -> context.getShard().tell(new ClusterSharding.Passivate<>(ctx.getSelf())))))));
  }

  public static PersistenceId persistenceId(String liquidationId) {
    return PersistenceId.of(TYPE_KEY.name(), liquidationId);
  }

  private final String liquidationId;
  private final Environment env;
  private final SagaDriver driver;
  private final Runnable passivate;

  private LiquidationSaga(SagaSteps steps, org.apache.pekko.actor.typed.javadsl.ActorContext<Command> context,
      org.apache.pekko.actor.typed.javadsl.TimerScheduler<Command> timers, Runnable passivate) {
    super(persistenceId(steps.liquidationId()));
    this.liquidationId = steps.liquidationId();
    this.env = steps.env();
    this.driver = new SagaDriver(steps, context, timers, Effect(), () -> lastSequenceNumber(context));
    this.passivate = passivate;
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), driver::drive).build();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Begin.class, (state, begin) -> state.accountId() != null
            ? Effect().none()
            : driver.persist(new Began(begin.accountId(), begin.trigger()), env.metrics()::liquidationStarted))
        .onCommand(Get.class, (state, get) -> {
          get.replyTo().tell(state.accountId() == null ? Optional.empty() : Optional.of(FundFlow.of(liquidationId, state,
              env.settings())));
          return Effect().none();
        })
        .onCommand(Retry.class, (state, retry) -> {
          if (driver.current(retry.attempt())) {
            driver.drive(state);
          }
          return Effect().none();
        })
        .onCommand(Forgot.class, (state, forgot) -> {
          if (!driver.current(forgot.attempt())) {
            return Effect().none();
          }
          if (forgot.failure() != null) {
            return driver.retryLater("forgetting its keys and holds: " + forgot.failure());
          }
          passivate.run();
          return Effect().none();
        })
        .onCommand(Failed.class, (state, failed) -> driver.current(failed.attempt()) ? driver.retryLater(failed.why())
            : Effect().none())
        .onCommand(Answer.class, (state, answer) -> driver.current(answer.attempt())
            ? driver.onAnswer(state, answer.reply()) : Effect().none())
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(LiquidationSaga::apply);
  }

  /** The saga's state after {@code event}: also how the fund-flow records are read back from the journal. */
  public static State apply(State s, Event event) {
    return SagaPhases.apply(s, event);
  }

  /** How many crashes fault injection has caused in this JVM (for the crash tests). */
  public static int injectedCrashes() {
    return SagaDriver.INJECTED.size();
  }

  /** See {@link io.clearinghouse.margin.LiquidationRules#backstopPrice}. */
  static long backstopPrice(long markTicks, long closeLots, long spreadPpm) {
    return io.clearinghouse.margin.LiquidationRules.backstopPrice(markTicks, closeLots, spreadPpm);
  }

  /** What closing at {@code price} would lose beyond the bankruptcy price. */
  static long deficit(Close close, long price, Instrument instrument) {
    return io.clearinghouse.margin.LiquidationRules.deficit(close.plannedLots(), close.bankruptcyTicks(), price,
        instrument);
  }
}
