package io.clearinghouse.api;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;
import org.apache.pekko.pki.pem.DERPrivateKeyLoader;
import org.apache.pekko.pki.pem.PEMDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS for the gRPC and management HTTP ports ({@code clearinghouse.tls}), from a PEM certificate
 * chain and a PEM private key (PKCS#8, or PKCS#1 RSA), as cert-manager mounts them. The files are
 * looked at again at most every {@code reload-interval} when a connection is accepted; a changed
 * pair is loaded for the connections that follow (a pair that does not load, e.g. half written,
 * is logged and the previous one kept). Without TLS every such port must be bound to loopback:
 * plaintext is for the local single-node mode only.
 */
public final class TransportSecurity {
  private static final Logger log = LoggerFactory.getLogger(TransportSecurity.class);
  private static final String KEY = "clearinghouse.tls";
  /** Ports that carry tokens or money: plaintext on them only on loopback. */
  static final List<String> PLAINTEXT_LOOPBACK_KEYS = List.of("clearinghouse.grpc.host",
      "pekko.management.http.hostname", "pekko.management.http.bind-hostname");

  private final Optional<HttpsConnectionContext> https;

  private TransportSecurity(Optional<HttpsConnectionContext> https) {
    this.https = https;
  }

  /** The HTTPS context both ports bind with, or empty for plaintext (loopback only). */
  public Optional<HttpsConnectionContext> https() {
    return https;
  }

  /**
   * Reads {@code clearinghouse.tls} and loads the certificate and key once, so that a missing or
   * unreadable file stops the node at start naming its key.
   */
  public static TransportSecurity fromConfig(Config config) {
    checkRemoting(config);
    checkJournal(config);
    if (!config.getBoolean(KEY + ".enabled")) {
      for (String key : PLAINTEXT_LOOPBACK_KEYS) {
        if (config.hasPath(key) && !config.getString(key).isBlank() && !Authenticator.isLoopback(config.getString(key))) {
          throw new ConfigException.BadValue(KEY + ".enabled", "plaintext gRPC and management HTTP are allowed on "
              + "loopback only, but " + key + " is '" + config.getString(key) + "': set " + KEY + ".enabled = on "
              + "with " + KEY + ".cert-file and " + KEY + ".key-file, or bind to 127.0.0.1");
        }
      }
      blankBindsOffLoopback(config, MANAGEMENT_HOST, MANAGEMENT_BIND).ifPresent(address -> {
        throw new ConfigException.BadValue(KEY + ".enabled", "plaintext gRPC and management HTTP are allowed on "
            + "loopback only, but " + MANAGEMENT_HOST + " and " + MANAGEMENT_BIND + " are blank, which binds the "
            + "management port to this machine's address " + address + ": set " + KEY + ".enabled = on with " + KEY
            + ".cert-file and " + KEY + ".key-file, or bind to 127.0.0.1");
      });
      return new TransportSecurity(Optional.empty());
    }
    Path cert = Path.of(config.getString(KEY + ".cert-file"));
    Path key = Path.of(config.getString(KEY + ".key-file"));
    Duration reload = config.getDuration(KEY + ".reload-interval");
    if (reload.isNegative() || reload.isZero()) {
      throw new ConfigException.BadValue(KEY + ".reload-interval", "must be positive");
    }
    ReloadingKeyManager keys;
    try {
      keys = new ReloadingKeyManager(cert, key, reload);
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(e.getMessage().startsWith("certificate") ? KEY + ".cert-file"
          : KEY + ".key-file", e.getMessage());
    }
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(new javax.net.ssl.KeyManager[] {keys}, null, null);
      return new TransportSecurity(Optional.of(ConnectionContext.httpsServer(context)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("TLS is not available in this Java runtime", e);
    }
  }

  private static final String TRANSPORT = "pekko.remote.artery.transport";
  private static final String ROTATING = "pekko.remote.artery.ssl.rotating-keys-engine";

  /**
   * Remoting carries commands straight to the entities, past every token check: plain TCP only on
   * loopback, and with tls-tcp the PEM files the engine reads must be there at start.
   */
  static void checkRemoting(Config config) {
    if (!config.hasPath(TRANSPORT)) {
      return;
    }
    String transport = config.getString(TRANSPORT);
    if (transport.equals("tcp") || transport.equals("aeron-udp")) {
      for (String key : List.of("pekko.remote.artery.canonical.hostname", "pekko.remote.artery.bind.hostname")) {
        if (config.hasPath(key) && !config.getString(key).isBlank() && !Authenticator.isLoopback(config.getString(key))) {
          throw new ConfigException.BadValue(TRANSPORT, "remoting without TLS is allowed on loopback only, but " + key
              + " is '" + config.getString(key) + "': set " + TRANSPORT + " = tls-tcp (mutual TLS, " + ROTATING
              + ") or bind to 127.0.0.1");
        }
      }
    } else if (transport.equals("tls-tcp") && config.getString("pekko.remote.artery.ssl.ssl-engine-provider")
        .endsWith("RotatingKeysSSLEngineProvider")) {
      for (String file : List.of("key-file", "cert-file", "ca-cert-file")) {
        Path path = Path.of(config.getString(ROTATING + "." + file));
        if (!Files.isReadable(path)) {
          throw new ConfigException.BadValue(ROTATING + "." + file, "no readable file " + path
              + " (remoting needs this node's key and certificate and the cluster's certificate authority)");
        }
      }
    }
  }

  static final String MANAGEMENT_HOST = "pekko.management.http.hostname";
  static final String MANAGEMENT_BIND = "pekko.management.http.bind-hostname";

  /**
   * When both a port's host and its bind host are blank, the address it binds to: pekko-management
   * then binds to this machine's own address ({@code InetAddress.getLocalHost()}), not to loopback
   * (that it resolves to loopback on some machines is an accident of /etc/hosts; in a pod it is the
   * pod's IP), so a blank host (an empty environment variable) never passes for loopback. Empty
   * when either is set (each is then checked by name).
   */
  static Optional<String> blankBindsOffLoopback(Config config, String hostKey, String bindKey) {
    boolean hostBlank = config.hasPath(hostKey) && config.getString(hostKey).isBlank();
    boolean bindBlank = !config.hasPath(bindKey) || config.getString(bindKey).isBlank();
    if (!hostBlank || !bindBlank) {
      return Optional.empty();
    }
    try {
      return Optional.of("InetAddress.getLocalHost() = " + java.net.InetAddress.getLocalHost().getHostAddress());
    } catch (java.net.UnknownHostException e) {
      return Optional.of("InetAddress.getLocalHost() (unknown here: " + e.getMessage() + ")");
    }
  }

  private static final String DRIVER_TLS = "datastax-java-driver.advanced.ssl-engine-factory";
  private static final String PLAINTEXT_JOURNAL = KEY + ".plaintext-journal-allowed";

  /**
   * With remoting over TLS the node is meant to have no plaintext hop, and the journal (every
   * event, every amount) is one: its Cassandra driver must speak TLS too ({@code
   * datastax-java-driver.advanced.ssl-engine-factory}) unless every contact point is on loopback
   * or {@code clearinghouse.tls.plaintext-journal-allowed} says plaintext is meant.
   */
  static void checkJournal(Config config) {
    if (!config.hasPath(TRANSPORT) || !config.getString(TRANSPORT).equals("tls-tcp")
        || config.hasPath(DRIVER_TLS + ".class") && !config.getString(DRIVER_TLS + ".class").isBlank()
        || config.hasPath(PLAINTEXT_JOURNAL) && config.getBoolean(PLAINTEXT_JOURNAL)) {
      return;
    }
    List<String> away = new java.util.ArrayList<>();
    if (config.hasPath("datastax-java-driver.basic.contact-points")) {
      for (String point : config.getStringList("datastax-java-driver.basic.contact-points")) {
        int colon = point.lastIndexOf(':');
        String host = colon > 0 ? point.substring(0, colon) : point;
        if (!Authenticator.isLoopback(host.replace("[", "").replace("]", ""))) {
          away.add(point);
        }
      }
    }
    if (!away.isEmpty()) {
      throw new ConfigException.BadValue(DRIVER_TLS + ".class", "remoting is on TLS (" + TRANSPORT + " = tls-tcp) but "
          + "the journal's Cassandra at " + away + " would be reached in plaintext: configure the driver's TLS ("
          + DRIVER_TLS + ", see kubernetes.conf) or, if plaintext is meant, set " + PLAINTEXT_JOURNAL + " = on");
    }
  }

  /**
   * A client TLS context for this node's own HTTPS calls to the other nodes' management ports
   * (Cluster Bootstrap), trusting {@code clearinghouse.tls.ca-file} only. Pod addresses are not
   * in the certificates, so the peer is judged by the authority, not by its host name; empty when
   * TLS is off or no authority is configured.
   */
  public static Optional<HttpsConnectionContext> clusterClient(Config config) {
    if (!config.getBoolean(KEY + ".enabled") || config.getString(KEY + ".ca-file").isBlank()) {
      return Optional.empty();
    }
    Path caFile = Path.of(config.getString(KEY + ".ca-file"));
    try (var in = Files.newInputStream(caFile)) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      int i = 0;
      for (var certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("ca-" + i++, certificate);
      }
      var trust = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return Optional.of(ConnectionContext.httpsClient((host, port) -> {
        SSLEngine engine = context.createSSLEngine(host, port);
        engine.setUseClientMode(true);
        return engine;
      }));
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigException.BadValue(KEY + ".ca-file", "cannot read the certificate authority " + caFile + ": "
          + e.getMessage());
    }
  }

  /** A key pair loaded from the two PEM files, with the files' times it was loaded at. */
  private record Loaded(X509KeyManager keys, FileTime certTime, FileTime keyTime, long checkedNanos) {}

  /** Hands out the current key pair, re-reading the files when they have changed. */
  static final class ReloadingKeyManager extends X509ExtendedKeyManager {
    private final Path certFile;
    private final Path keyFile;
    private final long intervalNanos;
    private final AtomicReference<Loaded> current = new AtomicReference<>();

    ReloadingKeyManager(Path certFile, Path keyFile, Duration interval) {
      this.certFile = certFile;
      this.keyFile = keyFile;
      this.intervalNanos = interval.toNanos();
      current.set(load());
    }

    private Loaded load() {
      FileTime certTime = modified(certFile, "certificate");
      FileTime keyTime = modified(keyFile, "private key");
      X509Certificate[] chain = certificates(certFile);
      PrivateKey key = privateKey(keyFile);
      try {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("node", key, new char[0], chain);
        KeyManagerFactory factory = KeyManagerFactory.getInstance("SunX509");
        factory.init(store, new char[0]);
        return new Loaded((X509KeyManager) factory.getKeyManagers()[0], certTime, keyTime, System.nanoTime());
      } catch (GeneralSecurityException | IOException e) {
        throw new IllegalArgumentException("private key " + keyFile + " does not match certificate " + certFile
            + ": " + e.getMessage(), e);
      }
    }

    private static FileTime modified(Path file, String what) {
      try {
        return Files.getLastModifiedTime(file);
      } catch (IOException e) {
        throw new IllegalArgumentException(what + " file " + file + " cannot be read: " + e);
      }
    }

    static X509Certificate[] certificates(Path file) {
      try (var in = Files.newInputStream(file)) {
        List<X509Certificate> chain = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
            .map(c -> (X509Certificate) c).toList();
        if (chain.isEmpty()) {
          throw new IllegalArgumentException("certificate file " + file + " holds no certificate");
        }
        return chain.toArray(X509Certificate[]::new);
      } catch (IOException | GeneralSecurityException e) {
        throw new IllegalArgumentException("certificate file " + file + " is not a PEM certificate chain: " + e.getMessage());
      }
    }

    static PrivateKey privateKey(Path file) {
      try {
        return DERPrivateKeyLoader.load(PEMDecoder.decode(Files.readString(file)));
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException("private key file " + file + " is not an unencrypted PEM key (PKCS#8, or "
            + "PKCS#1 RSA): " + e.getMessage());
      }
    }

    /** The key pair to use now: the files are looked at again once the interval has passed. */
    private X509KeyManager keys() {
      Loaded loaded = current.get();
      long now = System.nanoTime();
      if (now - loaded.checkedNanos() < intervalNanos) {
        return loaded.keys();
      }
      Loaded next = loaded;
      try {
        if (!Files.getLastModifiedTime(certFile).equals(loaded.certTime())
            || !Files.getLastModifiedTime(keyFile).equals(loaded.keyTime())) {
          next = load();
          log.info("TLS certificate reloaded from {} ({})", certFile, next.keys().getCertificateChain("node")[0]
              .getSubjectX500Principal());
        } else {
          next = new Loaded(loaded.keys(), loaded.certTime(), loaded.keyTime(), now);
        }
      } catch (IOException | RuntimeException e) {
        // A pair being replaced may be half written: keep serving the last good one, look again later.
        log.warn("TLS certificate {} / key {} not reloaded, keeping the previous one: {}", certFile, keyFile,
            e.getMessage());
        next = new Loaded(loaded.keys(), loaded.certTime(), loaded.keyTime(), now);
      }
      current.compareAndSet(loaded, next);
      return current.get().keys();
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      return keys().chooseServerAlias(keyType, issuers, null);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return keys().chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return current.get().keys().getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return current.get().keys().getPrivateKey(alias);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return current.get().keys().getServerAliases(keyType, issuers);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return new String[0];
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
      return null;
    }

    /** The certificate served now (for tests and logs). */
    X509Certificate served() {
      keys();
      return current.get().keys().getCertificateChain("node")[0];
    }
  }
}
