package io.clearinghouse.api;

import io.clearinghouse.account.AccountEntity.SettlementApplied;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.expiry.ExpirySettlement;
import io.clearinghouse.expiry.Settlements;
import io.clearinghouse.instrument.InstrumentSpec;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.margin.Instrument;
import io.clearinghouse.money.Asset;
import io.clearinghouse.protocol.v1.AccountSettlement;
import io.clearinghouse.protocol.v1.GetSettlementRequest;
import io.clearinghouse.protocol.v1.SetSettlementPriceRequest;
import io.clearinghouse.protocol.v1.SettlementView;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * AdminService's settlement calls (issue 17, expiry), kept out of the admin service's own file:
 * the record of a dated future's settlement, paged by account id, and the operator's price.
 */
final class SettlementCalls {
  private final Settlements settlements;
  private final Instruments instruments;
  private final Asset asset;

  SettlementCalls(Settlements settlements, Instruments instruments, Asset asset) {
    this.settlements = settlements;
    this.instruments = instruments;
    this.asset = asset;
  }

  CompletionStage<SettlementView> get(GetSettlementRequest in) {
    InstrumentSpec spec = datedFuture(in.getInstrument());
    int size = FundingPages.size(in.getPageSize());
    String after = in.getPageToken();
    if (!after.isEmpty() && !validAccountId(after)) {
      throw new RejectedException(Rejection.INVALID_PAGE, "page token " + io.clearinghouse.common.Inputs.quote(after)
          + " is not one this call handed out");
    }
    return settlements.record(spec.symbol()).thenApply(r -> view(spec, r, after, size));
  }

  CompletionStage<SettlementView> setPrice(SetSettlementPriceRequest in, String operator) {
    InstrumentSpec spec = datedFuture(in.getInstrument());
    long ticks = TradeInput.priceTicks(spec.contract(), in.getPrice());
    return settlements.setPrice(spec.symbol(), ticks, operator, forceReason(in.getForceReason())).thenApply(r -> view(spec, r, "", FundingPages.DEFAULT_SIZE));
  }

  /** At most this many characters of reason for a forced settlement price. */
  static final int MAX_FORCE_REASON = 500;

  /** The reason a price is forced for, trimmed (null: empty, not forced); too long or with control characters refused. */
  static String forceReason(String raw) {
    String reason = raw.strip();
    if (reason.isEmpty()) {
      return null;
    }
    if (reason.length() > MAX_FORCE_REASON || reason.chars().anyMatch(Character::isISOControl)) {
      throw new RejectedException(Rejection.INVALID_FORCE_REASON, "a force reason is at most " + MAX_FORCE_REASON
          + " characters without control characters, was " + reason.length() + " characters");
    }
    return reason;
  }

  private static boolean validAccountId(String token) {
    try {
      io.clearinghouse.common.Identifiers.accountId(token);
      return true;
    } catch (RejectedException e) {
      return false;
    }
  }

  private InstrumentSpec datedFuture(String symbol) {
    InstrumentSpec spec = instruments.spec(symbol);
    if (spec.expiry() == null) {
      throw new RejectedException(Rejection.NOT_DATED_FUTURE, spec.symbol() + " is not a dated future: it has no "
          + "settlement");
    }
    return spec;
  }

  SettlementView view(InstrumentSpec spec, ExpirySettlement.SettlementRecord r, String after, int size) {
    Instrument contract = spec.contract();
    SettlementView.Builder view = SettlementView.newBuilder()
        .setInstrument(r.instrument())
        .setExpiryTime(r.expiryMillis())
        .setStatus(r.status().name())
        .setSamples(r.samples())
        .setSlots(r.slots())
        .setRequiredSamples(r.requiredSamples())
        .setExpectedPrice(r.expectedPriceTicks() > 0 ? contract.formatPrice(r.expectedPriceTicks()) : "")
        .setPrice(r.priceTicks() > 0 ? contract.formatPrice(r.priceTicks()) : "")
        .setSetBy(r.operator() == null ? "" : r.operator())
        .setFixedAt(r.fixedAt())
        .setClosedAt(r.closedAt())
        .setAccounts(r.results().size())
        .setTotalValue(asset.format(r.totalValue()))
        .setTotalFees(asset.format(r.totalFees()))
        .setTotalPnl(asset.format(r.totalPnl()))
        .setNextInstrument(spec.expiry().next() == null ? "" : spec.expiry().next())
        .setForceReason(r.forceReason() == null ? "" : r.forceReason())
        .setLateCloses(r.lateCloses().size())
        .setLateValue(asset.format(r.lateValue()));
    List<String> ids = new ArrayList<>(r.results().keySet());
    ids.sort(null);
    int added = 0;
    for (String id : ids) {
      if (!after.isEmpty() && id.compareTo(after) <= 0) {
        continue;
      }
      if (added == size) {
        view.setNextPageToken(view.getResults(added - 1).getAccountId());
        break;
      }
      SettlementApplied s = r.results().get(id);
      view.addResults(AccountSettlement.newBuilder()
          .setAccountId(id)
          .setSize(contract.formatQuantity(s.lots()))
          .setValue(asset.format(s.value()))
          .setCost(asset.format(s.cost()))
          .setPnl(asset.format(s.pnl()))
          .setFee(asset.format(s.fee()))
          .setIsolatedReleased(asset.format(s.isolatedReleased())));
      added++;
    }
    return view.build();
  }
}
