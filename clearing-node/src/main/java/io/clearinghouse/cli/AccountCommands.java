package io.clearinghouse.cli;

import static io.clearinghouse.cli.Session.ACCOUNTS;
import static io.clearinghouse.cli.Session.ADMIN;

import io.clearinghouse.protocol.v1.AccountUpdate;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.AdjustIsolatedMarginRequest;
import io.clearinghouse.protocol.v1.DepositRequest;
import io.clearinghouse.protocol.v1.GetAccountRequest;
import io.clearinghouse.protocol.v1.MarginAlert;
import io.clearinghouse.protocol.v1.MarginMode;
import io.clearinghouse.protocol.v1.OpenAccountRequest;
import io.clearinghouse.protocol.v1.SetLeverageCapRequest;
import io.clearinghouse.protocol.v1.SetLeverageRequest;
import io.clearinghouse.protocol.v1.SetMarginModeRequest;
import io.clearinghouse.protocol.v1.SetStopRequest;
import io.clearinghouse.protocol.v1.StreamAccountRequest;
import io.clearinghouse.protocol.v1.TransferReceipt;
import io.clearinghouse.protocol.v1.WithdrawRequest;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Accounts and money: one method per command, its declaration is its help. */
final class AccountCommands {
  enum Mode { cross, isolated }

  private AccountCommands() {}

