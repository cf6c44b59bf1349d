package io.clearinghouse.cli;

import io.clearinghouse.money.Asset;
import io.clearinghouse.protocol.v1.AccountUpdate;
import io.clearinghouse.protocol.v1.AccountView;
import io.clearinghouse.protocol.v1.AuditReport;
import io.clearinghouse.protocol.v1.BackstopProviderRegistration;
import io.clearinghouse.protocol.v1.FundFlowSummaryView;
import io.clearinghouse.protocol.v1.FundUnwindView;
import io.clearinghouse.protocol.v1.InsuranceFundView;
import io.clearinghouse.protocol.v1.Liquidation;
import io.clearinghouse.protocol.v1.LiquidationClose;
import io.clearinghouse.protocol.v1.LiquidationHaltStatus;
import io.clearinghouse.protocol.v1.LiquidationList;
import io.clearinghouse.protocol.v1.MarginAlert;
import io.clearinghouse.protocol.v1.MarkPriceUpdate;
import io.clearinghouse.protocol.v1.PositionView;
import io.clearinghouse.protocol.v1.PublishSummary;
import io.clearinghouse.protocol.v1.ReserveList;
import io.clearinghouse.protocol.v1.ReservationView;
import io.clearinghouse.protocol.v1.TradeResult;
import io.clearinghouse.protocol.v1.TransferKind;
import io.clearinghouse.protocol.v1.TransferReceipt;
import java.math.BigDecimal;
import java.util.Locale;
import java.util.TreeMap;

/** The text chctl prints for each message of the API, for people (JSON is the API's own form). */
final class Views {
  private Views() {}

  static String account(AccountView view) {
    // Amounts are read and written at the account's own asset scale, never compared as text.
    Asset asset = new Asset(view.getAsset(), view.getScale());
    StringBuilder text = new StringBuilder();
    line(text, "account       %s%s", view.getAccountId(),
        view.getLiquidationId().isEmpty() ? "" : "  LIQUIDATING (" + view.getLiquidationId() + ")");
    line(text, "cash          %s %s", amount(asset, view.getCash()), asset.code());
    line(text, "equity        %s %s", amount(asset, view.getEquity()), asset.code());
    line(text, "available     %s %s", amount(asset, view.getAvailable()), asset.code());
    line(text, "withdrawable  %s %s", amount(asset, view.getWithdrawable()), asset.code());
    if (nonZero(asset, view.getReserved())) {
      line(text, "reserved      %s %s", amount(asset, view.getReserved()), asset.code());
    }
    if (view.getLeverageCap() > 0) {
      line(text, "leverage cap  %dx%s", view.getLeverageCap(), "beginner".equals(view.getLeverageProfile())
          ? " (beginner profile, until an operator lifts it)" : "");
    }
    if (!view.getMarginRatio().isEmpty()) {
      line(text, "margin ratio  %s (liquidation at 1)", view.getMarginRatio());
    }
    for (PositionView p : view.getPositionsList()) {
      line(text, "position      %s %s @ %s, mark %s, uPnL %s, IM %s, MM %s, %dx %s%s%s%s", p.getInstrument(),
          p.getSize(), p.getEntryPrice(), p.getMarkPrice(), amount(asset, p.getUnrealizedPnl()),
          amount(asset, p.getInitialMargin()), amount(asset, p.getMaintenanceMargin()), p.getLeverage(),
          p.getMarginMode().name().toLowerCase(Locale.ROOT),
          p.getLiquidationPrice().isEmpty() ? "" : ", liquidation " + p.getLiquidationPrice(),
          p.getStopPrice().isEmpty() ? "" : ", stop " + p.getStopPrice(),
          p.getAdlQuintile() == 0 ? "" : ", ADL quintile " + p.getAdlQuintile());
      if (!p.getFundingPaid().isEmpty() && nonZero(asset, p.getFundingPaid())) {
        line(text, "funding       %s paid %s%s", p.getInstrument(), amount(asset, p.getFundingPaid()),
            p.getPredictedFundingRate().isEmpty() ? "" : ", next at " + java.time.Instant.ofEpochMilli(
                p.getNextFundingTime()) + " at the predicted rate " + p.getPredictedFundingRate());
      }
    }
    if (nonZero(asset, view.getDebt())) {
      line(text, "debt          %s %s (no trading or withdrawal until repaid)", amount(asset, view.getDebt()), asset.code());
    }
    if (view.getLiquidationHaltedInstrumentsCount() > 0) {
      line(text, "halted        new liquidations on %s", String.join(", ", view.getLiquidationHaltedInstrumentsList()));
    }
    return text.toString();
  }

