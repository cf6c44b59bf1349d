package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.Calls.refused;
import static io.clearinghouse.it.LiquidationHarness.FUTURE;
import static io.clearinghouse.it.LiquidationHarness.PERP;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.BOB_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.account.Accounts;
import io.clearinghouse.api.PrivateViews;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.liquidation.LiquidationSettings;
import io.clearinghouse.liquidation.Liquidations;
import io.clearinghouse.protocol.v1.AccountUpdate;
import io.clearinghouse.protocol.v1.AdminListLiquidationsRequest;
import io.clearinghouse.protocol.v1.GetInsuranceFundRequest;
import io.clearinghouse.protocol.v1.GetLiquidationRequest;
import io.clearinghouse.protocol.v1.InsuranceFundView;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationHaltStatus;
import io.clearinghouse.protocol.v1.ListLiquidationsRequest;
import io.clearinghouse.protocol.v1.MarginAlert;
import io.clearinghouse.protocol.v1.RegisterBackstopProviderRequest;
import io.clearinghouse.protocol.v1.SetLiquidationHaltRequest;
import io.clearinghouse.protocol.v1.StreamAccountRequest;
import io.clearinghouse.protocol.v1.TopUpInsuranceFundRequest;
import io.grpc.Status.Code;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;

/**
 * The operator's side of liquidations over gRPC and the management port: every bad top-up,
 * registration, halt and lookup is refused with its reason and changes nothing; the halt switch
 * holds a breached account until it is resumed, and shows on /health/markets (never on /ready),
 * the account stream and /liquidations/halted; metrics and /insurance-funds report the outcome. Ends with the audit.
 */
class LiquidationApiIntegrationTest {

  @Test
  void badInputIsRefusedAndTheHaltSwitchHoldsLiquidations() {
    try (LiquidationHarness h = new LiquidationHarness("liq_api", "")) {
      h.open("alice-1", "1000");
      h.open("maker", "1000000");
      h.open("prov", "1000000");
      topUps(h);
      registrations(h);

      HttpClient http = HttpClient.newHttpClient();
      String base = h.node.managementUri().replaceAll("/$", "");
      h.buy("alice-1", "maker", PERP, "1", "50000");
      h.mark(PERP, "50000");
      h.probe.awaitAssert(LiquidationHarness.WAIT, () -> {
        assertEquals(200, ManagementHttp.get(http, base + "/ready").statusCode());
        return null;
      });
      TestProbe<AccountUpdate> alice = TestProbe.create(h.clients);
      h.accounts.streamAccount().addHeader("authorization", Calls.BEARER + ALICE_TOKEN)
          .invoke(StreamAccountRequest.newBuilder().setAccountId("alice-1").build())
          .runWith(Sink.foreach(alice.getRef()::tell), h.clients);
      alice.receiveMessage(LiquidationHarness.WAIT);

      // Halting: operator token only, known instruments only.
      String halt = base + "/liquidations/halt?instrument=" + PERP;
      assertEquals(401, ManagementHttp.post(http, halt, null).statusCode());
      assertEquals(403, ManagementHttp.post(http, halt, ALICE_TOKEN).statusCode());
      // An unknown instrument is a bad argument (400), as in the gRPC API; not "not found".
      assertEquals(400, ManagementHttp.post(http, base + "/liquidations/halt?instrument=DOGE", OPERATOR_TOKEN)
          .statusCode());
      refused(h.admin.setLiquidationHalt(), OPERATOR_TOKEN, SetLiquidationHaltRequest.newBuilder()
          .setInstrument("DOGE").setHalted(true).build(), Code.INVALID_ARGUMENT, Rejection.UNKNOWN_INSTRUMENT);
      refused(h.admin.setLiquidationHalt(), ALICE_TOKEN, SetLiquidationHaltRequest.newBuilder()
          .setInstrument(PERP).setHalted(true).build(), Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);
      var halted = ManagementHttp.post(http, halt, OPERATOR_TOKEN);
      assertEquals(200, halted.statusCode());
      assertEquals("{\"instrument\":\"" + PERP + "\",\"halted\":true}", halted.body());
      alice.fishForMessage(LiquidationHarness.WAIT, u -> u.getAlertsList().stream()
          .anyMatch(a -> a.getKind() == MarginAlert.Kind.LIQUIDATIONS_HALTED && a.getLevel().equals(PERP))
          ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore());
      h.probe.awaitAssert(LiquidationHarness.WAIT, () -> {
        // A halt shows on /health/markets and /liquidations/halted; the node stays ready.
        assertTrue(ManagementHttp.market(http, base, PERP).get("liquidationsHalted").asBoolean());
        assertEquals("{\"halted\":[\"" + PERP + "\"]}", ManagementHttp.operatorGet(http, base + "/liquidations/halted").body());
        return null;
      });
      assertEquals(200, ManagementHttp.get(http, base + "/ready").statusCode());

      // Breached while halted: nothing starts. Resumed: it starts at once, at the current mark.
      h.mark(PERP, "49000");
      h.probe.awaitAssert(LiquidationHarness.WAIT, () -> {
        assertEquals("49000.0", h.view("alice-1").getPositions(0).getMarkPrice());
        return null;
      });
      assertEquals(List.of(PERP), h.view("alice-1").getLiquidationHaltedInstrumentsList());
      long resumedAt = System.currentTimeMillis();
      LiquidationHaltStatus resumed = call(h.admin.setLiquidationHalt(), OPERATOR_TOKEN,
          SetLiquidationHaltRequest.newBuilder().setInstrument(PERP).setHalted(false).build());
      assertFalse(resumed.getHalted());
      Liquidation l = h.onlyLiquidation("alice-1");
      assertTrue(l.getTriggeredAtEpochMillis() >= resumedAt, "started while halted: " + l);
      assertEquals("49000.0", l.getTriggerMarksOrThrow(PERP));
      h.probe.awaitAssert(LiquidationHarness.WAIT, () -> {
        assertEquals(200, ManagementHttp.get(http, base + "/ready").statusCode());
        return null;
      });

      lookups(h, l);
      String metrics = ManagementHttp.operatorGet(http, base + "/metrics").body();
      assertTrue(metrics.contains("clearinghouse_liquidations_total{outcome=\"adl\",} 1.0"), metrics);
      assertTrue(metrics.contains("clearinghouse_insurance_fund_balance{fund=\"" + PERP + "\",} 2.5E8"), metrics);
      assertEquals(200, ManagementHttp.operatorGet(http, base + "/insurance-funds").statusCode());
      assertTrue(ManagementHttp.operatorGet(http, base + "/insurance-funds").body()
          .contains("\"" + PERP + "\":{\"balance\":250000000,"));
      h.auditClean();
    }
  }

