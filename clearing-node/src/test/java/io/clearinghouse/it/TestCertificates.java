package io.clearinghouse.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * Throw-away certificates made in the test itself with the JDK's keytool: a certificate authority
 * and node certificates it signs (RSA 2048, valid two days, for 127.0.0.1, localhost and
 * clearing-node), written as the PEM files cert-manager mounts ({@code ca.crt}, {@code tls.crt}
 * with the chain, {@code tls.key} PKCS#8). Nothing here is a secret that matters.
 */
public final class TestCertificates {
  private static final String PASS = "test-only";

  /** One authority's directory: {@code ca.crt} and its signing key store. */
  public record Authority(Path dir, String name) {
    public Path caFile() {
      return dir.resolve("ca.crt");
    }

    /** A trust manager that trusts this authority only. */
    public TrustManager trustManager() {
      try (InputStream in = Files.newInputStream(caFile())) {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        return factory.getTrustManagers()[0];
      } catch (IOException | GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }

    /** A client TLS context trusting this authority only. */
    public SSLContext clientContext() {
      try {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {trustManager()}, null);
        return context;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }

    /**
     * A node key pair signed by this authority, in {@code dir/<name>/}: {@code tls.crt} (the node
     * certificate, then the authority's), {@code tls.key} and a copy of {@code ca.crt}.
     */
    public Path issue(String nodeName) {
      Path out = dir.resolve(nodeName);
      try {
        Files.createDirectories(out);
        Path store = out.resolve("node.p12");
        keytool("-genkeypair", "-alias", "node", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=" + nodeName,
            "-validity", "2", "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", PASS, "-keypass", PASS);
        Path csr = out.resolve("node.csr");
        keytool("-certreq", "-alias", "node", "-keystore", store.toString(), "-storepass", PASS, "-file", csr.toString());
        Path signed = out.resolve("node.crt");
        keytool("-gencert", "-alias", "ca", "-keystore", dir.resolve("ca.p12").toString(), "-storepass", PASS,
            "-infile", csr.toString(), "-outfile", signed.toString(), "-rfc", "-validity", "2",
            "-ext", "SAN=dns:localhost,dns:clearing-node,ip:127.0.0.1");
        Files.writeString(out.resolve("tls.crt"), Files.readString(signed) + Files.readString(caFile()));
        Files.copy(caFile(), out.resolve("ca.crt"));
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
          keys.load(in, PASS.toCharArray());
        }
        Key key = keys.getKey("node", PASS.toCharArray());
        Files.writeString(out.resolve("tls.key"), pem("PRIVATE KEY", key.getEncoded()));
        return out;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private TestCertificates() {}

  /** A new certificate authority in a new temporary directory. */
  public static Authority authority(String name) {
    try {
      Path dir = Files.createTempDirectory("test-ca-" + name);
      Path store = dir.resolve("ca.p12");
      keytool("-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=" + name,
          "-ext", "bc:c", "-validity", "2", "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", PASS,
          "-keypass", PASS);
      keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", store.toString(), "-storepass", PASS,
          "-file", dir.resolve("ca.crt").toString());
      return new Authority(dir, name);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The first certificate of a PEM file. */
  public static X509Certificate certificate(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static String pem(String type, byte[] der) {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }

  private static void keytool(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException("keytool " + String.join(" ", args) + " failed: " + output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
