package io.clearinghouse.api;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.money.Asset;
import io.clearinghouse.protocol.v1.AccountUpdate;
import io.clearinghouse.protocol.v1.MarginAlert;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * Live account streams: the account pushes its state on subscribe and after every change; the
 * stream subscribes again at a fixed interval, which both re-reads the state (a mark moving
 * changes the margin ratio without any account event: the account answers a subscription with
 * its state) and re-attaches to an account that moved to another node and forgot its
 * subscribers. One message and one answer per stream per interval, nothing waited for: while the
 * account is unreachable (its node died) the stream stays open and resumes once it is back. An
 * account that does not exist ends the stream (NOT_FOUND). Alerts are raised when the margin
 * ratio rises through a level and when liquidation starts.
 */
public final class AccountStreams {
  private static final Asset RATIO = new Asset("ratio", 6);

  private final ActorSystem<?> system;
  private final List<Long> levelsPpm;
  private final Duration refresh;
  private final io.clearinghouse.price.VolatilityBoard volatility;
  private final io.clearinghouse.price.RiskSignals signals;

  public io.clearinghouse.price.VolatilityBoard volatility() {
    return volatility;
  }

  public AccountStreams(ActorSystem<?> system, List<Long> levelsPpm, Duration refresh) {
    this(system, levelsPpm, refresh, null);
  }

  /** {@code volatility} (may be null): the node's volatility index, for the UNUSUAL_VOLATILITY alert. */
  public AccountStreams(ActorSystem<?> system, List<Long> levelsPpm, Duration refresh,
      io.clearinghouse.price.VolatilityBoard volatility) {
    this(system, levelsPpm, refresh, volatility, null);
  }

  /** {@code signals} (may be null): MARGIN_TIGHTENING and THIN_MARKET (issue 16). */
  public AccountStreams(ActorSystem<?> system, List<Long> levelsPpm, Duration refresh,
      io.clearinghouse.price.VolatilityBoard volatility, io.clearinghouse.price.RiskSignals signals) {
    this.signals = signals;
    this.volatility = volatility;
    this.system = system;
    this.levelsPpm = List.copyOf(levelsPpm);
    this.refresh = refresh;
  }

  Source<AccountUpdate, NotUsed> updates(String accountId, ProtoMapping mapping) {
    Pair<ActorRef<AccountEntity.Reply>, Source<AccountEntity.Reply, NotUsed>> pushed =
        ActorSource.<AccountEntity.Reply>actorRef(m -> false, m -> Optional.empty(), 256, OverflowStrategy.dropHead())
            .preMaterialize(system);
    ActorRef<AccountEntity.Reply> subscriber = pushed.first();
    var account = ClusterSharding.get(system).entityRefFor(AccountEntity.TYPE_KEY, accountId);
    Source<Object, NotUsed> subscribing = Source.tick(Duration.ZERO, refresh, NotUsed.getInstance())
        .mapMaterializedValue(c -> NotUsed.getInstance())
        .map(tick -> {
          account.tell(new AccountEntity.Subscribe(subscriber));
          return tick;
        })
        .filter(tick -> false)
        .map(tick -> (Object) tick);
    Source<Object, NotUsed> fromEntity = pushed.second()
        .map(r -> {
          if (r instanceof AccountEntity.Rejected rejected) {
            throw GrpcErrors.toGrpc(new RejectedException(rejected.reason(), rejected.message()));
          }
          return r;
        })
        .filter(r -> r instanceof AccountEntity.Snapshot || r instanceof AccountEntity.Notice)
        .map(r -> r instanceof AccountEntity.Snapshot s ? s.account() : r);
    // The subscriptions end with the entity's side: merge completes once both have, and a failure ends both.
    return fromEntity.merge(subscribing)
        .statefulMap(() -> new Seen(null, 0, null, java.util.Set.of(), java.util.Set.of()),
            (seen, next) -> {
              if (next instanceof AccountEntity.Notice notice) {
                return Pair.create(seen, notice(seen, notice, mapping));
              }
              AccountSummary now = (AccountSummary) next;
              java.util.Set<String> unusual = unusual(now);
              java.util.Set<String> signalled = signalled(now);
              return Pair.create(new Seen(now, ratio(now), now.liquidationId(), unusual, signalled),
                  update(seen, now, unusual, signalled, mapping));
            },
            seen -> Optional.empty())
        .filter(Optional::isPresent)
        .map(Optional::get);
  }

  /** An event the account told its subscribers, with the last state sent. */
  private static Optional<AccountUpdate> notice(Seen seen, AccountEntity.Notice notice, ProtoMapping mapping) {
    AccountUpdate.Builder update = AccountUpdate.newBuilder();
    if (seen.summary() != null) {
      update.setAccount(mapping.view(seen.summary()));
    }
    update.addAlerts(MarginAlert.newBuilder()
        .setKind(switch (notice.kind()) {
          case DELEVERAGED -> MarginAlert.Kind.DELEVERAGED;
          case STOP_TRIGGERED -> MarginAlert.Kind.STOP_TRIGGERED;
          case FUNDING -> MarginAlert.Kind.FUNDING;
        })
        .setLiquidationId(notice.liquidationId())
        .setMessage(notice.message()));
    return Optional.of(update.build());
  }

  /** What the stream last sent. */
  private record Seen(AccountSummary summary, long ratioPpm, String liquidationId, java.util.Set<String> unusual,
      java.util.Set<String> signalled) {}

