package io.clearinghouse.cli;

// Over 450 lines (since the fund-flow issue): one switch over every command and its printing; issue 12 item 5 moves chctl to picocli.

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.protocol.v1.AccountServiceClient;
import io.clearinghouse.protocol.v1.AdminListLiquidationsRequest;
import io.clearinghouse.protocol.v1.BackstopProviderRegistration;
import io.clearinghouse.protocol.v1.GetInsuranceFundRequest;
import io.clearinghouse.protocol.v1.GetLiquidationRequest;
import io.clearinghouse.protocol.v1.InsuranceFundView;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationClose;
import io.clearinghouse.protocol.v1.LiquidationHaltStatus;
import io.clearinghouse.protocol.v1.ListLiquidationsRequest;
import io.clearinghouse.protocol.v1.RegisterBackstopProviderRequest;
import io.clearinghouse.protocol.v1.SetLiquidationHaltRequest;
import io.clearinghouse.protocol.v1.SetStopRequest;
import io.clearinghouse.protocol.v1.TopUpInsuranceFundRequest;
import io.clearinghouse.protocol.v1.AdjustIsolatedMarginRequest;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.AuditRequest;
import io.clearinghouse.protocol.v1.ClearingServiceClient;
import io.clearinghouse.protocol.v1.IndexPriceTick;
import io.clearinghouse.protocol.v1.MarginMode;
import io.clearinghouse.protocol.v1.PositionView;
import io.clearinghouse.protocol.v1.PriceServiceClient;
import io.clearinghouse.protocol.v1.PublishSummary;
import io.clearinghouse.protocol.v1.ReleaseReservationRequest;
import io.clearinghouse.protocol.v1.ReservationView;
import io.clearinghouse.protocol.v1.ReserveMarginRequest;
import io.clearinghouse.protocol.v1.SetLeverageCapRequest;
import io.clearinghouse.protocol.v1.SetLeverageRequest;
import io.clearinghouse.protocol.v1.SetMarginModeRequest;
import io.clearinghouse.protocol.v1.Side;
import io.clearinghouse.protocol.v1.StreamAccountRequest;
import io.clearinghouse.protocol.v1.StreamMarkPricesRequest;
import io.clearinghouse.protocol.v1.Trade;
import io.clearinghouse.protocol.v1.TradeResult;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
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
      "  leverage-cap ACCOUNT MAX         cap an account's leverage, 0 removes the cap (operator)",
      "  audit                            run the ledger audit (operator)",
      "  set-leverage ACCOUNT INSTRUMENT N           (client)",
      "  margin-mode ACCOUNT INSTRUMENT cross|isolated (client)",
      "  isolated-margin ACCOUNT INSTRUMENT AMOUNT   move cash in (+) or out (-) of an isolated position (client)",
      "  watch ACCOUNT                    stream the account with margin alerts until Ctrl-C (client)",
      "  trade SEQ ID INSTRUMENT PRICE QTY BUYER SELLER buy|sell [BUYER_ORDER [SELLER_ORDER]]",
      "                                   clear one executed trade; the aggressor pays the taker fee (engine)",
      "  reserve ACCOUNT ORDER INSTRUMENT buy|sell QTY PRICE     pre-trade margin check (engine)",
      "  release ACCOUNT ORDER            release an order's reservation (engine)",
      "  price SOURCE INSTRUMENT PRICE    publish an index price stamped now (feeder)",
      "  marks [INSTRUMENT]               stream mark prices until Ctrl-C (any token)",
      "  top-up FUND AMOUNT KEY           add money to an insurance fund (operator)",
      "  fund FUND [LIMIT]                an insurance fund's balance and recent history (operator)",
      "  funds                            every fund's balance (management HTTP)",
      "  provider ACCOUNT MAX_NOTIONAL INSTRUMENT...  register a backstop provider; 0 withdraws it (operator)",
      "  halt INSTRUMENT | resume INSTRUMENT          halt or resume new liquidations (operator)",
      "  halted                           instruments with liquidations halted (management HTTP)",
      "  liquidations [ACCOUNT]           recent liquidations, all or one account's (operator)",
      "  liquidation ID                   one liquidation's fund flow (operator)",
      "  my-liquidations ACCOUNT          your account's liquidations (client)",
      "  flows [INSTRUMENT [FROM [TO]]]   where the money of the liquidations in a window went; FROM/TO are",
      "                                   ISO instants (2026-12-01T00:00:00Z) or epoch ms, \"\" for open (operator)",
      "  my-flows ACCOUNT [INSTRUMENT [FROM [TO]]]    the same for your account's liquidations (client)",
      "  reserves                         every reserve's balance and the funds' positions (operator)",
      "  reserve-movements RESERVE [LIMIT [OFFSET]]   a reserve's movements, newest first (operator)",
      "  reserve-top-up RESERVE AMOUNT KEY | reserve-withdraw RESERVE AMOUNT KEY   money into or out of a reserve:",
      "                                   market-making, platform-revenue, investor-protection, operator-capital,",
      "                                   insurance-fund:NAME (operator)",
      "  unwind FUND INSTRUMENT           how a fund's position taken over is being unwound (operator)",
      "  stop ACCOUNT INSTRUMENT PRICE    protective stop on your position; PRICE \"\" removes it (client)",
      "  members                          cluster members (management HTTP)",
      "  shards                           entities per shard per node (management HTTP)",
      "  leave ADDRESS | down ADDRESS     make a member leave, or down an unreachable one (operator, management HTTP)",
      "  ready                            readiness of the node (management HTTP)",
      "environment: CLEARINGHOUSE_TOKEN, CLEARINGHOUSE_GRPC (default 127.0.0.1:8080),",
      "             CLEARINGHOUSE_MANAGEMENT (default http://127.0.0.1:8558)");

  private Cli() {}

  public static void main(String[] args) {
    System.exit(run(args, System.getenv()));
  }

  /** Runs one command with {@code env} in place of the process environment; the exit code (public for tests). */
  public static int run(String[] args, Map<String, String> env) {
    if (args.length == 0 || args[0].equals("help") || args[0].equals("--help")) {
      System.out.println(USAGE);
      return args.length == 0 ? 64 : 0;
    }
    String command = args[0];
    List<String> rest = Arrays.asList(args).subList(1, args.length);
    try {
      return switch (command) {
        case "members" -> http(env, "/cluster/members");
        case "shards" -> http(env, "/shards");
        case "leave", "down" -> {
          if (rest.size() != 1) {
            throw new IllegalArgumentException("expected the member's address, e.g. pekko://ClearingHouse@127.0.0.1:25521");
          }
          yield httpPost(env, "/cluster/" + command + "?address="
              + java.net.URLEncoder.encode(rest.get(0), java.nio.charset.StandardCharsets.UTF_8));
        }
        case "ready" -> http(env, "/ready");
        case "funds" -> http(env, "/insurance-funds");
        case "halted" -> http(env, "/liquidations/halted");
        case "open", "deposit", "account", "my-account", "withdraw", "leverage-cap", "audit", "set-leverage",
            "margin-mode", "isolated-margin", "watch", "trade", "reserve", "release", "price", "marks", "top-up", "fund",
            "provider", "halt", "resume", "liquidations", "liquidation", "my-liquidations", "stop", "flows", "my-flows",
            "reserves", "reserve-movements", "reserve-top-up", "reserve-withdraw", "unwind" ->
            grpc(command, rest, env);
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
      ClearingServiceClient engine = ClearingServiceClient.create(settings, system);
      PriceServiceClient prices = PriceServiceClient.create(settings, system);
      String bearer = "Bearer " + token;
      switch (command) {
        case "leverage-cap" -> print(call(admin.setLeverageCap(), token, SetLeverageCapRequest.newBuilder()
            .setAccountId(arg(args, 0, 2)).setMaxLeverage(Integer.parseInt(arg(args, 1, 2))).build()));
        case "audit" -> {
          if (!args.isEmpty()) {
            throw new IllegalArgumentException("audit takes no arguments");
          }
          AuditReport report = call(admin.audit(), token, AuditRequest.getDefaultInstance());
          System.out.printf("clean          %s%naccounts       %d%ntrade sides    %d%ncash           %s%n"
                  + "isolated       %s%nposition cost  %s%nfee revenue    %s%ndeposits       %s%nwithdrawals    %s%n"
                  + "funds          %s%nfund top-ups   %s%nsaga escrow    %s%ndebt           %s%nliquidations   %d%n",
              report.getClean(), report.getAccounts(), report.getTradesApplied(), report.getTotalCash(),
              report.getTotalIsolatedMargin(), report.getTotalPositionCost(), report.getFeeRevenue(),
              report.getDeposits(), report.getWithdrawals(), report.getInsuranceFunds(), report.getFundTopUps(),
              report.getSagaEscrow(), report.getDebt(), report.getLiquidations());
          report.getViolationsList().forEach(v -> System.out.println("VIOLATION      " + v));
        }
        case "set-leverage" -> print(call(accounts.setLeverage(), token, SetLeverageRequest.newBuilder()
            .setAccountId(arg(args, 0, 3)).setInstrument(arg(args, 1, 3)).setLeverage(Integer.parseInt(arg(args, 2, 3)))
            .build()));
        case "margin-mode" -> print(call(accounts.setMarginMode(), token, SetMarginModeRequest.newBuilder()
            .setAccountId(arg(args, 0, 3)).setInstrument(arg(args, 1, 3))
            .setMarginMode(arg(args, 2, 3).equalsIgnoreCase("isolated") ? MarginMode.ISOLATED : MarginMode.CROSS)
            .build()));
        case "isolated-margin" -> print(call(accounts.adjustIsolatedMargin(), token,
            AdjustIsolatedMarginRequest.newBuilder().setAccountId(arg(args, 0, 3)).setInstrument(arg(args, 1, 3))
                .setAmount(arg(args, 2, 3)).build()));
        case "watch" -> accounts.streamAccount().addHeader("authorization", bearer)
            .invoke(StreamAccountRequest.newBuilder().setAccountId(arg(args, 0, 1)).build())
            .runForeach(update -> {
              update.getAlertsList().forEach(a -> System.out.println("ALERT " + a.getKind() + " " + a.getMessage()));
              print(update.getAccount());
              System.out.println();
            }, system).toCompletableFuture().join();
        case "trade" -> {
          if (args.size() < 8 || args.size() > 10) {
            throw new IllegalArgumentException("expected 8 to 10 arguments, got " + args.size());
          }
          Trade trade = Trade.newBuilder().setSequence(Long.parseLong(args.get(0))).setTradeId(args.get(1))
              .setInstrument(args.get(2)).setPrice(args.get(3)).setQuantity(args.get(4)).setBuyerAccountId(args.get(5))
              .setSellerAccountId(args.get(6)).setAggressorSide(side(args.get(7)))
              .setBuyerOrderId(args.size() > 8 ? args.get(8) : "")
              .setSellerOrderId(args.size() > 9 ? args.get(9) : "").build();
          TradeResult result = engine.submitTrades().addHeader("authorization", bearer)
              .invoke(Source.single(trade)).runWith(Sink.head(), system).toCompletableFuture().join();
          if (result.hasRejection()) {
            System.err.println("error: " + result.getRejection().getReason() + ": " + result.getRejection().getMessage());
            return 1;
          }
          if (result.hasUnconfirmed()) {
            System.err.println("unconfirmed: " + result.getUnconfirmed().getReason() + ": "
                + result.getUnconfirmed().getMessage());
            return 2;
          }
          System.out.printf("trade %s cleared%s: buyer fee %s, seller fee %s%n", result.getTradeId(),
              result.getAck().getDuplicate() ? " (already, earlier)" : "", result.getAck().getBuyerFee(),
              result.getAck().getSellerFee());
        }
        case "reserve" -> print(call(engine.reserveMargin(), token, ReserveMarginRequest.newBuilder()
            .setAccountId(arg(args, 0, 6)).setOrderId(args.get(1)).setInstrument(args.get(2)).setSide(side(args.get(3)))
            .setQuantity(args.get(4)).setLimitPrice(args.get(5)).build()));
        case "release" -> print(call(engine.releaseReservation(), token, ReleaseReservationRequest.newBuilder()
            .setAccountId(arg(args, 0, 2)).setOrderId(args.get(1)).build()));
        case "price" -> {
          PublishSummary summary = prices.publishIndexPrices().addHeader("authorization", bearer)
              .invoke(Source.single(IndexPriceTick.newBuilder().setSource(arg(args, 0, 3)).setInstrument(args.get(1))
                  .setPrice(args.get(2)).setTimestampMs(System.currentTimeMillis()).build()))
              .toCompletableFuture().join();
          summary.getRejectionsList().forEach(r -> System.err.println("refused: " + r.getReason() + ": " + r.getMessage()));
          System.out.printf("accepted %d, refused %d%n", summary.getAccepted(), summary.getRejected());
          return summary.getRejected() == 0 ? 0 : 1;
        }
        case "marks" -> prices.streamMarkPrices().addHeader("authorization", bearer)
            .invoke(StreamMarkPricesRequest.newBuilder().addAllInstruments(args).build())
            .runForeach(m -> System.out.println(m.getStale()
                ? m.getInstrument() + "  STALE (no liquidations)"
                : m.getInstrument() + "  " + m.getMarkPrice() + "  #" + m.getSequence()), system)
            .toCompletableFuture().join();
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
        case "top-up" -> print(call(admin.topUpInsuranceFund(), token, TopUpInsuranceFundRequest.newBuilder()
            .setFund(arg(args, 0, 3)).setAmount(args.get(1)).setIdempotencyKey(args.get(2)).build()));
        case "fund" -> {
          if (args.isEmpty() || args.size() > 2) {
            throw new IllegalArgumentException("expected FUND [LIMIT]");
          }
          print(call(admin.getInsuranceFund(), token, GetInsuranceFundRequest.newBuilder().setFund(args.get(0))
              .setLimit(args.size() == 2 ? Integer.parseInt(args.get(1)) : 20).build()));
        }
        case "provider" -> {
          if (args.size() < 3) {
            throw new IllegalArgumentException("expected ACCOUNT MAX_NOTIONAL INSTRUMENT...");
          }
          BackstopProviderRegistration r = call(admin.registerBackstopProvider(), token,
              RegisterBackstopProviderRequest.newBuilder().setAccountId(args.get(0)).setMaxNotional(args.get(1))
                  .addAllInstruments(args.subList(2, args.size())).build());
          System.out.printf("backstop provider %s for %s, notional limit %s%n", r.getAccountId(),
              String.join(", ", r.getInstrumentsList()), r.getMaxNotional());
        }
        case "halt", "resume" -> {
          LiquidationHaltStatus status = call(admin.setLiquidationHalt(), token, SetLiquidationHaltRequest.newBuilder()
              .setInstrument(arg(args, 0, 1)).setHalted(command.equals("halt")).build());
          System.out.printf("%s: new liquidations %s%n", status.getInstrument(), status.getHalted() ? "HALTED" : "running");
        }
        case "liquidations" -> {
          if (args.size() > 1) {
            throw new IllegalArgumentException("expected at most an account id");
          }
          call(admin.listLiquidations(), token, AdminListLiquidationsRequest.newBuilder()
              .setAccountId(args.isEmpty() ? "" : args.get(0)).build()).getLiquidationsList().forEach(Cli::summary);
        }
        case "liquidation" -> print(call(admin.getLiquidation(), token,
            GetLiquidationRequest.newBuilder().setLiquidationId(arg(args, 0, 1)).build()));
        case "my-liquidations" -> call(accounts.listLiquidations(), token, ListLiquidationsRequest.newBuilder()
            .setAccountId(arg(args, 0, 1)).build()).getLiquidationsList().forEach(Cli::print);
        case "stop" -> print(call(accounts.setStop(), token, SetStopRequest.newBuilder().setAccountId(arg(args, 0, 3))
            .setInstrument(args.get(1)).setStopPrice(args.get(2)).build()));
        case "flows" -> print(call(admin.fundFlowSummary(), token, window(args, 0).build()));
        case "my-flows" -> {
          if (args.isEmpty()) {
            throw new IllegalArgumentException("expected ACCOUNT [INSTRUMENT [FROM [TO]]]");
          }
          print(call(accounts.fundFlowSummary(), token, window(args, 1).setAccountId(args.get(0)).build()));
        }
        case "reserves" -> {
          if (!args.isEmpty()) {
            throw new IllegalArgumentException("expected no arguments");
          }
          call(admin.getReserves(), token, io.clearinghouse.protocol.v1.GetReservesRequest.getDefaultInstance())
              .getReservesList().forEach(r -> {
                System.out.printf("%-32s %18s  held %s, in %s, out %s%n", r.getFund(), r.getBalance(), r.getReserved(),
                    r.getTotalIn(), r.getTotalOut());
                r.getPositionsList().forEach(p -> System.out.printf("  position %s %s @ %s%s%n", p.getInstrument(),
                    p.getSize(), p.getEntryPrice(), p.getMarkPrice().isEmpty() ? ""
                        : ", mark " + p.getMarkPrice() + ", uPnL " + p.getUnrealizedPnl()));
              });
        }
        case "reserve-movements" -> {
          if (args.isEmpty() || args.size() > 3) {
            throw new IllegalArgumentException("expected RESERVE [LIMIT [OFFSET]]");
          }
          print(call(admin.listReserveMovements(), token, io.clearinghouse.protocol.v1.ListReserveMovementsRequest
              .newBuilder().setReserve(args.get(0)).setLimit(args.size() > 1 ? Integer.parseInt(args.get(1)) : 20)
              .setOffset(args.size() > 2 ? Integer.parseInt(args.get(2)) : 0).build()));
        }
        case "reserve-top-up", "reserve-withdraw" -> {
          var request = io.clearinghouse.protocol.v1.ReserveTransferRequest.newBuilder().setReserve(arg(args, 0, 3))
              .setAmount(args.get(1)).setIdempotencyKey(args.get(2)).build();
          print(call(command.equals("reserve-top-up") ? admin.topUpReserve() : admin.withdrawReserve(), token, request));
        }
        case "unwind" -> {
          var view = call(admin.getFundUnwind(), token, io.clearinghouse.protocol.v1.GetFundUnwindRequest.newBuilder()
              .setFund(arg(args, 0, 2)).setInstrument(args.get(1)).build());
          System.out.printf("fund %s in %s: position %s%s%n", view.getFund(), view.getInstrument(), view.getPosition(),
              view.getNote().isEmpty() ? "" : " (last attempt: " + view.getNote() + ")");
          view.getClosesList().forEach(c -> System.out.printf("  round %d  %s at %s (mark %s) to %s, fund realized %s%n",
              c.getRound(), c.getQuantity(), c.getPrice(), c.getMarkPrice(), c.getProvider(), c.getFundRealizedPnl()));
        }
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

  /** INSTRUMENT [FROM [TO]] from {@code args}, starting at {@code first}; "" leaves one open. */
  private static io.clearinghouse.protocol.v1.FundFlowSummaryRequest.Builder window(List<String> args, int first) {
    if (args.size() > first + 3) {
      throw new IllegalArgumentException("expected at most INSTRUMENT FROM TO");
    }
    var request = io.clearinghouse.protocol.v1.FundFlowSummaryRequest.newBuilder();
    if (args.size() > first) {
      request.setInstrument(args.get(first));
    }
    if (args.size() > first + 1) {
      request.setFromEpochMillis(epochMillis(args.get(first + 1)));
    }
    if (args.size() > first + 2) {
      request.setToEpochMillis(epochMillis(args.get(first + 2)));
    }
    return request;
  }

  private static long epochMillis(String text) {
    if (text.isEmpty()) {
      return 0;
    }
    try {
      return text.chars().allMatch(Character::isDigit) ? Long.parseLong(text)
          : java.time.Instant.parse(text).toEpochMilli();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("a time is an ISO instant such as 2026-12-01T00:00:00Z or epoch ms, was " + text);
    }
  }

  /** Where the money went, and the identity it keeps. */
  private static void print(io.clearinghouse.protocol.v1.FundFlowSummaryView s) {
    System.out.printf("liquidations         %d (finished)%n", s.getLiquidations());
    System.out.printf("traders' losses      %s%n", s.getTradersLosses());
    System.out.printf("  to providers       %s%n  to fund takeovers  %s%n  to deleveraged     %s (socialized %s)%n",
        s.getToProviders(), s.getToFundTakeovers(), s.getToDeleveraged(), s.getSocialized());
    System.out.printf("  penalty shares     insurance funds %s, market-making %s, platform revenue %s, "
        + "investor protection %s, liquidators %s%n", s.getToInsuranceFunds(), s.getToMarketMaking(),
        s.getToPlatformRevenue(), s.getToInvestorProtection(), s.getToLiquidators());
    System.out.printf("  trading fees       %s%n", s.getTradingFees());
    System.out.printf("  less paid in       insurance fund %s, operator capital %s%n", s.getInsuranceFundPaid(),
        s.getOperatorCapitalPaid());
    System.out.printf("penalties            %s (applied to their own deficits %s, cut at bankruptcy %s)%n",
        s.getPenalties(), s.getPenaltyApplied(), s.getPenaltyCut());
    System.out.printf("left as debt         %s%ntraders kept         %s%n", s.getDebt(), s.getTradersKept());
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

  private static Side side(String text) {
    return switch (text.toLowerCase()) {
      case "buy" -> Side.BUY;
      case "sell" -> Side.SELL;
      default -> throw new IllegalArgumentException("side must be buy or sell, was " + text);
    };
  }

  private static void print(AccountView view) {
    System.out.printf("account       %s%s%n", view.getAccountId(),
        view.getLiquidationId().isEmpty() ? "" : "  LIQUIDATING (" + view.getLiquidationId() + ")");
    System.out.printf("cash          %s %s%n", view.getCash(), view.getAsset());
    System.out.printf("equity        %s %s%n", view.getEquity(), view.getAsset());
    System.out.printf("available     %s %s%n", view.getAvailable(), view.getAsset());
    System.out.printf("withdrawable  %s %s%n", view.getWithdrawable(), view.getAsset());
    if (!view.getReserved().isEmpty() && !view.getReserved().equals("0.000000")) {
      System.out.printf("reserved      %s %s%n", view.getReserved(), view.getAsset());
    }
    if (!view.getMarginRatio().isEmpty()) {
      System.out.printf("margin ratio  %s (liquidation at 1)%n", view.getMarginRatio());
    }
    for (PositionView p : view.getPositionsList()) {
      System.out.printf("position      %s %s @ %s, mark %s, uPnL %s, IM %s, MM %s, %dx %s%s%s%s%n", p.getInstrument(),
          p.getSize(), p.getEntryPrice(), p.getMarkPrice(), p.getUnrealizedPnl(), p.getInitialMargin(),
          p.getMaintenanceMargin(), p.getLeverage(), p.getMarginMode().name().toLowerCase(),
          p.getLiquidationPrice().isEmpty() ? "" : ", liquidation " + p.getLiquidationPrice(),
          p.getStopPrice().isEmpty() ? "" : ", stop " + p.getStopPrice(),
          p.getAdlQuintile() == 0 ? "" : ", ADL quintile " + p.getAdlQuintile());
    }
    if (!view.getDebt().isEmpty() && !view.getDebt().equals("0.000000")) {
      System.out.printf("debt          %s %s (no trading or withdrawal until repaid)%n", view.getDebt(), view.getAsset());
    }
    if (view.getLiquidationHaltedInstrumentsCount() > 0) {
      System.out.printf("halted        new liquidations on %s%n", view.getLiquidationHaltedInstrumentsList());
    }
  }

  private static void print(InsuranceFundView f) {
    System.out.printf("fund          %s%s%n", f.getFund(), f.getReplayed() ? "  (top-up already done earlier)" : "");
    System.out.printf("balance       %s (held for running liquidations %s)%nin / out      %s / %s over %d movements%n",
        f.getBalance(), f.getReserved(), f.getTotalIn(), f.getTotalOut(), f.getEntries());
    f.getHistoryList().forEach(e -> System.out.printf("  %-13s %15s  balance %15s  %s%s%n", e.getKind(), e.getAmount(),
        e.getBalanceAfter(), e.getKey(), e.getLiquidationId().isEmpty() ? "" : "  (" + e.getLiquidationId() + ")"));
  }

  private static void summary(Liquidation l) {
    System.out.printf("%-24s %-12s %-8s closes %d, penalty %s, fund in %s, out %s, debt %s%n", l.getLiquidationId(),
        l.getAccountId(), l.getOutcome().isEmpty() ? "RUNNING" : l.getOutcome(), l.getClosesCount(), l.getPenalty(),
        l.getInsuranceFundIn(), l.getInsuranceFundOut(), l.getDebt());
  }

  /** The fund flow: where each unit of the trader's money went. */
  private static void print(Liquidation l) {
    System.out.printf("liquidation   %s of %s: %s%n", l.getLiquidationId(), l.getAccountId(),
        l.getOutcome().isEmpty() ? "RUNNING" : l.getOutcome());
    System.out.printf("trigger       marks %s, equity %s, maintenance margin %s%n", l.getTriggerMarksMap(),
        l.getEquityAtTrigger(), l.getMaintenanceMarginAtTrigger());
    for (LiquidationClose c : l.getClosesList()) {
      System.out.printf("close %d       %s %s at %s via %s (%s), mark %s, bankruptcy %s, realized %s, penalty %s%s%n",
          c.getStep(), c.getQuantity(), c.getInstrument(), c.getPrice(), c.getVenue(), c.getCounterparty(),
          c.getMarkPrice(), c.getBankruptcyPrice(), c.getRealizedPnl(), c.getPenalty(),
          c.getShortfall().equals("0.000000") ? "" : ", beyond its margin " + c.getShortfall());
    }
    System.out.printf("penalty       %s (trading fees %s, cut at bankruptcy %s, applied to the deficit %s)%n",
        l.getPenalty(), l.getTradingFees(), l.getPenaltyCut(), l.getPenaltyApplied());
    System.out.printf("shares        fund %s, market-making %s, platform revenue %s, investor protection %s, "
        + "liquidators %s%n", l.getPenaltyToInsuranceFund(), l.getPenaltyToMarketMaking(),
        l.getPenaltyToPlatformRevenue(), l.getPenaltyToInvestorProtection(), l.getPenaltyToLiquidators());
    System.out.printf("fund %-8s in %s, out %s; operator capital out %s%n", l.getInsuranceFund(),
        l.getInsuranceFundIn(), l.getInsuranceFundOut(), l.getOperatorCapitalPaid());
    System.out.printf("counterparties providers %s, fund takeovers %s, deleveraged %s (socialized %s); trader lost %s%n",
        l.getToProviders(), l.getToFundTakeovers(), l.getToDeleveraged(), l.getSocialized(), l.getTradersLoss());
    System.out.printf("trader        left %s, debt %s%n", l.getLeftToTrader(), l.getDebt());
    l.getMovementsList().forEach(m -> System.out.printf("  %15s  %-28s %s%n", m.getAmount(), m.getBucket(), m.getParty()));
  }

  private static void print(ReservationView r) {
    System.out.printf("order %s on %s: %s %s remaining, %s reserved, available after %s%n", r.getOrderId(),
        r.getAccountId(), r.getSide().name().toLowerCase(), r.getRemainingQuantity(), r.getReserved(),
        r.getAvailableAfter());
  }

  private static void print(TransferReceipt receipt) {
    boolean deposit = receipt.getKind() == io.clearinghouse.protocol.v1.TransferKind.DEPOSIT;
    System.out.printf("%s of %s %s %s (key %s)%s%n", deposit ? "deposit" : "withdrawal", receipt.getAmount(),
        deposit ? "to" : "from", receipt.getAccountId(), receipt.getIdempotencyKey(), receipt.getReplayed() ? ", already done earlier" : "");
    System.out.printf("cash after    %s%n", receipt.getCashAfter());
  }

  private static int httpPost(Map<String, String> env, String path) {
    return management(env, path, true);
  }

  private static int http(Map<String, String> env, String path) {
    return management(env, path, false);
  }

  /** One call to the management port; a POST carries the token, since it changes the cluster. */
  private static int management(Map<String, String> env, String path, boolean post) {
    String base = env.getOrDefault("CLEARINGHOUSE_MANAGEMENT", "http://127.0.0.1:8558").replaceAll("/$", "");
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
    if (post) {
      request.header("Authorization", "Bearer " + env.getOrDefault("CLEARINGHOUSE_TOKEN", ""))
          .POST(HttpRequest.BodyPublishers.noBody());
    }
    try {
      HttpResponse<String> response = HttpClient.newHttpClient().send(request.build(),
          HttpResponse.BodyHandlers.ofString());
      System.out.println(response.body());
      return response.statusCode() == 200 ? 0 : 1;
    } catch (Exception e) {
      System.err.println("error: cannot reach " + base + path + ": " + e.getMessage());
      return 1;
    }
  }
}