  static String alert(MarginAlert alert) {
    return String.format("ALERT %s %s%n", alert.getKind(), alert.getMessage());
  }

  static String update(AccountUpdate update) {
    StringBuilder text = new StringBuilder();
    update.getAlertsList().forEach(a -> text.append(alert(a)));
    return text.append(account(update.getAccount())).append('\n').toString();
  }

  static String receipt(TransferReceipt receipt) {
    boolean deposit = receipt.getKind() == TransferKind.DEPOSIT;
    return String.format("%s of %s %s %s (key %s)%s%ncash after    %s%n", deposit ? "deposit" : "withdrawal",
        receipt.getAmount(), deposit ? "to" : "from", receipt.getAccountId(), receipt.getIdempotencyKey(),
        receipt.getReplayed() ? ", already done earlier" : "", receipt.getCashAfter());
  }

  static String audit(AuditReport report) {
    StringBuilder text = new StringBuilder(String.format(
        "clean          %s%naccounts       %d%ntrade sides    %d%ncash           %s%nisolated       %s%n"
            + "position cost  %s%nfee revenue    %s%ndeposits       %s%nwithdrawals    %s%nfunds          %s%n"
            + "fund top-ups   %s%nsaga escrow    %s%ndebt           %s%nliquidations   %d%n",
        report.getClean(), report.getAccounts(), report.getTradesApplied(), report.getTotalCash(),
        report.getTotalIsolatedMargin(), report.getTotalPositionCost(), report.getFeeRevenue(), report.getDeposits(),
        report.getWithdrawals(), report.getInsuranceFunds(), report.getFundTopUps(), report.getSagaEscrow(),
        report.getDebt(), report.getLiquidations()));
    if (!report.getFundingPools().isEmpty() && !report.getFundingPools().matches("-?0(\\.0*)?")) {
      line(text, "funding pools  %s", report.getFundingPools());
    }
    report.getViolationsList().forEach(v -> line(text, "VIOLATION      %s", v));
    return text.toString();
  }

  static String trade(TradeResult result) {
    if (result.hasUnconfirmed()) {
      return String.format("trade %s unconfirmed: %s: %s%n", result.getTradeId(), result.getUnconfirmed().getReason(),
          result.getUnconfirmed().getMessage());
    }
    if (result.hasRejection()) {
      return String.format("trade %s refused: %s: %s%n", result.getTradeId(), result.getRejection().getReason(),
          result.getRejection().getMessage());
    }
    return String.format("trade %s cleared%s: buyer fee %s, seller fee %s%n", result.getTradeId(),
        result.getAck().getDuplicate() ? " (already, earlier)" : "", result.getAck().getBuyerFee(),
        result.getAck().getSellerFee());
  }

  static String reservation(ReservationView r) {
    return String.format("order %s on %s: %s %s remaining, %s reserved, available after %s%n", r.getOrderId(),
        r.getAccountId(), r.getSide().name().toLowerCase(Locale.ROOT), r.getRemainingQuantity(), r.getReserved(),
        r.getAvailableAfter());
  }

  static String published(PublishSummary summary) {
    StringBuilder text = new StringBuilder();
    summary.getRejectionsList().forEach(r -> line(text, "refused: %s: %s", r.getReason(), r.getMessage()));
    return text.append(String.format("accepted %d, refused %d%n", summary.getAccepted(), summary.getRejected()))
        .toString();
  }

  static String mark(MarkPriceUpdate m) {
    return m.getStale()
        ? String.format("%s  STALE (no liquidations)%n", m.getInstrument())
        : String.format("%s  %s  #%d%n", m.getInstrument(), m.getMarkPrice(), m.getSequence());
  }

