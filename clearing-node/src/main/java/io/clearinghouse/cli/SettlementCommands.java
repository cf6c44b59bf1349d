package io.clearinghouse.cli;

import static io.clearinghouse.cli.Session.ADMIN;

import io.clearinghouse.protocol.v1.AccountSettlement;
import io.clearinghouse.protocol.v1.GetSettlementRequest;
import io.clearinghouse.protocol.v1.SetSettlementPriceRequest;
import io.clearinghouse.protocol.v1.SettlementView;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Dated futures' expiry: a settlement's record, and the operator's settlement price. */
final class SettlementCommands {
  private SettlementCommands() {}

  @Command(name = "settlement", description = {"A dated future's settlement: status, index samples and expected "
      + "price, the settlement price and who set it, totals, then each account's result (operator)."})
  static int settlement(@Mixin Call call, @Parameters(paramLabel = "INSTRUMENT") String instrument,
      @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "accounts, 1-500 "
          + "(${DEFAULT-VALUE})") int limit,
      @Option(names = "--page", paramLabel = "TOKEN", defaultValue = "", description = "the next page's token, as "
          + "printed") String page) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "GetSettlement", GetSettlementRequest.newBuilder().setInstrument(instrument)
        .setPageSize(limit).setPageToken(page).build(), SettlementView.getDefaultInstance()),
        SettlementCommands::view);
  }

  @Command(name = "settlement-price", description = {"Sets a dated future's settlement price by hand, after its "
      + "expiry and before any price is fixed (a settlement waiting on a stale index); recorded with your "
      + "name (operator). Unforced, the price must lie within the instrument's price band around the last index."})
  static int settlementPrice(@Mixin Call call, @Parameters(paramLabel = "INSTRUMENT") String instrument,
      @Parameters(paramLabel = "PRICE", description = "USDT per BTC, e.g. 50123.4") String price,
      @Option(names = "--force-reason", paramLabel = "TEXT", defaultValue = "", description = "take the price even "
          + "outside the band around the last index (or with no index known), recording this reason") String reason) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "SetSettlementPrice", SetSettlementPriceRequest.newBuilder().setInstrument(instrument)
        .setPrice(price).setForceReason(reason).build(), SettlementView.getDefaultInstance()), SettlementCommands::view);
  }

  static String view(SettlementView v) {
    StringBuilder text = new StringBuilder();
    text.append(String.format("settlement    %s, expiry %s: %s%n", v.getInstrument(),
        Instant.ofEpochMilli(v.getExpiryTime()), v.getStatus()));
    text.append(String.format("samples       %d of %d slots (%d needed), expected price %s%n", v.getSamples(),
        v.getSlots(), v.getRequiredSamples(), v.getExpectedPrice().isEmpty() ? "-" : v.getExpectedPrice()));
    if (!v.getPrice().isEmpty()) {
      text.append(String.format("price         %s (%s)%n", v.getPrice(), v.getSetBy().isEmpty() ? "index average"
          : "set by " + v.getSetBy() + (v.getForceReason().isEmpty() ? "" : ", forced: " + v.getForceReason())));
    }
    text.append(String.format("accounts      %d: values %s, fees %s, pnl %s%n", v.getAccounts(), v.getTotalValue(),
        v.getTotalFees(), v.getTotalPnl()));
    if (v.getLateCloses() > 0) {
      text.append(String.format("late closes   %d: values %s (in the values above)%n", v.getLateCloses(),
          v.getLateValue()));
    }
    if (!v.getNextInstrument().isEmpty()) {
      text.append(String.format("next          %s%n", v.getNextInstrument()));
    }
    for (AccountSettlement a : v.getResultsList()) {
      text.append(String.format("  %-20s %s  value %s  cost %s  pnl %s  fee %s  isolated back %s%n", a.getAccountId(),
          a.getSize(), a.getValue(), a.getCost(), a.getPnl(), a.getFee(), a.getIsolatedReleased()));
    }
    if (!v.getNextPageToken().isEmpty()) {
      text.append(String.format("more: --page %s%n", v.getNextPageToken()));
    }
    return text.toString();
  }
}
