package io.clearinghouse.liquidation;

import io.clearinghouse.instrument.LiquidationTerms;
import io.clearinghouse.instrument.LiquidationTerms.NegativeBalancePolicy;
import io.clearinghouse.liquidation.LiquidationSaga.Close;
import io.clearinghouse.liquidation.LiquidationSaga.Venue;
import io.clearinghouse.liquidation.SagaPhases.Closing;
import io.clearinghouse.liquidation.StepAnswer.VenueChoice;
import io.clearinghouse.margin.Instrument;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Who takes a liquidation's planned close (DESIGN section 6): backstop providers first, in
 * registration order from a place of the liquidation's own, skipping those that declined this
 * close, at the mark moved against the trader by the spread. When every provider declined, or (ADL
 * policy) when closing at that price would leave a deficit the insurance fund cannot pay, the
 * insurance fund takes it over at the bankruptcy price if it may, else the highest-ranked opposing
 * position not yet asked is deleveraged at the bankruptcy price (at most its size; the next plan
 * continues with the rest). A stop is never deleveraged.
 */
final class VenueSearch {
  private final SagaSteps steps;
  private final String liquidationId;

  VenueSearch(SagaSteps steps) {
    this.steps = steps;
    this.liquidationId = steps.liquidationId();
  }

  CompletionStage<Object> choose(Closing state, Close close) {
    Instrument instrument = steps.env().instruments().require(close.instrument());
    LiquidationTerms rules = steps.env().settings().rules(close.instrument());
    long price = LiquidationSaga.backstopPrice(close.markTicks(), close.plannedLots(), rules.backstopSpreadPpm());
    long deficitAtPrice = LiquidationSaga.deficit(close, price, instrument);
    // Under the ADL policy a close that would lose more than the trader has goes to a provider only
    // if the fund holds the deficit for this liquidation: concurrent sagas cannot count on the
    // same balance. One hold per liquidation, replaced by each plan (a replan at a new mark, the
    // next close): it covers this close's deficit plus what earlier isolated closes left owed (a
    // cross close's deficit already counts earlier cross losses through the account's equity).
    long hold = Math.addExact(deficitAtPrice, Settlement.shortfalls(state));
    CompletionStage<Boolean> fundCanPay = deficitAtPrice == 0 || rules.policy() == NegativeBalancePolicy.DEBT
        ? CompletableFuture.completedFuture(true)
        : steps.askFund(rules.insuranceFund(), r -> new InsuranceFund.Reserve(liquidationId + "/reserve", liquidationId,
            hold, r)).thenCompose(reply -> reply instanceof InsuranceFund.Reservation reservation
                && reservation.granted() ? CompletableFuture.completedFuture(true)
                : fundAndCapitalHold(rules, close.instrument(), hold));
    return fundCanPay.thenCompose(canPay -> {
      CompletionStage<VenueChoice> backstop = canPay
          ? provider(state, close, price)
          : CompletableFuture.completedFuture(VenueChoice.none("closing at the backstop price "
              + instrument.formatPrice(price) + " would leave a deficit of " + deficitAtPrice + " the insurance fund "
              + rules.insuranceFund() + " cannot cover"));
      return backstop.thenCompose(choice -> choice.venue() != null || state.trigger().stop()
          ? CompletableFuture.completedFuture(choice)
          : fundTakeover(state, close, choice.why()));
    }).thenApply(choice -> (Object) choice);
  }

