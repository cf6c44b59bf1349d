package io.clearinghouse.api;

import java.util.Set;

/**
 * Who is calling: the name configured for its token, its role, for clients the accounts it owns,
 * and for feeders the sources it publishes for (never empty for a feeder, and never shared).
 */
public record Principal(String name, Role role, Set<String> accounts, Set<String> sources) {
  public Principal {
    accounts = Set.copyOf(accounts);
    sources = Set.copyOf(sources);
  }

  public Principal(String name, Role role, Set<String> accounts) {
    this(name, role, accounts, Set.of());
  }

  public boolean owns(String accountId) {
    return accounts.contains(accountId);
  }
}
