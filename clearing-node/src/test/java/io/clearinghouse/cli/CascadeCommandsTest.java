package io.clearinghouse.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CascadeCommandsTest {
  @Test
  void oneLineForPeople() {
    String body = "{\"scope\":\"cluster\",\"epochMillis\":0,\"started\":40,\"settled\":35,\"startedPerSecond\":\"4.0\","
        + "\"settledPerSecond\":\"3.5\",\"windowSeconds\":10,\"pending\":5,\"funds\":{\"BTCUSDT-PERP\":{\"balance\":"
        + "\"933.849999\",\"reserved\":\"0.000000\",\"balanceMinor\":933849999}},\"nodes\":[],\"unanswered\":[\"x\"]}";
    assertEquals("00:00:00  started 40  settled 35  pending 5  started/s 4.0  settled/s 3.5  fund BTCUSDT-PERP 933.849999"
        + "  (not answering: 1 node)", CascadeCommands.line(body));
  }
}
