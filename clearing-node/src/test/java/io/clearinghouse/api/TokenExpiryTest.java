package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Tokens with an expiry, and the demo tokens only on a node bound to loopback. */
class TokenExpiryTest {
  private static final String EXPIRES = "2027-01-31T00:00:00Z";

  private static Config config(String extra) {
    return ConfigFactory.parseString(extra).withFallback(ConfigFactory.load()).resolve();
  }

  private static Authenticator at(String instant) {
    return Authenticator.fromConfig(config("clearinghouse.auth.tokens = [{ name = desk, role = operator, sha256 = \""
        + Authenticator.sha256Hex("t-1") + "\", expires = \"" + EXPIRES + "\" }, { name = forever, role = operator, "
        + "sha256 = \"" + Authenticator.sha256Hex("t-2") + "\" }]"), Clock.fixed(Instant.parse(instant), ZoneOffset.UTC));
  }

  @Test
  void aTokenIsAcceptedUntilItsExpiryAndRefusedFromIt() {
    assertEquals("desk", at("2027-01-30T23:59:59.999Z").require(Optional.of("Bearer t-1"), Role.OPERATOR).name());
    for (String late : new String[] {EXPIRES, "2028-01-01T00:00:00Z"}) {
      RejectedException e = assertThrows(RejectedException.class,
          () -> at(late).require(Optional.of("Bearer t-1"), Role.OPERATOR));
      assertEquals(Rejection.TOKEN_EXPIRED, e.reason());
      assertTrue(e.getMessage().contains("desk") && e.getMessage().contains(EXPIRES), e.getMessage());
      assertTrue(at(late).identify(Optional.of("Bearer t-1")).isEmpty());
      // A token without an expiry never expires.
      assertEquals("forever", at(late).require(Optional.of("Bearer t-2"), Role.OPERATOR).name());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tomorrow", "2027-01-31", "2027-01-31T00:00:00"})
  void aMalformedExpiryStopsTheNodeNamingTheKey(String expires) {
    Config bad = config("clearinghouse.auth.tokens = [{ name = desk, role = operator, sha256 = \""
        + Authenticator.sha256Hex("t-1") + "\", expires = \"" + expires + "\" }]");
    ConfigException e = assertThrows(ConfigException.class, () -> Authenticator.fromConfig(bad));
    assertTrue(e.getMessage().contains("clearinghouse.auth.tokens[0].expires"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"clearinghouse.grpc.host", "pekko.management.http.hostname",
      "pekko.remote.artery.canonical.hostname", "pekko.remote.artery.bind.hostname"})
  void demoTokensAreRefusedUnlessEveryPortIsOnLoopback(String key) {
    Config exposed = config("clearinghouse.demo.enabled = true\n" + key + " = \"0.0.0.0\"");
    ConfigException e = assertThrows(ConfigException.class, () -> Authenticator.fromConfig(exposed));
    assertTrue(e.getMessage().contains("clearinghouse.demo.enabled") && e.getMessage().contains(key), e.getMessage());
    // Without the demo tokens the same binding is fine.
    Authenticator.fromConfig(config(key + " = \"0.0.0.0\""));
    // On loopback, by address or by name, the demo tokens are accepted.
    Authenticator.fromConfig(config("clearinghouse.demo.enabled = true\n" + key + " = \"localhost\""));
  }

  @Test
  void loopbackMeansEveryAddressOfTheName() {
    assertTrue(Authenticator.isLoopback("127.0.0.1"));
    assertTrue(Authenticator.isLoopback("::1"));
    assertFalse(Authenticator.isLoopback("0.0.0.0"));
    assertFalse(Authenticator.isLoopback("10.1.2.3"));
    assertFalse(Authenticator.isLoopback("no-such-host.invalid"));
  }
}
