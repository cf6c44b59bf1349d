package io.clearinghouse.api;

import java.util.Set;

/** Who is calling: the name configured for its token, its role and, for clients, the accounts it owns. */
public record Principal(String name, Role role, Set<String> accounts) {
  public Principal {
    accounts = Set.copyOf(accounts);
  }

  public boolean owns(String accountId) {
    return accounts.contains(accountId);
  }
}
