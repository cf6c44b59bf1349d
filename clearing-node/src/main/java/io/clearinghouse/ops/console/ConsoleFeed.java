package io.clearinghouse.ops.console;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import io.clearinghouse.api.AdminGrpcService;
import io.clearinghouse.instrument.InstrumentSpec;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.DepthRules;
import io.clearinghouse.ops.NodeContext;
import io.clearinghouse.price.MarginScales;
import io.clearinghouse.price.RiskSignals;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationList;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;

/**
 * The node's one reader of what every open console's events stream shows besides marks: every
 * {@link #POLL}, while at least one console is open, it reads the cluster's cascade counts (each
 * node's in-memory counters), the last hour's liquidations only when one started or settled since
 * the last read or, while some run, {@link #REFRESH} after it (their steps), and each instrument's
 * risk signals (thin bids or asks, a maintenance tightening announced); it fans what changed out to
 * every open stream: {@code liquidation} (a new or changed record, the operator API's whole
 * record), {@code alert} (a liquidation starting or finishing, a thin side or a tightening
 * appearing or going), {@code cascade} and {@code problem}. A console that opens gets the records
 * and cascade line already read, then the changes: N consoles cost the journal what one does. With
 * no console open it reads nothing.
 */
public final class ConsoleFeed {
  static final Duration POLL = Duration.ofSeconds(2);
  static final Duration REFRESH = Duration.ofSeconds(30);
  static final Duration WINDOW = Duration.ofHours(1);
  /** The longest a poll's reads may take (each read has its own, shorter deadline; this is the backstop). */
  static final Duration ROUND_TIMEOUT = Duration.ofSeconds(60);
  private static final int LIMIT = 500;

  /** An instrument's risk signals as the console alerts on them. */
  record Flags(boolean bidThin, boolean askThin, boolean tightening, long pendingPpm) {
    static final Flags NONE = new Flags(false, false, false, 0);
  }

  /** What the feed reads (the seam its tests replace). */
  interface Reads {
    /** The cluster's cascade view as {@code GET /cascade} answers it; empty before the node wired it. */
    Optional<CompletionStage<ObjectNode>> cascade();

    /** The liquidations triggered from {@code fromEpochMillis} on: a journal read. */
    CompletionStage<LiquidationList> liquidations(long fromEpochMillis, int limit);

    /** Each instrument's flags, as this node has them now (in memory). */
    Map<String, Flags> flags();
  }

  /** Starts and stops the polling (the actor system's scheduler; tests tick by hand). */
  interface Ticker {
    Cancellable every(Duration interval, Runnable tick);
  }

  private final Reads reads;
  private final Ticker ticker;
  private final AtomicLong journalReads = new AtomicLong();
  private final AtomicLong polls = new AtomicLong();
  /** The open consoles' sinks; guarded by {@code this}, as all the state below. */
  private final List<Consumer<List<ServerSentEvent>>> listeners = new ArrayList<>();
  private Cancellable polling;
  private boolean inFlight;
  /** Counts the fresh starts (the first console opening): a round begun before one is dropped. */
  private long generation;
  /** Liquidation id to the record last sent, in the order read. */
  private Map<String, Liquidation> records = new LinkedHashMap<>();
  private boolean firstRead = true;
  private long seenStarted = -1;
  private long seenSettled = -1;
  private long listedAt;
  private int running;
  private int finished;
  private ObjectNode cluster;
  private boolean cascadeKnown;
  private Map<String, Flags> flags;

  ConsoleFeed(Reads reads, Ticker ticker) {
    this.reads = reads;
    this.ticker = ticker;
  }

  /** The feed of {@code system}'s node: the operator service's reads, its cascade view and risk signals. */
  static ConsoleFeed start(ActorSystem<?> system, AdminGrpcService admin, Instruments instruments) {
    Reads reads = new Reads() {
      @Override
      public Optional<CompletionStage<ObjectNode>> cascade() {
        return NodeContext.get(system).cascadeView();
      }

      @Override
      public CompletionStage<LiquidationList> liquidations(long fromEpochMillis, int limit) {
        return admin.recentLiquidations(fromEpochMillis, limit);
      }

      @Override
      public Map<String, Flags> flags() {
        return ConsoleFeed.flags(NodeContext.get(system).signals(), instruments);
      }
    };
    return new ConsoleFeed(reads, (interval, tick) -> system.scheduler()
        .scheduleAtFixedRate(Duration.ZERO, interval, tick, system.executionContext()));
  }

  static Map<String, Flags> flags(RiskSignals signals, Instruments instruments) {
    Map<String, Flags> out = new TreeMap<>();
    if (signals == null) {
      return out;
    }
    for (InstrumentSpec spec : instruments.specs()) {
      String symbol = spec.symbol();
      long thinBelow = spec.depth().thinBelow();
      OptionalLong bid = signals.depth().bid(symbol);
      OptionalLong ask = signals.depth().ask(symbol);
      MarginScales.Scale scale = signals.scales().scale(symbol);
      out.put(symbol, new Flags(bid.isPresent() && DepthRules.thin(bid.getAsLong(), thinBelow),
          ask.isPresent() && DepthRules.thin(ask.getAsLong(), thinBelow), scale.warning(), scale.pendingPpm()));
    }
    return out;
  }