  static String fund(InsuranceFundView f) {
    StringBuilder text = new StringBuilder();
    line(text, "fund          %s%s", f.getFund(), f.getReplayed() ? "  (top-up already done earlier)" : "");
    line(text, "balance       %s (held for running liquidations %s)", f.getBalance(), f.getReserved());
    line(text, "in / out      %s / %s over %d movements", f.getTotalIn(), f.getTotalOut(), f.getEntries());
    f.getHistoryList().forEach(e -> line(text, "  %-13s %15s  balance %15s  %s%s", e.getKind(), e.getAmount(),
        e.getBalanceAfter(), e.getKey(), e.getLiquidationId().isEmpty() ? "" : "  (" + e.getLiquidationId() + ")"));
    return text.toString();
  }

  static String provider(BackstopProviderRegistration r) {
    return String.format("backstop provider %s for %s, notional limit %s%n", r.getAccountId(),
        String.join(", ", r.getInstrumentsList()), r.getMaxNotional());
  }

  static String halt(LiquidationHaltStatus status) {
    return String.format("%s: new liquidations %s%n", status.getInstrument(), status.getHalted() ? "HALTED" : "running");
  }

  static String summaries(LiquidationList list) {
    StringBuilder text = new StringBuilder();
    for (Liquidation l : list.getLiquidationsList()) {
      line(text, "%-12s %-8s %-8s closes %d, penalty %s, fund in %s, out %s, debt %s", l.getLiquidationId(),
          l.getAccountId(), l.getOutcome().isEmpty() ? "RUNNING" : l.getOutcome(), l.getClosesCount(), l.getPenalty(),
          l.getInsuranceFundIn(), l.getInsuranceFundOut(), l.getDebt());
    }
    return text.length() == 0 ? "no liquidations\n" : text.toString();
  }

  static String liquidations(LiquidationList list) {
    StringBuilder text = new StringBuilder();
    list.getLiquidationsList().forEach(l -> text.append(liquidation(l)));
    return text.length() == 0 ? "no liquidations\n" : text.toString();
  }

  /** The fund flow: where each unit of the trader's money went. */
  static String liquidation(Liquidation l) {
    StringBuilder text = new StringBuilder();
    line(text, "liquidation   %s of %s: %s", l.getLiquidationId(), l.getAccountId(),
        l.getOutcome().isEmpty() ? "RUNNING" : l.getOutcome());
    line(text, "trigger       marks %s, equity %s, maintenance margin %s", new TreeMap<>(l.getTriggerMarksMap()),
        l.getEquityAtTrigger(), l.getMaintenanceMarginAtTrigger());
    for (LiquidationClose c : l.getClosesList()) {
      close(text, "close", c);
    }
    for (LiquidationClose c : l.getDeleveragedList()) {
      close(text, "ADL", c);
    }
    line(text, "penalty       %s (trading fees %s, cut at bankruptcy %s, applied to the deficit %s)",
        l.getPenalty(), l.getTradingFees(), l.getPenaltyCut(), l.getPenaltyApplied());
    line(text, "shares        fund %s, market-making %s, platform revenue %s, investor protection %s, liquidators %s",
        l.getPenaltyToInsuranceFund(), l.getPenaltyToMarketMaking(), l.getPenaltyToPlatformRevenue(),
        l.getPenaltyToInvestorProtection(), l.getPenaltyToLiquidators());
    line(text, "fund %-8s in %s, out %s; operator capital out %s", l.getInsuranceFund(), l.getInsuranceFundIn(),
        l.getInsuranceFundOut(), l.getOperatorCapitalPaid());
    if (l.getToProviders().isEmpty()) {
      // A client's own view: counterparties' gains are not shown to it.
      line(text, "trader lost   %s", l.getTradersLoss());
    } else {
      line(text, "counterparties providers %s, fund takeovers %s, deleveraged %s (socialized %s); trader lost %s",
          l.getToProviders(), l.getToFundTakeovers(), l.getToDeleveraged(), l.getSocialized(), l.getTradersLoss());
    }
    line(text, "trader        left %s, debt %s", l.getLeftToTrader(), l.getDebt());
    l.getMovementsList().forEach(m -> line(text, "  %15s  %-28s %s", m.getAmount(), m.getBucket(), m.getParty()));
    return text.toString();
  }

