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
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Feeder tokens speak for the sources they name, and no two share one; wash trades are recognized;
 * a monitor token reads (requireReader) and is refused every role's call.
 */
class AuthenticatorConfigTest {
  private static final String HASH_A = Authenticator.sha256Hex("feeder-a");
  private static final String HASH_B = Authenticator.sha256Hex("feeder-b");

  private static Config config(String tokens) {
    return ConfigFactory.parseString("clearinghouse.auth.tokens = [" + tokens + "]")
        .withFallback(ConfigFactory.load()).resolve();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      // A feeder token without sources would speak for all of them.
      "{ name = a, role = feeder, sha256 = \"" + "%A\" }                                          | clearinghouse.auth.tokens[0].sources",
      "{ name = a, role = feeder, sha256 = \"%A\", sources = [] }                                 | clearinghouse.auth.tokens[0].sources",
      "{ name = a, role = feeder, sha256 = \"%A\", sources = [nasdaq] }                           | clearinghouse.auth.tokens[0].sources",
      // Two tokens never share a source.
      "{ name = a, role = feeder, sha256 = \"%A\", sources = [binance, okx] }, { name = b, role = feeder, sha256 = \"%B\", sources = [okx] } | clearinghouse.auth.tokens[1].sources"
  })
  void aFeederTokenMustOwnItsSourcesAlone(String tokens, String key) {
    Config config = config(tokens.replace("%A", HASH_A).replace("%B", HASH_B));
    ConfigException e = assertThrows(ConfigException.class, () -> Authenticator.fromConfig(config));
    assertTrue(e.getMessage().contains(key), "'" + e.getMessage() + "' should name " + key);
  }

  @Test
  void demoFeedersAreCheckedAlikeAndOwnOneSourceEach() {
    Config clash = ConfigFactory.parseString("clearinghouse.demo.enabled = true\nclearinghouse.auth.tokens = [{ name = a, "
        + "role = feeder, sha256 = \"" + HASH_A + "\", sources = [binance] }]").withFallback(ConfigFactory.load()).resolve();
    ConfigException e = assertThrows(ConfigException.class, () -> Authenticator.fromConfig(clash));
    assertTrue(e.getMessage().contains("clearinghouse.demo.feeders[0].sources"), e.getMessage());

    Authenticator demo = Authenticator.fromConfig(ConfigFactory.parseString("clearinghouse.demo.enabled = true")
        .withFallback(ConfigFactory.load()).resolve());
    assertEquals(Set.of("binance"), demo.require(Optional.of("Bearer demo-feeder-token"), Role.FEEDER).sources());
    assertEquals(Set.of("okx"), demo.require(Optional.of("Bearer demo-okx-feeder-token"), Role.FEEDER).sources());
  }

  @Test
  void tradesBetweenAccountsOfOneOwnerAreWashTrades() {
    Authenticator auth = Authenticator.fromConfig(config(
        "{ name = alice, role = client, sha256 = \"" + HASH_A + "\", accounts = [alice-1, alice-2] },"
            + "{ name = bob, role = client, sha256 = \"" + HASH_B + "\", accounts = [bob-1] }"));
    assertTrue(auth.sameOwner("alice-1", "alice-2"));
    assertFalse(auth.sameOwner("alice-1", "bob-1"));
    assertFalse(auth.sameOwner("nobody-1", "nobody-2"));
  }

  @Test
  void aMonitorTokenIsAReaderAndNothingElse() {
    Authenticator auth = Authenticator.fromConfig(config(
        "{ name = prometheus, role = monitor, sha256 = \"" + HASH_A + "\" },"
            + "{ name = ops, role = OPERATOR, sha256 = \"" + HASH_B + "\" },"
            + "{ name = engine, role = engine, sha256 = \"" + Authenticator.sha256Hex("engine") + "\" }"));
    Optional<String> monitor = Optional.of("Bearer feeder-a");
    Principal prometheus = auth.requireReader(monitor);
    assertEquals("prometheus", prometheus.name());
    assertEquals(Role.MONITOR, prometheus.role());
    assertEquals("ops", auth.requireReader(Optional.of("Bearer feeder-b")).name());
    for (Role role : new Role[] {Role.OPERATOR, Role.CLIENT, Role.ENGINE, Role.FEEDER}) {
      RejectedException refused = assertThrows(RejectedException.class, () -> auth.require(monitor, role));
      assertEquals(Rejection.WRONG_ROLE, refused.reason(), role.name());
    }
    RejectedException engine = assertThrows(RejectedException.class,
        () -> auth.requireReader(Optional.of("Bearer engine")));
    assertEquals(Rejection.WRONG_ROLE, engine.reason());
    assertTrue(engine.getMessage().contains("an operator or a monitor token"), engine.getMessage());
    assertEquals(Rejection.MISSING_TOKEN,
        assertThrows(RejectedException.class, () -> auth.requireReader(Optional.empty())).reason());
    assertEquals(Rejection.UNKNOWN_TOKEN,
        assertThrows(RejectedException.class, () -> auth.requireReader(Optional.of("Bearer nobody"))).reason());
    RejectedException wrongRole = assertThrows(RejectedException.class,
        () -> auth.require(Optional.of("Bearer feeder-b"), Role.MONITOR));
    assertTrue(wrongRole.getMessage().contains("a monitor token"), wrongRole.getMessage());
  }

  @Test
  void anUnknownRoleNamesTheKeyAndTheRolesThereAre() {
    ConfigException e = assertThrows(ConfigException.class, () -> Authenticator.fromConfig(config(
        "{ name = a, role = watcher, sha256 = \"" + HASH_A + "\" }")));
    assertTrue(e.getMessage().contains("clearinghouse.auth.tokens[0].role"), e.getMessage());
    assertTrue(e.getMessage().contains("operator, client, engine, feeder, monitor"), e.getMessage());
  }
}