  /**
   * {@code listener} gets, at once, the records and cascade line already read, then every change;
   * the first console to open starts the polling, the last to close stops it. Returns the closing.
   */
  synchronized Runnable subscribe(Consumer<List<ServerSentEvent>> listener) {
    boolean first = listeners.isEmpty();
    if (first) {
      // Nothing was read while no console was open: start afresh (the first read sends every record, no alerts).
      records = new LinkedHashMap<>();
      firstRead = true;
      seenStarted = -1;
      seenSettled = -1;
      flags = null;
      cascadeKnown = false;
      running = 0;
      finished = 0;
      cluster = null;
      // A round still reading for consoles that all closed is forgotten: the new one reads afresh.
      generation++;
      inFlight = false;
    }
    List<ServerSentEvent> snapshot = new ArrayList<>();
    for (Liquidation l : records.values()) {
      liquidationEvent(l).ifPresent(snapshot::add);
    }
    if (cascadeKnown) {
      snapshot.add(cascadeEvent());
    }
    if (!snapshot.isEmpty()) {
      listener.accept(snapshot);
    }
    listeners.add(listener);
    if (first) {
      polling = ticker.every(POLL, this::poll);
    }
    return () -> unsubscribe(listener);
  }

  private synchronized void unsubscribe(Consumer<List<ServerSentEvent>> listener) {
    if (listeners.remove(listener) && listeners.isEmpty() && polling != null) {
      polling.cancel();
      polling = null;
    }
  }

  /** How many times the liquidations were read from the journal (the cost N consoles share). */
  public long journalReads() {
    return journalReads.get();
  }

  /** How many polls have finished (each read the cascade counts, and the liquidations if they moved). */
  public long polls() {
    return polls.get();
  }

  /** The consoles open on this node (events streams listening). */
  public synchronized int consoles() {
    return listeners.size();
  }

