package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutcomeTest {
  @Test
  void theWireValuesAreTheOnesJournalsAndClientsAlreadyHold() {
    assertEquals(List.of("covered", "adl", "debt", "stop", "stop-unfilled"),
        java.util.Arrays.stream(Outcome.values()).map(Outcome::wire).toList());
    for (Outcome o : Outcome.values()) {
      assertEquals(o, Outcome.of(o.wire()));
    }
    assertNull(Outcome.of(null), "a liquidation still running has none");
  }

  @Test
  void anUnknownValueIsRefusedNamingIt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Outcome.of("COVERED"));
    assertEquals("no liquidation outcome \"COVERED\"", e.getMessage());
  }

  @Test
  void jacksonWritesAndReadsTheWireValue() throws Exception {
    ObjectMapper json = new ObjectMapper();
    assertEquals("\"stop-unfilled\"", json.writeValueAsString(Outcome.STOP_UNFILLED));
    assertEquals(Outcome.ADL, json.readValue("\"adl\"", Outcome.class));
  }
}
