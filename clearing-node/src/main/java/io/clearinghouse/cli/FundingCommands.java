package io.clearinghouse.cli;

import static io.clearinghouse.cli.Session.ACCOUNTS;
import static io.clearinghouse.cli.Session.ADMIN;

import io.clearinghouse.protocol.v1.FundingInterval;
import io.clearinghouse.protocol.v1.FundingIntervalList;
import io.clearinghouse.protocol.v1.FundingPayment;
import io.clearinghouse.protocol.v1.FundingPaymentList;
import io.clearinghouse.protocol.v1.ListFundingIntervalsRequest;
import io.clearinghouse.protocol.v1.ListFundingPaymentsRequest;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Perpetual funding: an instrument's intervals (operator) and an account's payments (client). */
final class FundingCommands {
  private FundingCommands() {}

  @Command(name = "funding", description = {"A perpetual's funding: the predicted rate of the running interval, "
      + "then its intervals newest first (rate, mark, accounts, paid, received, residue) (operator)."})
  static int funding(@Mixin Call call, @Parameters(paramLabel = "INSTRUMENT") String instrument,
      @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "intervals, 1-500 "
          + "(${DEFAULT-VALUE})") int limit,
      @Option(names = "--page", paramLabel = "TOKEN", defaultValue = "", description = "the next page's token, as "
          + "printed") String page) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "ListFundingIntervals", ListFundingIntervalsRequest.newBuilder()
        .setInstrument(instrument).setPageSize(limit).setPageToken(page).build(),
        FundingIntervalList.getDefaultInstance()), FundingCommands::intervals);
  }

  @Command(name = "my-funding", description = "Your account's funding payments, newest first (client).")
  static int myFunding(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account,
      @Parameters(paramLabel = "INSTRUMENT", arity = "0..1") String instrument,
      @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "payments, 1-500 "
          + "(${DEFAULT-VALUE})") int limit,
      @Option(names = "--page", paramLabel = "TOKEN", defaultValue = "", description = "the next page's token, as "
          + "printed") String page) {
    Session s = call.session();
    return s.show(s.call(ACCOUNTS, "ListFundingPayments", ListFundingPaymentsRequest.newBuilder().setAccountId(account)
        .setInstrument(instrument == null ? "" : instrument).setPageSize(limit).setPageToken(page).build(),
        FundingPaymentList.getDefaultInstance()), FundingCommands::payments);
  }

  static String intervals(FundingIntervalList list) {
    StringBuilder text = new StringBuilder(String.format("funding       %s: predicted rate %s (%d samples), next at %s%n",
        list.getInstrument(), list.getPredictedRate(), list.getSamples(), Instant.ofEpochMilli(list.getNextFundingTime())));
    for (FundingInterval i : list.getIntervalsList()) {
      text.append(String.format("%s  rate %s  mark %s  accounts %d  paid %s  received %s  residue %s%s%n",
          Instant.ofEpochMilli(i.getFundingTime()), i.getRate(), i.getMarkPrice(), i.getAccounts(), i.getPaid(),
          i.getReceived(), i.getResidue(), i.getOpen() ? "  (paying)" : ""));
    }
    if (!list.getNextPageToken().isEmpty()) {
      text.append(String.format("more: --page %s%n", list.getNextPageToken()));
    }
    return text.toString();
  }

  static String payments(FundingPaymentList list) {
    StringBuilder text = new StringBuilder();
    for (FundingPayment p : list.getPaymentsList()) {
      text.append(String.format("%s  %s  %s on %s at %s, rate %s%n", Instant.ofEpochMilli(p.getFundingTime()),
          p.getInstrument(), p.getAmount(), p.getSize(), p.getMarkPrice(), p.getRate()));
    }
    if (list.getPaymentsCount() == 0) {
      text.append(String.format("no funding payments%n"));
    }
    if (!list.getNextPageToken().isEmpty()) {
      text.append(String.format("more: --page %s%n", list.getNextPageToken()));
    }
    return text.toString();
  }
}
