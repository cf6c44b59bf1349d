package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity.ClosePlan;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.Snapshot;
import io.clearinghouse.account.AccountEntity.StepApplied;
import io.clearinghouse.account.AccountEntity.TransferApplied;
import io.clearinghouse.account.AccountEntity.TransferMode;
import io.clearinghouse.account.ModelWorld.Invariant;
import java.math.BigInteger;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * A liquidation (or a triggered stop) driven to its end the way LiquidationSaga sends its steps,
 * synchronously and without the fund's own entity: plan; the backstop provider takes the close
 * over at the mark (TAKE_CHECKED), else an opposing account is deleveraged at the bankruptcy price
 * (REDUCE_CLIPPED; never for a stop); the liquidated account closes what was taken
 * (CLOSE_CLIPPED); what it no longer held goes back (FORCED); then the fund covers
 * {@code coverPercent} of the need (isolated shortfalls plus negative equity), the rest is
 * recorded as debt, the liquidation ends and the counterparties forget it. Every transfer an
 * entity applies is applied to the reference model too.
 */
final class ModelSaga {
  private static final int MAX_CLOSES = 8;
  private final ModelWorld world;

  ModelSaga(ModelWorld world) {
    this.world = world;
  }

  /** If {@code id} is being liquidated, drives its liquidation to the end. */
  void settle(String id, int coverPercent) {
    Account account = world.state(id);
    if (world.broken() || !account.liquidating()) {
      return;
    }
    String liquidationId = account.liquidation().liquidationId();
    boolean stop = account.liquidation().stop();
    ModelWorld.count(stop ? "stops triggered" : "liquidations");
    Set<String> counterparties = new LinkedHashSet<>();
    long shortfalls = 0;
    for (int step = 0; step < MAX_CLOSES && !world.broken(); step++) {
      Optional<Reply> planned = world.ask(id, r -> new AccountEntity.PlanLiquidationClose(liquidationId, r));
      if (planned.isEmpty() || !(planned.get() instanceof ClosePlan plan) || plan.signedLots() == 0) {
        break;
      }
      String key = liquidationId + "/close-" + step;
      String counterparty = null;
      long priceTicks = plan.markTicks();
      LiquidationTransfer taken = null;
      if (!id.equals(ModelWorld.PROVIDER)) {
        taken = transfer(ModelWorld.PROVIDER, key, liquidationId, LiquidationRole.BACKSTOP, id, plan.instrument(),
            -plan.signedLots(), priceTicks, TransferMode.TAKE_CHECKED);
        counterparty = ModelWorld.PROVIDER;
      }
      if ((taken == null || taken.signedLots() == 0) && !stop) {
        // Deleveraging: an account holding the same side as the close (the opposite of the position).
        priceTicks = plan.bankruptcyTicks();
        counterparty = null;
        for (String other : world.accountIds()) {
          if (!other.equals(id) && Long.signum(world.state(other).holding(plan.instrument()).lots())
              == Long.signum(plan.signedLots())) {
            counterparty = other;
            break;
          }
        }
        taken = counterparty == null ? null : transfer(counterparty, key, liquidationId, LiquidationRole.DELEVERAGED, id,
            plan.instrument(), -plan.signedLots(), priceTicks, TransferMode.REDUCE_CLIPPED);
      }
      if (taken == null || taken.signedLots() == 0) {
        break;
      }
      counterparties.add(counterparty);
      LiquidationTransfer closed = transfer(id, key, liquidationId, stop ? LiquidationRole.STOPPED
          : LiquidationRole.LIQUIDATED, counterparty, plan.instrument(), -taken.signedLots(), priceTicks,
          TransferMode.CLOSE_CLIPPED);
      if (closed == null) {
        break;
      }
      shortfalls = Math.addExact(shortfalls, closed.shortfall());
      ModelWorld.count("liquidation closes (" + taken.role() + ")");
      long unmatched = taken.signedLots() + closed.signedLots();
      if (unmatched != 0) {
        transfer(counterparty, key + "/undo", liquidationId, taken.role(), id, plan.instrument(), -unmatched, priceTicks,
            TransferMode.FORCED);
      }
    }
    Optional<Reply> assessed = world.ask(id, r -> new AccountEntity.AssessLiquidation(liquidationId, r));
    if (assessed.isPresent() && assessed.get() instanceof Snapshot snapshot) {
      long equity = snapshot.account().equity();
      // What isolated positions owe beyond their margin (never taken from the cash) and the cross deficit.
      long need = Math.addExact(shortfalls, Math.max(0, -equity));
      long paid = BigInteger.valueOf(need).multiply(BigInteger.valueOf(coverPercent)).divide(BigInteger.valueOf(100))
          .longValueExact();
      AccountModel.Acc m = world.model.account(id);
      if (need > 0) {
        ModelWorld.count("liquidations with a need of cover");
      }
      // The cover pays what isolated positions owe first, then the cash.
      long covered = Math.min(m.owed, paid);
      if (paid > 0 && world.ask(id, r -> new AccountEntity.CreditLiquidation(liquidationId + "/cover", liquidationId,
          paid, covered, r)).filter(StepApplied.class::isInstance).isPresent()) {
        m.cash = Math.addExact(m.cash, paid - covered);
        m.owed -= covered;
      }
      if (need - paid > 0 && world.ask(id, r -> new AccountEntity.RecordDebt(liquidationId + "/debt", liquidationId,
          need - paid, r)).filter(StepApplied.class::isInstance).isPresent()) {
        m.debt = Math.addExact(m.debt, need - paid);
      }
    }
    world.ask(id, r -> new AccountEntity.EndLiquidation(liquidationId, r));
    for (String counterparty : counterparties) {
      world.tell(counterparty, new AccountEntity.ForgetLiquidation(liquidationId));
    }
  }