  /**
   * The waterfall's next layer before deleveraging: the fund holds what it can and the operator's
   * capital the rest, within the day's amount for the instrument; false when there is no such
   * layer or it cannot hold the rest (its hold is then refused and the fund's part let go).
   */
  private CompletionStage<Boolean> fundAndCapitalHold(LiquidationTerms rules, String instrument, long hold) {
    if (rules.operatorCapitalPerDay() == 0) {
      return CompletableFuture.completedFuture(false);
    }
    return steps.askFund(rules.insuranceFund(), r -> new InsuranceFund.ReserveUpTo(liquidationId + "/reserve",
        liquidationId, hold, r)).thenCompose(reply -> {
          long fundPart = reply instanceof InsuranceFund.Reservation part ? part.amount() : 0;
          long rest = hold - fundPart;
          if (rest <= 0) {
            return CompletableFuture.completedFuture(true);
          }
          return steps.askReserve(PlatformReserve.OPERATOR_CAPITAL, r -> new InsuranceFund.Reserve(liquidationId
              + "/capital-reserve", liquidationId, rest, instrument, rules.operatorCapitalPerDay(), r))
              .thenCompose(capital -> capital instanceof InsuranceFund.Reservation held && held.granted()
                  ? CompletableFuture.completedFuture(true)
                  // The capital cannot hold the rest: the fund's part alone carries no close, and
                  // must not keep other liquidations from the fund while this one replans.
                  : steps.askFund(rules.insuranceFund(), r -> new InsuranceFund.ReleaseHold(liquidationId
                      + "/release", liquidationId, r)).thenApply(released -> false));
        });
  }

  /**
   * The insurance fund takes the close over at the bankruptcy price (so the trader's margin is
   * used up exactly and no deficit is left), when its takeover limit is above zero and it has not
   * declined this close; else the close is deleveraged.
   */
  private CompletionStage<VenueChoice> fundTakeover(Closing state, Close close, String why) {
    LiquidationTerms terms = steps.env().settings().rules(close.instrument());
    if (terms.fundTakeoverLimit() > 0 && !close.declined().contains(terms.insuranceFund())) {
      return CompletableFuture.completedFuture(new VenueChoice(Venue.FUND, terms.insuranceFund(),
          close.bankruptcyTicks(), close.plannedLots(), terms.fundTakeoverLimit(), null));
    }
    return deleverage(state, close, terms.fundTakeoverLimit() > 0 ? why + "; the insurance fund declined" : why);
  }

  /** The first registered provider that has not declined this close (nor is the trader). */
  private CompletionStage<VenueChoice> provider(Closing state, Close close, long price) {
    return steps.askProviders(close.instrument()).thenApply(providers -> {
      // Each liquidation starts at its own place in the list (then goes round in registration
      // order), so that a cascade spreads over the providers instead of queueing at the first.
      List<BackstopProviders.Provider> all = providers.providers();
      int start = all.isEmpty() ? 0 : Math.floorMod(liquidationId.hashCode(), all.size());
      for (int i = 0; i < all.size(); i++) {
        BackstopProviders.Provider p = all.get((start + i) % all.size());
        if (!p.accountId().equals(state.accountId()) && !close.declined().contains(p.accountId())) {
          return new VenueChoice(Venue.BACKSTOP, p.accountId(), price, close.plannedLots(), p.maxNotional(), null);
        }
      }
      return VenueChoice.none(providers.providers().isEmpty() ? "no backstop provider for " + close.instrument()
          : "every backstop provider declined " + close.plannedLots() + " lots of " + close.instrument());
    });
  }

  private CompletionStage<VenueChoice> deleverage(Closing state, Close close, String why) {
    // The counterparty takes the other side of the close: it buys what a liquidated long sells, so
    // it must hold a short that the purchase reduces (and the other way round).
    int wantedSign = close.plannedLots() < 0 ? -1 : 1;
    return steps.env().adl().candidates(close.instrument(), wantedSign, state.accountId()).thenApply(candidates -> {
      for (AdlCandidates.Candidate c : candidates) {
        if (!close.declined().contains(c.accountId())) {
          long lots = Long.signum(close.plannedLots()) * Math.min(Math.abs(close.plannedLots()), Math.abs(c.lots()));
          return new VenueChoice(Venue.ADL, c.accountId(), close.bankruptcyTicks(), lots, 0, null);
        }
      }
      return VenueChoice.none(why + "; no opposing position left to deleverage");
    });
  }
}
