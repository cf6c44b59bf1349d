package io.clearinghouse.expiry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.instrument.Instruments;
import org.junit.jupiter.api.Test;

/**
 * Issue 17 review (high): a position the insurance fund took over in a dated future is in the
 * fund's journal, which no settlement reaches, so it was never settled at expiry and its
 * counterparties were closed against a settlement pool the fund never paid into. As funding does
 * for perpetuals, the node refuses to start with expiry on and a dated future whose insurance fund
 * may take positions over ({@code insurance-fund-takeover-limit} above 0), naming both keys. On
 * today's code this configuration started.
 */
class ExpiryFundTakeoverTest {
  private static final String FUTURE = "BTCUSDT-271231";
  private static final String TAKEOVER = "clearinghouse.instrument-overrides { \"" + FUTURE
      + "\" { insurance-fund-takeover-limit = \"60000\" } }";

  private static ExpirySettings settings(String overrides) {
    Config config = ConfigFactory.parseString(overrides).withFallback(ConfigFactory.load()).resolve();
    return ExpirySettings.fromConfig(config, Instruments.fromConfig(config, 6));
  }

  @Test
  void expiryOnWithADatedFutureWhoseFundMayTakePositionsOverIsRefusedNamingBothKeys() {
    ConfigException e = assertThrows(ConfigException.class, () -> settings("clearinghouse.expiry.enabled = on\n"
        + TAKEOVER));
    assertTrue(e.getMessage().contains("clearinghouse.expiry.enabled"), e.getMessage());
    assertTrue(e.getMessage().contains("insurance-fund-takeover-limit"), e.getMessage());
    assertTrue(e.getMessage().contains(FUTURE), e.getMessage());
  }

  @Test
  void eitherOneAloneStartsAndAPerpetualsTakeoverIsNotExpirysConcern() {
    assertTrue(settings("clearinghouse.expiry.enabled = on").enabled());
    assertEquals(false, settings("clearinghouse.expiry.enabled = off\n" + TAKEOVER).enabled());
    assertTrue(settings("clearinghouse.instrument-overrides { \"BTCUSDT-PERP\" { insurance-fund-takeover-limit ="
        + " \"60000\" } }").enabled());
  }
}
