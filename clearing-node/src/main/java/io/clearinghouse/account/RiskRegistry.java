package io.clearinghouse.account;

import io.clearinghouse.account.AccountEntity;
import org.apache.pekko.actor.typed.ActorRef;

/** Where an account reports its exposure, so the monitor of its node watches it. */
public interface RiskRegistry {
  RiskRegistry NONE = new RiskRegistry() {
    @Override
    public void track(String accountId, Exposure exposure, ActorRef<AccountEntity.Command> account) {}

    @Override
    public void untrack(String accountId, ActorRef<AccountEntity.Command> account) {}
  };

  void track(String accountId, Exposure exposure, ActorRef<AccountEntity.Command> account);

  void untrack(String accountId, ActorRef<AccountEntity.Command> account);
}
