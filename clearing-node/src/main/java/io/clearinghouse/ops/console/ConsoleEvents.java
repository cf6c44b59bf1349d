package io.clearinghouse.ops.console;

import io.clearinghouse.margin.Instrument;
import io.clearinghouse.ops.NodeContext;
import io.clearinghouse.price.FeedStatus;
import io.clearinghouse.price.LiquidationHalt;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import io.clearinghouse.price.PriceEvent;
import io.clearinghouse.price.VolatilityBoard;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.javadsl.Source;

/**
 * One console's server-sent events: {@code hello}, {@code mark} (every new mark this node hears),
 * {@code halt} and {@code alert} from the node's price events (an instrument going stale or fresh,
 * liquidations halted or resumed, unusual volatility starting or ending), and what the node's one
 * shared {@link ConsoleFeed} fans out to every open console ({@code liquidation}, {@code cascade},
 * the alerts of liquidations starting or finishing, of thin sides and maintenance tightenings
 * appearing or going, {@code problem}). Events wait in a bounded queue ({@value #BUFFER}); a
 * client too slow to take them loses the overflow and is told how many with a {@code dropped}
 * event ({@link Outbox}).
 */
final class ConsoleEvents {
  static final int BUFFER = 1024;

  private final ActorSystem<?> system;
  private final ConsoleBackend backend;
  private final Map<String, Boolean> unusual = new ConcurrentHashMap<>();

  ConsoleEvents(ActorSystem<?> system, ConsoleBackend backend) {
    this.system = system;
    this.backend = backend;
  }

  Source<ServerSentEvent, NotUsed> source() {
    AtomicReference<Runnable> stop = new AtomicReference<>(() -> { });
    return Source.<ServerSentEvent>queue(BUFFER)
        .mapMaterializedValue(queue -> {
          stop.set(open(queue));
          return NotUsed.getInstance();
        })
        .keepAlive(Duration.ofSeconds(15), ServerSentEvent::heartbeat)
        .watchTermination((mat, done) -> {
          done.whenComplete((d, e) -> stop.get().run());
          return mat;
        });
  }

  /** Starts filling {@code queue}: the hello, the node's price events, the shared feed. Returns the closing. */
  private Runnable open(BoundedSourceQueue<ServerSentEvent> queue) {
    Outbox out = new Outbox(event -> queue.offer(event).isEnqueued());
    out.offer(ConsoleFeed.event("hello", ConsoleRoutes.JSON.createObjectNode()
        .put("pollMillis", ConsoleFeed.POLL.toMillis()).put("buffer", BUFFER)));
    MarkPrices marks = NodeContext.get(system).marks();
    Runnable stopMarks = marks.listen(event -> out.offer(onPrice(event)));
    Runnable stopFeed = backend.feed().subscribe(out::offer);
    return () -> {
      stopMarks.run();
      stopFeed.run();
      queue.complete();
    };
  }

  private List<ServerSentEvent> onPrice(PriceEvent event) {
    List<ServerSentEvent> out = new ArrayList<>(2);
    if (event instanceof Mark mark) {
      Instrument contract = contract(mark.instrument());
      if (contract == null) {
        return out;
      }
      out.add(ConsoleFeed.event("mark", ConsoleRoutes.JSON.createObjectNode().put("instrument", mark.instrument())
          .put("mark", contract.formatPrice(mark.priceTicks())).put("sequence", mark.sequence())
          .put("epochMillis", mark.epochMillis())));
      VolatilityBoard volatility = NodeContext.get(system).volatility();
      if (volatility != null) {
        boolean now = volatility.index(mark.instrument()).unusual();
        Boolean before = unusual.put(mark.instrument(), now);
        if (before != null && before != now) {
          out.add(ConsoleFeed.alert(now ? "warning" : "info", mark.instrument(),
              now ? "unusual volatility on " + mark.instrument() : "volatility back to usual on " + mark.instrument()));
        }
      }
    } else if (event instanceof FeedStatus status) {
      out.add(ConsoleFeed.alert(status.stale() ? "warning" : "info", status.instrument(),
          status.instrument() + (status.stale() ? " is stale: no liquidations on it until fresh" : " is fresh again")));
    } else if (event instanceof LiquidationHalt halt) {
      out.add(ConsoleFeed.event("halt", ConsoleRoutes.JSON.createObjectNode().put("instrument", halt.instrument())
          .put("halted", halt.halted())));
      out.add(ConsoleFeed.alert(halt.halted() ? "warning" : "info", halt.instrument(),
          "liquidations " + (halt.halted() ? "halted" : "resumed") + " on " + halt.instrument()));
    }
    return out;
  }

  private Instrument contract(String symbol) {
    try {
      return backend.instruments().require(symbol);
    } catch (RuntimeException e) {
      return null;
    }
  }
}
