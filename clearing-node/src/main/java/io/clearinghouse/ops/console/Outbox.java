package io.clearinghouse.ops.console;

import java.util.List;
import java.util.function.Predicate;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;

/**
 * One console's bounded queue of events: when the client reads too slowly and the queue is full,
 * events are dropped and counted, and the first event that fits afterwards is preceded by a
 * {@code dropped} event saying how many were lost ({@code {"count": N}}), so the page knows its
 * lists may be behind and reloads them.
 */
final class Outbox {
  private final Predicate<ServerSentEvent> offer;
  /** Events dropped since the last {@code dropped} event went out; guarded by {@code this}. */
  private long dropped;

  /** {@code offer} puts an event in the queue and answers whether it was taken. */
  Outbox(Predicate<ServerSentEvent> offer) {
    this.offer = offer;
  }

  synchronized void offer(List<ServerSentEvent> events) {
    events.forEach(this::offer);
  }

  synchronized void offer(ServerSentEvent event) {
    if (dropped > 0) {
      if (!offer.test(droppedEvent(dropped))) {
        dropped = Math.addExact(dropped, 1);
        return;
      }
      dropped = 0;
    }
    if (!offer.test(event)) {
      dropped = Math.addExact(dropped, 1);
    }
  }

  synchronized long dropped() {
    return dropped;
  }

  static ServerSentEvent droppedEvent(long count) {
    return ConsoleFeed.event("dropped", ConsoleRoutes.JSON.createObjectNode().put("count", count));
  }
}
