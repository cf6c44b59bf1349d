package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.funding.FundingSettings;
import io.clearinghouse.instrument.Instruments;
import org.junit.jupiter.api.Test;

/**
 * Review 8, finding 5 (C): a position the insurance fund took over is never funded (no funding
 * path reaches InsuranceFund), so its counterparties would be paid from a pool nobody paid into.
 * Not fixed by funding the fund: the node refuses to start with funding on and a perpetual whose
 * insurance fund may take positions over ({@code insurance-fund-takeover-limit} above 0), naming
 * both keys. (The review's own test computed the pool with the fund's payment fixed at 0; it
 * stands for the state this refusal makes unreachable.)
 */
class Review8FundPositionFundingTest {
  private static final String PERP = "BTCUSDT-PERP";

  private static Config config(String overrides) {
    return ConfigFactory.parseString(overrides).withFallback(ConfigFactory.load()).resolve();
  }

  private static FundingSettings settings(Config config) {
    return FundingSettings.fromConfig(config, Instruments.fromConfig(config, 6));
  }

  @Test
  void fundingOnWithAPerpetualWhoseInsuranceFundMayTakePositionsOverIsRefusedNamingBothKeys() {
    ConfigException e = assertThrows(ConfigException.class, () -> settings(config(
        "clearinghouse.funding.enabled = on\n"
            + "clearinghouse.instrument-overrides { \"" + PERP + "\" { insurance-fund-takeover-limit = \"60000\" } }")));
    assertTrue(e.getMessage().contains("clearinghouse.funding.enabled"), e.getMessage());
    assertTrue(e.getMessage().contains("insurance-fund-takeover-limit"), e.getMessage());
    assertTrue(e.getMessage().contains(PERP), e.getMessage());
  }

  @Test
  void eitherOneAloneStarts() {
    assertTrue(settings(config("clearinghouse.funding.enabled = on")).enabled());
    assertEquals(false, settings(config("clearinghouse.funding.enabled = off\n"
        + "clearinghouse.instrument-overrides { \"" + PERP + "\" { insurance-fund-takeover-limit = \"60000\" } }"))
        .enabled());
  }
}
