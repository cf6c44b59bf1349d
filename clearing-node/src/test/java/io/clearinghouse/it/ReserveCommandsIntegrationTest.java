package io.clearinghouse.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.cli.Chctl;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code chctl}'s reserve and fund-flow commands against a real node: what they print, and a
 * refusal's reason with exit code 1. The node's own answers are tested in the it package.
 */
class ReserveCommandsIntegrationTest {

  private record Run(int code, String out, String err) {}

  private static Run chctl(Map<String, String> env, String... args) {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    StringWriter errors = new StringWriter();
    try (Chctl chctl = new Chctl(env, new PrintStream(printed, true, StandardCharsets.UTF_8))) {
      int code = chctl.commandLine(new PrintWriter(errors, true)).execute(args);
      return new Run(code, printed.toString(StandardCharsets.UTF_8), errors.toString());
    }
  }

  @Test
  void reservesTopUpsWithdrawalsMovementsAndTheFlows() {
    Main.Node node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("chctl_reserves"), ""));
    try {
      Map<String, String> env = Map.of("CLEARINGHOUSE_GRPC", "127.0.0.1:" + node.grpcAddress().getPort(),
          "CLEARINGHOUSE_TOKEN", TestNodes.OPERATOR_TOKEN);
      Run topUp = chctl(env, "reserve-top-up", "operator-capital", "1000", "capital-1");
      assertEquals(0, topUp.code(), topUp.err());
      assertTrue(topUp.out().contains("fund          operator-capital"), topUp.out());
      assertTrue(topUp.out().contains("balance       1000.000000"), topUp.out());
      Run tooMuch = chctl(env, "reserve-withdraw", "operator-capital", "1000.5", "out-1");
      assertEquals(1, tooMuch.code());
      assertTrue(tooMuch.err().contains("FAILED_PRECONDITION INSUFFICIENT_RESERVE"), tooMuch.err());
      assertEquals(0, chctl(env, "reserve-withdraw", "operator-capital", "250", "out-1").code());
      Run reserves = chctl(env, "reserves");
      assertEquals(0, reserves.code(), reserves.err());
      assertTrue(reserves.out().lines().anyMatch(l -> l.startsWith("operator-capital") && l.contains("750.000000")),
          reserves.out());
      // One line per reserve.
      assertEquals(6, reserves.out().lines().count(), reserves.out());
      Run movements = chctl(env, "reserve-movements", "operator-capital", "--limit", "5");
      assertTrue(movements.out().contains("WITHDRAWAL") && movements.out().contains("TOP_UP"), movements.out());
      Run flows = chctl(env, "flows", "BTCUSDT-PERP", "2026-01-01T00:00:00Z", "");
      assertEquals(0, flows.code(), flows.err());
      assertTrue(flows.out().contains("liquidations         0 (finished)"), flows.out());
      assertTrue(flows.out().contains("traders' losses      0.000000"), flows.out());
      Run unwind = chctl(env, "unwind", "BTCUSDT-PERP", "BTCUSDT-PERP");
      assertTrue(unwind.out().contains("fund BTCUSDT-PERP in BTCUSDT-PERP: position 0.000\n"), unwind.out());
      assertEquals(64, chctl(env, "flows", "BTCUSDT-PERP", "yesterday").code());
      Run unknown = chctl(env, "reserve-movements", "fees");
      assertTrue(unknown.err().contains("NOT_FOUND UNKNOWN_RESERVE"), unknown.err());
    } finally {
      TestNodes.stop(node);
    }
  }
}
