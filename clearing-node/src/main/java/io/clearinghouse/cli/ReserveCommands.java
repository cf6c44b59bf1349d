package io.clearinghouse.cli;

import static io.clearinghouse.cli.Session.ACCOUNTS;
import static io.clearinghouse.cli.Session.ADMIN;

import io.clearinghouse.protocol.v1.FundFlowSummaryRequest;
import io.clearinghouse.protocol.v1.FundFlowSummaryView;
import io.clearinghouse.protocol.v1.FundUnwindView;
import io.clearinghouse.protocol.v1.GetFundUnwindRequest;
import io.clearinghouse.protocol.v1.GetReservesRequest;
import io.clearinghouse.protocol.v1.InsuranceFundView;
import io.clearinghouse.protocol.v1.ListReserveMovementsRequest;
import io.clearinghouse.protocol.v1.ReserveList;
import io.clearinghouse.protocol.v1.ReserveTransferRequest;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The platform's reserves and where the liquidated money went (fund-flow summaries, fund unwinds). */
final class ReserveCommands {
  private ReserveCommands() {}

  private static final String RESERVE = "market-making, platform-revenue, investor-protection, operator-capital "
      + "or insurance-fund:NAME";
  private static final String TIME = "an ISO instant (2026-12-01T00:00:00Z) or epoch milliseconds; \"\" leaves it open";

  @Command(name = "reserves", description = "Every reserve's balance and the insurance funds' positions (operator).")
  static int reserves(@Mixin Call call) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "GetReserves", GetReservesRequest.getDefaultInstance(),
        ReserveList.getDefaultInstance()), Views::reserves);
  }

  @Command(name = "reserve-movements", description = "A reserve's movements, newest first (operator).")
  static int movements(@Mixin Call call, @Parameters(paramLabel = "RESERVE", description = RESERVE) String reserve,
      @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "movements (${DEFAULT-VALUE})") int limit,
      @Option(names = "--offset", paramLabel = "N", defaultValue = "0", description = "newest ones skipped") int offset) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "ListReserveMovements", ListReserveMovementsRequest.newBuilder().setReserve(reserve)
        .setLimit(limit).setOffset(offset).build(), InsuranceFundView.getDefaultInstance()), Views::fund);
  }

  @Command(name = "reserve-top-up", description = "Add money to a reserve; KEY makes retries safe (operator).")
  static int topUp(@Mixin Call call, @Parameters(paramLabel = "RESERVE", description = RESERVE) String reserve,
      @Parameters(paramLabel = "AMOUNT") String amount,
      @Parameters(paramLabel = "KEY", description = "idempotency key") String key) {
    return transfer(call, "TopUpReserve", reserve, amount, key);
  }

  @Command(name = "reserve-withdraw", description = {"Take money out of a reserve, never below what running "
      + "liquidations hold; KEY makes retries safe (operator)."})
  static int withdraw(@Mixin Call call, @Parameters(paramLabel = "RESERVE", description = RESERVE) String reserve,
      @Parameters(paramLabel = "AMOUNT") String amount,
      @Parameters(paramLabel = "KEY", description = "idempotency key") String key) {
    return transfer(call, "WithdrawReserve", reserve, amount, key);
  }

  private static int transfer(Call call, String method, String reserve, String amount, String key) {
    Session s = call.session();
    return s.show(s.call(ADMIN, method, ReserveTransferRequest.newBuilder().setReserve(reserve).setAmount(amount)
        .setIdempotencyKey(key).build(), InsuranceFundView.getDefaultInstance()), Views::fund);
  }

  @Command(name = "flows", description = "Where the money of the finished liquidations in a window went (operator).")
  static int flows(@Mixin Call call, @Parameters(paramLabel = "INSTRUMENT", arity = "0..1") String instrument,
      @Parameters(paramLabel = "FROM", arity = "0..1", description = TIME) String from,
      @Parameters(paramLabel = "TO", arity = "0..1", description = TIME) String to) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "FundFlowSummary", window(instrument, from, to).build(),
        FundFlowSummaryView.getDefaultInstance()), Views::flows);
  }

  @Command(name = "my-flows", description = "Where the money of your account's liquidations went (client).")
  static int myFlows(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account,
      @Parameters(paramLabel = "INSTRUMENT", arity = "0..1") String instrument,
      @Parameters(paramLabel = "FROM", arity = "0..1", description = TIME) String from,
      @Parameters(paramLabel = "TO", arity = "0..1", description = TIME) String to) {
    Session s = call.session();
    return s.show(s.call(ACCOUNTS, "FundFlowSummary", window(instrument, from, to).setAccountId(account).build(),
        FundFlowSummaryView.getDefaultInstance()), Views::flows);
  }

  @Command(name = "unwind", description = "How an insurance fund's position taken over is being unwound (operator).")
  static int unwind(@Mixin Call call, @Parameters(paramLabel = "FUND") String fund,
      @Parameters(paramLabel = "INSTRUMENT") String instrument) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "GetFundUnwind", GetFundUnwindRequest.newBuilder().setFund(fund)
        .setInstrument(instrument).build(), FundUnwindView.getDefaultInstance()), Views::unwind);
  }

  private static FundFlowSummaryRequest.Builder window(String instrument, String from, String to) {
    return FundFlowSummaryRequest.newBuilder().setInstrument(instrument == null ? "" : instrument)
        .setFromEpochMillis(epochMillis(from)).setToEpochMillis(epochMillis(to));
  }

  /** A time of the command line; a malformed one is a usage error. */
  static long epochMillis(String text) {
    if (text == null || text.isEmpty()) {
      return 0;
    }
    try {
      return text.chars().allMatch(Character::isDigit) ? Long.parseLong(text) : Instant.parse(text).toEpochMilli();
    } catch (NumberFormatException | DateTimeParseException e) {
      throw new IllegalArgumentException("a time is " + TIME + ", was " + text);
    }
  }
}