  /** The issue 16 signals standing now on held instruments: "tightening:X" and "thin:X". */
  private java.util.Set<String> signalled(AccountSummary now) {
    if (signals == null) {
      return java.util.Set.of();
    }
    java.util.Map<String, Long> held = new java.util.TreeMap<>();
    now.positions().forEach(p -> held.put(p.instrument(), p.lots()));
    java.util.Set<String> standing = new java.util.TreeSet<>();
    signals.tightening(held).forEach(i -> standing.add("tightening:" + i));
    signals.thin(held).forEach(i -> standing.add("thin:" + i));
    return standing;
  }

  /** The alerts of signals that were not standing when the stream last sent. */
  private void signalAlerts(Seen seen, java.util.Set<String> signalled, AccountUpdate.Builder update) {
    for (String signal : signalled) {
      if (seen.signalled().contains(signal)) {
        continue;
      }
      String instrument = signal.substring(signal.indexOf(':') + 1);
      if (signal.startsWith("tightening:")) {
        var scale = signals.scales().scale(instrument);
        update.addAlerts(MarginAlert.newBuilder().setKind(MarginAlert.Kind.MARGIN_TIGHTENING).setLevel(instrument)
            .setMessage("maintenance margin on " + instrument + " will rise to " + io.clearinghouse.common.Ppm.format(
                scale.pendingPpm()) + " of its configured rates (now " + io.clearinghouse.common.Ppm.format(
                scale.maintenancePpm()) + ") unless volatility falls back; initial margin is already at "
                + io.clearinghouse.common.Ppm.format(scale.initialPpm())));
      } else {
        update.addAlerts(MarginAlert.newBuilder().setKind(MarginAlert.Kind.THIN_MARKET).setLevel(instrument)
            .setMessage("thin market on " + instrument + ": the depth a close of your position would hit is under "
                + "the threshold; a liquidation would close in slices"));
      }
    }
  }

  /** The held instruments whose volatility is unusual now. */
  private java.util.Set<String> unusual(AccountSummary now) {
    if (volatility == null) {
      return java.util.Set.of();
    }
    java.util.Set<String> unusual = new java.util.TreeSet<>();
    for (var position : now.positions()) {
      if (position.lots() != 0 && volatility.index(position.instrument()).unusual()) {
        unusual.add(position.instrument());
      }
    }
    return unusual;
  }

  private static long ratio(AccountSummary s) {
    return s.marginRatioPpm() == AccountSummary.NO_RATIO ? 0 : s.marginRatioPpm();
  }

  private Optional<AccountUpdate> update(Seen seen, AccountSummary now, java.util.Set<String> unusual,
      java.util.Set<String> signalled, ProtoMapping mapping) {
    boolean newlyUnusual = unusual.stream().anyMatch(i -> !seen.unusual().contains(i))
        || signalled.stream().anyMatch(i -> !seen.signalled().contains(i));
    if (now.equals(seen.summary()) && !newlyUnusual) {
      return Optional.empty();
    }
    AccountUpdate.Builder update = AccountUpdate.newBuilder().setAccount(mapping.view(now));
    long ratio = ratio(now);
    for (long level : levelsPpm) {
      if (seen.ratioPpm() < level && ratio >= level) {
        update.addAlerts(MarginAlert.newBuilder().setKind(MarginAlert.Kind.MARGIN_RATIO_ABOVE)
            .setLevel(RATIO.format(level))
            .setMessage("margin ratio " + (ratio == AccountSummary.INFINITE_RATIO ? "inf" : RATIO.format(ratio))
                + " reached " + RATIO.format(level) + "; liquidation starts at 1.000000"));
      }
    }
    if (now.liquidationId() != null && !now.liquidationId().equals(seen.liquidationId())) {
      update.addAlerts(MarginAlert.newBuilder().setKind(MarginAlert.Kind.LIQUIDATION_STARTED)
          .setLiquidationId(now.liquidationId())
          .setMessage("liquidation " + now.liquidationId() + " started: the account is reduce-only"));
    }
    if (seen.liquidationId() != null && !seen.liquidationId().equals(now.liquidationId())) {
      update.addAlerts(MarginAlert.newBuilder().setKind(MarginAlert.Kind.LIQUIDATION_ENDED)
          .setLiquidationId(seen.liquidationId())
          .setMessage("liquidation " + seen.liquidationId() + " ended" + (now.debt() > 0
              ? "; the account owes " + mapping.money(now.debt()) + " and can trade again once it is repaid" : "")));
    }
    for (String instrument : unusual) {
      if (!seen.unusual().contains(instrument)) {
        var index = volatility.index(instrument);
        update.addAlerts(MarginAlert.newBuilder().setKind(MarginAlert.Kind.UNUSUAL_VOLATILITY).setLevel(instrument)
            .setMessage("unusual volatility on " + instrument + ": " + io.clearinghouse.common.Ppm.format(index.shortPpm())
                + " annualized over the short window against " + io.clearinghouse.common.Ppm.format(index.longPpm())
                + " over the long one; liquidations come faster in such markets"));
      }
    }
    signalAlerts(seen, signalled, update);
    List<String> before = seen.summary() == null ? List.of() : seen.summary().haltedInstruments();
    for (String instrument : now.haltedInstruments()) {
      if (!before.contains(instrument)) {
        update.addAlerts(MarginAlert.newBuilder().setKind(MarginAlert.Kind.LIQUIDATIONS_HALTED)
            .setLevel(instrument)
            .setMessage("the operator halted new liquidations on " + instrument));
      }
    }
    return Optional.of(update.build());
  }
}
