package io.clearinghouse.expiry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.instrument.Instruments;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code clearinghouse.expiry} as shipped, and each bad key stopping the node with its name. */
class ExpirySettingsTest {

  private static Config with(String hocon) {
    return ConfigFactory.parseString(hocon).withFallback(ConfigFactory.load()).resolve();
  }

  @org.junit.jupiter.api.Test
  void theShippedSettings() {
    Config config = ConfigFactory.load();
    ExpirySettings settings = ExpirySettings.fromConfig(config, Instruments.fromConfig(config, 6));
    assertEquals(new ExpirySettings(true, Duration.ofSeconds(10), 500_000, Duration.ofSeconds(60), 64, 5000,
        Duration.ofSeconds(10), 100), settings);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "clearinghouse.expiry.sample-every = 0s                  | clearinghouse.expiry.sample-every",
      "clearinghouse.expiry.sample-every = often               | clearinghouse.expiry.sample-every",
      "clearinghouse.expiry.sample-every = 31m                 | clearinghouse.expiry.sample-every",
      "clearinghouse.expiry.min-sample-share = \"0%\"          | clearinghouse.expiry.min-sample-share",
      "clearinghouse.expiry.min-sample-share = \"101%\"        | clearinghouse.expiry.min-sample-share",
      "clearinghouse.expiry.min-sample-share = half            | clearinghouse.expiry.min-sample-share",
      "clearinghouse.expiry.settle-window = 2h                 | clearinghouse.expiry.settle-window",
      "clearinghouse.expiry.parallelism = 0                    | clearinghouse.expiry.parallelism",
      "clearinghouse.expiry.batch = many                       | clearinghouse.expiry.batch",
      "clearinghouse.expiry.enabled = maybe                    | clearinghouse.expiry.enabled",
      "clearinghouse.expiry.sampel-every = 1s                  | clearinghouse.expiry.sampel-every"
  })
  void badSettingsStopTheNodeNamingTheKey(String override, String key) {
    Config config = with(override);
    ConfigException e = assertThrows(ConfigException.class,
        () -> ExpirySettings.fromConfig(config, Instruments.fromConfig(config, 6)));
    assertTrue(e.getMessage().contains(key), "'" + e.getMessage() + "' should name " + key);
  }
}
