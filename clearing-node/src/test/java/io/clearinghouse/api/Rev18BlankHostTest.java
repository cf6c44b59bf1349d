package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/**
 * Review rev18, finding 4 (medium): the loopback guards skipped a blank host. But pekko-management
 * binds a blank {@code pekko.management.http.hostname} (with a blank bind-hostname) to this
 * machine's address ({@code InetAddress.getLocalHost()}), not to loopback. So an empty variable
 * ({@code CLEARINGHOUSE_MANAGEMENT_HOST=}, e.g. a pod IP that was not filled in) got past
 * "plaintext only on loopback": the management port served plaintext on the network (operator
 * tokens, halts, leave/down in the clear), and in local mode the public demo tokens were accepted
 * there (anyone reaching the host could halt liquidations or down the node with
 * "demo-operator-token"). A blank host (with a blank bind host) is now refused wherever loopback is required, whatever this
 * machine's own address resolves to. (A blank
 * Artery host binds loopback, so remoting was not affected.)
 */
class Rev18BlankHostTest {
  private static Config config(String hocon) {
    return ConfigFactory.parseString(hocon).withFallback(ConfigFactory.load()).resolve();
  }

  @Test
  void plaintextManagementOnABlankHostIsRefused() {
    ConfigException e = assertThrows(ConfigException.class, () -> TransportSecurity.fromConfig(config(
        "clearinghouse.tls.enabled = off\npekko.management.http.hostname = \"\"\npekko.management.http.bind-hostname = \"\"")));
    assertTrue(e.getMessage().contains("pekko.management.http.hostname"), e.getMessage());
    // Bound to loopback with only the advertised name blank: allowed.
    assertDoesNotThrow(() -> TransportSecurity.fromConfig(config("clearinghouse.tls.enabled = off\n"
        + "pekko.management.http.hostname = \"\"\npekko.management.http.bind-hostname = \"127.0.0.1\"")));
  }

  @Test
  void theDemoTokensAreRefusedWhenTheManagementHostIsBlank() {
    ConfigException e = assertThrows(ConfigException.class, () -> Authenticator.fromConfig(config(
        "clearinghouse.demo.enabled = on\npekko.management.http.hostname = \"\"\npekko.management.http.bind-hostname = \"\"")));
    assertTrue(e.getMessage().contains("demo"), e.getMessage());
  }
}
