package io.clearinghouse.expiry;

import io.clearinghouse.common.RejectedException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The node's window on the dated futures' settlements, for the services: the last record each
 * settlement told this node (refreshed on every tick, so reading the status or the expected
 * settlement price costs no message), the full record (one ask) and the operator's price.
 */
public final class Settlements implements io.clearinghouse.account.SettlementPrices {
  /** No settlements (tests of other services). */
  public static final Settlements NONE = new Settlements(null, Duration.ofSeconds(1));

  private final ActorSystem<?> system;
  private final Duration timeout;
  private final Map<String, ExpirySettlement.SettlementRecord> last = new ConcurrentHashMap<>();

  Settlements(ActorSystem<?> system, Duration timeout) {
    this.system = system;
    this.timeout = timeout;
  }

  /** The last record this node heard of, if any. */
  public Optional<ExpirySettlement.SettlementRecord> last(String instrument) {
    return Optional.ofNullable(last.get(instrument));
  }

  /** True once the node heard that {@code instrument} is settled. */
  public boolean settled(String instrument) {
    ExpirySettlement.SettlementRecord r = last.get(instrument);
    return r != null && r.status() == ExpirySettlement.Status.SETTLED;
  }

  /** The settlement price once fixed (the settlement settling or settled), as this node last heard; 0: not known. */
  @Override
  public long priceTicks(String instrument) {
    ExpirySettlement.SettlementRecord r = last.get(instrument);
    return r != null && (r.status() == ExpirySettlement.Status.SETTLING || r.status() == ExpirySettlement.Status.SETTLED)
        ? r.priceTicks() : 0;
  }

  /** An account's late closes, recorded by the instrument's settlement (one ask). */
  @Override
  public CompletionStage<Void> reportLate(String instrument, String accountId,
      io.clearinghouse.account.AccountEntity.SettlementApplied own, int from,
      java.util.List<io.clearinghouse.account.AccountEntity.SettledAfterExpiry> closes) {
    if (system == null) {
      return new CompletableFuture<>();
    }
    return ClusterSharding.get(system).entityRefFor(ExpirySettlement.TYPE_KEY, instrument)
        .<ExpirySettlement.Reply>ask(replyTo -> new ExpirySettlement.RecordLate(accountId, own, from, closes, replyTo),
            timeout)
        .thenApply(reply -> {
          if (reply instanceof ExpirySettlement.Refused refused) {
            throw new RejectedException(refused.reason(), refused.message());
          }
          return null;
        });
  }

  void refresh(String instrument) {
    record(instrument).thenAccept(r -> last.put(instrument, r));
  }

  /** The settlement's record now (one ask). */
  public CompletionStage<ExpirySettlement.SettlementRecord> record(String instrument) {
    if (system == null) {
      return CompletableFuture.failedFuture(new IllegalStateException("no settlements on this node"));
    }
    return ClusterSharding.get(system).entityRefFor(ExpirySettlement.TYPE_KEY, instrument)
        .ask(ExpirySettlement.GetRecord::new, timeout);
  }

  /**
   * An operator's settlement price, forced for {@code forceReason} (null: not forced, bounded by the
   * last index); refused with its reason (not expired, already priced, off the index).
   */
  public CompletionStage<ExpirySettlement.SettlementRecord> setPrice(String instrument, long priceTicks,
      String operator, String forceReason) {
    return ClusterSharding.get(system).entityRefFor(ExpirySettlement.TYPE_KEY, instrument)
        .<ExpirySettlement.Reply>ask(replyTo -> new ExpirySettlement.SetPrice(priceTicks, operator, forceReason,
            replyTo), timeout)
        .thenApply(reply -> {
          if (reply instanceof ExpirySettlement.Refused refused) {
            throw new RejectedException(refused.reason(), refused.message());
          }
          ExpirySettlement.SettlementRecord r = ((ExpirySettlement.PriceSet) reply).record();
          last.put(instrument, r);
          return r;
        });
  }
}
