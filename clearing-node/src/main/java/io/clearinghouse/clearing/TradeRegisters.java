package io.clearinghouse.clearing;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/** Hands trades to the register of their sequence's bucket, wherever it lives in the cluster. */
public final class TradeRegisters {
  private final ClusterSharding sharding;
  private final RegisterSettings settings;
  private final Duration askTimeout;

  public TradeRegisters(ActorSystem<?> system, RegisterSettings settings, Duration askTimeout) {
    this.sharding = ClusterSharding.get(system);
    this.settings = settings;
    this.askTimeout = askTimeout;
  }

  /**
   * The trade's outcome: settled or refused. Fails (a timeout) when the register has not finished
   * it in time; it goes on driving it, and a resend of the trade waits for the same outcome.
   */
  public CompletionStage<TradeRegister.Reply> submit(TradeContent trade) {
    return sharding.entityRefFor(TradeRegister.TYPE_KEY, settings.bucketOf(trade.sequence()))
        .ask(replyTo -> new TradeRegister.Submit(trade, replyTo), askTimeout);
  }
}
