package io.clearinghouse.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.protocol.v1.AccountView;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** chctl's command line without a node: help, arity and type checks, completion, output forms. */
class ChctlTest {
  /** Exit status, stdout and stderr of one chctl call. */
  private record Run(int status, String out, String err) {}

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    int status;
    // Port 1: no node answers there, so a call that gets as far as the network is refused.
    try (Chctl chctl = new Chctl(Map.of("CLEARINGHOUSE_GRPC", "127.0.0.1:1",
        "CLEARINGHOUSE_MANAGEMENT", "http://127.0.0.1:1"), new PrintStream(out, true, StandardCharsets.UTF_8))) {
      status = chctl.commandLine(new PrintWriter(err, true)).execute(args);
    }
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString());
  }

  @Test
  void helpListsEveryCommandWithItsDescription() {
    Run help = run("help");
    assertEquals(0, help.status());
    for (String command : new String[] {"open", "deposit", "withdraw", "trade", "reserve", "price", "marks", "watch",
        "liquidations", "liquidation", "audit", "members", "ready", "token", "completion"}) {
      assertTrue(help.out().contains("\n  " + command + " "), command + " missing from:\n" + help.out());
    }
    Run deposit = run("help", "deposit");
    assertTrue(deposit.out().contains("Usage: chctl deposit") && deposit.out().replaceAll("\\s+", " ").contains("ACCOUNT AMOUNT KEY"),
        deposit.out());
  }

  @Test
  void tokenMakesARandomTokenAndTheEntryTheNodeAccepts() {
    Run first = run("token", "alice", "client", "--accounts", "alice-1,alice-2", "--expires", "2027-01-31T00:00:00Z");
    Run second = run("token", "alice", "client", "--accounts", "alice-1");
    assertEquals(0, first.status(), first.err());
    String token = first.out().lines().filter(l -> l.startsWith("token ")).findFirst().orElseThrow().substring(8);
    String hash = first.out().lines().filter(l -> l.startsWith("sha256 ")).findFirst().orElseThrow().substring(8);
    String entry = first.out().lines().filter(l -> l.startsWith("entry ")).findFirst().orElseThrow().substring(8);
    assertTrue(token.matches("[0-9a-f]{64}"), token);
    assertEquals(io.clearinghouse.api.Authenticator.sha256Hex(token), hash);
    assertFalse(second.out().contains(token), "two tokens are never the same");
    assertFalse(entry.contains(token), "the entry holds the hash only");
    var config = com.typesafe.config.ConfigFactory.parseString("clearinghouse.auth.tokens = [" + entry + "]")
        .withFallback(com.typesafe.config.ConfigFactory.load()).resolve();
    var principal = io.clearinghouse.api.Authenticator.fromConfig(config)
        .require(java.util.Optional.of("Bearer " + token), io.clearinghouse.api.Role.CLIENT);
    assertEquals("alice", principal.name());
    assertEquals(java.util.Set.of("alice-1", "alice-2"), principal.accounts());
    assertTrue(entry.contains("expires = \"2027-01-31T00:00:00Z\""), entry);
    assertEquals(Chctl.USAGE, run("token", "x", "king").status());
    // A monitor token (Prometheus): its entry is accepted by the node as a reader, and as nothing else.
    Run monitor = run("token", "prometheus", "MONITOR");
    assertEquals(0, monitor.status(), monitor.err());
    String monitorToken = monitor.out().lines().filter(l -> l.startsWith("token ")).findFirst().orElseThrow().substring(8);
    String monitorEntry = monitor.out().lines().filter(l -> l.startsWith("entry ")).findFirst().orElseThrow().substring(8);
    assertTrue(monitorEntry.startsWith("{ name = \"prometheus\", role = monitor, sha256 = "), monitorEntry);
    var monitorAuth = io.clearinghouse.api.Authenticator.fromConfig(com.typesafe.config.ConfigFactory
        .parseString("clearinghouse.auth.tokens = [" + monitorEntry + "]")
        .withFallback(com.typesafe.config.ConfigFactory.load()).resolve());
    assertEquals(io.clearinghouse.api.Role.MONITOR,
        monitorAuth.requireReader(java.util.Optional.of("Bearer " + monitorToken)).role());
    assertEquals(Chctl.USAGE, run("token", "x", "operator", "--expires", "soon").status());
  }

  @Test
  void aMissingOrSurplusArgumentIsAUsageErrorThatCallsNothing() {
    Run missing = run("deposit", "demo-1", "100");
    assertEquals(Chctl.USAGE, missing.status());
    assertTrue(missing.err().contains("Missing required parameter: 'KEY'"), missing.err());
    Run surplus = run("open", "demo-1", "demo-2");
    assertEquals(Chctl.USAGE, surplus.status());
    assertTrue(surplus.err().contains("Unmatched argument"), surplus.err());
    Run tooFew = run("trade", "1", "t-1", "BTCUSDT-PERP", "50000", "0.1", "a", "b");
    assertEquals(Chctl.USAGE, tooFew.status());
    assertTrue(tooFew.err().contains("AGGRESSOR"), tooFew.err());
  }

  @Test
  void argumentsOfTheWrongTypeAreUsageErrors() {
    Run notANumber = run("leverage-cap", "demo-1", "ten");
    assertEquals(Chctl.USAGE, notANumber.status());
    assertTrue(notANumber.err().contains("'ten' is not an int"), notANumber.err());
    Run badSide = run("reserve", "demo-1", "o-1", "BTCUSDT-PERP", "hold", "0.1", "50000");
    assertEquals(Chctl.USAGE, badSide.status());
    assertTrue(badSide.err().contains("expected one of [buy, sell]"), badSide.err());
    Run badOutput = run("--output", "xml", "audit");
    assertEquals(Chctl.USAGE, badOutput.status());
    Run badAlert = run("watch", "demo-1", "--until", "NOTHING");
    assertEquals(Chctl.USAGE, badAlert.status());
    assertTrue(badAlert.err().contains("--until must name an alert kind"), badAlert.err());
  }

  @Test
  void aNodeThatDoesNotAnswerIsUnavailable() {
    Run grpc = run("account", "demo-1");
    assertEquals(Chctl.UNAVAILABLE, grpc.status());
    assertTrue(grpc.err().startsWith("error: UNAVAILABLE"), grpc.err());
    Run http = run("members");
    assertEquals(Chctl.UNAVAILABLE, http.status());
    assertTrue(http.err().startsWith("error: cannot reach http://127.0.0.1:1/cluster/members"), http.err());
  }

  @Test
  void completionIsABashScriptForTheseCommands() {
    Run completion = run("completion");
    assertEquals(0, completion.status());
    assertTrue(completion.out().contains("complete -F _complete_chctl"), completion.out());
    assertTrue(completion.out().contains("my-liquidations"), "commands are completed");
  }

  @Test
  void amountsAreWrittenAtTheAccountsScaleAndZeroesLeftOut() {
    AccountView view = AccountView.newBuilder().setAccountId("eur-1").setAsset("EUR").setScale(2).setCash("5")
        .setEquity("-0.5").setAvailable("0.00").setWithdrawable("0").setReserved("0.00").setDebt("0").build();
    String text = Views.account(view);
    assertTrue(text.contains("cash          5.00 EUR\n"), text);
    assertTrue(text.contains("equity        -0.50 EUR\n"), text);
    assertFalse(text.contains("reserved"), text);
    assertFalse(text.contains("debt"), text);
    String reserved = Views.account(view.toBuilder().setReserved("0.01").setDebt("12.3").build());
    assertTrue(reserved.contains("reserved      0.01 EUR\n"), reserved);
    assertTrue(reserved.contains("debt          12.30 EUR"), reserved);
  }

  @Test
  void jsonIsTheProto3MappingOfTheMessage() {
    String json = Session.json(AccountView.newBuilder().setAccountId("demo-1").setAsset("USDT").setScale(6)
        .setCash("1.000000").build(), true);
    assertTrue(json.startsWith("{\"account_id\":\"demo-1\",\"asset\":\"USDT\",\"scale\":6,\"cash\":\"1.000000\""), json);
    assertFalse(json.contains("\n"), json);
  }
}