  /** One transfer; what the entity applied is applied to the model. Null when it was refused. */
  private LiquidationTransfer transfer(String id, String key, String liquidationId, LiquidationRole role,
      String counterparty, String instrument, long signedLots, long priceTicks, TransferMode mode) {
    AccountModel.Acc m = world.model.account(id);
    long held = m.holding(instrument).lots;
    Optional<Reply> reply = world.ask(id, r -> new AccountEntity.ApplyLiquidationTransfer(key, liquidationId, role,
        counterparty, instrument, signedLots, priceTicks, 0, mode, r));
    if (reply.isEmpty() || !(reply.get() instanceof TransferApplied applied)) {
      return null;
    }
    LiquidationTransfer t = applied.transfer();
    if (t.signedLots() == 0) {
      return t;
    }
    if (mode == TransferMode.CLOSE_CLIPPED || mode == TransferMode.REDUCE_CLIPPED) {
      expect(Long.signum(t.signedLots()) == -Long.signum(held) && Math.abs(t.signedLots()) <= Math.abs(held)
          && Math.abs(t.signedLots()) <= Math.abs(signedLots),
          id + " moved " + t.signedLots() + " lots in a clipped transfer of " + signedLots + " while holding " + held);
    } else {
      expect(t.signedLots() == signedLots, id + " moved " + t.signedLots() + " of " + signedLots + " lots (" + mode + ")");
    }
    long ceiling = AccountModel.fee(t.signedLots(), priceTicks, true) * (AccountModel.LIQUIDATION_FEE_PPM
        / AccountModel.TAKER_PPM);
    expect(t.penalty() >= 0 && t.penalty() <= ceiling && (role == LiquidationRole.LIQUIDATED || t.penalty() == 0),
        id + " paid a penalty of " + t.penalty() + " as " + role + " (at most " + ceiling + ")");
    AccountModel.apply(m, instrument, AccountModel.movement(m, instrument, t.signedLots(), priceTicks, null), t.penalty());
    // An isolated loss beyond the position's margin is owed, not taken from the cash.
    m.cash = Math.addExact(m.cash, t.shortfall());
    m.owed = Math.addExact(m.owed, t.shortfall());
    return t;
  }

  private void expect(boolean condition, String message) {
    if (!condition) {
      world.violation(Invariant.AGREES_WITH_MODEL, message);
    }
  }
}
