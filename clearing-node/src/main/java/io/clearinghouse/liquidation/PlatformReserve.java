package io.clearinghouse.liquidation;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The platform's reserves besides the insurance funds (DESIGN section 7), each one ledger
 * ({@link InsuranceFund} under the {@code Reserve} type) named by {@link #id}. Names are part of
 * the API and of journals: never rename.
 */
public enum PlatformReserve {
  /** Pays the liquidity providers who take positions over. */
  MARKET_MAKING("market-making"),
  /** The platform's own income: its share of liquidation penalties and the trading fees the accounts sweep in. */
  PLATFORM_REVENUE("platform-revenue"),
  /** Protects investors, like a securities investor protection fund. */
  INVESTOR_PROTECTION("investor-protection"),
  /** The operator's own capital: pays deficits after the insurance fund, up to a daily amount. */
  OPERATOR_CAPITAL("operator-capital");

  private final String id;

  PlatformReserve(String id) {
    this.id = id;
  }

  public String id() {
    return id;
  }

  public static Optional<PlatformReserve> byId(String id) {
    return Arrays.stream(values()).filter(r -> r.id.equals(id)).findFirst();
  }

  public static List<String> ids() {
    return Arrays.stream(values()).map(PlatformReserve::id).toList();
  }
}
