package io.clearinghouse;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.account.FeeCollector;
import io.clearinghouse.account.RiskRegistry;
import io.clearinghouse.api.AccountGrpcService;
import io.clearinghouse.api.AccountStreams;
import io.clearinghouse.api.AdminGrpcService;
import io.clearinghouse.api.Authenticator;
import io.clearinghouse.api.ClearingGrpcService;
import io.clearinghouse.api.GrpcGuard;
import io.clearinghouse.api.GrpcServer;
import io.clearinghouse.api.PriceGrpcService;
import io.clearinghouse.api.ProtoMapping;
import io.clearinghouse.api.Quotas;
import io.clearinghouse.api.TransportSecurity;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.clearing.MarketCheck;
import io.clearinghouse.clearing.TradeRegister;
import io.clearinghouse.clearing.TradeRegisters;
import io.clearinghouse.instrument.PinnedUnits;
import io.clearinghouse.liquidation.BackstopProviders;
import io.clearinghouse.liquidation.FundUnwind;
import io.clearinghouse.liquidation.InsuranceFund;
import io.clearinghouse.liquidation.LiquidationSaga;
import io.clearinghouse.liquidation.Liquidations;
import io.clearinghouse.liquidation.ReserveSchedule;
import io.clearinghouse.metrics.Metrics;
import io.clearinghouse.monitor.AdlRankings;
import io.clearinghouse.monitor.MarginMonitor;
import io.clearinghouse.monitor.MonitorAdlCandidates;
import io.clearinghouse.monitor.ClosestToLiquidation;
import io.clearinghouse.monitor.OpenInterest;
import io.clearinghouse.monitor.StressSchedule;
import io.clearinghouse.monitor.StressTest;
import io.clearinghouse.ops.CascadeProgress;
import io.clearinghouse.ops.NodeContext;
import io.clearinghouse.ops.console.ConsoleBackend;
import io.clearinghouse.ops.Readiness;
import io.clearinghouse.price.LastTrades;
import io.clearinghouse.price.MarkPrices;
import io.clearinghouse.price.PriceFeed;
import io.clearinghouse.price.VolatilityBoard;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a clearing-house node. {@link #main} builds the actor system from configuration (and, in
 * local mode, a Cassandra of its own); {@link #init} wires the node into an actor system, which is
 * what tests call with their own configuration.
 */
public final class Main {
  public static final String SYSTEM_NAME = "ClearingHouse";
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  /** A running node: where its gRPC server listens, and its actor system. */
  public record Node(ActorSystem<?> system, InetSocketAddress grpcAddress, String managementUri) {}

  public static void main(String[] args) {
    // The build's persisted format, which a joining node is compared on (PersistedFormat).
    Config config = PersistedFormat.stamp(ConfigFactory.load());
    try {
      io.clearinghouse.funding.FundingSettings.fromConfig(config, NodeSettings.fromConfig(config).instruments());
      GrpcGuard.Settings.fromConfig(config);
      Authenticator.fromConfig(config);
      TransportSecurity.fromConfig(config);
      Quotas.fromConfig(config);
      io.clearinghouse.ops.NodeRoutes.metricsTokenRequired(config);
      LocalServices.startIfConfigured(config);
    } catch (ConfigException e) {
      System.err.println("Configuration error: " + e.getMessage());
      System.exit(2);
      return;
    } catch (RuntimeException e) {
      System.err.println("Cannot start: " + e.getMessage());
      System.exit(3);
      return;
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), SYSTEM_NAME, config);
    init(system).whenComplete((node, failure) -> {
      if (failure != null) {
        log.error("Node failed to start", failure);
        system.terminate();
      } else {
        LocalServices.printWelcome(config, node);
      }
    });
  }

  /**
   * The check of the instruments' units against the pinned ones, tried again with a growing delay
   * while the journal does not answer; a disagreement found later terminates the node.
   */
  private static io.clearinghouse.ops.UnitsGate unitsGate(ActorSystem<?> system, NodeSettings settings, Config config) {
    java.time.Duration timeout = config.getDuration("clearinghouse.pinned-units.check-timeout");
    Config pins = config.getConfig("clearinghouse.pinned-units");
    Duration retryMin = io.clearinghouse.common.ConfigValues.duration(pins, "clearinghouse.pinned-units", "retry-min",
        Duration.ofMillis(10), Duration.ofMinutes(10));
    Duration retryMax = io.clearinghouse.common.ConfigValues.duration(pins, "clearinghouse.pinned-units", "retry-max",
        retryMin, Duration.ofHours(1));
    return new io.clearinghouse.ops.UnitsGate(
        () -> PinnedUnits.check(system, settings.instruments(), settings.asset().scale(), timeout, usedOf(system)),
        (delay, task) -> system.scheduler().scheduleOnce(delay, task, system.executionContext()), retryMin, retryMax,
        system::terminate, () -> system.getWhenTerminated().toCompletableFuture().isDone());
  }

  /** Why the journal still needs each of the asked instruments (nothing for an unused one), to retire the others. */
  private static java.util.function.Function<java.util.Set<String>, CompletionStage<java.util.Map<String, String>>>
      usedOf(ActorSystem<?> system) {
    return symbols -> io.clearinghouse.audit.InstrumentUse.of(system, symbols).thenApply(uses -> {
      java.util.Map<String, String> used = new java.util.TreeMap<>();
      uses.forEach((symbol, use) -> {
        if (!use.unused()) {
          used.put(symbol, use.toString());
        }
      });
      return used;
    });
  }

  /** Wires the node into {@code system}: cluster, sharded entities, management HTTP and gRPC. */
  public static CompletionStage<Node> init(ActorSystem<?> system) {
    Config config = system.settings().config();
    log.info("Persisted format {} (this build's; a node of another is refused at join)", PersistedFormat.of(config));
    NodeSettings settings = NodeSettings.fromConfig(config);
    Clock clock = Clock.systemUTC();
    Authenticator auth = Authenticator.fromConfig(config);
    TransportSecurity tls = TransportSecurity.fromConfig(config);
    TransportSecurity.clusterClient(config).ifPresent(org.apache.pekko.http.javadsl.Http.get(system)
        ::setDefaultClientHttpsContext);
    Quotas quotas = Quotas.fromConfig(config);
    io.clearinghouse.ops.NodeRoutes.metricsTokenRequired(config);

    Cluster cluster = Cluster.get(system);
    if (settings.joinSelf()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
    MarkPrices marks = MarkPrices.start(system, clock, settings.prices().staleAfter(),
        settings.prices().checkInterval());
    Metrics metrics = new Metrics();
    NodeContext.get(system).init(marks, auth, metrics);
    // Before anything else listens to the marks: whoever reads the index after a mark sees it counted.
    VolatilityBoard volatility = VolatilityBoard.listening(marks, settings.volatility());
    NodeContext.get(system).volatility(volatility);
    io.clearinghouse.price.MarketDepth depth = io.clearinghouse.price.MarketDepth.start(system, clock,
        io.clearinghouse.price.MarketDepth.maxAge(config));
    AdlRankings rankings = AdlRankings.start(system, config.getDuration("clearinghouse.adl-ranking.remote-timeout"));
    // One rule sizes the saga's closes and the stress test's simulated ones (issue 16).
    io.clearinghouse.liquidation.CloseSizing sizing = io.clearinghouse.liquidation.CloseSizing.byDepth(
        settings.instruments(), depth);
    OpenInterest openInterest = OpenInterest.start(system,
        config.getDuration("clearinghouse.open-interest-refresh"));
    NodeContext.get(system).openInterest(openInterest::lots);
    // Issue 16: from here on every instrument is valued at its scaled margins (off by default). The
    // scales listen after the volatility board (they may judge a mark by its index) and before the
    // monitor, so the walk a mark starts reads the scales that mark put in force; marks accepted
    // before they listened are applied at once (MarginScales.listening).
    io.clearinghouse.price.RiskSignals signals = new io.clearinghouse.price.RiskSignals(settings.instruments(),
        io.clearinghouse.price.MarginScales.listening(settings.instruments(), marks, volatility, openInterest::lots),
        depth);
    NodeContext.get(system).signals(signals);
    RiskRegistry monitor = MarginMonitor.start(system, settings.instruments(), marks, metrics, rankings, sizing);
    ClusterSharding sharding = ClusterSharding.get(system);
    // The accounts sweep their trading fees into the platform-revenue reserve (through Liquidations, made below).
    AtomicReference<Liquidations> reserves = new AtomicReference<>();
    Duration sweepEvery = config.getDuration("clearinghouse.account.fee-sweep-interval");
    if (sweepEvery.isNegative() || sweepEvery.isZero()) {
      throw new ConfigException.BadValue("clearinghouse.account.fee-sweep-interval", "must be positive, was " + sweepEvery);
    }
    FeeCollector fees = new FeeCollector() {
      @Override
      public CompletionStage<Void> collect(String accountId, long sweep, long amount) {
        return reserves.get().collectFees(accountId, sweep, amount);
      }

      @Override
      public Duration interval() {
        return sweepEvery;
      }
    };
    // The settlements start below (they need the accounts' sharding first): the accounts read them through this.
    java.util.concurrent.atomic.AtomicReference<io.clearinghouse.account.SettlementPrices> settlementPrices =
        new java.util.concurrent.atomic.AtomicReference<>(io.clearinghouse.account.SettlementPrices.NONE);
    io.clearinghouse.account.SettlementPrices nodeSettlements = new io.clearinghouse.account.SettlementPrices() {
      @Override
      public long priceTicks(String instrument) {
        return settlementPrices.get().priceTicks(instrument);
      }

      @Override
      public java.util.concurrent.CompletionStage<Void> reportLate(String instrument, String accountId,
          AccountEntity.SettlementApplied own, int from, java.util.List<AccountEntity.SettledAfterExpiry> closes) {
        return settlementPrices.get().reportLate(instrument, accountId, own, from, closes);
      }
    };
    AccountEntity.init(system, new AccountEntity.Environment(settings.account(), settings.instruments(), marks, monitor,
        clock, (accountId, liquidation) -> sharding.entityRefFor(LiquidationSaga.TYPE_KEY, liquidation.liquidationId())
            .tell(new LiquidationSaga.Begin(accountId, liquidation)), fees, openInterest::lots,
        sequences -> io.clearinghouse.clearing.TradeRegisters.unfinished(sharding, settings.register(), sequences,
            settings.account().askTimeout().dividedBy(2))).withSettlementPrices(nodeSettlements));
    InsuranceFund.init(system, settings.liquidation().fundHistory(), settings.liquidation().topUpKeyRetention(), metrics,
        clock);
    InsuranceFund.initReserves(system, settings.liquidation().fundHistory(), settings.liquidation().topUpKeyRetention(),
        metrics, clock);
    BackstopProviders.init(system);
    MonitorAdlCandidates adl = new MonitorAdlCandidates(system, settings.liquidation().stepTimeout(),
        settings.liquidation().adlCandidatesPerNode());
    LiquidationSaga.init(system, new LiquidationSaga.Environment(settings.liquidation(), settings.instruments(), adl,
        metrics, clock, sizing));
    FundUnwind.init(system, new FundUnwind.Environment(settings.liquidation(), marks, clock));
    ReserveSchedule.init(system, settings.liquidation(), clock);
    PriceFeed.init(system, settings.prices(), marks, clock, metrics,
        symbol -> settings.instruments().specs().stream().filter(spec -> spec.symbol().equals(symbol)).findFirst()
            .map(spec -> spec.volatilityMargin()).orElse(io.clearinghouse.margin.MarginScaling.VolatilityTerms.NONE),
        settings.volatility());
    io.clearinghouse.funding.FundingSettings funding = io.clearinghouse.funding.FundingSettings.fromConfig(config,
        settings.instruments());
    io.clearinghouse.funding.Fundings fundings = io.clearinghouse.funding.FundingTicker.start(system, funding,
        settings.instruments(), clock);
    io.clearinghouse.expiry.Settlements settlements = io.clearinghouse.expiry.SettlementTicker.start(system,
        io.clearinghouse.expiry.ExpirySettings.fromConfig(config, settings.instruments()), settings.instruments(), clock,
        metrics);
    settlementPrices.set(settlements);
    // Trades and orders need a market price to be judged against (off only for tests without feeders).
    MarketCheck market = new MarketCheck(settings.instruments(), marks,
        system.settings().config().getBoolean("clearinghouse.require-mark"), clock, settlements::settled);
    TradeRegister.init(system, settings.register(), market);
    LastTrades lastTrades = LastTrades.start(system, settings.prices(), clock);

    Accounts accounts = new Accounts(system, settings.account().askTimeout(), metrics);
    LedgerAudit audit = new LedgerAudit(system, accounts, settings.instruments());
    Liquidations liquidations = new Liquidations(system, settings.liquidation(), settings.instruments(), accounts,
        settings.account().askTimeout(), config.getDuration("clearinghouse.liquidation.list-deadline"));
    reserves.set(liquidations);
    NodeContext.get(system).liquidations(liquidations);
    NodeContext.get(system).cascade(CascadeProgress.start(system, metrics, settings.asset(), settings.account().askTimeout()));
    NodeContext.get(system).instruments(settings.instruments().all().stream().map(i -> i.symbol()).toList());
    Readiness readiness = Readiness.start(system);
    // Nothing that needs a token is served before this node's instruments agree with the units the
    // journal is written in: a disagreement stops the node; a journal that does not answer yet
    // leaves gRPC refusing (UNAVAILABLE) until a later check passes.
    PinnedUnits.init(system, clock);
    StressTest stress = new StressTest(system, settings.instruments(), marks, liquidations, settings.stress());
    var stressRunner = StressSchedule.init(system, stress, metrics, clock);
    io.clearinghouse.ops.UnitsGate units = unitsGate(system, settings, config);
    NodeContext.get(system).units(units);
    AdminGrpcService admin = new AdminGrpcService(accounts, auth, settings.asset(), settings.instruments(), audit,
        liquidations, metrics, marks, fundings, new AdminGrpcService.Risk(stress, volatility, new ClosestToLiquidation(
            system, settings.stress().timeout()), limit -> StressSchedule.history(system, stressRunner, limit,
            settings.stress().timeout()))).withSettlements(settlements);
    NodeContext.get(system).console(ConsoleBackend.start(system, admin, settings.instruments(),
        settings.prices().sources(), units::agreed, marks, quotas));
    CompletionStage<ServerBinding> grpc = units.first().thenCompose(checked -> GrpcServer.start(system, settings.grpcHost(), settings.grpcPort(),
        GrpcGuard.Settings.fromConfig(config), auth, metrics,
        new AccountGrpcService(accounts, auth, settings.asset(), settings.instruments(),
            new AccountStreams(system, settings.alertLevelsPpm(), settings.accountStreamRefresh(), volatility,
                signals),
            liquidations, rankings, metrics, quotas, fundings),
        admin,
        new ClearingGrpcService(accounts, new TradeRegisters(system, settings.register(), settings.register().confirmTimeout()),
            market, auth,
            settings.instruments(), lastTrades,
            new ProtoMapping(settings.asset(), settings.instruments()), settings.tradeParallelism(), metrics,
            config.getString("clearinghouse.clearing.hold-after-unconfirmed")),
        new PriceGrpcService(auth, settings.instruments(), settings.prices(), marks, clock, system, metrics, volatility,
            settings.asset(), depth).withSettlements(settlements),
        readiness::ready, quotas, tls.https(), units::agreed));
    // Management starts at once: Cluster Bootstrap needs it to form the cluster the check above asks.
    CompletionStage<String> management = PekkoManagement.get(system)
        .start(routes -> tls.https().map(routes::withHttpsConnectionContext).orElse(routes)).thenApply(Object::toString);
    if (config.getBoolean("clearinghouse.cluster.bootstrap")) {
      // Discovery finds the other nodes (Kubernetes API); needs the management routes above.
      ClusterBootstrap.get(system).start();
    }
    return grpc.thenCombine(management, (binding, managementUri) -> {
      log.info("gRPC listening on {}, management HTTP on {}", binding.localAddress(), managementUri);
      return new Node(system, binding.localAddress(), managementUri);
    });
  }
}