  /**
   * One poll: skipped while the last one is still reading. What it read changes the feed's state
   * only at its end, in one step, and only if no console opened afresh since it began (a round of
   * consoles that all closed is forgotten); a round that has not answered within
   * {@link #ROUND_TIMEOUT} is a problem and the next poll reads again. A failing part of the round
   * (the risk signals) or a console whose sink throws costs only that part or that console.
   */
  void poll() {
    long round;
    synchronized (this) {
      if (inFlight || listeners.isEmpty()) {
        return;
      }
      inFlight = true;
      round = generation;
    }
    CompletionStage<Read> reading;
    try {
      reading = read();
    } catch (RuntimeException e) {
      reading = CompletableFuture.failedFuture(e);
    }
    reading.toCompletableFuture().orTimeout(ROUND_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .whenComplete((read, failure) -> {
          synchronized (this) {
            if (round != generation) {
              return;
            }
            inFlight = false;
            polls.incrementAndGet();
            List<ServerSentEvent> out = new ArrayList<>();
            if (failure != null) {
              out.add(event("problem", ConsoleRoutes.JSON.createObjectNode()
                  .put("message", AdminCalls.refusal(failure).message())));
            } else {
              out.addAll(apply(read));
            }
            try {
              out.addAll(flagAlerts(reads.flags()));
            } catch (RuntimeException e) {
              out.add(event("problem", ConsoleRoutes.JSON.createObjectNode()
                  .put("message", "the risk signals could not be read")));
            }
            for (Consumer<List<ServerSentEvent>> listener : out.isEmpty() ? List.<Consumer<List<ServerSentEvent>>>of()
                : List.copyOf(listeners)) {
              try {
                listener.accept(out);
              } catch (RuntimeException e) {
                // That console's loss alone: the others still get the round.
              }
            }
          }
        });
  }

  /** What one poll read: the cascade view (null before the node wired it) and the liquidations if read. */
  private record Read(ObjectNode cascade, long started, long settled, long at, LiquidationList list) {}

  private CompletionStage<Read> read() {
    Optional<CompletionStage<ObjectNode>> view = reads.cascade();
    long now = System.currentTimeMillis();
    if (view.isEmpty()) {
      return list().thenApply(list -> new Read(null, -1, -1, now, list));
    }
    return view.get().thenCompose(cascade -> {
      long started = cascade.path("started").asLong();
      long settled = cascade.path("settled").asLong();
      boolean changed;
      synchronized (this) {
        changed = started != seenStarted || settled != seenSettled
            || running > 0 && now - listedAt >= REFRESH.toMillis();
      }
      CompletionStage<LiquidationList> read = changed ? list() : CompletableFuture.completedFuture(null);
      return read.thenApply(list -> new Read(cascade, started, settled, now, list));
    });
  }

  /** The round's events, its reads taken into the feed's state. */
  private synchronized List<ServerSentEvent> apply(Read read) {
    List<ServerSentEvent> events = new ArrayList<>();
    if (read.list() != null) {
      events.addAll(changes(read.list()));
      if (read.cascade() != null) {
        seenStarted = read.started();
        seenSettled = read.settled();
        listedAt = read.at();
      }
    }
    return withCascade(events, read.cascade());
  }

  private CompletionStage<LiquidationList> list() {
    journalReads.incrementAndGet();
    return reads.liquidations(System.currentTimeMillis() - WINDOW.toMillis(), LIMIT);
  }

  private synchronized List<ServerSentEvent> withCascade(List<ServerSentEvent> events, ObjectNode view) {
    cluster = view;
    cascadeKnown = true;
    List<ServerSentEvent> out = new ArrayList<>(events);
    out.add(cascadeEvent());
    return out;
  }

  private ServerSentEvent cascadeEvent() {
    ObjectNode cascade = ConsoleRoutes.JSON.createObjectNode().put("running", running).put("finished", finished)
        .put("windowMillis", WINDOW.toMillis());
    if (cluster != null) {
      cascade.put("pending", cluster.path("pending").asLong())
          .put("startedPerSecond", cluster.path("startedPerSecond").asText())
          .put("settledPerSecond", cluster.path("settledPerSecond").asText())
          .put("unanswered", cluster.path("unanswered").size());
    }
    return event("cascade", cascade);
  }

  /** The records new or changed since last sent (the whole record), and the alerts of outcomes that changed. */
  synchronized List<ServerSentEvent> changes(LiquidationList list) {
    List<ServerSentEvent> out = new ArrayList<>();
    Map<String, Liquidation> now = new LinkedHashMap<>();
    int runningNow = 0;
    for (Liquidation l : list.getLiquidationsList()) {
      runningNow += l.getOutcome().isEmpty() ? 1 : 0;
      now.put(l.getLiquidationId(), l);
      Liquidation before = records.get(l.getLiquidationId());
      if (l.equals(before)) {
        continue;
      }
      liquidationEvent(l).ifPresent(out::add);
      String outcomeBefore = before == null ? null : before.getOutcome();
      if (!firstRead && !l.getOutcome().equals(outcomeBefore)) {
        out.add(alert(l.getOutcome().isEmpty() ? "warning" : "info", l.getLiquidationId(),
            l.getOutcome().isEmpty() ? "liquidation " + l.getLiquidationId() + " of " + l.getAccountId() + " started"
                : "liquidation " + l.getLiquidationId() + " finished: " + l.getOutcome()));
      }
    }
    firstRead = false;
    records = now;
    running = runningNow;
    finished = list.getLiquidationsCount() - runningNow;
    return out;
  }

  /**
   * An alert for each instrument whose bids or asks turned thin or not, or whose maintenance
   * tightening was announced or withdrawn, since the last poll (none on the first, which only
   * learns where things stand).
   */
  synchronized List<ServerSentEvent> flagAlerts(Map<String, Flags> current) {
    List<ServerSentEvent> out = new ArrayList<>();
    Map<String, Flags> before = flags;
    flags = new HashMap<>(current);
    if (before == null) {
      return out;
    }
    for (Map.Entry<String, Flags> e : new TreeMap<>(current).entrySet()) {
      String symbol = e.getKey();
      Flags now = e.getValue();
      Flags was = before.getOrDefault(symbol, Flags.NONE);
      if (now.bidThin() != was.bidThin()) {
        out.add(alert(now.bidThin() ? "warning" : "info", symbol, now.bidThin()
            ? "thin market on " + symbol + ": the bids within the band are under the thin-market threshold"
            : symbol + " bids no longer thin"));
      }
      if (now.askThin() != was.askThin()) {
        out.add(alert(now.askThin() ? "warning" : "info", symbol, now.askThin()
            ? "thin market on " + symbol + ": the asks within the band are under the thin-market threshold"
            : symbol + " asks no longer thin"));
      }
      if (now.tightening() != was.tightening()) {
        out.add(alert(now.tightening() ? "warning" : "info", symbol, now.tightening()
            ? "maintenance margin on " + symbol + " announced to tighten to " + percent(now.pendingPpm()) + " of base"
            : "no maintenance tightening announced on " + symbol + " any more"));
      }
    }
    return out;
  }

  /** A ratio in parts per million as a percentage with two decimals (display only). */
  static String percent(long ppm) {
    return ppm / 10_000 + "." + String.format("%02d", Math.abs(ppm % 10_000) / 100) + "%";
  }

  private static Optional<ServerSentEvent> liquidationEvent(Liquidation l) {
    try {
      return Optional.of(ServerSentEvent.create(AdminCalls.PRINTER.omittingInsignificantWhitespace().print(l),
          "liquidation"));
    } catch (InvalidProtocolBufferException e) {
      return Optional.empty();
    }
  }

  static ServerSentEvent alert(String level, String subject, String text) {
    return event("alert", ConsoleRoutes.JSON.createObjectNode().put("level", level).put("subject", subject)
        .put("text", text).put("epochMillis", System.currentTimeMillis()));
  }

  static ServerSentEvent event(String type, ObjectNode data) {
    return ServerSentEvent.create(data.toString(), type);
  }
}
