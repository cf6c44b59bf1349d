package io.clearinghouse.liquidation;

import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.money.Bucket;
import java.util.Set;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * One reserve ledger as the API names it: a platform reserve ({@code market-making}, ...) or an
 * insurance fund ({@code insurance-fund:NAME}).
 */
public record ReserveRef(boolean insuranceFund, String id) {
  public static final String FUND_PREFIX = "insurance-fund:";

  public static ReserveRef fund(String fund) {
    return new ReserveRef(true, fund);
  }

  public static ReserveRef of(PlatformReserve reserve) {
    return new ReserveRef(false, reserve.id());
  }

  /** A reserve's API name; an unknown one (or a fund nobody configured) is refused (UNKNOWN_RESERVE). */
  public static ReserveRef parse(String name, Set<String> funds) {
    if (name != null && name.startsWith(FUND_PREFIX) && funds.contains(name.substring(FUND_PREFIX.length()))) {
      return fund(name.substring(FUND_PREFIX.length()));
    }
    if (name != null && PlatformReserve.byId(name).isPresent()) {
      return new ReserveRef(false, name);
    }
    throw new RejectedException(Rejection.UNKNOWN_RESERVE, "no reserve named " + io.clearinghouse.common.Inputs.quote(name)
        + " (reserves: " + PlatformReserve.ids() + " and " + FUND_PREFIX + "NAME of the funds " + funds + ")");
  }

  public EntityTypeKey<InsuranceFund.Command> typeKey() {
    return insuranceFund ? InsuranceFund.TYPE_KEY : InsuranceFund.RESERVE_TYPE_KEY;
  }

  public Bucket bucket() {
    return insuranceFund ? Bucket.insuranceFund(id) : Bucket.reserve(id);
  }

  /** The API name. */
  public String name() {
    return insuranceFund ? FUND_PREFIX + id : id;
  }
}