  /** Top-ups: one good one and its replay; every bad one refused, the balance untouched. */
  private static void topUps(LiquidationHarness h) {
    InsuranceFundView first = h.topUp(PERP, "250", "top-1");
    assertEquals("250.000000", first.getBalance());
    assertFalse(first.getReplayed());
    InsuranceFundView again = h.topUp(PERP, "250", "top-1");
    assertTrue(again.getReplayed());
    assertEquals("250.000000", again.getBalance());
    var topUp = TopUpInsuranceFundRequest.newBuilder().setFund(PERP).setIdempotencyKey("top-2");
    refused(h.admin.topUpInsuranceFund(), OPERATOR_TOKEN, topUp.setAmount("0").build(), Code.INVALID_ARGUMENT,
        Rejection.AMOUNT_NOT_POSITIVE);
    refused(h.admin.topUpInsuranceFund(), OPERATOR_TOKEN, topUp.setAmount("-5").build(), Code.INVALID_ARGUMENT,
        Rejection.AMOUNT_NOT_POSITIVE);
    refused(h.admin.topUpInsuranceFund(), OPERATOR_TOKEN, topUp.setAmount("99999999999999999999").build(),
        Code.INVALID_ARGUMENT, Rejection.AMOUNT_OVERFLOW);
    refused(h.admin.topUpInsuranceFund(), OPERATOR_TOKEN, topUp.setAmount("ten").build(), Code.INVALID_ARGUMENT,
        Rejection.MALFORMED_AMOUNT);
    refused(h.admin.topUpInsuranceFund(), OPERATOR_TOKEN, topUp.setAmount("1.0000001").build(), Code.INVALID_ARGUMENT,
        Rejection.AMOUNT_TOO_PRECISE);
    // Above the largest amount of one request (the fund's own BALANCE_OVERFLOW check stays
    // behind it, in InsuranceFundTest).
    refused(h.admin.topUpInsuranceFund(), OPERATOR_TOKEN, topUp.setAmount("9223372036854.775807").build(),
        Code.INVALID_ARGUMENT, Rejection.AMOUNT_ABOVE_MAXIMUM);
    refused(h.admin.topUpInsuranceFund(), OPERATOR_TOKEN, topUp.clone().setFund("NOPE").setAmount("1").build(),
        Code.NOT_FOUND, Rejection.UNKNOWN_FUND);
    refused(h.admin.topUpInsuranceFund(), OPERATOR_TOKEN, topUp.clone().setFund("").setAmount("1").build(),
        Code.NOT_FOUND, Rejection.UNKNOWN_FUND);
    refused(h.admin.topUpInsuranceFund(), OPERATOR_TOKEN, topUp.clone().setIdempotencyKey("").setAmount("1").build(),
        Code.INVALID_ARGUMENT, Rejection.INVALID_IDEMPOTENCY_KEY);
    refused(h.admin.topUpInsuranceFund(), OPERATOR_TOKEN, topUp.clone().setIdempotencyKey("top-1").setAmount("1")
        .build(), Code.ALREADY_EXISTS, Rejection.IDEMPOTENCY_KEY_REUSED);
    refused(h.admin.topUpInsuranceFund(), ALICE_TOKEN, topUp.setAmount("1").build(), Code.PERMISSION_DENIED,
        Rejection.WRONG_ROLE);
    refused(h.admin.topUpInsuranceFund(), null, topUp.setAmount("1").build(), Code.UNAUTHENTICATED,
        Rejection.MISSING_TOKEN);
    refused(h.admin.getInsuranceFund(), OPERATOR_TOKEN, GetInsuranceFundRequest.newBuilder().setFund("NOPE").build(),
        Code.NOT_FOUND, Rejection.UNKNOWN_FUND);
    InsuranceFundView fund = h.fund(PERP);
    assertEquals("250.000000", fund.getBalance());
    assertEquals(1, fund.getEntries());
    assertEquals(List.of("TOP_UP"), fund.getHistoryList().stream().map(e -> e.getKind()).toList());
  }

