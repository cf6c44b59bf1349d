package io.clearinghouse.ops.console;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.ops.NodeContext;
import io.clearinghouse.price.FeedStatus;
import io.clearinghouse.price.LiquidationHalt;
import io.clearinghouse.price.Mark;
import io.clearinghouse.price.MarkPrices;
import io.clearinghouse.price.PriceEvent;
import io.clearinghouse.price.VolatilityBoard;
import io.clearinghouse.protocol.v1.AdminListLiquidationsRequest;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationList;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.javadsl.Source;

/**
 * One console's server-sent events: {@code mark} (every new mark this node hears), {@code alert}
 * (an instrument going stale or fresh, liquidations halted or resumed, unusual volatility starting
 * or ending, a liquidation starting or finishing), {@code liquidation} (a liquidation of the last
 * hour that is new or changed, the operator API's whole record) and {@code cascade} (how many of
 * the last hour's liquidations run and how many finished, and the cluster's cascade view as {@code
 * GET /cascade} gives it: liquidations pending, started and settled per second). Every {@link #POLL}
 * the cluster's counts are read (cheap: each node's in-memory counters); the liquidations
 * themselves are read with the operator call {@code ListLiquidations}, as the caller (its token),
 * never from tags, only when a liquidation started or settled since the last read, or {@link
 * #REFRESH} after it (a step of a running one), so an idle console costs no journal reads.
 */
final class ConsoleEvents {
  static final Duration POLL = Duration.ofSeconds(2);
  static final Duration REFRESH = Duration.ofSeconds(30);
  private static final Duration WINDOW = Duration.ofHours(1);
  private static final int BUFFER = 1024;

  private final ActorSystem<?> system;
  private final ConsoleBackend backend;
  private final Metadata caller;
  private final Map<String, Boolean> unusual = new ConcurrentHashMap<>();
  /** Liquidation id to the outcome last sent ("" while running); touched by the poll stage only. */
  private final Map<String, String> sent = new HashMap<>();
  private boolean firstPoll = true;
  /** The cluster's started and settled counts at the last read of the liquidations; its time. Poll stage only. */
  private long seenStarted = -1;
  private long seenSettled = -1;
  private long listedAt;
  private int running;
  private int finished;

  ConsoleEvents(ActorSystem<?> system, ConsoleBackend backend, Metadata caller) {
    this.system = system;
    this.backend = backend;
    this.caller = caller;
  }

  Source<ServerSentEvent, NotUsed> source() {
    Pair<BoundedSourceQueue<ServerSentEvent>, Source<ServerSentEvent, NotUsed>> queued =
        Source.<ServerSentEvent>queue(BUFFER).preMaterialize(system);
    BoundedSourceQueue<ServerSentEvent> queue = queued.first();
    MarkPrices marks = NodeContext.get(system).marks();
    Runnable stop = marks.listen(event -> onPrice(event).forEach(queue::offer));
    queue.offer(event("hello", ConsoleRoutes.JSON.createObjectNode().put("pollMillis", POLL.toMillis())));
    Source<ServerSentEvent, NotUsed> polls = Source.tick(Duration.ZERO, POLL, "poll")
        .mapAsync(1, tick -> poll()).mapConcat(list -> list).mapMaterializedValue(c -> NotUsed.getInstance());
    return queued.second().merge(polls)
        .keepAlive(Duration.ofSeconds(15), ServerSentEvent::heartbeat)
        .watchTermination((mat, done) -> {
          done.whenComplete((d, e) -> {
            stop.run();
            queue.complete();
          });
          return mat;
        });
  }

