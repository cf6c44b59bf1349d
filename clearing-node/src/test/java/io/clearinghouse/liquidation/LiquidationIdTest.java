package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class LiquidationIdTest {
  @Test
  void theAccountIsReadFromTheIdAlone() {
    assertEquals(Optional.of("demo-1"), Liquidations.accountOf("demo-1-8"));
    assertEquals(Optional.of("alice"), Liquidations.accountOf("alice-12"));
    assertEquals(Optional.of("a.b:c-d"), Liquidations.accountOf("a.b:c-d-1"));
  }

  @Test
  void anIdOfAnotherShapeNamesNoAccount() {
    for (String id : new String[] {"maker", "maker-", "-8", "demo-1-x", "demo-1-8a", "demo-1-\u0668"}) {
      assertEquals(Optional.empty(), Liquidations.accountOf(id), id);
    }
  }
}