  /** Every reserve: its balance, what running liquidations hold of it, and a fund's positions. */
  static String reserves(ReserveList list) {
    StringBuilder text = new StringBuilder();
    list.getReservesList().forEach(r -> {
      line(text, "%-32s %18s  held %s, in %s, out %s", r.getFund(), r.getBalance(), r.getReserved(), r.getTotalIn(),
          r.getTotalOut());
      r.getPositionsList().forEach(p -> line(text, "  position %s %s @ %s%s", p.getInstrument(), p.getSize(),
          p.getEntryPrice(), p.getMarkPrice().isEmpty() ? "" : ", mark " + p.getMarkPrice() + ", uPnL " + p.getUnrealizedPnl()));
    });
    return text.toString();
  }

  /** Where the money of a window's liquidations went: the traders' losses, destination by destination. */
  static String flows(FundFlowSummaryView s) {
    StringBuilder text = new StringBuilder();
    line(text, "liquidations         %d (finished)", s.getLiquidations());
    line(text, "traders' losses      %s", s.getTradersLosses());
    if (!s.getToProviders().isEmpty()) {
      // A client's summary of its own liquidations leaves the counterparties out.
      line(text, "  to providers       %s", s.getToProviders());
      line(text, "  to fund takeovers  %s", s.getToFundTakeovers());
      line(text, "  to deleveraged     %s (socialized %s)", s.getToDeleveraged(), s.getSocialized());
    }
    line(text, "  penalty shares     insurance funds %s, market-making %s, platform revenue %s, investor protection %s, "
        + "liquidators %s", s.getToInsuranceFunds(), s.getToMarketMaking(), s.getToPlatformRevenue(),
        s.getToInvestorProtection(), s.getToLiquidators());
    line(text, "  trading fees       %s", s.getTradingFees());
    line(text, "  less paid in       insurance fund %s, operator capital %s", s.getInsuranceFundPaid(),
        s.getOperatorCapitalPaid());
    line(text, "penalties            %s (applied to their own deficits %s, cut at bankruptcy %s)", s.getPenalties(),
        s.getPenaltyApplied(), s.getPenaltyCut());
    line(text, "left as debt         %s", s.getDebt());
    line(text, "traders kept         %s", s.getTradersKept());
    return text.toString();
  }

  /** A fund's position taken over and the rounds that unwound it. */
  static String unwind(FundUnwindView view) {
    StringBuilder text = new StringBuilder();
    line(text, "fund %s in %s: position %s%s", view.getFund(), view.getInstrument(), view.getPosition(),
        view.getNote().isEmpty() ? "" : " (last attempt: " + view.getNote() + ")");
    view.getClosesList().forEach(c -> line(text, "  round %d  %s at %s (mark %s) to %s, fund realized %s", c.getRound(),
        c.getQuantity(), c.getPrice(), c.getMarkPrice(), c.getProvider(), c.getFundRealizedPnl()));
    return text.toString();
  }

  private static void close(StringBuilder text, String kind, LiquidationClose c) {
    String shortfall = c.getShortfall().isEmpty() || new BigDecimal(c.getShortfall()).signum() == 0
        ? "" : ", beyond its margin " + c.getShortfall();
    line(text, "%-13s %s %s at %s via %s%s, mark %s, bankruptcy %s, realized %s, penalty %s%s",
        kind + " " + c.getStep(), c.getQuantity(), c.getInstrument(), c.getPrice(), c.getVenue(),
        c.getCounterparty().isEmpty() ? "" : " (" + c.getCounterparty() + ")",
        c.getMarkPrice(), c.getBankruptcyPrice(), c.getRealizedPnl(), c.getPenalty(), shortfall);
  }

  /** An amount of the API re-written at the asset's scale; an absent one as it came. */
  private static String amount(Asset asset, String text) {
    return text.isEmpty() ? text : asset.format(asset.parseSigned(text));
  }

  private static boolean nonZero(Asset asset, String text) {
    return !text.isEmpty() && asset.parseSigned(text) != 0;
  }

  private static void line(StringBuilder text, String format, Object... args) {
    text.append(String.format(format, args)).append('\n');
  }
}