  /** Provider registrations for unknown accounts or instruments, bad limits and client tokens. */
  private static void registrations(LiquidationHarness h) {
    var register = RegisterBackstopProviderRequest.newBuilder().setAccountId("prov").addInstruments(PERP)
        .setMaxNotional("100000");
    refused(h.admin.registerBackstopProvider(), OPERATOR_TOKEN, register.clone().setAccountId("ghost").build(),
        Code.NOT_FOUND, Rejection.ACCOUNT_NOT_FOUND);
    refused(h.admin.registerBackstopProvider(), OPERATOR_TOKEN, register.clone().setAccountId("bad id!").build(),
        Code.INVALID_ARGUMENT, Rejection.INVALID_ACCOUNT_ID);
    refused(h.admin.registerBackstopProvider(), OPERATOR_TOKEN, register.clone().addInstruments("DOGE").build(),
        Code.INVALID_ARGUMENT, Rejection.UNKNOWN_INSTRUMENT);
    refused(h.admin.registerBackstopProvider(), OPERATOR_TOKEN, register.clone().clearInstruments().build(),
        Code.INVALID_ARGUMENT, Rejection.UNKNOWN_INSTRUMENT);
    refused(h.admin.registerBackstopProvider(), OPERATOR_TOKEN, register.clone().setMaxNotional("-1").build(),
        Code.INVALID_ARGUMENT, Rejection.AMOUNT_NOT_POSITIVE);
    refused(h.admin.registerBackstopProvider(), ALICE_TOKEN, register.build(), Code.PERMISSION_DENIED,
        Rejection.WRONG_ROLE);
    // A provider whose limit (100 USDT of notional) the position would exceed declines it, so the
    // liquidation below deleverages the maker instead.
    call(h.admin.registerBackstopProvider(), OPERATOR_TOKEN, register.setMaxNotional("100").build());
  }

