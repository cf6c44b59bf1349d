package io.clearinghouse.it;

import static io.clearinghouse.it.Calls.await;
import static io.clearinghouse.it.Calls.call;
import static io.clearinghouse.it.Calls.refused;
import static io.clearinghouse.it.TestNodes.ALICE_TOKEN;
import static io.clearinghouse.it.TestNodes.BOB_TOKEN;
import static io.clearinghouse.it.TestNodes.OPERATOR_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.Main;
import io.clearinghouse.account.Accounts;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.audit.LedgerAudit;
import io.clearinghouse.protocol.v1.AccountServiceClient;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.TransferKind;
import io.clearinghouse.protocol.v1.TransferReceipt;
import io.clearinghouse.protocol.v1.WithdrawRequest;
import io.grpc.Status.Code;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The account API of one real node, called over the network by the generated gRPC clients, with
 * the journal in the real Cassandra. Every refusal is checked for its status code, its stable
 * reason, and for having changed nothing. Ends with the ledger audit.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccountApiIntegrationTest {
  private Main.Node node;
  private ActorSystem<Void> clients;
  private AdminServiceClient admin;
  private AccountServiceClient accounts;
  private HealthClient health;

  @BeforeAll
  void startNode() {
    node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("api"), ""));
    clients = TestNodes.clientSystem();
    admin = AdminServiceClient.create(TestNodes.clientSettings(node, clients), clients);
    accounts = AccountServiceClient.create(TestNodes.clientSettings(node, clients), clients);
    health = HealthClient.create(TestNodes.clientSettings(node, clients), clients);
    for (String id : new String[] {"alice-1", "alice-2", "bob-1"}) {
      call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId(id).build());
    }
    deposit("bob-1", "500", "bob-seed");
  }

  @AfterAll
  void auditAndStop() {
    try {
      LedgerAudit.Report report = await(new LedgerAudit(node.system(),
          new Accounts(node.system(), Duration.ofSeconds(10)), TestNodes.INSTRUMENTS).run());
      assertTrue(report.clean(), "ledger audit: " + report.violations());
      assertEquals(3, report.accounts());
      AccountView alice1 = operatorGet("alice-1");
      AccountView alice2 = operatorGet("alice-2");
      AccountView bob = operatorGet("bob-1");
      assertEquals(report.totalCash(), units(alice1.getCash()) + units(alice2.getCash()) + units(bob.getCash()));
      assertEquals(report.totalCash(), report.deposits() - report.withdrawals());
    } finally {
      clients.terminate();
      TestNodes.stop(node);
    }
  }

  /** USDT decimal string to minor units, for sums in assertions (independent of the code under test). */
  private static long units(String amount) {
    return new java.math.BigDecimal(amount).movePointRight(6).longValueExact();
  }

  private TransferReceipt deposit(String account, String amount, String key) {
    return call(admin.deposit(), OPERATOR_TOKEN, depositRequest(account, amount, key));
  }

  private static DepositRequest depositRequest(String account, String amount, String key) {
    return DepositRequest.newBuilder().setAccountId(account).setAmount(amount).setIdempotencyKey(key).build();
  }

  private static WithdrawRequest withdrawRequest(String account, String amount, String key) {
    return WithdrawRequest.newBuilder().setAccountId(account).setAmount(amount).setIdempotencyKey(key).build();
  }

  private static GetAccountRequest get(String account) {
    return GetAccountRequest.newBuilder().setAccountId(account).build();
  }

  private AccountView operatorGet(String account) {
    return call(admin.getAccount(), OPERATOR_TOKEN, get(account));
  }

  @Test
  void depositGetAndWithdrawMoveExactAmounts() {
    String before = operatorGet("alice-2").getCash();
    TransferReceipt deposited = deposit("alice-2", "1250.5", "custody-tx-1");
    assertEquals(TransferKind.DEPOSIT, deposited.getKind());
    assertEquals("1250.500000", deposited.getAmount());
    assertFalse(deposited.getReplayed());
    long afterDeposit = units(before) + 1_250_500_000L;
    assertEquals(afterDeposit, units(deposited.getCashAfter()));

    AccountView seenByAlice = call(accounts.getAccount(), ALICE_TOKEN, get("alice-2"));
    assertEquals("USDT", seenByAlice.getAsset());
    assertEquals(6, seenByAlice.getScale());
    assertEquals(afterDeposit, units(seenByAlice.getCash()));
    assertEquals(seenByAlice.getCash(), seenByAlice.getWithdrawable());

    TransferReceipt withdrawn = call(accounts.withdraw(), ALICE_TOKEN, withdrawRequest("alice-2", "250.000001", "w-1"));
    assertEquals(TransferKind.WITHDRAWAL, withdrawn.getKind());
    assertEquals(afterDeposit - 250_000_001L, units(withdrawn.getCashAfter()));
    assertEquals(withdrawn.getCashAfter(), operatorGet("alice-2").getCash());
  }

  @Test
  void retriesWithTheSameKeyAreAnsweredOnceAndKeyReuseIsRefused() {
    TransferReceipt first = deposit("alice-1", "10", "retry-key-1");
    TransferReceipt again = deposit("alice-1", "10.000000", "retry-key-1");
    assertTrue(again.getReplayed());
    assertEquals(first.getCashAfter(), again.getCashAfter());
    assertEquals(first.getCashAfter(), operatorGet("alice-1").getCash());

    refused(admin.deposit(), OPERATOR_TOKEN, depositRequest("alice-1", "11", "retry-key-1"),
        Code.ALREADY_EXISTS, Rejection.IDEMPOTENCY_KEY_REUSED);
    assertEquals(first.getCashAfter(), operatorGet("alice-1").getCash());

    TransferReceipt w = call(accounts.withdraw(), ALICE_TOKEN, withdrawRequest("alice-1", "1", "retry-w-1"));
    TransferReceipt wAgain = call(accounts.withdraw(), ALICE_TOKEN, withdrawRequest("alice-1", "1", "retry-w-1"));
    assertTrue(wAgain.getReplayed());
    refused(accounts.withdraw(), ALICE_TOKEN, withdrawRequest("alice-1", "2", "retry-w-1"),
        Code.ALREADY_EXISTS, Rejection.IDEMPOTENCY_KEY_REUSED);
    assertEquals(w.getCashAfter(), operatorGet("alice-1").getCash());
  }

  @Test
  void clientWithdrawalsNeitherEvictNorTakeTheCustodysDepositKeys() {
    // The reproduction: 1,001 withdrawals of 0.000001 used to push the custody system's key out
    // of a shared window of 1,000, and its retry was credited a second time.
    TransferReceipt first = deposit("alice-2", "100", "custody-evict-1");
    for (int i = 0; i < 1_001; i++) {
      call(accounts.withdraw(), ALICE_TOKEN, withdrawRequest("alice-2", "0.000001", "tiny-" + i));
    }
    long afterWithdrawals = units(first.getCashAfter()) - 1_001;
    TransferReceipt retry = deposit("alice-2", "100", "custody-evict-1");
    assertTrue(retry.getReplayed());
    assertEquals(first.getCashAfter(), retry.getCashAfter());
    assertEquals(afterWithdrawals, units(operatorGet("alice-2").getCash()));
    // The client takes the key the custody system will use next: it is the client's own key (a
    // withdrawal), and the custody system's deposit under it is still applied, once.
    call(accounts.withdraw(), ALICE_TOKEN, withdrawRequest("alice-2", "1", "custody-evict-2"));
    TransferReceipt next = deposit("alice-2", "5", "custody-evict-2");
    assertFalse(next.getReplayed());
    assertEquals(TransferKind.DEPOSIT, next.getKind());
    assertEquals(afterWithdrawals - 1_000_000 + 5_000_000, units(operatorGet("alice-2").getCash()));
    assertTrue(deposit("alice-2", "5", "custody-evict-2").getReplayed());
    assertEquals(afterWithdrawals - 1_000_000 + 5_000_000, units(operatorGet("alice-2").getCash()));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "abc                  | MALFORMED_AMOUNT",
      "''                   | MALFORMED_AMOUNT",
      "1e3                  | MALFORMED_AMOUNT",
      "-5                   | AMOUNT_NOT_POSITIVE",
      "0                    | AMOUNT_NOT_POSITIVE",
      "0.000000             | AMOUNT_NOT_POSITIVE",
      "0.0000001            | AMOUNT_TOO_PRECISE",
      "99999999999999999999 | AMOUNT_OVERFLOW"
  })
  void badAmountsAreRefusedAndChangeNothing(String amount, Rejection reason) {
    deposit("alice-1", "5", "seed-" + reason + "-" + amount.hashCode());
    String before = operatorGet("alice-1").getCash();
    refused(admin.deposit(), OPERATOR_TOKEN, depositRequest("alice-1", amount, "bad-d-" + amount.hashCode()),
        Code.INVALID_ARGUMENT, reason);
    refused(accounts.withdraw(), ALICE_TOKEN, withdrawRequest("alice-1", amount, "bad-w-" + amount.hashCode()),
        Code.INVALID_ARGUMENT, reason);
    assertEquals(before, operatorGet("alice-1").getCash());
  }

  @Test
  void amountsAboveTheMaximumOfOneRequestAreRefused() {
    // 1,000,000,000 USDT per request (settlement-asset.max-amount), so no sum of a few requests
    // comes near the 64-bit limit; the account's own BALANCE_OVERFLOW check stays behind it.
    String before = operatorGet("bob-1").getCash();
    refused(admin.deposit(), OPERATOR_TOKEN, depositRequest("bob-1", "9223372036854.775807", "too-much"),
        Code.INVALID_ARGUMENT, Rejection.AMOUNT_ABOVE_MAXIMUM);
    refused(admin.deposit(), OPERATOR_TOKEN, depositRequest("bob-1", "1000000000.000001", "too-much-2"),
        Code.INVALID_ARGUMENT, Rejection.AMOUNT_ABOVE_MAXIMUM);
    assertEquals(before, operatorGet("bob-1").getCash());
  }

  @Test
  void withdrawingMoreThanTheWithdrawableIsRefusedButExactlyAllOfItWorks() {
    call(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("alice-2").build());
    deposit("alice-2", "3.5", "exact-seed");
    long withdrawable = units(operatorGet("alice-2").getWithdrawable());
    String oneUnitTooMuch = new io.clearinghouse.money.Asset("USDT", 6).format(withdrawable + 1);
    refused(accounts.withdraw(), ALICE_TOKEN, withdrawRequest("alice-2", oneUnitTooMuch, "too-much-w"),
        Code.FAILED_PRECONDITION, Rejection.INSUFFICIENT_WITHDRAWABLE);
    assertEquals(withdrawable, units(operatorGet("alice-2").getCash()));
    String all = new io.clearinghouse.money.Asset("USDT", 6).format(withdrawable);
    TransferReceipt receipt = call(accounts.withdraw(), ALICE_TOKEN, withdrawRequest("alice-2", all, "all-w"));
    assertEquals("0.000000", receipt.getCashAfter());
  }

  @Test
  void unknownAccountsAreNotFound() {
    refused(admin.deposit(), OPERATOR_TOKEN, depositRequest("nobody-1", "5", "k-nobody"),
        Code.NOT_FOUND, Rejection.ACCOUNT_NOT_FOUND);
    refused(admin.getAccount(), OPERATOR_TOKEN, get("nobody-1"), Code.NOT_FOUND, Rejection.ACCOUNT_NOT_FOUND);
    refused(accounts.getAccount(), ALICE_TOKEN, get("alice-unopened"), Code.NOT_FOUND, Rejection.ACCOUNT_NOT_FOUND);
    refused(accounts.withdraw(), ALICE_TOKEN, withdrawRequest("alice-unopened", "1", "k-unopened"),
        Code.NOT_FOUND, Rejection.ACCOUNT_NOT_FOUND);
    // Asking did not create them.
    refused(admin.getAccount(), OPERATOR_TOKEN, get("nobody-1"), Code.NOT_FOUND, Rejection.ACCOUNT_NOT_FOUND);
  }

  @Test
  void emptyOversizedAndIllegalIdsAreRefused() {
    String tooLong = "a".repeat(65);
    refused(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("").build(),
        Code.INVALID_ARGUMENT, Rejection.INVALID_ACCOUNT_ID);
    refused(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId(tooLong).build(),
        Code.INVALID_ARGUMENT, Rejection.INVALID_ACCOUNT_ID);
    refused(admin.openAccount(), OPERATOR_TOKEN, OpenAccountRequest.newBuilder().setAccountId("a b|c").build(),
        Code.INVALID_ARGUMENT, Rejection.INVALID_ACCOUNT_ID);
    refused(admin.getAccount(), OPERATOR_TOKEN, get(""), Code.INVALID_ARGUMENT, Rejection.INVALID_ACCOUNT_ID);
    refused(accounts.getAccount(), ALICE_TOKEN, get(tooLong), Code.INVALID_ARGUMENT, Rejection.INVALID_ACCOUNT_ID);
    String before = operatorGet("alice-1").getCash();
    refused(admin.deposit(), OPERATOR_TOKEN, depositRequest("alice-1", "1", ""),
        Code.INVALID_ARGUMENT, Rejection.INVALID_IDEMPOTENCY_KEY);
    refused(admin.deposit(), OPERATOR_TOKEN, depositRequest("alice-1", "1", tooLong),
        Code.INVALID_ARGUMENT, Rejection.INVALID_IDEMPOTENCY_KEY);
    refused(accounts.withdraw(), ALICE_TOKEN, withdrawRequest("alice-1", "1", ""),
        Code.INVALID_ARGUMENT, Rejection.INVALID_IDEMPOTENCY_KEY);
    assertEquals(before, operatorGet("alice-1").getCash());
  }

  @Test
  void callsWithoutAValidTokenAreUnauthenticated() {
    refused(accounts.getAccount(), null, get("alice-1"), Code.UNAUTHENTICATED, Rejection.MISSING_TOKEN);
    refused(admin.deposit(), null, depositRequest("alice-1", "1", "no-token"), Code.UNAUTHENTICATED, Rejection.MISSING_TOKEN);
    refused(accounts.getAccount(), "not-a-token", get("alice-1"), Code.UNAUTHENTICATED, Rejection.UNKNOWN_TOKEN);
    refused(admin.getAccount(), "not-a-token", get("alice-1"), Code.UNAUTHENTICATED, Rejection.UNKNOWN_TOKEN);
    // Authentication comes before validation: a bad request without a token reveals nothing.
    refused(accounts.withdraw(), null, withdrawRequest("", "x", ""), Code.UNAUTHENTICATED, Rejection.MISSING_TOKEN);
  }

  @Test
  void rolesAndOwnershipAreEnforcedAndChangeNothing() {
    String bobBefore = operatorGet("bob-1").getCash();
    String aliceBefore = operatorGet("alice-1").getCash();
    refused(admin.deposit(), ALICE_TOKEN, depositRequest("alice-1", "1000", "self-credit"),
        Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);
    refused(admin.getAccount(), ALICE_TOKEN, get("bob-1"), Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);
    refused(admin.openAccount(), BOB_TOKEN, OpenAccountRequest.newBuilder().setAccountId("bob-2").build(),
        Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);
    refused(accounts.getAccount(), ALICE_TOKEN, get("bob-1"), Code.PERMISSION_DENIED, Rejection.NOT_ACCOUNT_OWNER);
    refused(accounts.withdraw(), ALICE_TOKEN, withdrawRequest("bob-1", "1", "steal"),
        Code.PERMISSION_DENIED, Rejection.NOT_ACCOUNT_OWNER);
    refused(accounts.withdraw(), OPERATOR_TOKEN, withdrawRequest("bob-1", "1", "operator-w"),
        Code.PERMISSION_DENIED, Rejection.WRONG_ROLE);
    assertEquals(bobBefore, operatorGet("bob-1").getCash());
    assertEquals(aliceBefore, operatorGet("alice-1").getCash());
  }

  @Test
  void grpcHealthReportsServing() {
    TestProbe<Void> probe = TestProbe.create(clients);
    probe.awaitAssert(Duration.ofSeconds(30), () -> {
      assertEquals(ServingStatus.SERVING, await(health.check(HealthCheckRequest.getDefaultInstance())).getStatus());
      return null;
    });
    assertEquals(ServingStatus.SERVING,
        await(health.check(HealthCheckRequest.newBuilder().setService("clearing.v1.AccountService").build())).getStatus());
    CompletionException unknown = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
        () -> await(health.check(HealthCheckRequest.newBuilder().setService("no.such.Service").build())));
    assertEquals(Code.NOT_FOUND, ((io.grpc.StatusRuntimeException) unknown.getCause()).getStatus().getCode());
  }

  @Test
  void managementEndpointsAnswer() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String base = node.managementUri().replaceAll("/$", "");
    TestProbe<Void> probe = TestProbe.create(clients);
    probe.awaitAssert(Duration.ofSeconds(30), () -> {
      assertEquals(200, ManagementHttp.get(http, base + "/ready").statusCode());
      return null;
    });
    assertEquals(200, ManagementHttp.get(http, base + "/alive").statusCode());
    HttpResponse<String> members = ManagementHttp.get(http, base + "/cluster/members");
    assertEquals(200, members.statusCode());
    assertTrue(members.body().contains("\"status\":\"Up\""), members.body());
    assertTrue(members.body().contains(node.system().address().toString()), members.body());
  }

  @Test
  void shardMetricsAndClusterChangingRoutesForSres() {
    HttpClient http = HttpClient.newHttpClient();
    String base = node.managementUri().replaceAll("/$", "");
    // Something to count: one refused call.
    refused(accounts.getAccount(), "not-a-token", get("alice-1"), Code.UNAUTHENTICATED, Rejection.UNKNOWN_TOKEN);

    HttpResponse<String> shards = ManagementHttp.operatorGet(http, base + "/shards");
    assertEquals(200, shards.statusCode());
    assertTrue(shards.body().contains("\"Account\":{\"" + node.system().address()), shards.body());
    assertTrue(shards.body().contains("\"entities\":"), shards.body());

    HttpResponse<String> metrics = ManagementHttp.operatorGet(http, base + "/metrics");
    assertEquals(200, metrics.statusCode());
    assertTrue(metrics.body().contains("clearinghouse_rejections_total{reason=\"UNKNOWN_TOKEN\",}"), metrics.body());
    assertTrue(metrics.body().contains("clearinghouse_entities{type=\"Account\",}"), metrics.body());
    assertTrue(metrics.body().contains("clearinghouse_account_ask_seconds_count"), metrics.body());
    assertTrue(metrics.body().contains("jvm_memory_bytes_used"), metrics.body());

    // Changing the cluster needs the operator token.
    String leave = base + "/cluster/leave?address=" + java.net.URLEncoder.encode("pekko://ClearingHouse@127.0.0.1:1",
        java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(401, ManagementHttp.post(http, leave, null).statusCode());
    assertEquals(401, ManagementHttp.post(http, leave, "not-a-token").statusCode());
    assertEquals(403, ManagementHttp.post(http, leave, ALICE_TOKEN).statusCode());
    assertEquals(404, ManagementHttp.post(http, leave, OPERATOR_TOKEN).statusCode());
    // Nothing changed.
    assertTrue(ManagementHttp.get(http, base + "/cluster/members").body().contains("\"status\":\"Up\""));
  }
}
