package io.clearinghouse.liquidation;

// Over 400 lines: the one facade the gRPC services, the console and chctl share for funds, providers, the halt switch and fund-flow records; each operation is a short ask.
import io.clearinghouse.account.Account;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.price.PriceFeed;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.Source;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The operator and client side of liquidations: insurance funds, backstop providers, the halt
 * switch, and the fund-flow records. Records are read back from the sagas' journals (the same
 * event handler the sagas run), so reading never wakes a finished saga. Callers validate input
 * formats; this class refuses unknown funds, instruments and liquidations.
 */
public final class Liquidations {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Liquidations.class);
  private static final String SAGA_PREFIX = LiquidationSaga.TYPE_KEY.name() + "|";
  /** Saga journals read at once for one listing. */
  private static final int PARALLEL_REPLAYS = 4;

  /** What to list: each filter is optional (null, or 0 for the times). */
  public record Filter(String accountId, String instrument, long fromEpochMillis, long toEpochMillis, int limit) {}

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final CassandraReadJournal journal;
  private final LiquidationSettings settings;
  private final Instruments instruments;
  private final Accounts accounts;
  private final Duration timeout;

  private final Duration listDeadline;

  /** {@code listDeadline}: the longest a listing may take (a caller's own deadline may be shorter). */
  public Liquidations(ActorSystem<?> system, LiquidationSettings settings, Instruments instruments, Accounts accounts,
      Duration timeout, Duration listDeadline) {
    this.listDeadline = listDeadline;
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.journal = PersistenceQuery.get(system)
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    this.settings = settings;
    this.instruments = instruments;
    this.accounts = accounts;
    this.timeout = timeout;
  }

  public LiquidationSettings settings() {
    return settings;
  }

  public Duration listDeadline() {
    return listDeadline;
  }

  // --- insurance funds ------------------------------------------------------------------

  private String requireFund(String fund) {
    if (fund == null || !settings.funds().contains(fund)) {
      throw new RejectedException(Rejection.UNKNOWN_FUND, "no insurance fund named " + fund + " (configured: "
          + settings.funds() + ")");
    }
    return fund;
  }

  public CompletionStage<InsuranceFund.Moved> topUp(String fund, String key, long amount) {
    return topUp(fund, key, amount, "");
  }

  /** {@code by}: the operator token's name, recorded on the top-up. */
  public CompletionStage<InsuranceFund.Moved> topUp(String fund, String key, long amount, String by) {
    requireFund(fund);
    return sharding.entityRefFor(InsuranceFund.TYPE_KEY, fund)
        .<InsuranceFund.Reply>ask(r -> new InsuranceFund.TopUp(key, amount, by, r), timeout)
        .thenApply(reply -> expect(reply, InsuranceFund.Moved.class));
  }

  public CompletionStage<InsuranceFund.View> fund(String fund, int offset, int limit) {
    requireFund(fund);
    return sharding.entityRefFor(InsuranceFund.TYPE_KEY, fund)
        .<InsuranceFund.Reply>ask(r -> new InsuranceFund.Get(offset, limit, r), timeout)
        .thenApply(reply -> expect(reply, InsuranceFund.View.class));
  }

  // --- every reserve ------------------------------------------------------------------

  /** A reserve by its API name ({@code market-making}, ..., {@code insurance-fund:NAME}); UNKNOWN_RESERVE if none. */
  public ReserveRef reserve(String name) {
    return ReserveRef.parse(name, settings.funds());
  }

  /** Every reserve: the configured insurance funds, then the platform's reserves. */
  public List<ReserveRef> reserves() {
    List<ReserveRef> all = new ArrayList<>();
    settings.funds().forEach(fund -> all.add(ReserveRef.fund(fund)));
    for (PlatformReserve reserve : PlatformReserve.values()) {
      all.add(ReserveRef.of(reserve));
    }
    return all;
  }

  public CompletionStage<InsuranceFund.Moved> topUp(ReserveRef reserve, String key, long amount) {
    return topUp(reserve, key, amount, "");
  }

  public CompletionStage<InsuranceFund.Moved> topUp(ReserveRef reserve, String key, long amount, String by) {
    return sharding.entityRefFor(reserve.typeKey(), reserve.id())
        .<InsuranceFund.Reply>ask(r -> new InsuranceFund.TopUp(key, amount, by, r), timeout)
        .thenApply(reply -> expect(reply, InsuranceFund.Moved.class));
  }

  /**
   * An account's swept trading fees (its sweep number {@code sweep}) into the platform-revenue
   * reserve, once per sweep whatever the retries.
   */
  public CompletionStage<Void> collectFees(String accountId, long sweep, long amount) {
    ReserveRef revenue = ReserveRef.of(PlatformReserve.PLATFORM_REVENUE);
    return sharding.entityRefFor(revenue.typeKey(), revenue.id())
        .<InsuranceFund.Reply>ask(r -> new InsuranceFund.CollectFees(accountId, sweep, amount, r), timeout)
        .thenApply(reply -> {
          expect(reply, InsuranceFund.Moved.class);
          return null;
        });
  }

  /** Operator money out of a reserve, never below what it holds for liquidations. */
  public CompletionStage<InsuranceFund.Moved> withdraw(ReserveRef reserve, String key, long amount) {
    return withdraw(reserve, key, amount, "");
  }

  /** {@code by}: the operator token's name, recorded on the withdrawal. */
  public CompletionStage<InsuranceFund.Moved> withdraw(ReserveRef reserve, String key, long amount, String by) {
    return sharding.entityRefFor(reserve.typeKey(), reserve.id())
        .<InsuranceFund.Reply>ask(r -> new InsuranceFund.Withdraw(key, amount, by, r), timeout)
        .thenApply(reply -> expect(reply, InsuranceFund.Moved.class));
  }

  /** A reserve's balance, positions and the page {@code [offset, offset + limit)} of its history, newest first. */
  public CompletionStage<InsuranceFund.View> view(ReserveRef reserve, int offset, int limit) {
    return sharding.entityRefFor(reserve.typeKey(), reserve.id())
        .<InsuranceFund.Reply>ask(r -> new InsuranceFund.Get(offset, limit, r), timeout)
        .thenApply(reply -> expect(reply, InsuranceFund.View.class));
  }

  /** Every reserve's balance and positions (no history), in the order of {@link #reserves()}. */
  public CompletionStage<List<InsuranceFund.View>> views() {
    List<CompletableFuture<InsuranceFund.View>> all = reserves().stream()
        .map(r -> view(r, 0, 0).toCompletableFuture()).toList();
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(done -> all.stream().map(CompletableFuture::join).toList());
  }

  private static <T> T expect(InsuranceFund.Reply reply, Class<T> type) {
    if (type.isInstance(reply)) {
      return type.cast(reply);
    }
    if (reply instanceof InsuranceFund.Rejected rejected) {
      throw new RejectedException(rejected.reason(), rejected.message());
    }
    throw new IllegalStateException("unexpected reply " + reply);
  }

  // --- backstop providers ---------------------------------------------------------------

  /** Registers the account (which must exist) for every instrument given, with one notional limit. */
  public CompletionStage<List<String>> registerProvider(String accountId, List<String> symbols, long maxNotional) {
    return registerProvider(accountId, symbols, maxNotional, "");
  }

  /** {@code by}: the operator token's name, recorded on each registration. */
  public CompletionStage<List<String>> registerProvider(String accountId, List<String> symbols, long maxNotional,
      String by) {
    if (symbols.isEmpty()) {
      throw new RejectedException(Rejection.UNKNOWN_INSTRUMENT, "name at least one instrument");
    }
    List<String> checked = new ArrayList<>();
    for (String symbol : symbols) {
      checked.add(instruments.require(symbol).symbol());
    }
    if (maxNotional < 0) {
      throw new RejectedException(Rejection.AMOUNT_NOT_POSITIVE, "the notional limit must not be negative");
    }
    return accounts.get(accountId).thenCompose(account -> {
      List<CompletableFuture<BackstopProviders.Providers>> done = new ArrayList<>();
      for (String symbol : checked) {
        done.add(sharding.entityRefFor(BackstopProviders.TYPE_KEY, symbol)
            .<BackstopProviders.Providers>ask(r -> new BackstopProviders.Register(accountId, maxNotional, by, r), timeout)
            .toCompletableFuture());
      }
      return CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).thenApply(v -> checked);
    });
  }

  /** The instruments with at least one registered backstop provider (with a notional limit above zero). */
  public CompletionStage<List<String>> instrumentsWithProviders() {
    List<CompletableFuture<BackstopProviders.Providers>> all = new ArrayList<>();
    for (var instrument : instruments.all()) {
      all.add(sharding.entityRefFor(BackstopProviders.TYPE_KEY, instrument.symbol())
          .<BackstopProviders.Providers>ask(BackstopProviders.ListProviders::new, timeout).toCompletableFuture());
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(done -> all.stream()
        .map(CompletableFuture::join).filter(p -> !p.providers().isEmpty()).map(BackstopProviders.Providers::instrument)
        .toList());
  }

  // --- halt switch ----------------------------------------------------------------------

  /** {@code by}: the operator token's name, recorded on the feed's event. */
  public CompletionStage<PriceFeed.Status> setHalt(String instrument, boolean halted, String by) {
    String symbol = instruments.require(instrument).symbol();
    return sharding.entityRefFor(PriceFeed.TYPE_KEY, symbol)
        .ask(r -> new PriceFeed.SetLiquidationHalt(halted, by, r), timeout);
  }

  // --- fund-flow records ----------------------------------------------------------------

  public CompletionStage<FundFlow> get(String liquidationId) {
    return replay(liquidationId).thenApply(flow -> flow.orElseThrow(() -> notFound(liquidationId)));
  }

  /** The one answer for a liquidation that does not exist (or, to a client, is not its own). */
  public static RejectedException notFound(String liquidationId) {
    return new RejectedException(Rejection.LIQUIDATION_NOT_FOUND, "no liquidation " + liquidationId);
  }

  /**
   * The account a liquidation id names: ids are {@code <account id>-<sequence number>} (the
   * account's journal position of its {@code LiquidationStarted}, see TriggerHandlers), so the
   * owner is known before any journal is read. Empty for an id of another shape.
   */
  public static Optional<String> accountOf(String liquidationId) {
    int dash = liquidationId.lastIndexOf('-');
    if (dash <= 0 || dash == liquidationId.length() - 1) {
      return Optional.empty();
    }
    for (int i = dash + 1; i < liquidationId.length(); i++) {
      if (liquidationId.charAt(i) < '0' || liquidationId.charAt(i) > '9') {
        return Optional.empty();
      }
    }
    return Optional.of(liquidationId.substring(0, dash));
  }

  /**
   * Newest first (by trigger time), at most {@code filter.limit()}, read within {@code deadline}
   * (else TIMEOUT, and every read still running is cancelled). With an account, only that
   * account's own liquidations are read: the ids it keeps ({@code Account.liquidationIds}, the
   * last 1,000), newest first, so a page of n costs the account's answer and at most n saga
   * journals (without other filters). Without one (operators only), every saga's journal is a
   * candidate.
   */
  public CompletionStage<List<FundFlow>> list(Filter filter, Duration deadline) {
    Predicate<FundFlow> wanted = flow -> (filter.accountId() == null || filter.accountId().equals(flow.accountId()))
        && (filter.instrument() == null || flow.closes().stream().anyMatch(c -> c.instrument().equals(filter.instrument()))
            || flow.triggerMarks().containsKey(filter.instrument()))
        && (filter.fromEpochMillis() == 0 || flow.triggeredAtMillis() >= filter.fromEpochMillis())
        && (filter.toEpochMillis() == 0 || flow.triggeredAtMillis() < filter.toEpochMillis());
    SharedKillSwitch reads = KillSwitches.shared("list-liquidations");
    CompletableFuture<List<FundFlow>> answer = new CompletableFuture<>();
    // At the deadline the caller is answered, whatever is still running, and every read is cancelled.
    Cancellable timer = system.scheduler().scheduleOnce(deadline, () -> {
      answer.completeExceptionally(new TimeoutException());
      reads.abort(new TimeoutException());
    }, system.executionContext());
    CompletionStage<List<FundFlow>> listed;
    if (filter.accountId() != null) {
      boolean onlyTheAccount = filter.instrument() == null && filter.fromEpochMillis() == 0
          && filter.toEpochMillis() == 0;
      listed = accounts.liquidationIds(filter.accountId(),
              onlyTheAccount ? filter.limit() : Account.RETAINED_LIQUIDATION_IDS)
          .thenApply(ids -> new LiquidationIds(ids, true))
          .exceptionallyCompose(failure -> sagasOf(filter.accountId(), failure, reads))
          .thenCompose(ids -> Source.from(ids.ids())
              .via(reads.flow())
              .mapAsync(PARALLEL_REPLAYS, id -> skippingUnreadable(id, replay(id, reads)))
              .filter(flow -> flow.isPresent() && wanted.test(flow.get()))
              .map(Optional::get)
              .take(ids.newestFirst() ? filter.limit() : Long.MAX_VALUE)
              .runWith(Sink.seq(), system));
    } else {
      listed = journal.currentPersistenceIds()
          .via(reads.flow())
          .filter(id -> id.startsWith(SAGA_PREFIX))
          .mapAsyncUnordered(PARALLEL_REPLAYS, id -> skippingUnreadable(id.substring(SAGA_PREFIX.length()),
              replay(id.substring(SAGA_PREFIX.length()), reads)))
          .filter(flow -> flow.isPresent() && wanted.test(flow.get()))
          .map(Optional::get)
          .runWith(Sink.seq(), system);
    }
    listed.whenComplete((found, failure) -> {
      timer.cancel();
      if (failure != null) {
        answer.completeExceptionally(unwrap(failure));
      } else {
        answer.complete(found);
      }
    });
    return answer
        .exceptionallyCompose(failure -> CompletableFuture.failedFuture(unwrap(failure) instanceof TimeoutException
            ? new RejectedException(Rejection.TIMEOUT, "the liquidations were not read within " + deadline
                + ": ask for fewer (limit) or retry")
            : unwrap(failure)))
        .thenApply(all -> {
          List<FundFlow> sorted = new ArrayList<>(all);
          sorted.sort(Comparator.comparingLong(FundFlow::triggeredAtMillis).reversed()
              .thenComparing(FundFlow::liquidationId));
          return List.copyOf(sorted.subList(0, Math.min(sorted.size(), filter.limit())));
        });
  }

  /** Liquidation ids to read, newest first when they come from the account. */
  private record LiquidationIds(List<String> ids, boolean newestFirst) {}

  /**
   * An account whose own journal does not read cannot name its liquidations: they are found from
   * the sagas' journals instead (a saga id names its account), every one of them, and the account
   * is reported in the log. Any other failure is the listing's.
   */
  private CompletionStage<LiquidationIds> sagasOf(String accountId, Throwable failure, SharedKillSwitch reads) {
    Throwable cause = unwrap(failure);
    if (!(cause instanceof RejectedException rejected) || rejected.reason() != Rejection.JOURNAL_UNREADABLE) {
      return CompletableFuture.failedFuture(cause);
    }
    log.error("Liquidations of account {} listed from the sagas' journals: {}", accountId, cause.getMessage());
    return journal.currentPersistenceIds()
        .via(reads.flow())
        .filter(id -> id.startsWith(SAGA_PREFIX))
        .map(id -> id.substring(SAGA_PREFIX.length()))
        .filter(id -> accountOf(id).filter(accountId::equals).isPresent())
        .runWith(Sink.seq(), system)
        .thenApply(ids -> new LiquidationIds(ids, false));
  }

  /**
   * A saga whose journal does not read (a corrupt or unknown event) is left out of a listing and
   * logged by name, so that one bad record never hides the others; a deadline still ends the
   * listing.
   */
  private static CompletionStage<Optional<FundFlow>> skippingUnreadable(String liquidationId,
      CompletionStage<Optional<FundFlow>> read) {
    return read.handle((flow, failure) -> {
      if (failure == null) {
        return CompletableFuture.completedFuture(flow);
      }
      Throwable cause = unwrap(failure);
      if (cause instanceof TimeoutException) {
        return CompletableFuture.<Optional<FundFlow>>failedFuture(cause);
      }
      log.error("Liquidation {} left out of a listing: its journal does not read ({})", liquidationId, cause.toString());
      return CompletableFuture.completedFuture(Optional.<FundFlow>empty());
    }).thenCompose(next -> next);
  }

  private static Throwable unwrap(Throwable failure) {
    return io.clearinghouse.common.Failures.unwrap(failure);
  }


  /**
   * Where the money of the finished liquidations that {@code filter} selects went (its limit is
   * ignored: every one in the window counts), within {@code deadline} as {@link #list}.
   */
  public CompletionStage<FundFlowSummary> summary(Filter filter, Duration deadline) {
    return list(new Filter(filter.accountId(), filter.instrument(), filter.fromEpochMillis(), filter.toEpochMillis(),
        Integer.MAX_VALUE), deadline).thenApply(FundFlowSummary::of);
  }

  /** The unwind record of {@code fund}'s position in {@code instrument}, and the position now. */
  public CompletionStage<UnwindRecord> unwind(String fund, String instrument, int limit) {
    var record = sharding.entityRefFor(FundUnwind.TYPE_KEY, FundUnwind.entityId(fund, instrument))
        .<FundUnwind.View>ask(r -> new FundUnwind.Get(limit, r), timeout);
    return record.thenCombine(view(ReserveRef.fund(fund), 0, 0), (unwind, ledger) -> new UnwindRecord(unwind,
        ledger.positions().getOrDefault(instrument, io.clearinghouse.margin.Position.FLAT)));
  }

  /** A fund's unwinds in one instrument and its position there now. */
  public record UnwindRecord(FundUnwind.View view, io.clearinghouse.margin.Position position) {}

  private CompletionStage<Optional<FundFlow>> replay(String liquidationId) {
    return replay(liquidationId, KillSwitches.shared("get-liquidation"));
  }

  /** The saga's fund flow from its journal; {@code reads} cancels the read. */
  private CompletionStage<Optional<FundFlow>> replay(String liquidationId, SharedKillSwitch reads) {
    return journal.currentEventsByPersistenceId(SAGA_PREFIX + liquidationId, 0L, Long.MAX_VALUE)
        .via(reads.flow())
        .map(EventEnvelope::event)
        .runWith(Sink.seq(), system)
        .thenApply(events -> {
          LiquidationSaga.State state = LiquidationSaga.State.empty();
          for (Object event : events) {
            state = LiquidationSaga.apply(state, (LiquidationSaga.Event) event);
          }
          return state.accountId() == null ? Optional.empty()
              : Optional.of(FundFlow.of(liquidationId, state, settings));
        });
  }
}
