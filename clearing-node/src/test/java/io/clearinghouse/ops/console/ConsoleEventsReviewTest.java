package io.clearinghouse.ops.console;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationClose;
import io.clearinghouse.protocol.v1.LiquidationList;
import java.util.List;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 19 (rev19): the events stream promises "a liquidation of the last hour that is new
 * or changed, the operator API's whole record"; a running liquidation whose record changes (a new
 * close, new amounts) while its outcome stays empty is not sent again, so its flow diagram stays at
 * the first snapshot until it finishes.
 */
class ConsoleEventsReviewTest {
  private static List<ServerSentEvent> changes(ConsoleFeed events, LiquidationList list) {
    return events.changes(list);
  }

  @Test
  void aRunningLiquidationsChangedRecordIsSentAgain() {
    ConsoleFeed events = new ConsoleFeed(null, null);
    Liquidation first = Liquidation.newBuilder().setLiquidationId("alice-1-1").setAccountId("alice-1")
        .setTradersLoss("10.000000").build();
    Liquidation stepped = first.toBuilder().addCloses(LiquidationClose.newBuilder().setStep(1).setQuantity("-0.5"))
        .setTradersLoss("25.000000").setToProviders("25.000000").build();
    assertEquals(1, changes(events, LiquidationList.newBuilder().addLiquidations(first).build()).stream()
        .filter(e -> e.getEventType().orElse("").equals("liquidation")).count());
    List<ServerSentEvent> second = changes(events, LiquidationList.newBuilder().addLiquidations(stepped).build());
    assertEquals(1, second.stream().filter(e -> e.getEventType().orElse("").equals("liquidation")).count(),
        "the running liquidation's new close and amounts are not sent: " + second);
  }
}
