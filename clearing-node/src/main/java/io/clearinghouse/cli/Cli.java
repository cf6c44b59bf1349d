package io.clearinghouse.cli;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.protocol.v1.AccountServiceClient;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.AdminServiceClient;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.TransferReceipt;
import io.clearinghouse.protocol.v1.WithdrawRequest;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.apache.pekko.grpc.javadsl.SingleResponseRequestBuilder;

/**
 * {@code chctl}: a thin command-line client over the gRPC API and the management HTTP port, with
 * human-readable output. The token comes from {@code CLEARINGHOUSE_TOKEN}; the node from
 * {@code CLEARINGHOUSE_GRPC} (host:port) and {@code CLEARINGHOUSE_MANAGEMENT} (URL).
 */
public final class Cli {
  private static final String USAGE = String.join("\n",
      "usage: chctl COMMAND [ARGS]",
      "  open ACCOUNT                     open an account (operator)",
      "  deposit ACCOUNT AMOUNT KEY       credit a deposit; KEY makes retries safe (operator)",
      "  account ACCOUNT                  show any account (operator)",
      "  my-account ACCOUNT               show one of your accounts (client)",
      "  withdraw ACCOUNT AMOUNT KEY      withdraw from one of your accounts (client)",
      "  members                          cluster members (management HTTP)",
      "  ready                            readiness of the node (management HTTP)",
      "environment: CLEARINGHOUSE_TOKEN, CLEARINGHOUSE_GRPC (default 127.0.0.1:8080),",
      "             CLEARINGHOUSE_MANAGEMENT (default http://127.0.0.1:8558)");

  private Cli() {}

  public static void main(String[] args) {
    System.exit(run(args, System.getenv()));
  }

  static int run(String[] args, Map<String, String> env) {
    if (args.length == 0 || args[0].equals("help") || args[0].equals("--help")) {
      System.out.println(USAGE);
      return args.length == 0 ? 64 : 0;
    }
    String command = args[0];
    List<String> rest = Arrays.asList(args).subList(1, args.length);
    try {
      return switch (command) {
        case "members" -> http(env, "/cluster/members");
        case "ready" -> http(env, "/ready");
        case "open", "deposit", "account", "my-account", "withdraw" -> grpc(command, rest, env);
        default -> usage("unknown command " + command);
      };
    } catch (IllegalArgumentException e) {
      return usage(e.getMessage());
    }
  }

  private static int usage(String problem) {
    System.err.println("chctl: " + problem + "\n" + USAGE);
    return 64;
  }

  private static int grpc(String command, List<String> args, Map<String, String> env) {
    String target = env.getOrDefault("CLEARINGHOUSE_GRPC", "127.0.0.1:8080");
    int colon = target.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("CLEARINGHOUSE_GRPC must be host:port, was " + target);
    }
    String token = env.getOrDefault("CLEARINGHOUSE_TOKEN", "");
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "chctl", ConfigFactory.parseString(
        "pekko.actor.provider = local\npekko.loglevel = WARNING\npekko.stdout-loglevel = WARNING")
        .withFallback(ConfigFactory.defaultReference()));
    try {
      GrpcClientSettings settings = GrpcClientSettings
          .connectToServiceAt(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)), system)
          .withTls(false);
      AdminServiceClient admin = AdminServiceClient.create(settings, system);
      AccountServiceClient accounts = AccountServiceClient.create(settings, system);
      switch (command) {
        case "open" -> print(call(admin.openAccount(), token,
            OpenAccountRequest.newBuilder().setAccountId(arg(args, 0, 1)).build()));
        case "deposit" -> print(call(admin.deposit(), token, DepositRequest.newBuilder()
            .setAccountId(arg(args, 0, 3)).setAmount(arg(args, 1, 3)).setIdempotencyKey(arg(args, 2, 3)).build()));
        case "account" -> print(call(admin.getAccount(), token,
            GetAccountRequest.newBuilder().setAccountId(arg(args, 0, 1)).build()));
        case "my-account" -> print(call(accounts.getAccount(), token,
            GetAccountRequest.newBuilder().setAccountId(arg(args, 0, 1)).build()));
        case "withdraw" -> print(call(accounts.withdraw(), token, WithdrawRequest.newBuilder()
            .setAccountId(arg(args, 0, 3)).setAmount(arg(args, 1, 3)).setIdempotencyKey(arg(args, 2, 3)).build()));
        default -> throw new IllegalArgumentException("unknown command " + command);
      }
      return 0;
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof StatusRuntimeException status) {
        System.err.println("error: " + status.getStatus().getCode() + " "
            + (status.getStatus().getDescription() == null ? "" : status.getStatus().getDescription()));
      } else {
        System.err.println("error: " + cause);
      }
      return 1;
    } finally {
      system.terminate();
    }
  }

  private static String arg(List<String> args, int index, int expected) {
    if (args.size() != expected) {
      throw new IllegalArgumentException("expected " + expected + " argument(s), got " + args.size());
    }
    return args.get(index);
  }

  private static <I, O> O call(SingleResponseRequestBuilder<I, O> rpc, String token, I request) {
    CompletionStage<O> response = (token.isEmpty() ? rpc : rpc.addHeader("authorization", "Bearer " + token))
        .invoke(request);
    return response.toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
  }

  private static void print(AccountView view) {
    System.out.printf("account       %s%n", view.getAccountId());
    System.out.printf("cash          %s %s%n", view.getCash(), view.getAsset());
    System.out.printf("equity        %s %s%n", view.getEquity(), view.getAsset());
    System.out.printf("available     %s %s%n", view.getAvailable(), view.getAsset());
    System.out.printf("withdrawable  %s %s%n", view.getWithdrawable(), view.getAsset());
  }

  private static void print(TransferReceipt receipt) {
    boolean deposit = receipt.getKind() == io.clearinghouse.protocol.v1.TransferKind.DEPOSIT;
    System.out.printf("%s of %s %s %s (key %s)%s%n", deposit ? "deposit" : "withdrawal", receipt.getAmount(),
        deposit ? "to" : "from", receipt.getAccountId(), receipt.getIdempotencyKey(), receipt.getReplayed() ? ", already done earlier" : "");
    System.out.printf("cash after    %s%n", receipt.getCashAfter());
  }

  private static int http(Map<String, String> env, String path) {
    String base = env.getOrDefault("CLEARINGHOUSE_MANAGEMENT", "http://127.0.0.1:8558").replaceAll("/$", "");
    try {
      HttpResponse<String> response = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      System.out.println(response.body());
      return response.statusCode() == 200 ? 0 : 1;
    } catch (Exception e) {
      System.err.println("error: cannot reach " + base + path + ": " + e.getMessage());
      return 1;
    }
  }
}
