package io.clearinghouse.cli;

import static io.clearinghouse.cli.Session.ACCOUNTS;
import static io.clearinghouse.cli.Session.ADMIN;

import io.clearinghouse.protocol.v1.AdminListLiquidationsRequest;
import io.clearinghouse.protocol.v1.BackstopProviderRegistration;
import io.clearinghouse.protocol.v1.GetInsuranceFundRequest;
import io.clearinghouse.protocol.v1.GetLiquidationRequest;
import io.clearinghouse.protocol.v1.InsuranceFundView;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationHaltStatus;
import io.clearinghouse.protocol.v1.LiquidationList;
import io.clearinghouse.protocol.v1.ListLiquidationsRequest;
import io.clearinghouse.protocol.v1.RegisterBackstopProviderRequest;
import io.clearinghouse.protocol.v1.SetLiquidationHaltRequest;
import io.clearinghouse.protocol.v1.TopUpInsuranceFundRequest;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Insurance funds, backstop providers, the halt switch and the liquidations' fund flows. */
final class LiquidationCommands {
  private LiquidationCommands() {}

  @Command(name = "top-up", description = "Add money to an insurance fund; KEY makes retries safe (operator).")
  static int topUp(@Mixin Call call, @Parameters(paramLabel = "FUND") String fund, @Parameters(paramLabel = "AMOUNT") String amount,
      @Parameters(paramLabel = "KEY", description = "idempotency key") String key) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "TopUpInsuranceFund", TopUpInsuranceFundRequest.newBuilder().setFund(fund)
        .setAmount(amount).setIdempotencyKey(key).build(), InsuranceFundView.getDefaultInstance()), Views::fund);
  }

  @Command(name = "fund", description = "An insurance fund's balance and recent history (operator).")
  static int fund(@Mixin Call call, @Parameters(paramLabel = "FUND") String fund,
      @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "history entries (${DEFAULT-VALUE})") int limit) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "GetInsuranceFund", GetInsuranceFundRequest.newBuilder().setFund(fund).setLimit(limit)
        .build(), InsuranceFundView.getDefaultInstance()), Views::fund);
  }

  @Command(name = "provider", description = "Register a backstop liquidity provider; MAX_NOTIONAL 0 withdraws it (operator).")
  static int provider(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account,
      @Parameters(paramLabel = "MAX_NOTIONAL") String maxNotional,
      @Parameters(paramLabel = "INSTRUMENT", arity = "1..*") List<String> instruments) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "RegisterBackstopProvider", RegisterBackstopProviderRequest.newBuilder()
        .setAccountId(account).setMaxNotional(maxNotional).addAllInstruments(instruments).build(),
        BackstopProviderRegistration.getDefaultInstance()), Views::provider);
  }

  @Command(name = "halt", description = "Halt new liquidations on an instrument (operator).")
  static int halt(@Mixin Call call, @Parameters(paramLabel = "INSTRUMENT") String instrument) {
    return setHalt(call, instrument, true);
  }

  @Command(name = "resume", description = "Resume new liquidations on an instrument (operator).")
  static int resume(@Mixin Call call, @Parameters(paramLabel = "INSTRUMENT") String instrument) {
    return setHalt(call, instrument, false);
  }

  private static int setHalt(Call call, String instrument, boolean halted) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "SetLiquidationHalt", SetLiquidationHaltRequest.newBuilder().setInstrument(instrument)
        .setHalted(halted).build(), LiquidationHaltStatus.getDefaultInstance()), Views::halt);
  }

  @Command(name = "liquidations", description = "Recent liquidations, of all accounts or one (operator).")
  static int liquidations(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT", arity = "0..1") String account,
      @Option(names = "--instrument", paramLabel = "INSTRUMENT", description = "only this instrument's") String instrument,
      @Option(names = "--limit", paramLabel = "N", description = "at most N, newest first") Integer limit) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "ListLiquidations", AdminListLiquidationsRequest.newBuilder()
        .setAccountId(account == null ? "" : account).setInstrument(instrument == null ? "" : instrument)
        .setLimit(limit == null ? 0 : limit).build(), LiquidationList.getDefaultInstance()), Views::summaries);
  }

  @Command(name = "liquidation", description = "One liquidation's fund flow: where every unit of money went (operator).")
  static int liquidation(@Mixin Call call, @Parameters(paramLabel = "ID") String id) {
    Session s = call.session();
    return s.show(s.call(ADMIN, "GetLiquidation", GetLiquidationRequest.newBuilder().setLiquidationId(id).build(),
        Liquidation.getDefaultInstance()), Views::liquidation);
  }

  @Command(name = "my-liquidations", description = "Your account's liquidations with their fund flows (client).")
  static int myLiquidations(@Mixin Call call, @Parameters(paramLabel = "ACCOUNT") String account) {
    Session s = call.session();
    return s.show(s.call(ACCOUNTS, "ListLiquidations", ListLiquidationsRequest.newBuilder().setAccountId(account)
        .build(), LiquidationList.getDefaultInstance()), Views::liquidations);
  }
}
