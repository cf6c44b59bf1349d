package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.it.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** TLS settings: plaintext on loopback only, PEM files checked at start, a changed pair reloaded. */
class TransportSecurityTest {
  private static final TestCertificates.Authority CA = TestCertificates.authority("tls-unit-ca");

  private static Config config(String extra) {
    return ConfigFactory.parseString(extra).withFallback(ConfigFactory.load()).resolve();
  }

  @ParameterizedTest
  @ValueSource(strings = {"clearinghouse.grpc.host", "pekko.management.http.hostname"})
  void plaintextOffLoopbackStopsTheNodeNamingTheKey(String key) {
    ConfigException e = assertThrows(ConfigException.class,
        () -> TransportSecurity.fromConfig(config(key + " = \"0.0.0.0\"")));
    assertTrue(e.getMessage().contains("clearinghouse.tls.enabled") && e.getMessage().contains(key), e.getMessage());
    assertTrue(TransportSecurity.fromConfig(config(key + " = \"127.0.0.1\"")).https().isEmpty());
  }

  /**
   * Review of issue 18, finding 4: with remoting on TLS, a journal reached in plaintext off
   * loopback stops the node at start naming the driver's TLS key, unless explicitly allowed.
   */
  @Test
  void remotingOnTlsWithAPlaintextJournalOffLoopbackStopsTheNodeNamingTheKey() {
    String remoting = "pekko.remote.artery.transport = tls-tcp\n"
        + "pekko.remote.artery.ssl.ssl-engine-provider = \"org.apache.pekko.remote.artery.tcp.ConfigSSLEngineProvider\"\n";
    String away = "datastax-java-driver.basic.contact-points = [\"10.20.30.40:9042\"]\n";
    ConfigException e = assertThrows(ConfigException.class, () -> TransportSecurity.fromConfig(config(remoting + away)));
    assertTrue(e.getMessage().contains("datastax-java-driver.advanced.ssl-engine-factory")
        && e.getMessage().contains("clearinghouse.tls.plaintext-journal-allowed"), e.getMessage());
    TransportSecurity.fromConfig(config(remoting + away
        + "datastax-java-driver.advanced.ssl-engine-factory.class = DefaultSslEngineFactory"));
    TransportSecurity.fromConfig(config(remoting + away + "clearinghouse.tls.plaintext-journal-allowed = on"));
    TransportSecurity.fromConfig(config(remoting + "datastax-java-driver.basic.contact-points = [\"127.0.0.1:9042\"]"));
    // Remoting in plaintext on loopback (local mode) asks nothing of the journal.
    TransportSecurity.fromConfig(config(away));
    // The Kubernetes configuration has the driver's TLS.
    TransportSecurity.checkJournal(ConfigFactory.load("kubernetes.conf"));
  }

  @Test
  void withTlsAnyAddressIsFineAndMissingOrBadFilesAreNamed() {
    Path node = CA.issue("unit-node");
    String files = "clearinghouse.tls { enabled = on, cert-file = \"" + node.resolve("tls.crt") + "\", key-file = \""
        + node.resolve("tls.key") + "\" }\n";
    assertTrue(TransportSecurity.fromConfig(config(files + "clearinghouse.grpc.host = \"0.0.0.0\"")).https().isPresent());
    ConfigException missing = assertThrows(ConfigException.class, () -> TransportSecurity.fromConfig(config(
        files + "clearinghouse.tls.cert-file = \"/no/such/tls.crt\"")));
    assertTrue(missing.getMessage().contains("clearinghouse.tls.cert-file"), missing.getMessage());
    ConfigException notAKey = assertThrows(ConfigException.class, () -> TransportSecurity.fromConfig(config(
        files + "clearinghouse.tls.key-file = \"" + node.resolve("tls.crt") + "\"")));
    assertTrue(notAKey.getMessage().contains("clearinghouse.tls.key-file"), notAKey.getMessage());
  }

  @Test
  void aChangedPairIsServedAfterTheIntervalAndAHalfWrittenOneIsNot() throws Exception {
    Path first = CA.issue("first-node");
    Path second = CA.issue("second-node");
    Path live = Files.createTempDirectory("tls-live");
    Files.copy(first.resolve("tls.crt"), live.resolve("tls.crt"));
    Files.copy(first.resolve("tls.key"), live.resolve("tls.key"));
    var keys = new TransportSecurity.ReloadingKeyManager(live.resolve("tls.crt"), live.resolve("tls.key"),
        Duration.ofMillis(1));
    assertEquals("CN=first-node", keys.served().getSubjectX500Principal().getName());
    // A half-written key: the previous pair is kept.
    Files.writeString(live.resolve("tls.key"), "-----BEGIN PRIVATE KEY-----\nAAAA\n");
    touch(live.resolve("tls.key"), 10);
    Thread.onSpinWait();
    assertEquals("CN=first-node", keys.served().getSubjectX500Principal().getName());
    // The new pair, as cert-manager writes it.
    Files.copy(second.resolve("tls.crt"), live.resolve("tls.crt"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(second.resolve("tls.key"), live.resolve("tls.key"), StandardCopyOption.REPLACE_EXISTING);
    touch(live.resolve("tls.crt"), 20);
    touch(live.resolve("tls.key"), 20);
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!keys.served().getSubjectX500Principal().getName().equals("CN=second-node") && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertEquals("CN=second-node", keys.served().getSubjectX500Principal().getName());
  }

  /** Sets a file's time {@code seconds} ahead, so a change is seen whatever the file system's time resolution. */
  private static void touch(Path file, int seconds) throws Exception {
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(seconds)));
  }
}
