package io.clearinghouse.ops.console;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.junit.jupiter.api.Test;

/** A slow console's queue: what does not fit is counted, and the console is told how many it lost. */
class OutboxTest {
  private static ServerSentEvent mark(int i) {
    return ServerSentEvent.create("{\"i\":" + i + "}", "mark");
  }

  @Test
  void droppedEventsAreAnnouncedOnceThereIsRoom() {
    List<ServerSentEvent> queue = new ArrayList<>();
    int[] room = {2};
    Outbox out = new Outbox(event -> {
      if (queue.size() >= room[0]) {
        return false;
      }
      return queue.add(event);
    });
    for (int i = 0; i < 7; i++) {
      out.offer(mark(i));
    }
    assertEquals(2, queue.size());
    assertEquals(5, out.dropped());
    // The client read them: the next event is preceded by the count of those it lost.
    queue.clear();
    out.offer(mark(7));
    assertEquals(List.of("dropped", "mark"), queue.stream().map(e -> e.getEventType().orElse("")).toList());
    assertEquals("{\"count\":5}", queue.get(0).getData());
    assertEquals("{\"i\":7}", queue.get(1).getData());
    assertEquals(0, out.dropped());
  }

  @Test
  void anEventThatFindsNoRoomForTheNoticeIsCountedToo() {
    List<ServerSentEvent> queue = new ArrayList<>();
    int[] room = {1};
    Outbox out = new Outbox(event -> queue.size() < room[0] && queue.add(event));
    out.offer(List.of(mark(0), mark(1), mark(2)));
    assertEquals(2, out.dropped());
    room[0] = 2;
    out.offer(mark(3));
    assertEquals(List.of("mark", "dropped"), queue.stream().map(e -> e.getEventType().orElse("")).toList());
    assertEquals(1, out.dropped(), "the notice took the last place: this event is lost and counted");
    room[0] = 10;
    out.offer(mark(4));
    assertEquals("{\"count\":1}", queue.get(2).getData());
    assertEquals("{\"i\":4}", queue.get(3).getData());
    assertEquals(0, out.dropped());
  }

  @Test
  void nothingDroppedNoNotice() {
    List<ServerSentEvent> queue = new ArrayList<>();
    Outbox out = new Outbox(queue::add);
    out.offer(List.of(mark(0), mark(1)));
    assertEquals(List.of("mark", "mark"), queue.stream().map(e -> e.getEventType().orElse("")).toList());
  }
}
