package io.clearinghouse.liquidation;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.LiquidationRole;
import io.clearinghouse.liquidation.LiquidationSaga.Close;
import io.clearinghouse.liquidation.LiquidationSaga.Environment;
import io.clearinghouse.liquidation.LiquidationSaga.State;
import io.clearinghouse.liquidation.LiquidationSaga.Venue;
import io.clearinghouse.margin.Instrument;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The asks one liquidation sends to other entities (accounts, funds, reserves, providers), keyed
 * by {@code liquidationId/step}, and what the saga derives from its state and settings to word
 * them. No state of its own: the saga's driver decides which to send.
 */
final class SagaSteps {
  private final String liquidationId;
  private final Environment env;
  private final ClusterSharding sharding;

  SagaSteps(String liquidationId, Environment env, ClusterSharding sharding) {
    this.liquidationId = liquidationId;
    this.env = env;
    this.sharding = sharding;
  }

  String liquidationId() {
    return liquidationId;
  }

  Environment env() {
    return env;
  }

  ClusterSharding sharding() {
    return sharding;
  }

  private Duration timeout() {
    return env.settings().stepTimeout();
  }

  CompletionStage<Object> askAccount(String accountId,
      Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command) {
    return sharding.entityRefFor(AccountEntity.TYPE_KEY, accountId).<AccountEntity.Reply>ask(command::apply, timeout())
        .thenApply(r -> r);
  }

  CompletionStage<Object> askFund(String fund,
      Function<ActorRef<InsuranceFund.Reply>, InsuranceFund.Command> command) {
    return sharding.entityRefFor(InsuranceFund.TYPE_KEY, fund).<InsuranceFund.Reply>ask(command::apply, timeout())
        .thenApply(r -> r);
  }

  CompletionStage<Object> askReserve(PlatformReserve reserve,
      Function<ActorRef<InsuranceFund.Reply>, InsuranceFund.Command> command) {
    return sharding.entityRefFor(InsuranceFund.RESERVE_TYPE_KEY, reserve.id())
        .<InsuranceFund.Reply>ask(command::apply, timeout()).thenApply(r -> r);
  }

  CompletionStage<BackstopProviders.Providers> askProviders(String instrument) {
    return sharding.entityRefFor(BackstopProviders.TYPE_KEY, instrument)
        .ask(BackstopProviders.ListProviders::new, timeout());
  }

  /**
   * The insurance fund's side of a close it takes over ({@code checked}: within its takeover limit
   * and what it can pay) or gives back; answered as an account's side would be, so that the close
   * runs as with any counterparty.
   */
  CompletionStage<Object> fundSide(Close close, String key, long signedLots, boolean checked, String trader) {
    long multiplier = env.instruments().require(close.instrument()).notionalMultiplier();
    return askFund(close.counterparty(), r -> new InsuranceFund.TakeOver(key, liquidationId, close.instrument(),
        signedLots, close.priceTicks(), multiplier, close.providerLimit(), checked, r)).thenApply(reply -> {
          if (reply instanceof InsuranceFund.PositionMoved moved) {
            return new AccountEntity.TransferApplied(FundCommands.transfer(moved.taken(), trader));
          }
          if (reply instanceof InsuranceFund.Rejected rejected) {
            return new AccountEntity.Rejected(rejected.reason(), rejected.message());
          }
          return reply;
        });
  }

  /** A penalty share from escrow to its destination: a fund, a platform reserve, or the provider's cash. */
  CompletionStage<Object> deliver(String destination, long amount) {
    if (destination.startsWith(Settlement.RESERVE)) {
      PlatformReserve reserve = PlatformReserve.byId(destination.substring(Settlement.RESERVE.length())).orElseThrow();
      return askReserve(reserve, r -> new InsuranceFund.Receive(liquidationId + "/penalty", liquidationId, amount, r));
    }
    if (destination.startsWith(Settlement.PROVIDER)) {
      return askAccount(destination.substring(Settlement.PROVIDER.length()), r -> new AccountEntity.CreditLiquidation(
          liquidationId + "/reward", liquidationId, amount, 0, r));
    }
    return askFund(destination, r -> new InsuranceFund.Receive(liquidationId + "/penalty", liquidationId, amount, r));
  }