  private static void lookups(LiquidationHarness h, Liquidation l) {
    assertEquals("adl", l.getOutcome());
    assertEquals("maker", l.getCloses(0).getCounterparty());
    var list = AdminListLiquidationsRequest.newBuilder();
    assertEquals(List.of(l), call(h.admin.listLiquidations(), OPERATOR_TOKEN, list.build()).getLiquidationsList());
    assertEquals(List.of(l), call(h.admin.listLiquidations(), OPERATOR_TOKEN, list.clone().setInstrument(PERP).build())
        .getLiquidationsList());
    assertEquals(0, call(h.admin.listLiquidations(), OPERATOR_TOKEN, list.clone().setInstrument(FUTURE).build())
        .getLiquidationsCount());
    assertEquals(0, call(h.admin.listLiquidations(), OPERATOR_TOKEN, list.clone()
        .setFromEpochMillis(l.getTriggeredAtEpochMillis() + 1).build()).getLiquidationsCount());
    assertEquals(1, call(h.admin.listLiquidations(), OPERATOR_TOKEN, list.clone()
        .setFromEpochMillis(l.getTriggeredAtEpochMillis()).setToEpochMillis(l.getTriggeredAtEpochMillis() + 1).build())
        .getLiquidationsCount());
    refused(h.admin.listLiquidations(), OPERATOR_TOKEN, list.clone().setInstrument("DOGE").build(),
        Code.INVALID_ARGUMENT, Rejection.UNKNOWN_INSTRUMENT);
    refused(h.admin.listLiquidations(), ALICE_TOKEN, list.build(), Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);
    // The owner's own listing, and only the owner's.
    var own = ListLiquidationsRequest.newBuilder().setAccountId(l.getAccountId()).build();
    assertEquals(List.of(PrivateViews.ownSide(l)), call(h.accounts.listLiquidations(), ALICE_TOKEN, own)
        .getLiquidationsList());
    refused(h.accounts.listLiquidations(), BOB_TOKEN, own, Code.PERMISSION_DENIED, Rejection.NOT_ACCOUNT_OWNER);
    // The list lives with the account: an account that was never opened has none.
    refused(h.accounts.listLiquidations(), BOB_TOKEN, ListLiquidationsRequest.newBuilder().setAccountId("bob-1")
        .build(), Code.NOT_FOUND, Rejection.ACCOUNT_NOT_FOUND);
    // A listing that outlasts its deadline answers TIMEOUT (what it was still reading is cancelled).
    Liquidations direct = new Liquidations(h.node.system(), LiquidationSettings.fromConfig(
        h.node.system().settings().config(), TestNodes.INSTRUMENTS), TestNodes.INSTRUMENTS,
        new Accounts(h.node.system(), Duration.ofSeconds(10)), Duration.ofSeconds(10), Duration.ofSeconds(10));
    for (String account : new String[] {l.getAccountId(), null}) {
      CompletionException late = assertThrows(CompletionException.class, () -> direct.list(
          new Liquidations.Filter(account, null, 0, 0, 50), Duration.ZERO).toCompletableFuture().join());
      assertEquals(Rejection.TIMEOUT, ((RejectedException) late.getCause()).reason(), String.valueOf(late.getCause()));
    }
    assertEquals(List.of(l.getLiquidationId()), direct.list(new Liquidations.Filter(l.getAccountId(), null, 0, 0, 50),
        Duration.ofSeconds(10)).toCompletableFuture().join().stream().map(f -> f.liquidationId()).toList());
    refused(h.admin.getLiquidation(), OPERATOR_TOKEN, GetLiquidationRequest.newBuilder().setLiquidationId("alice-1-999")
        .build(), Code.NOT_FOUND, Rejection.LIQUIDATION_NOT_FOUND);
    refused(h.admin.getLiquidation(), OPERATOR_TOKEN, GetLiquidationRequest.newBuilder().setLiquidationId("no such/id")
        .build(), Code.INVALID_ARGUMENT, Rejection.UNKNOWN_LIQUIDATION_ID);
    refused(h.accounts.getLiquidation(), ALICE_TOKEN, GetLiquidationRequest.newBuilder().setLiquidationId("maker-1")
        .build(), Code.NOT_FOUND, Rejection.LIQUIDATION_NOT_FOUND);
    // A client reading another's liquidation learns nothing: the answer is the one for an id that
    // does not exist, word for word but the id (ownership is judged from the id, before any read).
    String notYours = refusedText(h.accounts.getLiquidation(), BOB_TOKEN, l.getLiquidationId());
    String missing = refusedText(h.accounts.getLiquidation(), ALICE_TOKEN, l.getAccountId() + "-999999");
    assertEquals(missing.replace(l.getAccountId() + "-999999", "ID"), notYours.replace(l.getLiquidationId(), "ID"));
    assertEquals("LIQUIDATION_NOT_FOUND: no liquidation ID", notYours.replace(l.getLiquidationId(), "ID"));
    refused(h.accounts.getLiquidation(), BOB_TOKEN, GetLiquidationRequest.newBuilder().setLiquidationId("bob-1-999999")
        .build(), Code.NOT_FOUND, Rejection.LIQUIDATION_NOT_FOUND);
    // Its owner sees its own side: no counterparty named, no counterparty's amount, its own movements.
    Liquidation mine = call(h.accounts.getLiquidation(), ALICE_TOKEN, GetLiquidationRequest.newBuilder()
        .setLiquidationId(l.getLiquidationId()).build());
    assertEquals(PrivateViews.ownSide(l), mine);
    assertEquals(List.of("", "", "", ""), List.of(mine.getCloses(0).getCounterparty(),
        mine.getCloses(0).getCounterpartyGain(), mine.getToDeleveraged(), mine.getSocialized()));
    assertEquals(List.of(l.getAccountId()), mine.getMovementsList().stream().map(m -> m.getParty()).distinct().toList());
    assertFalse(mine.toString().contains("maker"), mine.toString());
  }

  private static String refusedText(
      org.apache.pekko.grpc.javadsl.SingleResponseRequestBuilder<GetLiquidationRequest, Liquidation> rpc, String token,
      String id) {
    refused(rpc, token, GetLiquidationRequest.newBuilder().setLiquidationId(id).build(), Code.NOT_FOUND,
        Rejection.LIQUIDATION_NOT_FOUND);
    CompletionException failure = assertThrows(CompletionException.class, () -> Calls.await(Calls.withToken(rpc, token)
        .invoke(GetLiquidationRequest.newBuilder().setLiquidationId(id).build())));
    return ((io.grpc.StatusRuntimeException) failure.getCause()).getStatus().getDescription();
  }
}
