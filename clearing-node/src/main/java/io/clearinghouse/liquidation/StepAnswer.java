package io.clearinghouse.liquidation;

import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.AccountSummary;
import io.clearinghouse.persistence.CborSerializable;

/**
 * What a liquidation step's ask came back with, typed once where it arrives ({@link #of}): the
 * saga's driver never casts a reply. Only sent by the saga to itself.
 */
sealed interface StepAnswer extends CborSerializable {

  /** The entity asked refused (an account's or a fund's rejection): the step is retried, or the venue declined. */
  record Refused(io.clearinghouse.common.Rejection reason, String why) implements StepAnswer {}

  /** The liquidated account's next close (zero lots: nothing left to close). */
  record Planned(AccountEntity.ClosePlan plan) implements StepAnswer {}

  /** One side of a close applied (by a counterparty, the fund, or the liquidated account). */
  record Transferred(LiquidationTransfer transfer) implements StepAnswer {}

  /** An amount moved (a penalty share delivered, the fund's or the capital's payment, the penalty draw). */
  record Moved(long amount) implements StepAnswer {}

  /** The liquidated account as it stands, for the settlement. */
  record Assessed(AccountSummary account) implements StepAnswer {}

  /** Done, nothing to read from the answer (the cover credited, the debt recorded, the end). */
  record Acknowledged() implements StepAnswer {}

  /** The venue's answer; {@code venue} null: none now ({@code why}). */
  record VenueChoice(LiquidationSaga.Venue venue, String counterparty, long priceTicks, long signedLots,
      long providerLimit, String why) implements StepAnswer {
    static VenueChoice none(String why) {
      return new VenueChoice(null, null, 0, 0, 0, why);
    }
  }

  /** A reply as the step answer it is; anything else fails the step (retried, and logged naming it). */
  static StepAnswer of(Object reply) {
    if (reply instanceof AccountEntity.Rejected r) {
      return new Refused(r.reason(), r.reason() + ": " + r.message());
    } else if (reply instanceof InsuranceFund.Rejected r) {
      return new Refused(r.reason(), r.reason() + ": " + r.message());
    } else if (reply instanceof AccountEntity.TransferApplied t) {
      return new Transferred(t.transfer());
    } else if (reply instanceof AccountEntity.ClosePlan p) {
      return new Planned(p);
    } else if (reply instanceof VenueChoice c) {
      return c;
    } else if (reply instanceof AccountEntity.StepApplied a) {
      return new Moved(a.amount());
    } else if (reply instanceof InsuranceFund.Moved m) {
      return new Moved(m.entry().amount());
    } else if (reply instanceof Long amount) {
      return new Moved(amount);
    } else if (reply instanceof AccountEntity.Snapshot snapshot) {
      return new Assessed(snapshot.account());
    } else if (reply instanceof AccountEntity.Reply || reply instanceof org.apache.pekko.Done) {
      return new Acknowledged();
    }
    throw new IllegalStateException("unexpected answer " + (reply == null ? "null" : reply.getClass().getName()));
  }
}