  /** After the end: every counterparty and fund drops this liquidation's keys and holds; done when all confirmed. */
  CompletionStage<Void> forget(State state) {
    List<CompletableFuture<org.apache.pekko.Done>> asks = new ArrayList<>();
    state.counterparties().forEach(account -> asks.add(sharding.entityRefFor(AccountEntity.TYPE_KEY, account)
        .<org.apache.pekko.Done>ask(r -> new AccountEntity.ForgetLiquidation(liquidationId, r), timeout())
        .toCompletableFuture()));
    Set<String> funds = new TreeSet<>();
    Set<String> reserves = new TreeSet<>();
    for (String destination : state.penaltiesDelivered().keySet()) {
      if (destination.startsWith(Settlement.RESERVE)) {
        reserves.add(destination.substring(Settlement.RESERVE.length()));
      } else if (!destination.startsWith(Settlement.PROVIDER)) {
        funds.add(destination);
      }
    }
    // The operator's capital may hold for this liquidation (ADL policy) without having paid.
    if (state.payments().capitalPaid() != null || state.closes().stream()
        .anyMatch(c -> env.settings().rules(c.instrument()).operatorCapitalPerDay() > 0)) {
      reserves.add(PlatformReserve.OPERATOR_CAPITAL.id());
    }
    state.closes().forEach(c -> funds.add(env.settings().rules(c.instrument()).insuranceFund()));
    if (state.coverFund() != null) {
      funds.add(state.coverFund());
    }
    funds.forEach(fund -> asks.add(sharding.entityRefFor(InsuranceFund.TYPE_KEY, fund)
        .<org.apache.pekko.Done>ask(r -> new InsuranceFund.Forget(liquidationId, r), timeout())
        .toCompletableFuture()));
    reserves.forEach(reserve -> asks.add(sharding.entityRefFor(InsuranceFund.RESERVE_TYPE_KEY, reserve)
        .<org.apache.pekko.Done>ask(r -> new InsuranceFund.Forget(liquidationId, r), timeout())
        .toCompletableFuture()));
    return CompletableFuture.allOf(asks.toArray(new CompletableFuture<?>[0]));
  }

  static boolean usedAdl(State state) {
    return state.closes().stream().anyMatch(c -> c.venue() == Venue.ADL && c.closed() != null
        && c.closed().signedLots() != 0);
  }

  /**
   * The instrument a deficit is settled in: the first position closed (the one with the largest
   * margin), else the first planned, else the first instrument the trigger valued.
   */
  static String coverInstrument(State state) {
    for (Close c : state.closes()) {
      if (c.closed() != null && c.closed().signedLots() != 0) {
        return c.instrument();
      }
    }
    if (!state.closes().isEmpty()) {
      return state.closes().get(0).instrument();
    }
    return state.trigger().marks().keySet().stream().sorted().findFirst().orElseThrow();
  }

  /** The fund of the instrument the deficit is settled in. */
  String coverFund(State state) {
    return env.settings().rules(coverInstrument(state)).insuranceFund();
  }

  /** What the operator's capital pays at most per day for the instrument the deficit is settled in (0: no layer). */
  long capitalPerDay(State state) {
    return env.instruments().spec(coverInstrument(state)).liquidation().operatorCapitalPerDay();
  }

  /** What the penalty rate charges on the close's notional before any cut (0 for a stop's close). */
  long fullPenalty(LiquidationTransfer closed) {
    if (closed.role() != LiquidationRole.LIQUIDATED || closed.signedLots() == 0) {
      return 0;
    }
    Instrument instrument = env.instruments().require(closed.instrument());
    return io.clearinghouse.margin.ReserveRules.fullPenalty(instrument.notional(closed.priceTicks(),
        closed.signedLots()), instrument.liquidationFeePpm());
  }

  /** The penalty shares not yet delivered, by destination, in a stable order. */
  Map<String, Long> pendingPenalties(State state) {
    return Settlement.pendingShares(state, instrument -> env.settings().rules(instrument));
  }

  String key(Close close) {
    return liquidationId + "/close-" + close.step();
  }

  static LiquidationRole counterpartyRole(Close close) {
    return close.venue() == Venue.ADL ? LiquidationRole.DELEVERAGED : LiquidationRole.BACKSTOP;
  }
}