  @Command(name = "open", description = "Open an account (operator).")
  static int open(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "OpenAccount", OpenAccountRequest.newBuilder().setAccountId(account).build(),
        AccountView.getDefaultInstance()), Views::account);
  }

  @Command(name = "deposit", description = "Credit a deposit; KEY makes retries safe (operator).")
  static int deposit(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account,
      @Parameters(paramLabel = "AMOUNT", description = "in the settlement asset, e.g. 1250.5") String amount,
      @Parameters(paramLabel = "KEY", description = "idempotency key, e.g. the custody transaction id") String key) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "Deposit", DepositRequest.newBuilder().setAccountId(account).setAmount(amount)
        .setIdempotencyKey(key).build(), TransferReceipt.getDefaultInstance()), Views::receipt);
  }

  @Command(name = "account", description = "Show any account (operator).")
  static int account(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "GetAccount", GetAccountRequest.newBuilder().setAccountId(account).build(),
        AccountView.getDefaultInstance()), Views::account);
  }

  @Command(name = "my-account", description = "Show one of your accounts: positions, margin ratio, liquidation price (client).")
  static int myAccount(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account) {
    Session s = call.session();
    return s.show(s.call(ACCOUNTS, "GetAccount", GetAccountRequest.newBuilder().setAccountId(account).build(),
        AccountView.getDefaultInstance()), Views::account);
  }

  @Command(name = "withdraw", description = "Withdraw from one of your accounts; KEY makes retries safe (client).")
  static int withdraw(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account, @Parameters(paramLabel = "AMOUNT") String amount,
      @Parameters(paramLabel = "KEY", description = "idempotency key") String key) {
    Session s = call.session();
    return s.show(s.call(ACCOUNTS, "Withdraw", WithdrawRequest.newBuilder().setAccountId(account).setAmount(amount)
        .setIdempotencyKey(key).build(), TransferReceipt.getDefaultInstance()), Views::receipt);
  }

  @Command(name = "leverage-cap", description = "Cap an account's leverage; 0 removes the cap (operator).")
  static int leverageCap(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account, @Parameters(paramLabel = "MAX") int max) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "SetLeverageCap", SetLeverageCapRequest.newBuilder().setAccountId(account)
        .setMaxLeverage(max).build(), AccountView.getDefaultInstance()), Views::account);
  }

  @Command(name = "set-leverage", description = "Set your leverage on an instrument (client).")
  static int setLeverage(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account,
      @Parameters(paramLabel = "INSTRUMENT") String instrument, @Parameters(paramLabel = "N") int leverage) {
    Session s = call.session();
    return s.show(s.call(ACCOUNTS, "SetLeverage", SetLeverageRequest.newBuilder().setAccountId(account)
        .setInstrument(instrument).setLeverage(leverage).build(), AccountView.getDefaultInstance()), Views::account);
  }

  @Command(name = "margin-mode", description = "Margin an instrument cross or isolated (client).")
  static int marginMode(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account,
      @Parameters(paramLabel = "INSTRUMENT") String instrument,
      @Parameters(paramLabel = "MODE", description = "${COMPLETION-CANDIDATES}") Mode mode) {
    Session s = call.session();
    return s.show(s.call(ACCOUNTS, "SetMarginMode", SetMarginModeRequest.newBuilder().setAccountId(account)
        .setInstrument(instrument).setMarginMode(mode == Mode.isolated ? MarginMode.ISOLATED : MarginMode.CROSS)
        .build(), AccountView.getDefaultInstance()), Views::account);
  }

  @Command(name = "isolated-margin", description = "Move cash into (+) or out of (-) an isolated position (client).")
  static int isolatedMargin(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account,
      @Parameters(paramLabel = "INSTRUMENT") String instrument,
      @Parameters(paramLabel = "AMOUNT", description = "signed, e.g. 100 or -50") String amount) {
    Session s = call.session();
    return s.show(s.call(ACCOUNTS, "AdjustIsolatedMargin", AdjustIsolatedMarginRequest.newBuilder()
        .setAccountId(account).setInstrument(instrument).setAmount(amount).build(), AccountView.getDefaultInstance()),
        Views::account);
  }

  @Command(name = "stop", description = "Protective stop on your position; an empty PRICE (\"\") removes it (client).")
  static int stop(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account, @Parameters(paramLabel = "INSTRUMENT") String instrument,
      @Parameters(paramLabel = "PRICE") String price) {
    Session s = call.session();
    return s.show(s.call(ACCOUNTS, "SetStop", SetStopRequest.newBuilder().setAccountId(account)
        .setInstrument(instrument).setStopPrice(price).build(), AccountView.getDefaultInstance()), Views::account);
  }

  @Command(name = "watch", description = "Stream one of your accounts with its margin alerts, until Ctrl-C (client).")
  static int watch(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account,
      @Option(names = "--count", paramLabel = "N", description = "stop after N updates") Long count,
      @Option(names = "--until", paramLabel = "ALERT", description = "stop after an alert of this kind, e.g. LIQUIDATION_ENDED")
      String until,
      @Option(names = "--alerts-only", description = "print the alerts, not the account") boolean alertsOnly) {
    MarginAlert.Kind stopAt = until == null ? null : alertKind(until);
    Session s = call.session();
    AtomicLong seen = new AtomicLong();
    s.exchange(ACCOUNTS, "StreamAccount", List.of(StreamAccountRequest.newBuilder().setAccountId(account).build()),
        AccountUpdate.getDefaultInstance(), false, update -> {
          if (alertsOnly) {
            update.getAlertsList().forEach(alert -> s.showLine(alert, Views::alert));
          } else {
            s.showLine(update, Views::update);
          }
          boolean reached = update.getAlertsList().stream().anyMatch(alert -> alert.getKind() == stopAt);
          return !reached && (count == null || seen.incrementAndGet() < count);
        });
    return 0;
  }

  private static MarginAlert.Kind alertKind(String name) {
    try {
      MarginAlert.Kind kind = MarginAlert.Kind.valueOf(name.toUpperCase(java.util.Locale.ROOT));
      if (kind != MarginAlert.Kind.UNRECOGNIZED) {
        return kind;
      }
    } catch (IllegalArgumentException e) {
      // reported below
    }
    throw new IllegalArgumentException("--until must name an alert kind (MARGIN_RATIO_ABOVE, LIQUIDATION_STARTED,"
        + " LIQUIDATION_ENDED, ...), was " + name);
  }
}