  private List<ServerSentEvent> onPrice(PriceEvent event) {
    List<ServerSentEvent> out = new ArrayList<>(2);
    if (event instanceof Mark mark) {
      Instrument contract = contract(mark.instrument());
      if (contract == null) {
        return out;
      }
      out.add(event("mark", ConsoleRoutes.JSON.createObjectNode().put("instrument", mark.instrument())
          .put("mark", contract.formatPrice(mark.priceTicks())).put("sequence", mark.sequence())
          .put("epochMillis", mark.epochMillis())));
      VolatilityBoard volatility = NodeContext.get(system).volatility();
      if (volatility != null) {
        boolean now = volatility.index(mark.instrument()).unusual();
        Boolean before = unusual.put(mark.instrument(), now);
        if (before != null && before != now) {
          out.add(alert(now ? "warning" : "info", mark.instrument(),
              now ? "unusual volatility on " + mark.instrument() : "volatility back to usual on " + mark.instrument()));
        }
      }
    } else if (event instanceof FeedStatus status) {
      out.add(alert(status.stale() ? "warning" : "info", status.instrument(),
          status.instrument() + (status.stale() ? " is stale: no liquidations on it until fresh" : " is fresh again")));
    } else if (event instanceof LiquidationHalt halt) {
      out.add(event("halt", ConsoleRoutes.JSON.createObjectNode().put("instrument", halt.instrument())
          .put("halted", halt.halted())));
      out.add(alert(halt.halted() ? "warning" : "info", halt.instrument(),
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

  private CompletionStage<List<ServerSentEvent>> poll() {
    var view = NodeContext.get(system).cascadeView();
    if (view.isEmpty()) {
      return list().thenApply(events -> withCascade(events, null));
    }
    return view.get().thenCompose(cluster -> {
      long started = cluster.path("started").asLong();
      long settled = cluster.path("settled").asLong();
      long now = System.currentTimeMillis();
      boolean changed = started != seenStarted || settled != seenSettled || now - listedAt >= REFRESH.toMillis();
      CompletionStage<List<ServerSentEvent>> read = changed ? list() : java.util.concurrent.CompletableFuture
          .completedFuture(List.of());
      return read.thenApply(events -> {
        if (changed) {
          seenStarted = started;
          seenSettled = settled;
          listedAt = now;
        }
        return withCascade(events, cluster);
      });
    }).exceptionally(failure -> List.of(event("problem", ConsoleRoutes.JSON.createObjectNode()
        .put("message", AdminCalls.refusal(failure).message()))));
  }

  /** The last hour's liquidations, what changed since they were last sent. */
  private CompletionStage<List<ServerSentEvent>> list() {
    long from = System.currentTimeMillis() - WINDOW.toMillis();
    return backend.admin().listLiquidations(AdminListLiquidationsRequest.newBuilder().setFromEpochMillis(from)
            .setLimit(500).build(), caller)
        .thenApply(this::changes);
  }

  /** {@code events} and the {@code cascade} event: the last hour's counts and the cluster's view (null: none). */
  private List<ServerSentEvent> withCascade(List<ServerSentEvent> events, ObjectNode cluster) {
    List<ServerSentEvent> out = new ArrayList<>(events);
    ObjectNode cascade = ConsoleRoutes.JSON.createObjectNode().put("running", running).put("finished", finished)
        .put("windowMillis", WINDOW.toMillis());
    if (cluster != null) {
      cascade.put("pending", cluster.path("pending").asLong())
          .put("startedPerSecond", cluster.path("startedPerSecond").asText())
          .put("settledPerSecond", cluster.path("settledPerSecond").asText())
          .put("unanswered", cluster.path("unanswered").size());
    }
    out.add(event("cascade", cascade));
    return out;
  }

  private List<ServerSentEvent> changes(LiquidationList list) {
    List<ServerSentEvent> out = new ArrayList<>();
    int runningNow = 0;
    for (Liquidation l : list.getLiquidationsList()) {
      runningNow += l.getOutcome().isEmpty() ? 1 : 0;
      String before = sent.put(l.getLiquidationId(), l.getOutcome());
      if (before != null && before.equals(l.getOutcome())) {
        continue;
      }
      try {
        out.add(ServerSentEvent.create(AdminCalls.PRINTER.omittingInsignificantWhitespace().print(l), "liquidation"));
      } catch (InvalidProtocolBufferException e) {
        continue;
      }
      if (!firstPoll) {
        out.add(alert(l.getOutcome().isEmpty() ? "warning" : "info", l.getLiquidationId(),
            l.getOutcome().isEmpty() ? "liquidation " + l.getLiquidationId() + " of " + l.getAccountId() + " started"
                : "liquidation " + l.getLiquidationId() + " finished: " + l.getOutcome()));
      }
    }
    firstPoll = false;
    running = runningNow;
    finished = list.getLiquidationsCount() - runningNow;
    return out;
  }

  private static ServerSentEvent alert(String level, String subject, String text) {
    return event("alert", ConsoleRoutes.JSON.createObjectNode().put("level", level).put("subject", subject)
        .put("text", text).put("epochMillis", System.currentTimeMillis()));
  }

  private static ServerSentEvent event(String type, ObjectNode data) {
    return ServerSentEvent.create(data.toString(), type);
  }
}
